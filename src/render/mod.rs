//! Renderers: a [`Report`](crate::report::Report) in, bytes out. One file per format.
//!
//! Renderers are pure: they never scan, never decide exit codes and write only to the writer they
//! are given. Every string that comes from a log goes through [`escape`] before it reaches a
//! terminal or a CSV cell; JSON output stays exact (JSON escaping is enough there).

pub mod csv;
pub mod escape;
pub mod html;
pub mod ips;
pub mod json;
pub mod markdown;
pub mod table;
pub mod timeline;
pub mod token;

/// The columns of the top-tokens table in Markdown and HTML, as (heading, right-aligned); the
/// time headings end with `time_note` (" (UTC)" in Markdown, nothing in HTML).
pub(crate) fn token_columns(last_success: bool, time_note: &str) -> Vec<(String, bool)> {
    let mut columns: Vec<(String, bool)> = vec![
        ("Token".into(), false),
        ("Failures".into(), true),
        ("Reasons".into(), false),
        ("Pattern".into(), false),
        (format!("First seen{time_note}"), false),
        (format!("Last seen{time_note}"), false),
    ];
    if last_success {
        columns.push((format!("Last success{time_note}"), false));
    }
    for heading in ["Top IP", "Top user agent", "Top route", "User"] {
        columns.push((heading.into(), false));
    }
    columns
}

/// Formats an integer with thousands separators: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The two accounting equations of `triage_semantics.md` §6, as every renderer shows them:
/// `4,520 = blank 0 + non_json 0 + … + requests 4,520` and `4,520 = failures 1,220 (attributed …)`.
pub fn accounting(t: &crate::summary::LineCounts) -> [String; 2] {
    [
        format!(
            "{} = blank {} + non_json {} + skipped {} + other_component {} + other_json {} + requests {}",
            thousands(t.lines),
            thousands(t.blank),
            thousands(t.non_json),
            thousands(t.skipped),
            thousands(t.other_component),
            thousands(t.other_json),
            thousands(t.requests)
        ),
        format!(
            "{} = failures {} (attributed {} + unattributed {}) + probes {} + forbidden_other {} + other {} + filtered_out {}",
            thousands(t.requests),
            thousands(t.failures),
            thousands(t.attributed),
            thousands(t.unattributed),
            thousands(t.probes),
            thousands(t.forbidden_other),
            thousands(t.other_requests),
            thousands(t.filtered_out)
        ),
    ]
}

/// `part` as a percentage of `whole` with one decimal (`42.9%`), or `-` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// A time for people (`2024-05-14 00:00:03`, UTC), or `-` when unknown.
pub fn when(t: Option<crate::report::Time>) -> String {
    t.map(|t| crate::time::format_human(t.0))
        .unwrap_or_else(|| "-".into())
}

/// Formats a byte count for people: `1.02 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
    }
}
