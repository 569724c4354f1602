//! The Markdown report: the default report as GitHub/GitLab-flavoured Markdown, ready to paste
//! into an incident issue.
//!
//! A title, the accounting summary, the onset and expiry-cliff sentences, then tables of reasons,
//! top tokens, top client IPs and the busiest timeline buckets, in the order of the terminal table.
//! Every log-derived text is escaped twice: control characters and bidi overrides become visible
//! `\x1b` escapes ([`escape`](super::escape::escape)), then Markdown syntax gets a backslash
//! ([`markdown_text`]), so a user agent cannot break a table, start a link, raw HTML, emphasis or a
//! GitLab reference (`@user`, `#12`, `~label`). It draws no chart (the HTML report does) and
//! links nothing. The small wording helpers here (`pub(crate)`) are shared with the HTML report, so
//! that both say the same thing.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::{escape, escape_to_width};
use super::{human_bytes, percent, thousands, when};
use crate::report::{Bucket, Report, Time, TokenEntry, ValueCount};
use crate::time::{format_human, format_rfc3339};

/// Rows per table when none is asked for (`--top`'s default).
pub const DEFAULT_ROWS: usize = 10;

/// Timeline buckets listed: the busiest ones, in time order.
const TIMELINE_ROWS: usize = 24;

/// Width of the timeline bars, in block characters.
const BAR_WIDTH: u64 = 20;

/// Inputs named in the summary; more are only counted.
const NAMED_INPUTS: usize = 5;

/// Writes the report as Markdown with [`DEFAULT_ROWS`] rows per table.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_with(report, DEFAULT_ROWS, out)
}

/// Escapes log text for Markdown: control characters as `\x1b`, then every character that could
/// start Markdown or GitLab syntax with a backslash. `://` and `www.` get one too, so that the text
/// is not turned into a link on GitHub.
pub fn markdown_text(text: &str) -> String {
    backslash_syntax(&escape(text))
}

/// Like [`markdown_text`], shortened to `width` characters (before the backslashes) with `…`.
pub fn markdown_text_to_width(text: &str, width: usize) -> String {
    backslash_syntax(&escape_to_width(text, width))
}

/// Backslash-escapes Markdown and GitLab reference syntax in text without control characters.
fn backslash_syntax(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let special = matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '|'
                | '~'
                | '&'
                | '!'
                | '#'
                | '@'
                | '$'
                | '%'
                | '{'
                | '}'
                | '^'
        );
        // Autolinks: `scheme://` and `www.`.
        let link = (c == ':' && chars.get(i + 1) == Some(&'/'))
            || (c == '.' && i >= 3 && chars[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w')));
        if special || link {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `PersonalAccessToken/12`, or the class alone when the logged value had no id.
pub(crate) fn token_name(t: &TokenEntry) -> String {
    if t.id.is_empty() {
        t.class.clone()
    } else {
        format!("{}/{}", t.class, t.id)
    }
}

/// A token's reasons, most frequent first: `token_expired` or `token_expired 3, token_revoked 1`.
pub(crate) fn reasons_text(reasons: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = reasons.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    if v.len() == 1 {
        return v[0].0.clone();
    }
    v.iter()
        .map(|(r, n)| format!("{r} {}", thousands(**n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bucket width for people: `5 min`, `1 h`, `1 d`, `30 s`.
pub(crate) fn duration_text(s: u64) -> String {
    match s {
        s if s > 0 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The start of a bucket: minutes when buckets are whole minutes, else seconds (UTC).
pub(crate) fn bucket_time(t: Time, bucket_s: u64) -> String {
    let human = format_human(t.0);
    if bucket_s.is_multiple_of(60) {
        human[..16].to_string()
    } else {
        human
    }
}

/// A time of day with milliseconds: `00:00:00.500`.
pub(crate) fn time_of_day_ms(t: Time) -> String {
    format_rfc3339(t.0)[11..23].to_string()
}

/// What a timeline reason key means: `none` counts unattributed failures together with those that
/// name a token but no reason.
pub(crate) fn reason_label(reason: &str) -> &str {
    if reason == "none" {
        "unattributed/no reason"
    } else {
        reason
    }
}

/// The earliest and latest last success of an expiry cliff's tokens, and how many had one.
/// "; 300 of them last succeeded between … and … UTC", or nothing without `--last-success`.
pub(crate) fn cliff_worked(c: &crate::report::Cliff) -> String {
    match cliff_last_successes(c) {
        Some((lo, hi, n)) => format!(
            "; {} of them last succeeded between {} and {} UTC",
            thousands(n as u64),
            format_human(lo.0),
            format_human(hi.0)
        ),
        None => String::new(),
    }
}

pub(crate) fn cliff_last_successes(c: &crate::report::Cliff) -> Option<(Time, Time, usize)> {
    let oks: Vec<Time> = c.members.iter().filter_map(|m| m.last_success).collect();
    let (lo, hi) = (oks.iter().min()?, oks.iter().max()?);
    Some((*lo, *hi, oks.len()))
}

/// The most failures in one bucket, and the first bucket with that many.
pub(crate) fn peak_bucket(buckets: &[Bucket]) -> Option<&Bucket> {
    buckets.iter().filter(|b| b.failures > 0).max_by(|a, b| {
        a.failures
            .cmp(&b.failures)
            .then_with(|| b.start.cmp(&a.start))
    })
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn top_value(v: &[ValueCount], width: usize) -> String {
    v.first()
        .map(|x| markdown_text_to_width(&x.value, width))
        .unwrap_or_else(|| "-".into())
}

/// A Markdown table: a header with alignment, then rows of already-escaped cells.
fn table(out: &mut dyn Write, head: &[(&str, bool)], rows: &[Vec<String>]) -> io::Result<()> {
    let names: Vec<&str> = head.iter().map(|h| h.0).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let rules: Vec<&str> = head
        .iter()
        .map(|h| if h.1 { "--:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", rules.join("|"))?;
    for row in rows {
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

/// Writes the report as Markdown with at most `rows` rows in the token and IP tables.
pub fn render_with(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    summary(r, out)?;
    notes(r, out)?;
    reasons(r, out)?;
    tokens(r, rows, out)?;
    ips(r, rows, out)?;
    timeline(r, out)?;
    problems(r, out)?;
    out.flush()
}

fn summary(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    match r.time_range {
        Some(tr) => writeln!(
            out,
            "## tokentrail: {} from {} to {} UTC",
            plural(t.failures, "token failure", "token failures"),
            format_human(tr.first.0),
            format_human(tr.last.0)
        )?,
        None => writeln!(
            out,
            "## tokentrail: {}",
            plural(t.failures, "token failure", "token failures")
        )?,
    }
    writeln!(out)?;

    let bytes: u64 = r.inputs.iter().map(|i| i.bytes).sum();
    let read = r.inputs.iter().filter(|i| i.encoding.is_some()).count() as u64;
    let mut names: Vec<String> = r
        .inputs
        .iter()
        .take(NAMED_INPUTS)
        .map(|i| markdown_text_to_width(&i.path, 80))
        .collect();
    if r.inputs.len() > NAMED_INPUTS {
        names.push(format!("and {} more", r.inputs.len() - NAMED_INPUTS));
    }
    let unread = r.inputs.len() as u64 - read;
    writeln!(
        out,
        "- **Inputs:** {}, {}, {}{}: {}",
        plural(read, "input", "inputs"),
        human_bytes(bytes),
        plural(t.lines, "line", "lines"),
        if unread > 0 {
            format!(" ({} could not be read)", thousands(unread))
        } else {
            String::new()
        },
        names.join(", ")
    )?;
    writeln!(
        out,
        "- **Failures:** {} (attributed {} + unattributed {}); {} and {} with failures",
        thousands(t.failures),
        thousands(t.attributed),
        thousands(t.unattributed),
        plural(r.distinct_tokens as u64, "token", "tokens"),
        plural(r.distinct_ips as u64, "client IP", "client IPs"),
    )?;
    let [lines, requests] = super::accounting(t);
    // Our own text, but `non_json` would turn italic: escape the underscores.
    writeln!(out, "- **Lines:** {}", lines.replace('_', "\\_"))?;
    writeln!(out, "- **Requests:** {}", requests.replace('_', "\\_"))?;
    if r.untimed_failures > 0 {
        writeln!(
            out,
            "- **Untimed:** {} have no usable time (not in the timeline nor in ban windows)",
            plural(r.untimed_failures, "failure", "failures")
        )?;
    }
    writeln!(out)
}

fn notes(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let bucket_s = r.timeline.bucket_s;
    if let Some(o) = &r.onset {
        let reason = match o.top_reason.as_deref() {
            Some(reason) => format!(", top reason {}", markdown_text(reason_label(reason))),
            None => String::new(),
        };
        writeln!(
            out,
            "**Onset** {} UTC: {} in the {} bucket (baseline {:.1}, peak {}){}, {} for the first time.",
            bucket_time(o.time, bucket_s),
            plural(o.failures, "failure", "failures"),
            duration_text(bucket_s),
            o.baseline_per_bucket,
            thousands(o.peak_per_bucket),
            reason,
            plural(o.new_tokens, "token failing", "tokens failing"),
        )?;
        writeln!(out)?;
    }
    for c in &r.cliffs {
        let worked = cliff_worked(c);
        writeln!(
            out,
            "**Expiry cliff** {}: {} started failing with token\\_expired, first at {} UTC{}.",
            c.day,
            plural(c.tokens as u64, "token", "tokens"),
            time_of_day_ms(c.first_failure),
            worked
        )?;
        writeln!(out)?;
    }
    Ok(())
}

fn reasons(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    writeln!(out, "### Failures by reason")?;
    writeln!(out)?;
    let mut rows: Vec<Vec<String>> = r
        .reasons
        .iter()
        .map(|rc| {
            vec![
                match &rc.reason {
                    Some(reason) => markdown_text_to_width(reason, 60),
                    None => "(token id, no reason)".into(),
                },
                thousands(rc.count),
                percent(rc.count, t.failures),
            ]
        })
        .collect();
    rows.push(vec![
        "unattributed (no token fields)".into(),
        thousands(t.unattributed),
        percent(t.unattributed, t.failures),
    ]);
    table(
        out,
        &[("Reason", false), ("Failures", true), ("Share", true)],
        &rows,
    )?;
    writeln!(out)
}

fn tokens(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### Top tokens ({} of {})",
        r.tokens.len().min(rows),
        thousands(r.distinct_tokens as u64)
    )?;
    writeln!(out)?;
    if r.tokens.is_empty() {
        writeln!(
            out,
            "No failure named a token (`meta.auth_fail_token_id` appears from GitLab 17.2)."
        )?;
        return writeln!(out);
    }
    let columns = super::token_columns(r.last_success_tracked, " (UTC)");
    let head: Vec<(&str, bool)> = columns.iter().map(|(h, r)| (h.as_str(), *r)).collect();
    let body: Vec<Vec<String>> = r
        .tokens
        .iter()
        .take(rows)
        .map(|tok| {
            let mut row = vec![
                markdown_text_to_width(&token_name(tok), 48),
                thousands(tok.count),
                markdown_text_to_width(&reasons_text(&tok.reasons), 60),
                super::token::pattern_text(tok),
                when(tok.first_seen),
                when(tok.last_seen),
            ];
            if r.last_success_tracked {
                row.push(
                    tok.last_success
                        .map(|t| format_human(t.0))
                        .unwrap_or_else(|| "none seen".into()),
                );
            }
            row.extend([
                top_value(&tok.ips, 39),
                top_value(&tok.user_agents, 40),
                top_value(&tok.routes, 48),
                top_value(&tok.users, 24),
            ]);
            row
        })
        .collect();
    table(out, &head, &body)?;
    writeln!(out)
}

fn ips(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    let b = &r.ban_threshold;
    writeln!(
        out,
        "### Top client IPs ({} of {}; ban rule {})",
        r.ips.len().min(rows),
        thousands(r.distinct_ips as u64),
        b
    )?;
    writeln!(out)?;
    if r.ips.is_empty() {
        writeln!(out, "No failure had a client IP.")?;
        return writeln!(out);
    }
    let max_head = format!("Max in {} s", b.findtime_s);
    let head = [
        ("IP", false),
        ("Failures", true),
        ("Attributed", true),
        ("Unattributed", true),
        (max_head.as_str(), true),
        ("Ban risk (threshold reached, UTC)", false),
        ("403 after threshold", true),
        ("403 other", true),
        ("Tokens", true),
        ("First seen (UTC)", false),
        ("Last seen (UTC)", false),
    ];
    let shown: Vec<_> = r.ips.iter().take(rows).collect();
    let body: Vec<Vec<String>> = shown
        .iter()
        .map(|ip| {
            let risk = match ip.threshold_reached_at {
                Some(at) => format!("**at risk** {}", format_human(at.0)),
                None if ip.max_in_window * 2 >= b.maxretry => "near".into(),
                None => "no".into(),
            };
            let tokens = if ip.shared {
                format!("{} shared", thousands(ip.distinct_tokens as u64))
            } else {
                thousands(ip.distinct_tokens as u64)
            };
            vec![
                markdown_text_to_width(&ip.ip, 45),
                thousands(ip.failures),
                thousands(ip.attributed),
                thousands(ip.unattributed),
                thousands(ip.max_in_window),
                risk,
                thousands(ip.forbidden_after_threshold),
                thousands(ip.forbidden_other),
                tokens,
                when(ip.first_seen),
                when(ip.last_seen),
            ]
        })
        .collect();
    table(out, &head, &body)?;
    if shown.iter().any(|ip| ip.shared) {
        writeln!(out)?;
        writeln!(
            out,
            "*shared*: at least {} distinct tokens failed from the address (a NAT, proxy or CI fleet); a ban there stops every client behind it.",
            crate::report::SHARED_IP_TOKENS
        )?;
    }
    writeln!(out)
}

fn timeline(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let tl = &r.timeline;
    let mut busy: Vec<&Bucket> = tl.buckets.iter().filter(|b| b.failures > 0).collect();
    if busy.is_empty() {
        return Ok(());
    }
    let non_empty = busy.len();
    if non_empty > TIMELINE_ROWS {
        busy.sort_by(|a, b| {
            b.failures
                .cmp(&a.failures)
                .then_with(|| a.start.cmp(&b.start))
        });
        busy.truncate(TIMELINE_ROWS);
        busy.sort_by_key(|b| b.start);
    }
    let which = if non_empty > TIMELINE_ROWS {
        format!("the {TIMELINE_ROWS} busiest of {non_empty} non-empty buckets, in time order")
    } else {
        plural(non_empty as u64, "non-empty bucket", "non-empty buckets")
    };
    writeln!(
        out,
        "### Timeline ({} buckets, UTC; {which})",
        duration_text(tl.bucket_s)
    )?;
    writeln!(out)?;
    let peak = peak_bucket(&tl.buckets);
    let peak_n = peak.map(|b| b.failures).unwrap_or(1).max(1);
    let onset = r.onset.as_ref().map(|o| o.time);
    let body: Vec<Vec<String>> = busy
        .iter()
        .map(|b| {
            let mut marks = Vec::new();
            if onset == Some(b.start) {
                marks.push("onset");
            }
            if peak.is_some_and(|p| p.start == b.start) {
                marks.push("peak");
            }
            let start = if marks.is_empty() {
                bucket_time(b.start, tl.bucket_s)
            } else {
                format!(
                    "{} **{}**",
                    bucket_time(b.start, tl.bucket_s),
                    marks.join(", ")
                )
            };
            let cells = (b.failures * BAR_WIDTH).div_ceil(peak_n) as usize;
            let mut by: Vec<(&String, &u64)> = b.by_reason.iter().collect();
            by.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let by = by
                .iter()
                .map(|(reason, n)| {
                    format!(
                        "{} {}",
                        markdown_text_to_width(reason_label(reason), 40),
                        thousands(**n)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![start, thousands(b.failures), "█".repeat(cells), by]
        })
        .collect();
    table(
        out,
        &[
            ("Bucket start", false),
            ("Failures", true),
            ("", false),
            ("By reason", false),
        ],
        &body,
    )?;
    writeln!(out)
}

fn problems(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    let listed: Vec<(&str, &crate::report::Example)> = r
        .inputs
        .iter()
        .flat_map(|i| i.examples.iter().map(move |e| (i.path.as_str(), e)))
        .take(5)
        .collect();
    if t.non_json > 0 && !listed.is_empty() {
        writeln!(
            out,
            "### Unreadable lines (first {} of {} non\\_json)",
            listed.len(),
            thousands(t.non_json)
        )?;
        writeln!(out)?;
        for (path, e) in listed {
            writeln!(
                out,
                "- {}:{}: {}",
                markdown_text_to_width(path, 80),
                e.line,
                markdown_text_to_width(&e.text, 100)
            )?;
        }
        writeln!(out)?;
    }
    let errors: Vec<&String> = r.inputs.iter().filter_map(|i| i.error.as_ref()).collect();
    let shrank: Vec<&str> = r
        .inputs
        .iter()
        .filter(|i| i.shrank)
        .map(|i| i.path.as_str())
        .collect();
    if !errors.is_empty() || !shrank.is_empty() {
        writeln!(out, "### Input problems")?;
        writeln!(out)?;
        for e in errors {
            writeln!(out, "- {}", markdown_text_to_width(e, 200))?;
        }
        for path in shrank {
            writeln!(
                out,
                "- {}: the file got shorter while it was read (rotated?); counts cover what was there",
                markdown_text_to_width(path, 120)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_become_markdown() {
        assert_eq!(markdown_text("curl/8.4.0"), "curl/8.4.0");
        assert_eq!(
            markdown_text("<img src=x onerror=alert(1)>|`x`"),
            "\\<img src=x onerror=alert(1)\\>\\|\\`x\\`"
        );
        assert_eq!(markdown_text("a\nb\u{1b}[1m"), "a\\\\x0ab\\\\x1b\\[1m");
        assert_eq!(
            markdown_text("[x](https://e.example) @all #1 www.x.org"),
            "\\[x\\](https\\://e.example) \\@all \\#1 www\\.x.org"
        );
        assert_eq!(markdown_text("a\\|b"), "a\\\\\\|b");
        assert_eq!(markdown_text_to_width("*bold*", 4), "\\*bo…");
    }

    #[test]
    fn durations_and_times() {
        assert_eq!(duration_text(300), "5 min");
        assert_eq!(duration_text(3600), "1 h");
        assert_eq!(duration_text(86_400), "1 d");
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(bucket_time(Time(0), 300), "1970-01-01 00:00");
        assert_eq!(bucket_time(Time(1_500), 1), "1970-01-01 00:00:01");
        assert_eq!(time_of_day_ms(Time(500)), "00:00:00.500");
    }
}
