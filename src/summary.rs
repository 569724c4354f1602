//! Mergeable counts: what one thread learns from the lines it scanned.
//!
//! [`LineCounts`] is the line accounting of `triage_semantics.md` §6; [`Summary`] holds the failure
//! aggregates (reasons, tokens, IPs, per-second timeline). Both are plain values with `merge`, so a
//! parallel scan is a fold and a reduce. Sorting, top-N and rendering happen later, in `report`.

// foldhash: several times faster than SipHash on short keys, and randomly seeded per process,
// so log text crafted to collide cannot slow the scan down.
use foldhash::HashMap;
use std::borrow::Cow;
use std::sync::Arc;

use crate::event::{Component, Event};
use crate::filter::Filter;
use crate::keyed::KeyedMap;
use crate::tally::{Interner, Tally};
use crate::time::{Millis, parse_rfc3339};

/// The line accounting of one input (or of all inputs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LineCounts {
    /// Logical lines (CRI partial chunks joined count once).
    pub lines: u64,
    /// Empty or whitespace-only lines.
    pub blank: u64,
    /// Lines that are not one JSON object.
    pub non_json: u64,
    /// JSON-looking lines the prefilter proved irrelevant, never parsed.
    pub skipped: u64,
    /// Wrapped lines of another gitlab-logger subcomponent.
    pub other_component: u64,
    /// JSON objects that are not requests.
    pub other_json: u64,
    /// Request lines.
    pub requests: u64,
    /// Auth failures (after filters).
    pub failures: u64,
    /// Failures with `meta.auth_fail_reason` or `meta.auth_fail_token_id`.
    pub attributed: u64,
    /// Failures without either.
    pub unattributed: u64,
    /// Successful requests that carry auth-failure fields.
    pub probes: u64,
    /// 403 responses without `meta.auth_fail_reason`.
    pub forbidden_other: u64,
    /// Requests that are none of the above.
    pub other_requests: u64,
    /// Failures, probes and forbidden requests removed by a filter.
    pub filtered_out: u64,
}

impl LineCounts {
    /// Adds another set of counts to this one.
    pub fn merge(&mut self, o: &LineCounts) {
        self.lines += o.lines;
        self.blank += o.blank;
        self.non_json += o.non_json;
        self.skipped += o.skipped;
        self.other_component += o.other_component;
        self.other_json += o.other_json;
        self.requests += o.requests;
        self.failures += o.failures;
        self.attributed += o.attributed;
        self.unattributed += o.unattributed;
        self.probes += o.probes;
        self.forbidden_other += o.forbidden_other;
        self.other_requests += o.other_requests;
        self.filtered_out += o.filtered_out;
    }

    /// Whether `lines = blank + non_json + skipped + other_component + other_json + requests`,
    /// `requests = failures + probes + forbidden_other + other_requests + filtered_out` and
    /// `failures = attributed + unattributed`.
    pub fn is_balanced(&self) -> bool {
        self.lines
            == self.blank
                + self.non_json
                + self.skipped
                + self.other_component
                + self.other_json
                + self.requests
            && self.requests
                == self.failures
                    + self.probes
                    + self.forbidden_other
                    + self.other_requests
                    + self.filtered_out
            && self.failures == self.attributed + self.unattributed
    }
}

/// Earliest and latest time seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span(pub Option<(Millis, Millis)>);

impl Span {
    /// Widens the span to include `t`.
    pub fn add(&mut self, t: Millis) {
        self.0 = Some(match self.0 {
            Some((a, b)) => (a.min(t), b.max(t)),
            None => (t, t),
        });
    }

    /// Widens the span to include another.
    pub fn merge(&mut self, o: Span) {
        if let Some((a, b)) = o.0 {
            self.add(a);
            self.add(b);
        }
    }
}

/// Everything known about one failing token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenStats {
    /// Failures.
    pub count: u64,
    /// First and last failure time.
    pub seen: Span,
    /// Failures by reason (`none` when absent).
    pub reasons: Tally,
    /// Failures by HTTP status.
    pub status: Vec<(i64, u64)>,
    /// Client IPs.
    pub ips: Tally,
    /// User agents.
    pub user_agents: Tally,
    /// Routes (or paths).
    pub routes: Tally,
    /// Users (`meta.user`, else `username`).
    pub users: Tally,
    /// `meta.auth_fail_requested_scopes`.
    pub requested_scopes: Tally,
    /// `meta.auth_fail_token_type`.
    pub token_types: Tally,
    /// `meta.auth_fail_auth_header_type`.
    pub header_types: Tally,
    /// Every failure time (unsorted until the report), for the pattern and the hourly view.
    pub times: Vec<Millis>,
    /// The first `token_expired` failure, for expiry cliffs.
    pub first_expired: Option<Millis>,
    /// The same token's tallies, times and statuses from other threads' summaries, not merged
    /// yet: see [`TokenStats::resolved`]. (`count`, `seen` and `first_expired` above always
    /// include them.)
    pub more: Vec<TokenStats>,
}

impl TokenStats {
    /// Adds another thread's stats of the same token: the fields that order and select tokens
    /// now, the rest when the token is shown ([`TokenStats::resolved`]). With hundreds of
    /// thousands of tokens, most never shown, this is where merging summaries spends its time.
    fn defer(&mut self, mut o: TokenStats) {
        self.count += o.count;
        self.seen.merge(o.seen);
        self.first_expired = match (self.first_expired, o.first_expired) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Exact: a vector's first allocation holds four, and a token is rarely seen by more
        // than two threads.
        self.more.reserve_exact(1 + o.more.len());
        self.more.append(&mut o.more);
        self.more.push(o);
    }

    /// These stats with every deferred part merged in.
    pub fn resolved(&self) -> Cow<'_, TokenStats> {
        if self.more.is_empty() {
            return Cow::Borrowed(self);
        }
        let mut t = self.clone();
        for o in std::mem::take(&mut t.more) {
            t.merge_parts(o);
        }
        Cow::Owned(t)
    }

    /// Merges what [`TokenStats::defer`] leaves for later.
    fn merge_parts(&mut self, mut o: TokenStats) {
        self.reasons.merge(o.reasons);
        for (k, n) in o.status {
            match self.status.iter_mut().find(|s| s.0 == k) {
                Some(s) => s.1 += n,
                None => self.status.push((k, n)),
            }
        }
        self.ips.merge(o.ips);
        self.user_agents.merge(o.user_agents);
        self.routes.merge(o.routes);
        self.users.merge(o.users);
        self.requested_scopes.merge(o.requested_scopes);
        self.token_types.merge(o.token_types);
        self.header_types.merge(o.header_types);
        self.times.append(&mut o.times);
    }
}

/// Everything known about one client IP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpStats {
    /// Failures from this IP.
    pub failures: u64,
    /// Attributed failures.
    pub attributed: u64,
    /// Unattributed failures.
    pub unattributed: u64,
    /// First and last failure time.
    pub seen: Span,
    /// Every failure time, for the ban windows (unsorted until the report).
    pub failure_times: Vec<Millis>,
    /// Forbidden responses without auth-failure fields (a ban, among other causes).
    pub forbidden_other: u64,
    /// First and last forbidden_other time.
    pub forbidden_seen: Span,
    /// Every forbidden_other time (unsorted until the report): a ban shows as 403s after the
    /// threshold was reached.
    pub forbidden_times: Vec<Millis>,
    /// Tokens that failed from this IP.
    pub tokens: Tally,
    /// User agents of failures from this IP.
    pub user_agents: Tally,
    /// The same IP's times and tallies from other threads, not merged yet (see
    /// [`IpStats::resolved`]; the counts and spans above include them).
    pub more: Vec<IpStats>,
}

impl IpStats {
    /// Adds another thread's stats of the same IP: counts now, times and tallies when needed.
    fn defer(&mut self, mut o: IpStats) {
        self.failures += o.failures;
        self.attributed += o.attributed;
        self.unattributed += o.unattributed;
        self.seen.merge(o.seen);
        self.forbidden_other += o.forbidden_other;
        self.forbidden_seen.merge(o.forbidden_seen);
        // Exact: a vector's first allocation holds four, and a token is rarely seen by more
        // than two threads.
        self.more.reserve_exact(1 + o.more.len());
        self.more.append(&mut o.more);
        self.more.push(o);
    }

    /// Every failure time, deferred parts included (unsorted).
    pub fn all_failure_times(&self) -> Vec<Millis> {
        let mut times = self.failure_times.clone();
        for o in &self.more {
            times.extend_from_slice(&o.failure_times);
        }
        times
    }

    /// These stats with every deferred part merged in.
    pub fn resolved(&self) -> Cow<'_, IpStats> {
        if self.more.is_empty() {
            return Cow::Borrowed(self);
        }
        let mut ip = self.clone();
        for mut o in std::mem::take(&mut ip.more) {
            ip.failure_times.append(&mut o.failure_times);
            ip.forbidden_times.append(&mut o.forbidden_times);
            ip.tokens.merge(o.tokens);
            ip.user_agents.merge(o.user_agents);
        }
        Cow::Owned(ip)
    }
}

/// What a request line is (`triage_semantics.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A wrapped line of another subcomponent.
    OtherComponent,
    /// A JSON object that is not a request.
    OtherJson,
    /// A 401, or a 403 with `meta.auth_fail_reason`.
    Failure,
    /// A successful request carrying `meta.auth_fail_reason`.
    Probe,
    /// A 403 without `meta.auth_fail_reason`.
    Forbidden,
    /// Any other request.
    OtherRequest,
}

/// Classifies a decoded line.
pub fn classify(e: &Event<'_>) -> Kind {
    if e.component == Component::Other {
        return Kind::OtherComponent;
    }
    let (Some(status), Some(_)) = (e.status, &e.path) else {
        return Kind::OtherJson;
    };
    let has_reason = e.reason.is_some();
    match status {
        401 => Kind::Failure,
        403 if has_reason => Kind::Failure,
        403 => Kind::Forbidden,
        _ if has_reason => Kind::Probe,
        _ => Kind::OtherRequest,
    }
}

/// The client IP of a line: `meta.remote_ip`, else the first element of `remote_ip`, trimmed.
pub fn client_ip<'e>(e: &'e Event<'_>) -> Option<&'e str> {
    if let Some(ip) = e.meta_remote_ip.as_deref() {
        return Some(ip);
    }
    let first = e.remote_ip.as_deref()?.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// The failure aggregates of some lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Attributed failures by reason (`None`: a token id without a reason).
    pub reasons: HashMap<Option<Box<str>>, u64>,
    /// Failing tokens by their `meta.auth_fail_token_id` text.
    pub tokens: KeyedMap<TokenStats>,
    /// Client IPs of failures and forbidden responses.
    pub ips: KeyedMap<IpStats>,
    /// Failures per second since the epoch, by reason (`none` when absent).
    pub per_second: HashMap<i64, Tally>,
    /// First and last failure time.
    pub seen: Span,
    /// Failures without a usable time.
    pub untimed_failures: u64,
    /// Shared copies of the text values in the tallies.
    pub interner: Interner,
    /// The latest successful requests per token (`Class/id` from `token_type`/`token_id`), when
    /// successes are tracked (`--last-success`).
    pub successes: HashMap<Box<str>, RecentTimes>,
}

/// The most recent times of something, at most [`RecentTimes::KEEP`] of them, sorted ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentTimes(pub Vec<Millis>);

impl RecentTimes {
    /// How many times are kept.
    pub const KEEP: usize = 32;

    /// Adds a time, dropping the oldest beyond [`Self::KEEP`].
    pub fn add(&mut self, t: Millis) {
        let at = self.0.partition_point(|&x| x < t);
        self.0.insert(at, t);
        if self.0.len() > Self::KEEP {
            self.0.remove(0);
        }
    }

    /// Adds another set.
    pub fn merge(&mut self, o: RecentTimes) {
        for t in o.0 {
            self.add(t);
        }
    }

    /// The latest time strictly before `t`, if it is among those kept.
    pub fn last_before(&self, t: Millis) -> Option<Millis> {
        let at = self.0.partition_point(|&x| x < t);
        (at > 0).then(|| self.0[at - 1])
    }
}

impl Summary {
    /// Adds another summary to this one.
    pub fn merge(&mut self, mut o: Summary) {
        // Move the smaller into the larger: the cost is one map insert per moved entry.
        if o.tokens.len() + o.ips.len() > self.tokens.len() + self.ips.len() {
            std::mem::swap(self, &mut o);
        }
        for (k, n) in o.reasons {
            *self.reasons.entry(k).or_default() += n;
        }
        // The two big maps are independent: merge them side by side (on the caller's rayon pool).
        let (tokens, ips) = (&mut self.tokens, &mut self.ips);
        rayon::join(
            || tokens.merge(o.tokens, TokenStats::defer),
            || ips.merge(o.ips, IpStats::defer),
        );
        for (k, t) in o.per_second {
            self.per_second.entry(k).or_default().merge(t);
        }
        self.seen.merge(o.seen);
        self.untimed_failures += o.untimed_failures;
        for (k, t) in o.successes {
            self.successes.entry(k).or_default().merge(t);
        }
    }

    /// Counts one decoded JSON line. `prefix_time` is the container timestamp, if any. Returns the
    /// kind of line it counted and the event time, or `None` when a filter removed it.
    pub fn record(
        &mut self,
        e: &Event<'_>,
        prefix_time: Option<Millis>,
        filter: &Filter,
        counts: &mut LineCounts,
    ) -> Option<(Kind, Option<Millis>)> {
        let kind = classify(e);
        match kind {
            Kind::OtherComponent => {
                counts.other_component += 1;
                return Some((kind, None));
            }
            Kind::OtherJson => {
                counts.other_json += 1;
                return Some((kind, None));
            }
            Kind::OtherRequest => {
                counts.requests += 1;
                counts.other_requests += 1;
                return Some((kind, None));
            }
            Kind::Failure | Kind::Probe | Kind::Forbidden => counts.requests += 1,
        }
        let time = e
            .time
            .as_deref()
            .and_then(|t| parse_rfc3339(t.as_bytes()))
            .or(prefix_time);
        let ip = client_ip(e);
        let reason = e.reason.as_deref();
        let token = e.token_id.as_deref();
        if filter.is_active() && !filter.keeps(time, reason, token, ip) {
            counts.filtered_out += 1;
            return None;
        }
        match kind {
            Kind::Probe => counts.probes += 1,
            Kind::Forbidden => {
                counts.forbidden_other += 1;
                if let Some(ip) = ip {
                    let stats = self.ip_entry(ip);
                    stats.forbidden_other += 1;
                    if let Some(t) = time {
                        stats.forbidden_seen.add(t);
                        stats.forbidden_times.push(t);
                    }
                }
            }
            _ => self.record_failure(e, time, ip, counts),
        }
        Some((kind, time))
    }

    /// Remembers when a token last worked: a 2xx/3xx line with `token_type` and `token_id`.
    pub fn record_success(&mut self, e: &Event<'_>, prefix_time: Option<Millis>) {
        let (Some(class), Some(id), Some(status)) = (
            e.success_token_type.as_deref(),
            e.success_token_id,
            e.status,
        ) else {
            return;
        };
        if !(200..400).contains(&status) {
            return;
        }
        let Some(time) = e
            .time
            .as_deref()
            .and_then(|t| parse_rfc3339(t.as_bytes()))
            .or(prefix_time)
        else {
            return;
        };
        let key = format!("{class}/{id}");
        match self.successes.get_mut(key.as_str()) {
            Some(r) => r.add(time),
            None => {
                let mut r = RecentTimes::default();
                r.add(time);
                self.successes.insert(key.into(), r);
            }
        }
    }

    fn ip_entry(&mut self, ip: &str) -> &mut IpStats {
        self.ips.entry(ip).1
    }

    fn record_failure(
        &mut self,
        e: &Event<'_>,
        time: Option<Millis>,
        ip: Option<&str>,
        counts: &mut LineCounts,
    ) {
        counts.failures += 1;
        let reason = e.reason.as_deref();
        let attributed = reason.is_some() || e.token_id.is_some();
        if attributed {
            counts.attributed += 1;
            match self.reasons.get_mut(&reason.map(Box::from)) {
                Some(n) => *n += 1,
                None => {
                    self.reasons.insert(reason.map(Box::from), 1);
                }
            }
        } else {
            counts.unattributed += 1;
        }
        let reason_key = reason.unwrap_or("none");
        match time {
            Some(t) => {
                self.seen.add(t);
                self.per_second
                    .entry(t.div_euclid(1000))
                    .or_default()
                    .add(reason_key);
            }
            None => self.untimed_failures += 1,
        }
        let ua = e.ua.as_deref();
        let token = e.token_id.as_deref();
        // The token's and the IP's map keys double as the values of each other's tallies.
        let token_key = token.map(|token| self.tokens.entry(token).0);
        let ip_key = match ip {
            Some(ip) => {
                let token_value = match &token_key {
                    Some(k) => Arc::clone(k),
                    None => self.interner.get("none"),
                };
                let ua_value = ua.map(|ua| self.interner.get(ua));
                let (key, stats) = self.ips.entry(ip);
                stats.failures += 1;
                if attributed {
                    stats.attributed += 1;
                } else {
                    stats.unattributed += 1;
                }
                if let Some(t) = time {
                    stats.seen.add(t);
                    stats.failure_times.push(t);
                }
                stats.tokens.add_shared(&token_value);
                if let Some(ua) = &ua_value {
                    stats.user_agents.add_shared(ua);
                }
                Some(key)
            }
            None => None,
        };
        let Some(token) = token else { return };
        let mut intern = |v: Option<&str>| v.map(|v| self.interner.get(v));
        let values = [
            ip_key,
            intern(ua),
            intern(e.route.as_deref().or(e.path.as_deref())),
            intern(e.meta_user.as_deref().or(e.username.as_deref())),
            intern(e.requested_scopes.as_deref()),
            intern(e.token_type.as_deref()),
            intern(e.header_type.as_deref()),
            intern(Some(reason_key)),
        ];
        let t = self.tokens.entry(token).1;
        t.count += 1;
        if let Some(time) = time {
            t.seen.add(time);
            t.times.push(time);
            if reason == Some("token_expired") {
                t.first_expired = Some(t.first_expired.map_or(time, |f| f.min(time)));
            }
        }
        let status = e.status.unwrap_or_default();
        match t.status.iter_mut().find(|s| s.0 == status) {
            Some(s) => s.1 += 1,
            None => t.status.push((status, 1)),
        }
        let tallies = [
            &mut t.ips,
            &mut t.user_agents,
            &mut t.routes,
            &mut t.users,
            &mut t.requested_scopes,
            &mut t.token_types,
            &mut t.header_types,
            &mut t.reasons,
        ];
        for (tally, value) in tallies.into_iter().zip(&values) {
            if let Some(v) = value {
                tally.add_shared(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::event::ParseError;

    /// How a line that parses is classified (`None`: it does not parse).
    fn kind(line: &str) -> Option<Kind> {
        Event::parse(line.as_bytes()).ok().map(|e| classify(&e))
    }

    #[test]
    fn classification() {
        assert_eq!(kind(r#"{"status":401,"path":"/"}"#), Some(Kind::Failure));
        assert_eq!(
            kind(r#"{"status":403,"path":"/","meta.auth_fail_reason":"insufficient_scope"}"#),
            Some(Kind::Failure)
        );
        assert_eq!(kind(r#"{"status":403,"path":"/"}"#), Some(Kind::Forbidden));
        assert_eq!(
            kind(r#"{"status":200,"path":"/","meta.auth_fail_reason":"token_expired"}"#),
            Some(Kind::Probe)
        );
        assert_eq!(
            kind(r#"{"status":200,"path":"/"}"#),
            Some(Kind::OtherRequest)
        );
        assert_eq!(kind(r#"{"status":401,"uri":"/"}"#), Some(Kind::OtherJson));
        assert_eq!(
            kind(r#"{"status":401,"path":"/","subcomponent":"sidekiq"}"#),
            Some(Kind::OtherComponent)
        );
        assert_eq!(
            kind(r#"{"status":401,"path":"/","subcomponent":"production_json"}"#),
            Some(Kind::Failure)
        );
    }

    #[test]
    fn client_ip_prefers_meta() -> Result<(), ParseError> {
        let e = Event::parse(
            br#"{"remote_ip":" 192.0.2.1 , 127.0.0.1","meta.remote_ip":"192.0.2.9"}"#,
        )?;
        assert_eq!(client_ip(&e), Some("192.0.2.9"));
        let e = Event::parse(br#"{"remote_ip":" 192.0.2.1 , 127.0.0.1"}"#)?;
        assert_eq!(client_ip(&e), Some("192.0.2.1"));
        Ok(())
    }

    #[test]
    fn merge_is_the_sum() -> Result<(), ParseError> {
        let lines = [
            r#"{"status":401,"path":"/","time":"2024-05-14T00:00:01.000Z","meta.remote_ip":"a","meta.auth_fail_token_id":"P/1","meta.auth_fail_reason":"token_expired"}"#,
            r#"{"status":401,"path":"/","time":"2024-05-14T00:00:02.000Z","meta.remote_ip":"a"}"#,
            r#"{"status":403,"path":"/","meta.remote_ip":"b"}"#,
        ];
        let (mut whole, mut parts) = (Summary::default(), Summary::default());
        let (mut c1, mut c2) = (LineCounts::default(), LineCounts::default());
        for l in lines {
            whole.record(
                &Event::parse(l.as_bytes())?,
                None,
                &Filter::default(),
                &mut c1,
            );
            let mut one = Summary::default();
            one.record(
                &Event::parse(l.as_bytes())?,
                None,
                &Filter::default(),
                &mut c2,
            );
            parts.merge(one);
        }
        for ip in parts.ips.values_mut() {
            *ip = ip.resolved().into_owned();
            ip.failure_times.sort();
        }
        for t in parts.tokens.values_mut() {
            *t = t.resolved().into_owned();
        }
        assert_eq!(whole, parts);
        assert_eq!(c1, c2);
        assert_eq!((c1.failures, c1.attributed, c1.forbidden_other), (2, 1, 1));
        Ok(())
    }
}
