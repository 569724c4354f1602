//! The report: a scan outcome turned into sorted, rendered-ready values.
//!
//! [`Report`] serializes to the `tokentrail.report/v1` JSON contract of `triage_semantics.md` §7
//! (field names are a contract; additions only). Every renderer reads this one value, so table,
//! JSON and CSV always agree. Ordering is deterministic: count descending, then key ascending.

use std::cmp::Ordering;

use rayon::prelude::*;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::ban::{BanThreshold, windows};
use crate::run::ScanOutcome;
use crate::summary::{IpStats, LineCounts, Summary, TokenStats};
use crate::tally::Tally;
use crate::time::{Millis, format_day, format_rfc3339};
use crate::token::{cmp_ids, split_token_id};
use crate::triage::{classify_pattern, cliff_days, find_onset};

/// The schema name written into every JSON report.
pub const SCHEMA: &str = "tokentrail.report/v1";

/// How to shape the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Keep only the top N tokens and IPs (`None`: all).
    pub top: Option<usize>,
    /// Values kept per nested list (IPs, user agents, … of a token).
    pub top_values: usize,
    /// The ban rule for `max_in_window` and `ban_risk`.
    pub ban: BanThreshold,
    /// Timeline bucket in seconds (`None`: chosen from the time span).
    pub bucket_s: Option<u64>,
    /// Whether the scan tracked successes (`--last-success`).
    pub last_success_tracked: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            top: None,
            top_values: 10,
            ban: BanThreshold::SELF_MANAGED,
            bucket_s: None,
            last_success_tracked: false,
        }
    }
}

/// An RFC 3339 time with milliseconds, serialized as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub Millis);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(self.0))
    }
}

/// One unreadable line of an input.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Example {
    /// 1-based physical line number in the input.
    pub line: u64,
    /// The start of the line.
    pub text: String,
}

/// One input's line accounting (`inputs[]`).
#[derive(Debug, Clone, Serialize)]
pub struct InputEntry {
    /// The path, or `-`.
    pub path: String,
    /// Uncompressed bytes scanned.
    pub bytes: u64,
    /// Bytes read from disk for compressed inputs (addition).
    pub compressed_bytes: Option<u64>,
    /// `plain`, `gzip` or `zstd` (addition).
    pub encoding: Option<crate::input::Encoding>,
    /// Why it was scanned (addition).
    pub why: String,
    /// Line accounting.
    #[serde(flatten)]
    pub counts: LineCounts,
    /// Why it could not be fully read.
    pub error: Option<String>,
    /// The file got shorter while it was read (addition).
    pub shrank: bool,
    /// The first unreadable lines (addition).
    pub examples: Vec<Example>,
}

/// A first/last time pair.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TimeRange {
    /// Earliest failure.
    pub first: Time,
    /// Latest failure.
    pub last: Time,
}

/// An entry of `reasons`.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// The reason; `null` for attributed failures without one.
    pub reason: Option<String>,
    /// Failures.
    pub count: u64,
}

/// A value and how often it was seen.
#[derive(Debug, Clone, Serialize)]
pub struct ValueCount {
    /// The value, exactly as logged.
    pub value: String,
    /// How often.
    pub count: u64,
}

/// One failing token (`tokens[]`).
#[derive(Debug, Clone, Serialize)]
pub struct TokenEntry {
    /// `PersonalAccessToken`, `OauthAccessToken`, …
    pub class: String,
    /// The database id (text; empty when the logged value had no `/`).
    pub id: String,
    /// Failures.
    pub count: u64,
    /// First failure with a time.
    pub first_seen: Option<Time>,
    /// Last failure with a time.
    pub last_seen: Option<Time>,
    /// Failures by reason (`none` when absent).
    pub reasons: BTreeMap<String, u64>,
    /// Failures by HTTP status.
    pub status: BTreeMap<String, u64>,
    /// Top client IPs.
    pub ips: Vec<ValueCount>,
    /// Distinct client IPs.
    pub distinct_ips: usize,
    /// Top user agents.
    pub user_agents: Vec<ValueCount>,
    /// Distinct user agents.
    pub distinct_user_agents: usize,
    /// Top routes.
    pub routes: Vec<ValueCount>,
    /// Distinct routes.
    pub distinct_routes: usize,
    /// Top users.
    pub users: Vec<ValueCount>,
    /// Distinct users.
    pub distinct_users: usize,
    /// Top requested scopes.
    pub requested_scopes: Vec<ValueCount>,
    /// Distinct requested scopes.
    pub distinct_requested_scopes: usize,
    /// `meta.auth_fail_token_type` values (addition).
    pub token_types: Vec<ValueCount>,
    /// `meta.auth_fail_auth_header_type` values (addition).
    pub auth_header_types: Vec<ValueCount>,
    /// `burst`, `recurring` or `sporadic`.
    pub pattern: &'static str,
    /// The interval of a recurring pattern, in seconds.
    pub interval_s: Option<u64>,
    /// The last success before the first failure, with `--last-success` (addition).
    pub last_success: Option<Time>,
    /// Failures per UTC hour of day, 0–23 (addition).
    pub hours_utc: [u64; 24],
}

/// One client IP (`ips[]`).
#[derive(Debug, Clone, Serialize)]
pub struct IpEntry {
    /// The client IP.
    pub ip: String,
    /// Failures.
    pub failures: u64,
    /// Attributed failures.
    pub attributed: u64,
    /// Unattributed failures.
    pub unattributed: u64,
    /// First failure.
    pub first_seen: Option<Time>,
    /// Last failure.
    pub last_seen: Option<Time>,
    /// Most failures inside one ban window.
    pub max_in_window: u64,
    /// The ban window, in seconds.
    pub window_s: u64,
    /// Whether some window reached the ban threshold.
    pub ban_risk: bool,
    /// When the threshold was first reached (addition).
    pub threshold_reached_at: Option<Time>,
    /// 403 responses without auth-failure fields from this IP (addition).
    pub forbidden_other: u64,
    /// Distinct tokens that failed from this IP (addition).
    pub distinct_tokens: usize,
    /// The first failure of the first window that reached the threshold (addition).
    pub threshold_window_start: Option<Time>,
    /// forbidden_other responses to this IP at or after the threshold was reached: the ban itself
    /// (addition).
    pub forbidden_after_threshold: u64,
    /// Tokens that failed from this IP, top values (`none`: unattributed) (addition).
    pub tokens: Vec<ValueCount>,
    /// User agents of its failures, top values (addition).
    pub user_agents: Vec<ValueCount>,
    /// Many distinct tokens from one address: a shared NAT or proxy (addition).
    pub shared: bool,
}

/// Distinct tokens from one IP that mark it as shared (NAT, proxy, CI fleet).
pub const SHARED_IP_TOKENS: usize = 5;

/// A jump in the failure rate (`onset`).
#[derive(Debug, Clone, Serialize)]
pub struct OnsetEntry {
    /// Start of the first bucket far above the baseline.
    pub time: Time,
    /// Mean failures per bucket before it.
    pub baseline_per_bucket: f64,
    /// Most failures in one bucket from then on.
    pub peak_per_bucket: u64,
    /// Failures in the onset bucket (addition).
    pub failures: u64,
    /// The most frequent reason in the onset bucket (addition).
    pub top_reason: Option<String>,
    /// Tokens whose first failure falls in the onset bucket (addition).
    pub new_tokens: u64,
}

/// One token of an expiry cliff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CliffMember {
    /// Token class.
    pub class: String,
    /// Token id.
    pub id: String,
    /// Its first `token_expired` failure.
    pub first_failure: Time,
    /// Its last success before that, with `--last-success`.
    pub last_success: Option<Time>,
}

/// A UTC day on which many tokens started failing with `token_expired` (`cliffs[]`).
#[derive(Debug, Clone, Serialize)]
pub struct Cliff {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Distinct tokens whose first expiry failure is on that day.
    pub tokens: usize,
    /// The earliest of those failures.
    pub first_failure: Time,
    /// The tokens, by first failure (the first `--top` only, when it is given and last
    /// successes are not tracked).
    pub members: Vec<CliffMember>,
}

/// One timeline bucket.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: Time,
    /// Failures in it.
    pub failures: u64,
    /// Failures by reason (`none` when absent).
    pub by_reason: BTreeMap<String, u64>,
}

/// Failures over time.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Bucket width in seconds.
    pub bucket_s: u64,
    /// Dense buckets from the first failure's to the last's.
    pub buckets: Vec<Bucket>,
}

/// The whole report (`tokentrail.report/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Per-input accounting.
    pub inputs: Vec<InputEntry>,
    /// Accounting over all inputs.
    pub totals: LineCounts,
    /// Failures without a usable time (addition).
    pub untimed_failures: u64,
    /// Span of failure times.
    pub time_range: Option<TimeRange>,
    /// Attributed failures by reason.
    pub reasons: Vec<ReasonCount>,
    /// Failing tokens.
    pub tokens: Vec<TokenEntry>,
    /// Distinct failing tokens before `--top` (addition).
    pub distinct_tokens: usize,
    /// Client IPs with failures.
    pub ips: Vec<IpEntry>,
    /// Distinct client IPs with failures before `--top` (addition).
    pub distinct_ips: usize,
    /// Client IPs that reached the ban threshold, before `--top` (addition).
    pub ips_at_ban_risk: usize,
    /// The ban rule used (addition).
    pub ban_threshold: BanThreshold,
    /// Failures over time.
    pub timeline: Timeline,
    /// The first jump in failures, or `null`.
    pub onset: Option<OnsetEntry>,
    /// Expiry cliffs.
    pub cliffs: Vec<Cliff>,
    /// Whether successes were tracked (`--last-success`) (addition).
    pub last_success_tracked: bool,
}

fn top_values(t: &Tally, n: usize) -> Vec<ValueCount> {
    t.sorted()
        .into_iter()
        .take(n)
        .map(|(v, c)| ValueCount {
            value: v.to_string(),
            count: c,
        })
        .collect()
}

/// The timeline bucket for a span when none is given: the smallest of 1 m, 5 m, 15 m, 1 h, 6 h and
/// 1 d that gives at most 120 buckets.
pub fn auto_bucket(first: Millis, last: Millis) -> u64 {
    const STEPS: [u64; 6] = [60, 300, 900, 3600, 21_600, 86_400];
    let span_s = ((last - first).max(0) / 1000) as u64;
    STEPS
        .into_iter()
        .find(|b| span_s / b < 120)
        .unwrap_or(86_400)
}

fn timeline(summary: &Summary, requested: Option<u64>) -> Timeline {
    let Some((first, last)) = summary.seen.0 else {
        return Timeline {
            bucket_s: requested.unwrap_or(60),
            buckets: Vec::new(),
        };
    };
    let mut bucket_s = requested.unwrap_or_else(|| auto_bucket(first, last)).max(1);
    // Keep a dense timeline printable: at most a million buckets.
    while ((last - first) / 1000) as u64 / bucket_s > 1_000_000 {
        bucket_s *= 10;
    }
    let width = bucket_s as i64 * 1000;
    let (lo, hi) = (first.div_euclid(width), last.div_euclid(width));
    let mut buckets: Vec<Bucket> = (lo..=hi)
        .map(|b| Bucket {
            start: Time(b * width),
            failures: 0,
            by_reason: BTreeMap::new(),
        })
        .collect();
    for (sec, tally) in &summary.per_second {
        let b = &mut buckets[((sec * 1000).div_euclid(width) - lo) as usize];
        for (reason, n) in tally.iter() {
            b.failures += n;
            *b.by_reason.entry(reason.to_string()).or_default() += n;
        }
    }
    Timeline { bucket_s, buckets }
}

/// Failures per UTC hour of day.
fn hours(times: &[Millis]) -> [u64; 24] {
    let mut h = [0u64; 24];
    for t in times {
        h[(t.rem_euclid(86_400_000) / 3_600_000) as usize] += 1;
    }
    h
}

fn onset(s: &Summary, timeline: &Timeline) -> Option<OnsetEntry> {
    let counts: Vec<u64> = timeline.buckets.iter().map(|b| b.failures).collect();
    let found = find_onset(&counts)?;
    let bucket = &timeline.buckets[found.bucket];
    let width = timeline.bucket_s as i64 * 1000;
    let (from, to) = (bucket.start.0, bucket.start.0 + width);
    let top_reason = bucket
        .by_reason
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(r, _)| r.clone());
    let new_tokens = s
        .tokens
        .values()
        .filter(|t| {
            t.seen
                .0
                .is_some_and(|(first, _)| first >= from && first < to)
        })
        .count() as u64;
    Some(OnsetEntry {
        time: bucket.start,
        baseline_per_bucket: (found.baseline * 1000.0).round() / 1000.0,
        peak_per_bucket: found.peak,
        failures: bucket.failures,
        top_reason,
        new_tokens,
    })
}

fn cliffs(s: &Summary, top: Option<usize>, last_success_tracked: bool) -> Vec<Cliff> {
    let firsts: Vec<(&str, Millis)> = s
        .tokens
        .iter()
        .filter_map(|(k, t)| t.first_expired.map(|f| (&**k, f)))
        .collect();
    let Some((observed_from, _)) = s.seen.0 else {
        return Vec::new();
    };
    let days = cliff_days(
        &firsts.iter().map(|f| f.1).collect::<Vec<_>>(),
        observed_from,
    );
    // The renderers summarise the last successes of every member, so with last successes
    // tracked every member is kept; otherwise only the `top` first.
    let keep = if last_success_tracked { None } else { top };
    days.into_iter()
        .map(|day| {
            let mut order: Vec<(Millis, &str, &str, &str)> = firsts
                .iter()
                .filter(|(_, f)| f.div_euclid(86_400_000) * 86_400_000 == day)
                .map(|&(text, first)| {
                    let (class, id) = split_token_id(text);
                    (first, class, id, text)
                })
                .collect();
            let tokens = order.len();
            // Before the list is cut: with `--top 0` no member is left to read it from.
            let first_failure = order.iter().map(|m| m.0).min().unwrap_or(day);
            sort_top(&mut order, keep, |a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| a.1.cmp(b.1))
                    .then_with(|| cmp_ids(a.2, b.2))
                    .then_with(|| a.2.cmp(b.2))
                    .then_with(|| a.3.cmp(b.3))
            });
            let members: Vec<CliffMember> = order
                .into_iter()
                .map(|(first, class, id, text)| CliffMember {
                    class: class.to_string(),
                    id: id.to_string(),
                    first_failure: Time(first),
                    last_success: s
                        .successes
                        .get(text)
                        .and_then(|r| r.last_before(first))
                        .map(Time),
                })
                .collect();
            Cliff {
                day: format_day(day),
                tokens,
                first_failure: Time(first_failure),
                members,
            }
        })
        .collect()
}

/// Sorts `items` and keeps the first `top` (all when `None`). With a small `top` out of many
/// items, the first `top` are selected in linear time and only they are sorted.
fn sort_top<T>(items: &mut Vec<T>, top: Option<usize>, order: impl Fn(&T, &T) -> Ordering) {
    match top {
        Some(top) if top < items.len() => {
            if top > 0 {
                items.select_nth_unstable_by(top - 1, &order);
            }
            items.truncate(top);
        }
        _ => {}
    }
    items.sort_by(order);
}

/// The token entries to show (all, or the first `top`), and how many distinct tokens there are.
fn token_entries(s: &Summary, opts: &ReportOptions) -> (Vec<TokenEntry>, usize) {
    let n = opts.top_values;
    // Order and cut first, then build entries only for what is kept: a log can name hundreds
    // of thousands of tokens and addresses.
    let mut token_order: Vec<(&str, &str, &str, &TokenStats)> = s
        .tokens
        .iter()
        .map(|(text, t)| {
            let (class, id) = split_token_id(text);
            (&**text, class, id, t)
        })
        .collect();
    // Ties on class and id (`12` and `012`, `Foo` and `Foo/`) fall back to the logged text,
    // so the same input always gives the same order.
    let distinct_tokens = token_order.len();
    sort_top(&mut token_order, opts.top, |a, b| {
        b.3.count
            .cmp(&a.3.count)
            .then_with(|| a.1.cmp(b.1))
            .then_with(|| cmp_ids(a.2, b.2))
            .then_with(|| a.0.cmp(b.0))
    });
    // In parallel: a complete report (JSON) resolves every token merged from several threads.
    let tokens: Vec<TokenEntry> = token_order
        .into_par_iter()
        .map(|(text, _, _, t)| {
            let t = t.resolved();
            let (class, id) = split_token_id(text);
            let mut times = t.times.clone();
            times.sort_unstable();
            let pattern = classify_pattern(&times);
            TokenEntry {
                class: class.to_string(),
                id: id.to_string(),
                count: t.count,
                first_seen: t.seen.0.map(|(a, _)| Time(a)),
                last_seen: t.seen.0.map(|(_, b)| Time(b)),
                reasons: t.reasons.iter().map(|(k, v)| (k.to_string(), v)).collect(),
                status: t.status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                ips: top_values(&t.ips, n),
                distinct_ips: t.ips.len(),
                user_agents: top_values(&t.user_agents, n),
                distinct_user_agents: t.user_agents.len(),
                routes: top_values(&t.routes, n),
                distinct_routes: t.routes.len(),
                users: top_values(&t.users, n),
                distinct_users: t.users.len(),
                requested_scopes: top_values(&t.requested_scopes, n),
                distinct_requested_scopes: t.requested_scopes.len(),
                token_types: top_values(&t.token_types, n),
                auth_header_types: top_values(&t.header_types, n),
                pattern: pattern.name(),
                interval_s: pattern.interval_s(),
                last_success: t
                    .seen
                    .0
                    .and_then(|(first, _)| s.successes.get(text).and_then(|r| r.last_before(first)))
                    .map(Time),
                hours_utc: hours(&times),
            }
        })
        .collect();
    (tokens, distinct_tokens)
}

/// The IP entries to show, how many distinct IPs failed, and how many are at risk of a ban.
fn ip_entries(s: &Summary, opts: &ReportOptions) -> (Vec<IpEntry>, usize, usize) {
    let n = opts.top_values;
    let mut ip_order: Vec<(&str, &IpStats)> = s
        .ips
        .iter()
        .filter(|(_, ip)| ip.failures > 0)
        .map(|(a, ip)| (&**a, ip))
        .collect();
    let distinct_ips = ip_order.len();
    let ips_at_ban_risk = ip_order
        .iter()
        .filter(|(_, ip)| ip.failures >= opts.ban.maxretry)
        .filter(|(_, ip)| {
            let mut times = ip.all_failure_times();
            times.sort_unstable();
            windows(&times, &opts.ban).first_crossing.is_some()
        })
        .count();
    sort_top(&mut ip_order, opts.top, |a, b| {
        b.1.failures.cmp(&a.1.failures).then_with(|| a.0.cmp(b.0))
    });
    let ips: Vec<IpEntry> = ip_order
        .into_par_iter()
        .map(|(addr, ip)| {
            let ip = ip.resolved();
            let mut times = ip.failure_times.clone();
            times.sort_unstable();
            let w = windows(&times, &opts.ban);
            IpEntry {
                ip: addr.to_string(),
                failures: ip.failures,
                attributed: ip.attributed,
                unattributed: ip.unattributed,
                first_seen: ip.seen.0.map(|(a, _)| Time(a)),
                last_seen: ip.seen.0.map(|(_, b)| Time(b)),
                max_in_window: w.max_in_window,
                window_s: opts.ban.findtime_s,
                ban_risk: w.first_crossing.is_some(),
                threshold_reached_at: w.first_crossing.map(|(_, t)| Time(t)),
                forbidden_other: ip.forbidden_other,
                distinct_tokens: ip.tokens.iter().filter(|(k, _)| *k != "none").count(),
                threshold_window_start: w.first_crossing.map(|(start, _)| Time(start)),
                forbidden_after_threshold: w
                    .first_crossing
                    .map(|(_, reached)| {
                        ip.forbidden_times.iter().filter(|&&t| t >= reached).count() as u64
                    })
                    .unwrap_or(0),
                tokens: top_values(&ip.tokens, n),
                user_agents: top_values(&ip.user_agents, n),
                shared: ip.tokens.iter().filter(|(k, _)| *k != "none").count() >= SHARED_IP_TOKENS,
            }
        })
        .collect();
    (ips, distinct_ips, ips_at_ban_risk)
}

impl Report {
    /// Builds the report of a scan.
    pub fn build(outcome: &ScanOutcome, opts: &ReportOptions) -> Self {
        let s = &outcome.summary;
        let inputs = outcome
            .inputs
            .iter()
            .map(|i| InputEntry {
                path: i.name.clone(),
                bytes: i.bytes,
                compressed_bytes: i.compressed_bytes,
                encoding: i.encoding,
                why: i.why.clone(),
                counts: i.counts,
                error: i.error.clone(),
                shrank: i.shrank,
                examples: i
                    .examples
                    .iter()
                    .map(|b| Example {
                        line: b.line,
                        text: b.text.clone(),
                    })
                    .collect(),
            })
            .collect();

        let mut reasons: Vec<ReasonCount> = s
            .reasons
            .iter()
            .map(|(r, c)| ReasonCount {
                reason: r.as_deref().map(String::from),
                count: *c,
            })
            .collect();
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));

        // Tokens, IPs and expiry cliffs each walk their whole map: side by side, on rayon's
        // pool (hundreds of thousands of entries in a large incident).
        let ((tokens, distinct_tokens), ((ips, distinct_ips, ips_at_ban_risk), cliffs)) =
            rayon::join(
                || token_entries(s, opts),
                || {
                    rayon::join(
                        || ip_entries(s, opts),
                        || cliffs(s, opts.top, opts.last_success_tracked),
                    )
                },
            );
        let timeline = timeline(s, opts.bucket_s);
        Report {
            schema: SCHEMA,
            inputs,
            totals: outcome.totals(),
            untimed_failures: s.untimed_failures,
            time_range: s.seen.0.map(|(a, b)| TimeRange {
                first: Time(a),
                last: Time(b),
            }),
            reasons,
            tokens,
            distinct_tokens,
            ips,
            distinct_ips,
            ips_at_ban_risk,
            ban_threshold: opts.ban,
            onset: onset(s, &timeline),
            cliffs,
            timeline,
            last_success_tracked: opts.last_success_tracked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_top_keeps_the_first_of_the_full_sort() {
        // Many ties on the count, broken by the key, as with tokens seen once or twice.
        let items: Vec<(u64, u32)> = (0..500u32).map(|i| (u64::from(i * 7 % 3), i)).collect();
        let order = |a: &(u64, u32), b: &(u64, u32)| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1));
        let mut full = items.clone();
        full.sort_by(order);
        for top in [
            None,
            Some(0),
            Some(1),
            Some(10),
            Some(499),
            Some(500),
            Some(900),
        ] {
            let mut v = items.clone();
            sort_top(&mut v, top, order);
            let n = top.unwrap_or(usize::MAX).min(full.len());
            assert_eq!(v, full[..n], "top {top:?}");
        }
    }
}
