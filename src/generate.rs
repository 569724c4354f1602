//! A deterministic generator of realistic `api_json.log` traffic, with its truth known by
//! construction.
//!
//! Used by tests (small sizes, exact expected counts), benches and `scripts/bench.sh` (a gigabyte).
//! Lines look like GitLab 17.x Grape request lines (~1.3 KB, many `db_*` keys, varying key order for
//! the auth-failure fields); a few percent are failures of each kind. This module only writes
//! bytes; compression is left to the caller.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::summary::LineCounts;
use crate::time::{Millis, format_rfc3339};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenSpec {
    /// PRNG seed: the same spec always gives the same bytes.
    pub seed: u64,
    /// Stop after this many lines.
    pub lines: u64,
    /// Failures per million lines (401s and scope 403s, attributed and not).
    pub failure_ppm: u32,
    /// Distinct failing tokens.
    pub tokens: u32,
    /// Distinct client IPs.
    pub ips: u32,
    /// Time of the first line.
    pub start: Millis,
    /// Milliseconds between lines.
    pub step_ms: Millis,
    /// One line in this many carries a ~6 KiB `params` array (0: never).
    pub long_every: u64,
}

impl Default for GenSpec {
    fn default() -> Self {
        Self {
            seed: 1,
            lines: 10_000,
            failure_ppm: 20_000,
            tokens: 300,
            ips: 2_000,
            start: 1_715_644_800_000 - 3_600_000, // 2024-05-13T23:00:00Z
            step_ms: 37,
            long_every: 200,
        }
    }
}

/// What the generated log must produce under `--full-parse` (and, for failures, probes and
/// forbidden_other, in the default mode too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    /// Expected full-parse accounting.
    pub counts: LineCounts,
    /// Failures per token id text.
    pub tokens: BTreeMap<String, u64>,
    /// Attributed failures per reason.
    pub reasons: BTreeMap<String, u64>,
    /// Bytes written.
    pub bytes: u64,
}

/// A small fast PRNG (SplitMix64); quality is plenty for test traffic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const ROUTES: [(&str, &str, &str); 6] = [
    (
        "GET",
        "/api/v4/projects/{id}/issues",
        "/api/:version/projects/:id/issues",
    ),
    (
        "GET",
        "/api/v4/projects/{id}/repository/tags",
        "/api/:version/projects/:id/repository/tags",
    ),
    (
        "POST",
        "/api/v4/projects/{id}/pipeline",
        "/api/:version/projects/:id/pipeline",
    ),
    ("GET", "/api/v4/user", "/api/:version/user"),
    (
        "GET",
        "/api/v4/projects/{id}/merge_requests",
        "/api/:version/projects/:id/merge_requests",
    ),
    (
        "GET",
        "/api/v4/groups/{id}/projects",
        "/api/:version/groups/:id/projects",
    ),
];

const AGENTS: [&str; 6] = [
    "python-gitlab/4.4.0",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "node-fetch",
    "Gitlab Ruby Gem 4.19.0",
    "Terraform/1.8.2",
];

const DB_KEYS: &str = r#""queue_duration_s":0.008871,"db_count":2,"db_write_count":2,"db_cached_count":2,"db_replica_count":2,"db_primary_count":2,"db_main_count":2,"db_main_replica_count":2,"db_replica_cached_count":2,"db_primary_cached_count":2,"db_main_cached_count":2,"db_replica_wal_count":2,"db_primary_wal_count":2,"db_main_wal_count":2,"db_replica_duration_s":0.003,"db_primary_duration_s":0.003,"db_main_duration_s":0.003,"cpu_s":0.017714,"mem_objects":6120,"mem_bytes":498312,"mem_mallocs":1710,"mem_total_bytes":743112,"pid":3149,"worker_id":"puma_1","rate_limiting_gates":[]"#;

/// The kinds of line the generator writes, with their share in per-million.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Success,
    Expired,
    Revoked,
    Impersonation,
    Scope,
    Unattributed,
    Probe,
    Forbidden,
    NotFound,
}

/// Writes generated lines to `out` and returns their truth.
pub fn generate(spec: &GenSpec, out: &mut dyn Write) -> io::Result<Truth> {
    let mut rng = Rng::new(spec.seed);
    let mut truth = Truth::default();
    let mut line = String::with_capacity(8 << 10);
    let f = u64::from(spec.failure_ppm);
    for n in 0..spec.lines {
        let roll = rng.below(1_000_000);
        // Failures split 70/8/2/6/14 between expired, revoked, impersonation, scope, unattributed.
        let kind = if roll < f * 70 / 100 {
            LineKind::Expired
        } else if roll < f * 78 / 100 {
            LineKind::Revoked
        } else if roll < f * 80 / 100 {
            LineKind::Impersonation
        } else if roll < f * 86 / 100 {
            LineKind::Scope
        } else if roll < f {
            LineKind::Unattributed
        } else if roll < f + 1_000 {
            LineKind::Probe
        } else if roll < f + 2_000 {
            LineKind::Forbidden
        } else if roll < f + 12_000 {
            LineKind::NotFound
        } else {
            LineKind::Success
        };
        let time = spec.start + n as i64 * spec.step_ms;
        let ip_n = rng.below(u64::from(spec.ips.max(1)));
        let ip = format!("10.{}.{}.{}", ip_n >> 16 & 255, ip_n >> 8 & 255, ip_n & 255);
        let token = format!(
            "PersonalAccessToken/{}",
            1 + rng.below(u64::from(spec.tokens.max(1)))
        );
        let (method, path, route) = ROUTES[rng.below(ROUTES.len() as u64) as usize];
        let path = path.replace("{id}", &(1 + rng.below(5000)).to_string());
        let ua = AGENTS[rng.below(AGENTS.len() as u64) as usize];
        let status = match kind {
            LineKind::Success | LineKind::Probe => 200,
            LineKind::Scope | LineKind::Forbidden => 403,
            LineKind::NotFound => 404,
            _ => 401,
        };
        line.clear();
        line.push_str(&format!(
            r#"{{"time":"{}","severity":"INFO","duration_s":0.01921,"db_duration_s":0.00412,"view_duration_s":0.01509,"status":{status},"method":"{method}","path":"{path}","params":["#,
            format_rfc3339(time)
        ));
        if spec.long_every > 0 && n % spec.long_every == 7 {
            for i in 0..60 {
                line.push_str(&format!(
                    r#"{{"key":"field_{i}","value":"{}"}},"#,
                    "x".repeat(90)
                ));
            }
        }
        line.push_str(r#"{"key":"per_page","value":"100"}],"host":"gitlab.example.com","#);
        line.push_str(&format!(
            r#""remote_ip":"{ip}, 127.0.0.1","ua":"{ua}","route":"{route}","#
        ));
        if matches!(kind, LineKind::Success | LineKind::NotFound) {
            let user = 1 + rng.below(900);
            line.push_str(&format!(
                r#""user_id":{user},"username":"user{user}","token_type":"PersonalAccessToken","token_id":{},"#,
                1 + rng.below(u64::from(spec.tokens.max(1)))
            ));
        }
        line.push_str(DB_KEYS);
        line.push_str(&format!(
            r#","correlation_id":"01HXR{n:021}","meta.caller_id":"{method} {route}","meta.remote_ip":"{ip}","meta.feature_category":"team_planning","meta.client_id":"ip/{ip}""#
        ));
        let reason = match kind {
            LineKind::Expired | LineKind::Probe => Some("token_expired"),
            LineKind::Revoked => Some("token_revoked"),
            LineKind::Impersonation => Some("impersonation_disabled"),
            LineKind::Scope => Some("insufficient_scope"),
            _ => None,
        };
        if let Some(reason) = reason {
            // Key order is not stable across GitLab versions: vary it.
            if rng.below(2) == 0 {
                line.push_str(&format!(
                    r#","meta.auth_fail_reason":"{reason}","meta.auth_fail_token_id":"{token}""#
                ));
            } else {
                line.push_str(&format!(
                    r#","meta.auth_fail_token_id":"{token}","meta.auth_fail_reason":"{reason}""#
                ));
            }
            if kind == LineKind::Scope {
                line.push_str(r#","meta.auth_fail_requested_scopes":"api read_api""#);
            }
        }
        line.push_str(",\"request_urgency\":\"low\",\"target_duration_s\":5}\n");
        out.write_all(line.as_bytes())?;
        truth.bytes += line.len() as u64;

        let c = &mut truth.counts;
        c.lines += 1;
        c.requests += 1;
        match kind {
            LineKind::Success | LineKind::NotFound => c.other_requests += 1,
            LineKind::Probe => c.probes += 1,
            LineKind::Forbidden => c.forbidden_other += 1,
            LineKind::Unattributed => {
                c.failures += 1;
                c.unattributed += 1;
            }
            _ => {
                c.failures += 1;
                c.attributed += 1;
                *truth.tokens.entry(token).or_default() += 1;
                *truth
                    .reasons
                    .entry(reason.unwrap_or("none").to_string())
                    .or_default() += 1;
            }
        }
    }
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_balanced() -> io::Result<()> {
        let spec = GenSpec {
            lines: 2_000,
            ..GenSpec::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ta = generate(&spec, &mut a)?;
        generate(&spec, &mut b)?;
        assert_eq!(a, b);
        assert!(ta.counts.is_balanced());
        assert!(ta.counts.failures > 10, "{:?}", ta.counts);
        assert_eq!(ta.bytes, a.len() as u64);
        Ok(())
    }
}
