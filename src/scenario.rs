//! Incident scenarios with known truth: a mass-expiry night, a cron job on a revoked token, a
//! burst, and client IPs crossing each ban preset and then being banned.
//!
//! Each scenario writes compact but real-shaped `api_json.log` lines in time order and returns
//! what a correct triage must find. Tests assert tokentrail's views against these truths; the
//! example `generate --scenario incident` writes the README's demo log.

use std::io::{self, Write};

use crate::time::{Millis, format_rfc3339, parse_rfc3339};

/// What a scenario must produce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioTruth {
    /// Lines written.
    pub lines: u64,
    /// Failures written.
    pub failures: u64,
    /// The onset bucket start, for the scenario's natural bucket.
    pub onset: Option<Millis>,
    /// Expiry cliffs: (day midnight, tokens, earliest failure).
    pub cliffs: Vec<(Millis, usize, Millis)>,
    /// The last success of each cliff token before its first failure: (token id, time).
    pub last_success: Vec<(String, Millis)>,
}

fn t(s: &str) -> Millis {
    // Cannot fail: only ever called with the literal times written in this file, all valid
    // RFC 3339 (the scenario tests run every one of them).
    parse_rfc3339(s.as_bytes()).expect("scenario times are valid")
}

/// Writes one compact Grape request line.
fn request(
    out: &mut Vec<(Millis, String)>,
    time: Millis,
    status: u16,
    ip: &str,
    ua: &str,
    route: &str,
    extra: &str,
) {
    out.push((
        time,
        format!(
            r#"{{"time":"{}","severity":"INFO","duration_s":0.012,"status":{status},"method":"GET","path":"{}","params":[],"remote_ip":"{ip}, 127.0.0.1","ua":"{ua}","route":"{route}","db_count":2,"cpu_s":0.01,"meta.caller_id":"GET {route}","meta.remote_ip":"{ip}","meta.client_id":"ip/{ip}"{extra}}}"#,
            format_rfc3339(time),
            route.replace(":version", "v4").replace(":id", "42"),
        ),
    ));
}

fn success(token: u64) -> String {
    format!(
        r#","user_id":{token},"username":"bot{token}","token_type":"PersonalAccessToken","token_id":{token}"#
    )
}

fn failed(reason: &str, token: u64) -> String {
    format!(
        r#","meta.auth_fail_reason":"{reason}","meta.auth_fail_token_id":"PersonalAccessToken/{token}""#
    )
}

fn flush(out: &mut dyn Write, mut lines: Vec<(Millis, String)>) -> io::Result<u64> {
    lines.sort_by_key(|l| l.0);
    for (_, l) in &lines {
        out.write_all(l.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(lines.len() as u64)
}

const ISSUES: &str = "/api/:version/projects/:id/issues";
const PIPELINE: &str = "/api/:version/projects/:id/pipeline";

/// The classic midnight: `tokens` project tokens worked all evening and all start failing with
/// `token_expired` within minutes after 2024-05-14 00:00 UTC, amid normal traffic and a background
/// of sporadic unattributed 401s. Hourly buckets: the onset is 00:00.
pub fn expiry_night(tokens: u64, out: &mut dyn Write) -> io::Result<ScenarioTruth> {
    let (start, midnight, end) = (
        t("2024-05-13T18:00:00Z"),
        t("2024-05-14T00:00:00Z"),
        t("2024-05-14T04:00:00Z"),
    );
    let mut lines = Vec::new();
    let mut truth = ScenarioTruth::default();
    // Normal traffic every 20 s from a token that keeps working.
    let mut time = start;
    while time < end {
        request(
            &mut lines,
            time,
            200,
            "198.51.100.10",
            "python-gitlab/4.4.0",
            ISSUES,
            &success(1),
        );
        time += 20_000;
    }
    // A sporadic unattributed 401 every 30 minutes: the baseline.
    let mut time = start + 7_000;
    while time < end {
        request(
            &mut lines,
            time,
            401,
            "198.51.100.99",
            "curl/8.4.0",
            "/api/:version/user",
            "",
        );
        truth.failures += 1;
        time += 1_800_000;
    }
    // Each expiring token: a success every 15 min until just before midnight, then failures.
    for i in 0..tokens {
        let token = 1000 + i;
        let ip = format!("10.20.{}.{}", i / 250, i % 250);
        let last_ok = midnight - 120_000 + (i as i64 % 100) * 1_000; // 23:58:00 .. 23:59:39
        let mut time = last_ok - 15 * 60_000 * 4;
        while time <= last_ok {
            request(
                &mut lines,
                time,
                200,
                &ip,
                "gitlab-runner-helper",
                PIPELINE,
                &success(token),
            );
            time += 15 * 60_000;
        }
        let first_fail = midnight + 500 + (i as i64) * 1_700; // spread over the first ~9 minutes
        for k in 0..4 {
            request(
                &mut lines,
                first_fail + k * 600_000,
                401,
                &ip,
                "gitlab-runner-helper",
                PIPELINE,
                &failed("token_expired", token),
            );
            truth.failures += 1;
        }
        truth.last_success.push((token.to_string(), last_ok));
    }
    truth.onset = Some(midnight);
    if tokens > 0 {
        truth.cliffs = vec![(midnight, tokens as usize, midnight + 500)];
    }
    truth.lines = flush(out, lines)?;
    Ok(truth)
}

/// A revoked token still used by a cron job: one failure every 10 minutes (with a retry 3 s later
/// every third run) for three days, token `PersonalAccessToken/7777`.
pub fn cron_job(out: &mut dyn Write) -> io::Result<ScenarioTruth> {
    let start = t("2024-05-11T00:00:02Z");
    let mut lines = Vec::new();
    let mut truth = ScenarioTruth::default();
    for run in 0..(3 * 24 * 6) {
        let time = start + run * 600_000 + (run % 5) * 700;
        // Every third run retries once, 3 s later.
        let attempts: &[Millis] = if run % 3 == 0 { &[0, 3_000] } else { &[0] };
        for delay in attempts {
            request(
                &mut lines,
                time + delay,
                401,
                "203.0.113.77",
                "backup-script/1.0",
                ISSUES,
                &failed("token_revoked", 7777),
            );
            truth.failures += 1;
        }
    }
    truth.lines = flush(out, lines)?;
    Ok(truth)
}

/// Three client IPs, each crossing one more ban preset, then answered with 403s (the ban):
/// - `203.0.113.10`: 12 failures in 30 s (self-managed 10/60 s), token `PersonalAccessToken/10`;
/// - `203.0.113.30`: 40 failures in 120 s (also gitlab-com-2024 30/180 s), token 30, a burst;
/// - `203.0.113.99`: 320 unattributed failures in 50 s (also gitlab-com 300/60 s).
///
/// Each is followed by 5 forbidden responses without auth fields, a minute later.
pub fn burst_and_ban(out: &mut dyn Write) -> io::Result<ScenarioTruth> {
    let mut lines = Vec::new();
    let mut truth = ScenarioTruth::default();
    let cases: [(&str, u64, i64, Option<u64>, &str); 3] = [
        ("203.0.113.10", 12, 30_000, Some(10), "2024-05-12T10:00:00Z"),
        (
            "203.0.113.30",
            40,
            120_000,
            Some(30),
            "2024-05-12T11:00:00Z",
        ),
        ("203.0.113.99", 320, 50_000, None, "2024-05-12T12:00:00Z"),
    ];
    for (ip, n, span, token, at) in cases {
        let start = t(at);
        let step = span / n as i64;
        for k in 0..n as i64 {
            let extra = token
                .map(|tok| failed("token_expired", tok))
                .unwrap_or_default();
            request(
                &mut lines,
                start + k * step,
                401,
                ip,
                "terraform-provider-gitlab/17.0",
                ISSUES,
                &extra,
            );
            truth.failures += 1;
        }
        for k in 0..5 {
            request(
                &mut lines,
                start + span + 60_000 + k * 1_000,
                403,
                ip,
                "terraform-provider-gitlab/17.0",
                ISSUES,
                "",
            );
        }
    }
    truth.lines = flush(out, lines)?;
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_write_what_they_count() -> io::Result<()> {
        let mut buf = Vec::new();
        let truth = expiry_night(20, &mut buf)?;
        assert_eq!(
            buf.iter().filter(|&&b| b == b'\n').count() as u64,
            truth.lines
        );
        assert_eq!(truth.cliffs.len(), 1);
        let mut buf = Vec::new();
        assert_eq!(cron_job(&mut buf)?.failures, 432 + 144);
        Ok(())
    }
}
