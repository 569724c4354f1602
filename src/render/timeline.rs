//! The failure timeline in a terminal: one row per bucket with a bar stacked by reason, or a
//! one-line sparkline for the bottom of the default report.
//!
//! Times are UTC. Without colour every reason has its own fill character, so the chart stays
//! readable in a pipe or a ticket; with colour each reason also has its own colour. Runs of three
//! or more empty buckets fold into one `⋮` row.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::thousands;
use crate::report::{Bucket, Report};
use crate::time::format_human;

/// How a reason is drawn: fill character and colour.
pub fn reason_style(reason: &str) -> (char, Style) {
    match reason {
        "token_expired" => ('█', AnsiColor::Red.on_default()),
        "token_revoked" => ('▓', AnsiColor::Magenta.on_default()),
        "insufficient_scope" => ('▒', AnsiColor::Yellow.on_default()),
        "impersonation_disabled" => ('░', AnsiColor::Cyan.on_default()),
        "none" => ('·', AnsiColor::BrightBlack.on_default()),
        _ => ('+', AnsiColor::Blue.on_default()),
    }
}

/// The reasons in a timeline, in drawing order (most failures first).
fn reasons(buckets: &[Bucket]) -> Vec<String> {
    let mut totals: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for b in buckets {
        for (r, n) in &b.by_reason {
            *totals.entry(r).or_default() += n;
        }
    }
    let mut v: Vec<(&str, u64)> = totals.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.into_iter().map(|(r, _)| r.to_string()).collect()
}

fn human_bucket(s: u64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Writes the full chart, `width` columns wide.
pub fn render(report: &Report, width: usize, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let tl = &report.timeline;
    let order = reasons(&tl.buckets);
    let legend: Vec<String> = order
        .iter()
        .map(|r| {
            let (c, style) = reason_style(r);
            let mark = if color {
                format!("{style}{c}{style:#}")
            } else {
                c.to_string()
            };
            format!("{mark} {}", super::escape::escape(r))
        })
        .collect();
    writeln!(
        out,
        "FAILURES OVER TIME (UTC, {} buckets)  {}",
        human_bucket(tl.bucket_s),
        legend.join("  ")
    )?;
    if tl.buckets.is_empty() {
        return writeln!(out, "  no failure with a time");
    }
    let peak = tl
        .buckets
        .iter()
        .map(|b| b.failures)
        .max()
        .unwrap_or(0)
        .max(1);
    let peak_at = tl.buckets.iter().position(|b| b.failures == peak);
    let onset = report.onset.as_ref().map(|o| o.time);
    // "2024-05-14 00:00:00" + two spaces + bar + " " + count + marks
    let bar_width = width.saturating_sub(19 + 2 + 1 + 8 + 16).max(10);
    let mut i = 0;
    while i < tl.buckets.len() {
        let b = &tl.buckets[i];
        if b.failures == 0 {
            let run = tl.buckets[i..]
                .iter()
                .take_while(|b| b.failures == 0)
                .count();
            if run >= 3 {
                writeln!(out, "  {:>17}  ({run} empty buckets)", "⋮")?;
                i += run;
                continue;
            }
        }
        let mut bar = String::new();
        let mut drawn = 0usize;
        let mut cumulative = 0u64;
        for r in &order {
            let n = b.by_reason.get(r).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            cumulative += n;
            // Cumulative rounding keeps the stacked total exact; any failure shows at least one cell.
            let upto = ((cumulative as f64 / peak as f64) * bar_width as f64)
                .round()
                .max(1.0) as usize;
            let cells = upto.saturating_sub(drawn);
            drawn += cells;
            let (c, style) = reason_style(r);
            let seg: String = std::iter::repeat_n(c, cells).collect();
            if color {
                bar.push_str(&format!("{style}{seg}{style:#}"));
            } else {
                bar.push_str(&seg);
            }
        }
        let mut marks = String::new();
        if peak_at == Some(i) {
            marks.push_str("  ◀ peak");
        }
        if onset == Some(b.start) {
            marks.push_str("  ◀ onset");
        }
        let pad = " ".repeat(bar_width.saturating_sub(drawn));
        writeln!(
            out,
            "{}  {bar}{pad} {:>7}{marks}",
            format_human(b.start.0),
            thousands(b.failures)
        )?;
        i += 1;
    }
    Ok(())
}

/// A one-line sparkline of the timeline, at most `width` buckets (merging neighbours when there
/// are more), with its time range and peak.
pub fn sparkline(report: &Report, width: usize) -> Option<String> {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tl = &report.timeline;
    let (first, last) = (tl.buckets.first()?, tl.buckets.last()?);
    let counts: Vec<u64> = tl.buckets.iter().map(|b| b.failures).collect();
    let per = counts.len().div_ceil(width.max(1));
    let merged: Vec<u64> = counts.chunks(per).map(|c| c.iter().sum()).collect();
    let peak = merged.iter().copied().max().unwrap_or(0).max(1);
    let line: String = merged
        .iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                LEVELS[((n * 7) / peak) as usize]
            }
        })
        .collect();
    let top = tl.buckets.iter().max_by(|a, b| {
        a.failures
            .cmp(&b.failures)
            .then_with(|| b.start.cmp(&a.start))
    })?;
    Some(format!(
        "  {} |{line}| {}\n  peak {} failures in the {} bucket at {} UTC",
        format_human(first.start.0),
        format_human(last.start.0),
        thousands(top.failures),
        human_bucket(tl.bucket_s),
        format_human(top.start.0)
    ))
}
