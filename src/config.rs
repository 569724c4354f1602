//! The resolved configuration: raw [`Args`] checked and turned into typed settings.

use std::path::PathBuf;

use crate::ban::BanThreshold;
use crate::cli::{Args, ColorWhen, Format};
use crate::filter::Filter;
use crate::prefilter::Prefilter;
use crate::record::Keep;
use crate::report::ReportOptions;
use crate::run::ScanOptions;
use crate::scan::ScanSettings;
use crate::time::{Millis, parse_date, parse_rfc3339};

/// A command line that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `--since` / `--until` not understood.
    #[error(
        "invalid time '{0}' for {1}: use RFC 3339 (2024-05-14T00:00:00Z), a date (2024-05-14) or a relative time (30m, 2h, 7d)"
    )]
    Time(String, &'static str),
    /// `--bucket` not understood.
    #[error("invalid bucket '{0}': use a duration such as 1m, 5m, 1h or 1d")]
    Bucket(String),
    /// `--ban-threshold` not understood.
    #[error("{0}")]
    Ban(String),
    /// `--since` not before `--until`.
    #[error("--since must be before --until")]
    EmptyWindow,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Paths as given (empty: choose a default).
    pub paths: Vec<PathBuf>,
    /// Output format.
    pub format: Format,
    /// Colour choice.
    pub color: ColorWhen,
    /// Rows per table.
    pub rows: usize,
    /// Unreadable lines to show.
    pub examples: usize,
    /// Scanner settings.
    pub scan: ScanSettings,
    /// Work splitting.
    pub options: ScanOptions,
    /// Report shaping.
    pub report: ReportOptions,
    /// Print matching lines instead of a report.
    pub raw: bool,
    /// Only list the inputs.
    pub list_inputs: bool,
    /// No progress bar.
    pub quiet: bool,
    /// Where the report goes (`None`: standard output).
    pub output: Option<PathBuf>,
}

/// Parses a duration such as `90s`, `30m`, `2h`, `7d` into seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    // Up to 100 years: enough for any log, and far from overflowing milliseconds.
    n.checked_mul(scale)
        .filter(|&s| s > 0 && s <= 100 * 366 * 86_400)
}

/// Parses a `--since`/`--until` value relative to `now`.
pub fn parse_time(text: &str, now: Millis) -> Option<Millis> {
    let t = text.trim();
    // A date and time without a zone is UTC, like every time tokentrail prints.
    let zoned;
    let bare = t.len() >= 19
        && t.as_bytes()[10] == b'T'
        && !t.ends_with(['Z', 'z'])
        && t.get(19..).is_some_and(|rest| !rest.contains(['+', '-']));
    let t = if bare {
        zoned = format!("{t}Z");
        zoned.as_str()
    } else {
        t
    };
    parse_rfc3339(t.as_bytes())
        .or_else(|| parse_date(t.as_bytes()))
        .or_else(|| parse_duration(t).map(|s| now - s as i64 * 1000))
}

/// The reasons GitLab logs in `meta.auth_fail_reason`, and `none` for failures without one.
pub const KNOWN_REASONS: [&str; 5] = [
    "token_expired",
    "token_revoked",
    "insufficient_scope",
    "impersonation_disabled",
    "none",
];

/// `--reason unattributed` means failures without a reason (`none`); an unknown reason is kept
/// (GitLab may add some) but warned about, since a typo would otherwise read as "no failures".
fn normalize_reason(r: &str) -> String {
    if r == "unattributed" {
        return "none".into();
    }
    if !KNOWN_REASONS.contains(&r) {
        eprintln!(
            "tokentrail: warning: --reason {r} is not a reason GitLab logs ({})",
            KNOWN_REASONS.join(", ")
        );
    }
    r.to_string()
}

fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

impl Config {
    /// Checks and resolves the raw arguments.
    pub fn from_args(args: Args) -> Result<Self, ConfigError> {
        let now = now_millis();
        let time = |v: &Option<String>, flag| match v {
            None => Ok(None),
            Some(s) => parse_time(s, now)
                .map(Some)
                .ok_or_else(|| ConfigError::Time(s.clone(), flag)),
        };
        let since = time(&args.since, "--since")?;
        let until = time(&args.until, "--until")?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(ConfigError::EmptyWindow);
        }
        let bucket_s = match &args.bucket {
            None => None,
            Some(b) => Some(parse_duration(b).ok_or_else(|| ConfigError::Bucket(b.clone()))?),
        };
        let ban = BanThreshold::parse(&args.ban_threshold).map_err(ConfigError::Ban)?;
        let filter = Filter {
            since,
            until,
            reasons: args.reason.iter().map(|r| normalize_reason(r)).collect(),
            tokens: args.token,
            ips: args.ip,
        };
        let defaults = ScanOptions::default();
        let rows = args.top.unwrap_or(10);
        let keep = if args.raw {
            Keep::Raw
        } else if args.format == Format::Ndjson {
            Keep::Normalized
        } else {
            Keep::Nothing
        };
        Ok(Config {
            paths: args.paths,
            format: args.format,
            color: args.color,
            rows,
            examples: args.examples,
            scan: ScanSettings {
                prefilter: if args.last_success {
                    Prefilter::new().with_successes()
                } else {
                    Prefilter::new()
                },
                track_successes: args.last_success,
                filter,
                full_parse: args.full_parse,
                max_examples: args.examples.max(5),
                keep,
            },
            options: ScanOptions {
                threads: args.threads.unwrap_or(0),
                chunk_size: args.chunk_size.unwrap_or(defaults.chunk_size),
                buffer_size: args.buffer_size.unwrap_or(defaults.buffer_size).max(1),
                progress: None,
                pipeline: false,
                memory_map: !args.no_mmap,
            },
            report: ReportOptions {
                top: args.top,
                top_values: args.top_values,
                ban,
                bucket_s,
                last_success_tracked: args.last_success,
            },
            raw: args.raw,
            list_inputs: args.list_inputs,
            quiet: args.quiet,
            output: args.output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m"), Some(60));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("0m"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("10"), None);
    }

    #[test]
    fn times() {
        let now = 1_000_000_000;
        assert_eq!(parse_time("30m", now), Some(now - 1_800_000));
        assert_eq!(
            parse_time("2024-05-14", now),
            parse_rfc3339(b"2024-05-14T00:00:00Z")
        );
        assert_eq!(parse_time("yesterday", now), None);
        assert_eq!(
            parse_time("2024-05-14T00:30:00", now),
            parse_rfc3339(b"2024-05-14T00:30:00Z")
        );
        assert_eq!(
            parse_time("2024-05-14T00:30:00+02:00", now),
            parse_rfc3339(b"2024-05-13T22:30:00Z")
        );
    }
}
