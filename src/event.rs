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
        match serde_json::from_str(text) {
            Ok(e) => Ok(e),
            // A lone surrogate escape (`"ua":"\ud800"`) is rejected by serde_json only in the
            // fields it decodes: an attacker could hide a failure behind one. Read such a line
            // with the lone surrogates replaced by U+FFFD, as most JSON readers do.
            Err(e) if memchr::memmem::find(line, b"\\u").is_some() => {
                match replace_lone_surrogates(text) {
                    Some(fixed) => serde_json::from_str::<Event<'_>>(&fixed)
                        .map(Event::into_owned)
                        .map_err(ParseError::Json),
                    None => Err(ParseError::Json(e)),
                }
            }
            Err(e) => Err(ParseError::Json(e)),
        }
    }

    /// The same event with every string owned.
    pub fn into_owned(self) -> Event<'static> {
        let own = |t: Text<'_>| t.map(|c| Cow::Owned(c.into_owned()));
        Event {
            component: self.component,
            status: self.status,
            path: own(self.path),
            time: own(self.time),
            method: own(self.method),
            route: own(self.route),
            ua: own(self.ua),
            remote_ip: own(self.remote_ip),
            meta_remote_ip: own(self.meta_remote_ip),
            meta_user: own(self.meta_user),
            username: own(self.username),
            reason: own(self.reason),
            token_id: own(self.token_id),
            requested_scopes: own(self.requested_scopes),
            token_type: own(self.token_type),
            header_type: own(self.header_type),
            success_token_type: own(self.success_token_type),
            success_token_id: self.success_token_id,
        }
    }
}

fn hex4(b: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u16::from_str_radix(s, 16).ok()
}

/// Replaces `\uD800`–`\uDFFF` escapes that are not part of a valid surrogate pair with `\uFFFD`.
/// Returns `None` when there is none (the parse error was something else).
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last, mut changed) = (0, 0, false);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2; // another escape: skip the escaped character
            continue;
        }
        let Some(unit) = hex4(&b[i + 2..]) else {
            i += 2;
            continue;
        };
        let low_follows = || {
            b.get(i + 6..i + 8) == Some(b"\\u")
                && hex4(&b[i + 8..]).is_some_and(|u| (0xDC00..=0xDFFF).contains(&u))
        };
        if (0xD800..=0xDBFF).contains(&unit) && low_follows() {
            i += 12; // a valid pair
        } else if (0xD800..=0xDFFF).contains(&unit) {
            out.push_str(&text[last..i]);
            out.push_str("\\ufffd");
            i += 6;
            last = i;
            changed = true;
        } else {
            i += 6;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
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

/// `subcomponent`: `null` is absent; `api_json` and `production_json` are analysed; any other
/// value, a number or an object included, is another component.
struct ComponentValue(Component);

impl<'de> Deserialize<'de> for ComponentValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ComponentValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ComponentValue(Component::Unwrapped))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ComponentValue(match v {
                    "api_json" | "production_json" => Component::Requests,
                    _ => Component::Other,
                }))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ComponentValue(Component::Other))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ComponentValue(Component::Other))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ComponentValue(Component::Other))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ComponentValue(Component::Other))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ComponentValue(Component::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ComponentValue(Component::Other))
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
                        Key::Subcomponent => e.component = map.next_value::<ComponentValue>()?.0,
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
    fn reads_the_fields_it_needs() -> Result<(), ParseError> {
        let e = Event::parse(
            br#"{"time":"2024-05-14T00:00:03.120Z","status":401,"path":"/api/v4/user","x":{"y":[1,2]},"meta.auth_fail_reason":"token_expired","meta.auth_fail_token_id":"PersonalAccessToken/12","ua":"a\u001bb"}"#,
        )?;
        assert_eq!(e.status, Some(401));
        assert_eq!(e.reason.as_deref(), Some("token_expired"));
        assert_eq!(e.token_id.as_deref(), Some("PersonalAccessToken/12"));
        assert!(matches!(e.path, Some(Cow::Borrowed(_))));
        assert_eq!(e.ua.as_deref(), Some("a\u{1b}b"));
        Ok(())
    }

    #[test]
    fn lone_surrogates_do_not_hide_a_failure() -> Result<(), ParseError> {
        let e = Event::parse(
            br#"{"status":401,"path":"/","ua":"a\ud800b","meta.auth_fail_token_id":"P/\udc00"}"#,
        )?;
        assert_eq!(e.status, Some(401));
        assert_eq!(e.ua.as_deref(), Some("a\u{fffd}b"));
        assert_eq!(e.token_id.as_deref(), Some("P/\u{fffd}"));
        // A valid pair stays what it is.
        let e = Event::parse(br#"{"ua":"\ud83d\ude00","x":"\\ud800"}"#)?;
        assert_eq!(e.ua.as_deref(), Some("\u{1f600}"));
        assert_eq!(replace_lone_surrogates(r#"{"a":"\\ud800"}"#), None);
        Ok(())
    }

    #[test]
    fn status_forms() {
        // The status of a line that parses (a line that does not is `Err`, never `Ok(None)`).
        let status = |s: &str| Event::parse(s.as_bytes()).map(|e| e.status).map_err(drop);
        assert_eq!(status(r#"{"status":"401"}"#), Ok(Some(401)));
        assert_eq!(status(r#"{"status": 403 }"#), Ok(Some(403)));
        assert_eq!(status(r#"{"status":401.0}"#), Ok(None));
        assert_eq!(status(r#"{"status":"40x"}"#), Ok(None));
        assert_eq!(status(r#"{"status":null}"#), Ok(None));
        assert_eq!(status(r#"{"status":99999999999999999999999}"#), Ok(None));
        assert_eq!(status(r#"{"status":401,"status":200}"#), Ok(Some(200)));
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
    fn null_and_non_strings_are_absent() -> Result<(), ParseError> {
        let e = Event::parse(
            br#"{"subcomponent":null,"path":7,"ua":null,"meta.auth_fail_reason":["x"]}"#,
        )?;
        assert_eq!(e.component, Component::Unwrapped);
        assert_eq!((e.path, e.ua, e.reason), (None, None, None));
        let e = Event::parse(br#"{"subcomponent":"sidekiq"}"#)?;
        assert_eq!(e.component, Component::Other);
        for other in ["5", "true", "[]", "{}"] {
            let line = format!(r#"{{"subcomponent":{other}}}"#);
            assert_eq!(
                Event::parse(line.as_bytes())?.component,
                Component::Other,
                "{other}"
            );
        }
        Ok(())
    }
}
