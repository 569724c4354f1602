//! Decoding one candidate line into a borrowed [`Event`].
//!
//! Only the keys tokentrail needs are kept; every other key is skipped without allocation. Strings
//! borrow from the line unless they contain escapes. Duplicate keys are tolerated and the last one
//! wins; a field whose value is `null` or not a string counts as absent (`triage_semantics.md` §3).
//! This module decides nothing about failures; `classify` does.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string field of a log line: `None` when absent, `null` or not a string.
pub type Text<'a> = Option<Cow<'a, str>>;

/// How a line's `subcomponent` (the Kubernetes gitlab-logger wrapper) decides whether it is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Component {
    /// No `subcomponent` key (or `null`): a plain GitLab log line.
    #[default]
    Unwrapped,
    /// `api_json` or `production_json`: analysed.
    Requests,
    /// Any other value (`sidekiq`, `puma.stdout`, …): counted as other_component.
    Other,
}

/// The fields of one decoded log line that tokentrail uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// The wrapper's component, if any.
    pub component: Component,
    /// `status` as a number: a JSON integer or a string of digits; `None` otherwise.
    pub status: Option<i64>,
    /// `path`.
    pub path: Text<'a>,
    /// `time`, unparsed.
    pub time: Text<'a>,
    /// `method`.
    pub method: Text<'a>,
    /// `route`.
    pub route: Text<'a>,
    /// `ua`.
    pub ua: Text<'a>,
    /// `remote_ip` (the raw `X-Forwarded-For` list).
    pub remote_ip: Text<'a>,
    /// `meta.remote_ip`.
    pub meta_remote_ip: Text<'a>,
    /// `meta.user`.
    pub meta_user: Text<'a>,
    /// `username`.
    pub username: Text<'a>,
    /// `meta.auth_fail_reason`.
    pub reason: Text<'a>,
    /// `meta.auth_fail_token_id`.
    pub token_id: Text<'a>,
    /// `meta.auth_fail_requested_scopes`.
    pub requested_scopes: Text<'a>,
    /// `meta.auth_fail_token_type`.
    pub token_type: Text<'a>,
    /// `meta.auth_fail_auth_header_type`.
    pub header_type: Text<'a>,
    /// `token_type`, logged only after a token was accepted.
    pub success_token_type: Text<'a>,
    /// `token_id`, logged only after a token was accepted (an integer, or a string of digits).
    pub success_token_id: Option<i64>,
}

impl<'a> Event<'a> {
    /// Decodes one line, which must be exactly one JSON object (whitespace around it allowed) in
    /// valid UTF-8 (serde_json alone would not check the strings it skips).
    pub fn parse(line: &'a [u8]) -> Result<Self, ParseError> {
        let text = std::str::from_utf8(line).map_err(|_| ParseError::Utf8)?;
        serde_json::from_str(text).map_err(ParseError::Json)
    }
}

/// Why a line is not one JSON object.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The line is not valid UTF-8.
    #[error("invalid UTF-8")]
    Utf8,
    /// The line is not one JSON object.
    #[error("{0}")]
    Json(serde_json::Error),
}

/// The keys tokentrail reads; everything else is `Ignored`.
enum Key {
    Subcomponent,
    Status,
    Path,
    Time,
    Method,
    Route,
    Ua,
    RemoteIp,
    MetaRemoteIp,
    MetaUser,
    Username,
    Reason,
    TokenId,
    RequestedScopes,
    TokenType,
    HeaderType,
    SuccessTokenType,
    SuccessTokenId,
    Ignored,
}

impl Key {
    fn from_name(name: &str) -> Self {
        match name {
            "subcomponent" => Key::Subcomponent,
            "status" => Key::Status,
            "path" => Key::Path,
            "time" => Key::Time,
            "method" => Key::Method,
            "route" => Key::Route,
            "ua" => Key::Ua,
            "remote_ip" => Key::RemoteIp,
            "meta.remote_ip" => Key::MetaRemoteIp,
            "meta.user" => Key::MetaUser,
            "username" => Key::Username,
            "meta.auth_fail_reason" => Key::Reason,
            "meta.auth_fail_token_id" => Key::TokenId,
            "meta.auth_fail_requested_scopes" => Key::RequestedScopes,
            "meta.auth_fail_token_type" => Key::TokenType,
            "meta.auth_fail_auth_header_type" => Key::HeaderType,
            "token_type" => Key::SuccessTokenType,
            "token_id" => Key::SuccessTokenId,
            _ => Key::Ignored,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key::from_name(v))
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A string value borrowed where possible; any other JSON value becomes `None`.
struct StrValue<'a>(Text<'a>);

impl<'de> Deserialize<'de> for StrValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrValue(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrValue(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StrValue(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(StrValue(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(StrValue(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(StrValue(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(StrValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrValue(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StrValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrValue(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a string of ASCII digits as a status; too long or not digits gives `None`.
fn digits_status(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `status`: a JSON integer or a string of digits. Floats (`401.0`) and anything else give `None`.
struct StatusValue(Option<i64>);

impl<'de> Deserialize<'de> for StatusValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StatusValue(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StatusValue(i64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(StatusValue(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(StatusValue(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StatusValue(digits_status(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StatusValue(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StatusValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StatusValue(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Event<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Event<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event<'de>, A::Error> {
                let mut e = Event::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let text = |map: &mut A| map.next_value::<StrValue<'de>>().map(|v| v.0);
                    match key {
                        Key::Subcomponent => {
                            e.component = match text(&mut map)?.as_deref() {
                                None => Component::Unwrapped,
                                Some("api_json" | "production_json") => Component::Requests,
                                Some(_) => Component::Other,
                            };
                        }
                        Key::Status => e.status = map.next_value::<StatusValue>()?.0,
                        Key::Path => e.path = text(&mut map)?,
                        Key::Time => e.time = text(&mut map)?,
                        Key::Method => e.method = text(&mut map)?,
                        Key::Route => e.route = text(&mut map)?,
                        Key::Ua => e.ua = text(&mut map)?,
                        Key::RemoteIp => e.remote_ip = text(&mut map)?,
                        Key::MetaRemoteIp => e.meta_remote_ip = text(&mut map)?,
                        Key::MetaUser => e.meta_user = text(&mut map)?,
                        Key::Username => e.username = text(&mut map)?,
                        Key::Reason => e.reason = text(&mut map)?,
                        Key::TokenId => e.token_id = text(&mut map)?,
                        Key::RequestedScopes => e.requested_scopes = text(&mut map)?,
                        Key::TokenType => e.token_type = text(&mut map)?,
                        Key::HeaderType => e.header_type = text(&mut map)?,
                        Key::SuccessTokenType => e.success_token_type = text(&mut map)?,
                        Key::SuccessTokenId => {
                            e.success_token_id = map.next_value::<StatusValue>()?.0
                        }
                        Key::Ignored => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(e)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_it_needs() {
        let e = Event::parse(
            br#"{"time":"2024-05-14T00:00:03.120Z","status":401,"path":"/api/v4/user","x":{"y":[1,2]},"meta.auth_fail_reason":"token_expired","meta.auth_fail_token_id":"PersonalAccessToken/12","ua":"a\u001bb"}"#,
        )
        .unwrap();
        assert_eq!(e.status, Some(401));
        assert_eq!(e.reason.as_deref(), Some("token_expired"));
        assert_eq!(e.token_id.as_deref(), Some("PersonalAccessToken/12"));
        assert!(matches!(e.path, Some(Cow::Borrowed(_))));
        assert_eq!(e.ua.as_deref(), Some("a\u{1b}b"));
    }

    #[test]
    fn status_forms() {
        let status = |s: &str| Event::parse(s.as_bytes()).unwrap().status;
        assert_eq!(status(r#"{"status":"401"}"#), Some(401));
        assert_eq!(status(r#"{"status": 403 }"#), Some(403));
        assert_eq!(status(r#"{"status":401.0}"#), None);
        assert_eq!(status(r#"{"status":"40x"}"#), None);
        assert_eq!(status(r#"{"status":null}"#), None);
        assert_eq!(status(r#"{"status":99999999999999999999999}"#), None);
        assert_eq!(status(r#"{"status":401,"status":200}"#), Some(200));
    }

    #[test]
    fn rejects_what_is_not_one_object() {
        for bad in [
            &b"[1]"[..],
            b"{",
            b"{}{}",
            b"{\"a\":\"\xff\"}",
            b"# Logfile created",
        ] {
            assert!(Event::parse(bad).is_err());
        }
        let deep = format!("{}{}", "{\"a\":".repeat(10_000), "1");
        assert!(Event::parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn null_and_non_strings_are_absent() {
        let e = Event::parse(
            br#"{"subcomponent":null,"path":7,"ua":null,"meta.auth_fail_reason":["x"]}"#,
        )
        .unwrap();
        assert_eq!(e.component, Component::Unwrapped);
        assert_eq!((e.path, e.ua, e.reason), (None, None, None));
        let e = Event::parse(br#"{"subcomponent":"sidekiq"}"#).unwrap();
        assert_eq!(e.component, Component::Other);
    }
}
