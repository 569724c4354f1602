//! The table report: what an administrator reads first, on one screen.
//!
//! Header and accounting, failures per reason, top tokens, top client IPs with ban risk, then the
//! lines and inputs that could not be read. Numbers are right-aligned; colour only when asked
//! (the caller decides from the terminal and `NO_COLOR`). Log text is escaped and shortened.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::escape::{escape, escape_to_width};
use super::{human_bytes, percent, thousands, when};
use crate::report::Report;
use crate::time::format_human;

/// How to draw the table.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Emit ANSI colour.
    pub color: bool,
    /// Rows per table.
    pub rows: usize,
    /// Unreadable lines to list.
    pub examples: usize,
    /// Terminal width, for the sparkline.
    pub width: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            color: false,
            rows: 10,
            examples: 5,
            width: 100,
        }
    }
}

const TITLE: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const ALERT: Style = AnsiColor::Red.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default();

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

/// A simple aligned table: text cells, some columns right-aligned.
struct Grid {
    head: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<(String, Option<Style>)>>,
}

impl Grid {
    fn new(columns: &[(&str, bool)]) -> Self {
        Self {
            head: columns.iter().map(|c| c.0.to_string()).collect(),
            right: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<(String, Option<Style>)>) {
        self.rows.push(cells);
    }

    fn write(&self, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.head.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, (cell, _)) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: Vec<(String, Option<Style>)>, out: &mut dyn Write| -> io::Result<()> {
            let mut text = String::from("  ");
            let last = cells.len() - 1;
            for (i, (cell, style)) in cells.into_iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                let painted = match style {
                    Some(s) => p.paint(s, &cell),
                    None => cell,
                };
                if self.right[i] {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(&painted);
                } else {
                    text.push_str(&painted);
                    if i != last {
                        text.push_str(&" ".repeat(pad));
                    }
                }
                if i != last {
                    text.push_str("  ");
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        line(
            self.head.iter().map(|h| (h.clone(), Some(DIM))).collect(),
            out,
        )?;
        for row in &self.rows {
            line(row.clone(), out)?;
        }
        Ok(())
    }
}

fn plain(s: impl Into<String>) -> (String, Option<Style>) {
    (s.into(), None)
}

/// Writes the table report.
pub fn render(r: &Report, opts: &TableOptions, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color: opts.color };
    let t = &r.totals;
    let bytes: u64 = r.inputs.iter().map(|i| i.bytes).sum();
    let read = r.inputs.iter().filter(|i| i.encoding.is_some()).count();
    let span = match r.time_range {
        Some(tr) => format!(
            "failures from {} to {} UTC",
            format_human(tr.first.0),
            format_human(tr.last.0)
        ),
        None => "no failures with a time".into(),
    };
    writeln!(
        out,
        "{} {} input{}, {}, {} line{}; {}",
        p.paint(TITLE, "tokentrail:"),
        read,
        if read == 1 { "" } else { "s" },
        human_bytes(bytes),
        thousands(t.lines),
        if t.lines == 1 { "" } else { "s" },
        span
    )?;
    let [lines, requests] = super::accounting(t);
    writeln!(out, "  lines {lines}")?;
    writeln!(out, "  requests {requests}")?;
    if let Some(o) = &r.onset {
        writeln!(
            out,
            "  {} {} UTC: {} failures in one bucket (before: {:.1} per bucket), top reason {}; {} tokens failing for the first time",
            p.paint(ALERT, "onset"),
            format_human(o.time.0),
            thousands(o.failures),
            o.baseline_per_bucket,
            o.top_reason
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "-".into()),
            thousands(o.new_tokens)
        )?;
    }
    for c in &r.cliffs {
        let proof = match c
            .members
            .iter()
            .find_map(|m| m.last_success.map(|ok| (m, ok)))
        {
            Some((m, ok)) => format!(
                "; e.g. {}/{} worked until {}, failing since {}",
                escape(&m.class),
                escape(&m.id),
                &format_human(ok.0)[11..],
                &format_human(m.first_failure.0)[11..]
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "  {} {}: {} tokens started failing with token_expired, the first at {} UTC{} (members below; all in --format json, .cliffs)",
            p.paint(ALERT, "expiry cliff"),
            c.day,
            thousands(c.tokens as u64),
            format_human(c.first_failure.0),
            proof
        )?;
    }
    if r.untimed_failures > 0 {
        writeln!(
            out,
            "  {} failures have no usable time (no timeline, no ban window)",
            thousands(r.untimed_failures)
        )?;
    }

    writeln!(out)?;
    writeln!(out, "{}", p.paint(TITLE, "FAILURES BY REASON"))?;
    let mut g = Grid::new(&[("REASON", false), ("FAILURES", true), ("SHARE", true)]);
    for rc in &r.reasons {
        let name = match &rc.reason {
            Some(reason) => escape_to_width(reason, 40),
            None => "(token id, no reason)".into(),
        };
        g.row(vec![
            plain(name),
            plain(thousands(rc.count)),
            plain(percent(rc.count, t.failures)),
        ]);
    }
    g.row(vec![
        plain("unattributed (no token fields)"),
        plain(thousands(t.unattributed)),
        plain(percent(t.unattributed, t.failures)),
    ]);
    g.write(&p, out)?;

    writeln!(out)?;
    let shown = r.tokens.len().min(opts.rows);
    writeln!(
        out,
        "{} ({} of {})",
        p.paint(TITLE, "TOP TOKENS"),
        shown,
        thousands(r.distinct_tokens as u64)
    )?;
    if t.failures == 0 {
        writeln!(out, "  no failure matched")?;
    } else if r.tokens.is_empty() {
        writeln!(
            out,
            "  no failure named a token (meta.auth_fail_token_id appears from GitLab 17.2)"
        )?;
    } else {
        let mut g = Grid::new(&[
            ("TOKEN", false),
            ("FAILURES", true),
            ("REASONS", false),
            ("PATTERN", false),
            ("FIRST SEEN", false),
            ("LAST SEEN", false),
            ("TOP IP", false),
            ("TOP USER AGENT", false),
            ("TOP ROUTE", false),
            ("USER", false),
        ]);
        for tok in r.tokens.iter().take(opts.rows) {
            let name = if tok.id.is_empty() {
                tok.class.clone()
            } else {
                format!("{}/{}", tok.class, tok.id)
            };
            let mut reasons: Vec<(&String, &u64)> = tok.reasons.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let reasons = reasons
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let top = |v: &[crate::report::ValueCount], w: usize| {
                v.first()
                    .map(|x| escape_to_width(&x.value, w))
                    .unwrap_or_else(|| "-".into())
            };
            g.row(vec![
                plain(escape_to_width(&name, 32)),
                plain(thousands(tok.count)),
                plain(escape_to_width(&reasons, 28)),
                plain(super::token::pattern_text(tok)),
                plain(when(tok.first_seen)),
                plain(when(tok.last_seen)),
                plain(top(&tok.ips, 39)),
                plain(top(&tok.user_agents, 24)),
                plain(top(&tok.routes, 36)),
                plain(top(&tok.users, 16)),
            ]);
        }
        g.write(&p, out)?;
    }

    writeln!(out)?;
    let b = &r.ban_threshold;
    let shown = r.ips.len().min(opts.rows);
    writeln!(
        out,
        "{} ({} of {}; ban rule {})",
        p.paint(TITLE, "TOP CLIENT IPS"),
        shown,
        thousands(r.distinct_ips as u64),
        b
    )?;
    if r.ips.is_empty() {
        writeln!(out, "  no failure had a client IP")?;
    } else {
        let max_head = format!("MAX/{}s", b.findtime_s);
        let mut g = Grid::new(&[
            ("IP", false),
            ("FAILURES", true),
            ("ATTRIB", true),
            ("UNATTRIB", true),
            (max_head.as_str(), true),
            ("BAN RISK", false),
            ("TOKENS", true),
            ("403 OTHER", true),
            ("FIRST SEEN", false),
            ("LAST SEEN", false),
        ]);
        for ip in r.ips.iter().take(opts.rows) {
            let risk = match ip.threshold_reached_at {
                Some(at) => (format!("AT RISK {}", format_human(at.0)), Some(ALERT)),
                None if ip.max_in_window * 2 >= b.maxretry => ("near".to_string(), Some(WARN)),
                None => ("no".to_string(), None),
            };
            g.row(vec![
                plain(escape_to_width(&ip.ip, 39)),
                plain(thousands(ip.failures)),
                plain(thousands(ip.attributed)),
                plain(thousands(ip.unattributed)),
                plain(thousands(ip.max_in_window)),
                risk,
                plain(thousands(ip.distinct_tokens as u64)),
                plain(thousands(ip.forbidden_other)),
                plain(when(ip.first_seen)),
                plain(when(ip.last_seen)),
            ]);
        }
        g.write(&p, out)?;
    }

    if let Some(spark) = super::timeline::sparkline(r, opts.width.saturating_sub(44).clamp(10, 100))
    {
        writeln!(out)?;
        writeln!(
            out,
            "{} (UTC; tokentrail timeline for the chart)",
            p.paint(TITLE, "FAILURES OVER TIME")
        )?;
        writeln!(out, "{spark}")?;
    }

    if t.non_json > 0 && opts.examples > 0 {
        writeln!(out)?;
        let listed: Vec<(&str, &crate::report::Example)> = r
            .inputs
            .iter()
            .flat_map(|i| i.examples.iter().map(move |e| (i.path.as_str(), e)))
            .take(opts.examples)
            .collect();
        writeln!(
            out,
            "{} (first {} of {} non_json)",
            p.paint(TITLE, "UNREADABLE LINES"),
            listed.len(),
            thousands(t.non_json)
        )?;
        for (path, e) in listed {
            writeln!(
                out,
                "  {}:{}: {}",
                escape_to_width(path, 80),
                e.line,
                escape_to_width(&e.text, 100)
            )?;
        }
    }

    for c in &r.cliffs {
        writeln!(out)?;
        let shown = c.members.len().min(opts.rows);
        writeln!(
            out,
            "{} {} ({} of {} tokens; first failures {})",
            p.paint(TITLE, "EXPIRY CLIFF"),
            c.day,
            shown,
            thousands(c.tokens as u64),
            if r.last_success_tracked {
                "and last successes"
            } else {
                "only: --last-success finds when each last worked"
            }
        )?;
        let mut g = Grid::new(&[
            ("TOKEN", false),
            ("LAST SUCCESS", false),
            ("FIRST FAILURE", false),
        ]);
        for m in c.members.iter().take(opts.rows) {
            let name = if m.id.is_empty() {
                m.class.clone()
            } else {
                format!("{}/{}", m.class, m.id)
            };
            let ok = m
                .last_success
                .map(|t| format_human(t.0))
                .unwrap_or_else(|| "-".into());
            g.row(vec![
                plain(escape_to_width(&name, 40)),
                plain(ok),
                plain(format_human(m.first_failure.0)),
            ]);
        }
        g.write(&p, out)?;
    }

    let errors: Vec<_> = r.inputs.iter().filter_map(|i| i.error.as_ref()).collect();
    let shrank: Vec<_> = r.inputs.iter().filter(|i| i.shrank).collect();
    if !errors.is_empty() || !shrank.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.paint(ALERT, "INPUT PROBLEMS"))?;
        for e in errors {
            writeln!(out, "  {}", escape_to_width(e, 200))?;
        }
        for i in shrank {
            writeln!(
                out,
                "  {}: the file got shorter while it was read (rotated?); counts cover what was there",
                escape_to_width(&i.path, 120)
            )?;
        }
    }
    Ok(())
}
