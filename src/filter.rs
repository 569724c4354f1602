//! Which events the user asked to see: `--since`, `--until`, `--reason`, `--token`, `--ip`.
//!
//! Filters apply to failures, probes and forbidden_other alike; what they remove is counted as
//! `filtered_out` by `summary`. This module only answers the question for one event.

use crate::time::Millis;

/// The resolved filters; an empty list means "no filter on this field".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Keep events with time ≥ this.
    pub since: Option<Millis>,
    /// Keep events with time < this.
    pub until: Option<Millis>,
    /// Keep events whose reason is one of these (`none` matches an event without a reason).
    pub reasons: Vec<String>,
    /// Keep events whose token id text (`PersonalAccessToken/12`) is one of these.
    pub tokens: Vec<String>,
    /// Keep events whose client IP is one of these.
    pub ips: Vec<String>,
}

impl Filter {
    /// Whether any filter is set (when none is, nothing can be filtered out).
    pub fn is_active(&self) -> bool {
        self.since.is_some()
            || self.until.is_some()
            || !self.reasons.is_empty()
            || !self.tokens.is_empty()
            || !self.ips.is_empty()
    }

    /// Whether an event with these fields is kept.
    pub fn keeps(
        &self,
        time: Option<Millis>,
        reason: Option<&str>,
        token: Option<&str>,
        ip: Option<&str>,
    ) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = time else { return false };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        let listed = |list: &[String], value: Option<&str>, none: Option<&str>| {
            list.is_empty() || list.iter().any(|v| Some(v.as_str()) == value.or(none))
        };
        listed(&self.reasons, reason, Some("none"))
            && listed(&self.tokens, token, None)
            && listed(&self.ips, ip, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_window_is_half_open_and_drops_untimed() {
        let f = Filter {
            since: Some(10),
            until: Some(20),
            ..Filter::default()
        };
        assert!(f.keeps(Some(10), None, None, None));
        assert!(!f.keeps(Some(20), None, None, None));
        assert!(!f.keeps(Some(9), None, None, None));
        assert!(!f.keeps(None, None, None, None));
        assert!(Filter::default().keeps(None, None, None, None));
    }

    #[test]
    fn lists() {
        let f = Filter {
            reasons: vec!["none".into()],
            ..Filter::default()
        };
        assert!(f.keeps(None, None, None, None));
        assert!(!f.keeps(None, Some("token_expired"), None, None));
        let f = Filter {
            tokens: vec!["PersonalAccessToken/12".into()],
            ..Filter::default()
        };
        assert!(f.keeps(None, None, Some("PersonalAccessToken/12"), None));
        assert!(!f.keeps(None, None, None, None));
    }
}
