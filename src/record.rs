//! Matching failures kept one by one, for `--format ndjson` and `--raw`.
//!
//! The summary counts failures; a record keeps one of them, either normalized (the fields an
//! administrator ships to jq, Elasticsearch or Loki) or as the original line bytes (grep mode).
//! Records are kept only when asked, so the default report costs nothing here.

use serde::Serialize;

use crate::event::Event;
use crate::summary::client_ip;
use crate::time::{Millis, format_rfc3339};
use crate::token::split_token_id;

/// What the scanner keeps of each matching failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: only the summary (the default).
    #[default]
    Nothing,
    /// A [`Normalized`] object per failure.
    Normalized,
    /// The original line, unchanged.
    Raw,
}

/// One failure, normalized. Field names are part of the NDJSON contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Normalized {
    /// RFC 3339 UTC with milliseconds, or `null`.
    pub time: Option<String>,
    /// HTTP status.
    pub status: Option<i64>,
    /// `meta.auth_fail_reason`.
    pub reason: Option<String>,
    /// Token class (`PersonalAccessToken`).
    pub token_class: Option<String>,
    /// Token id (`12`).
    pub token_id: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// `meta.user`, else `username`.
    pub user: Option<String>,
    /// Route, else path.
    pub route: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// User agent.
    pub ua: Option<String>,
    /// `meta.auth_fail_requested_scopes`.
    pub scopes: Option<String>,
    /// `meta.auth_fail_token_type`.
    pub token_type: Option<String>,
    /// `meta.auth_fail_auth_header_type`.
    pub auth_header_type: Option<String>,
}

impl Normalized {
    /// Normalizes a failure event.
    pub fn from_event(e: &Event<'_>, time: Option<Millis>) -> Self {
        let own = |v: Option<&str>| v.map(str::to_string);
        let token = e.token_id.as_deref().map(split_token_id);
        Self {
            time: time.map(format_rfc3339),
            status: e.status,
            reason: own(e.reason.as_deref()),
            token_class: token.map(|t| t.0.to_string()),
            token_id: token.map(|t| t.1.to_string()),
            ip: own(client_ip(e)),
            user: own(e.meta_user.as_deref().or(e.username.as_deref())),
            route: own(e.route.as_deref().or(e.path.as_deref())),
            method: own(e.method.as_deref()),
            ua: own(e.ua.as_deref()),
            scopes: own(e.requested_scopes.as_deref()),
            token_type: own(e.token_type.as_deref()),
            auth_header_type: own(e.header_type.as_deref()),
        }
    }
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordBody {
    /// The normalized failure.
    Normalized(Box<Normalized>),
    /// The original line bytes (CRI chunks of one line joined by `\n`).
    Raw(Vec<u8>),
}

/// A matching failure and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based physical line number (of the first chunk for joined CRI lines).
    pub line: u64,
    /// The failure.
    pub body: RecordBody,
}

/// A normalized failure with its file and line: one NDJSON object.
#[derive(Debug, Serialize)]
pub struct Located<'a> {
    /// The failure's fields.
    #[serde(flatten)]
    pub failure: &'a Normalized,
    /// The input's path, or `-`.
    pub file: &'a str,
    /// 1-based line number in that input.
    pub line: u64,
}
