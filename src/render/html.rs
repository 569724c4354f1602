//! The HTML report: one self-contained page to attach to an incident or open in a browser.
//!
//! Summary cards and the line accounting, the onset and expiry-cliff notes, the failure timeline
//! as an inline SVG (bars stacked by reason, UTC axis, peak and onset marked), then the reasons,
//! top tokens and top client IPs tables. The page loads nothing: inline CSS, no script, no font,
//! no image, and a Content-Security-Policy that forbids them anyway. Every log-derived text is
//! escaped for the terminal first ([`escape`]) and then for HTML (`&<>"'`), in text and in
//! attributes alike. Light theme, readable at 1280 px; it does not try to be interactive beyond
//! the tooltips (`<title>`) of the SVG bars and of shortened cells.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::escape::{escape, escape_to_width};
use super::markdown::{
    DEFAULT_ROWS, bucket_time, duration_text, peak_bucket, reason_label, reasons_text,
    time_of_day_ms, token_name,
};
use super::{human_bytes, percent, thousands};
use crate::report::{Bucket, Report, Time, ValueCount};
use crate::time::format_human;

/// Bars drawn at most; neighbouring buckets are merged beyond that.
const MAX_BARS: usize = 240;

/// Escapes log text for HTML text and attribute values: control characters as `\x1b`, then
/// `& < > " '` as character references.
pub fn html_text(text: &str) -> String {
    entities(&escape(text))
}

fn entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Log text shortened to `width` characters; the whole text stays in a tooltip when cut.
fn clipped(text: &str, width: usize) -> String {
    clipped_with(text, width, |shown| shown)
}

/// Like [`clipped`], with `mark` applied to the shown (already escaped) text only.
fn clipped_with(text: &str, width: usize, mark: impl Fn(String) -> String) -> String {
    let short = escape_to_width(text, width);
    let shown = mark(entities(&short));
    if short.chars().count() < escape(text).chars().count() {
        format!("<span title=\"{}\">{shown}</span>", html_text(text))
    } else {
        shown
    }
}

/// Text that may wrap after its commas only: `recurring,` / `every 10 min`.
fn unbroken_parts(text: &str) -> String {
    text.split(", ")
        .map(|part| format!("<span class=\"nw\">{}</span>", html_text(part)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A route that may wrap after each `/`, shortened to `width` characters.
fn route(v: &[ValueCount], width: usize) -> String {
    match v.first() {
        Some(x) => clipped_with(&x.value, width, |shown| shown.replace('/', "/<wbr>")),
        None => "-".into(),
    }
}

fn top_value(v: &[ValueCount], width: usize) -> String {
    v.first()
        .map(|x| clipped(&x.value, width))
        .unwrap_or_else(|| "-".into())
}

/// A time that may wrap between its date and its clock, never inside them.
fn when(t: Option<Time>) -> String {
    t.map(stamp).unwrap_or_else(|| "-".into())
}

fn stamp(t: Time) -> String {
    let human = format_human(t.0);
    format!(
        "<span class=\"nw\">{}</span> <span class=\"nw\">{}</span>",
        &human[..10],
        &human[11..]
    )
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 20px 40px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 26px 0 8px; }
.lead { color: #57606a; margin: 0 0 14px; }
.sub { color: #57606a; font-weight: normal; font-size: 13px; }
.mono, dd, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card .n { display: block; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .l { color: #57606a; font-size: 12px; }
.card.alert .n { color: #cf222e; }
dl { display: grid; grid-template-columns: max-content 1fr; align-items: baseline; gap: 3px 14px; margin: 14px 0 0; font-size: 13px; }
dt { color: #57606a; }
dd { margin: 0; overflow-wrap: anywhere; }
.note { background: #fff8c5; border: 1px solid #eac54f; border-left: 4px solid #bf8700; border-radius: 4px;
  padding: 8px 12px; margin: 10px 0 0; }
.note.onset { background: #ffebe9; border-color: #ffcecb; border-left-color: #cf222e; }
figure { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 0; padding: 6px 8px 2px; }
figure svg { display: block; width: 100%; height: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 12px; fill: #57606a; }
svg .peak, svg .onset-label { font-weight: 600; fill: #1f2328; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg .grid { stroke: #eaeef2; }
svg .axis { stroke: #8c959f; }
svg .onset-line { stroke: #cf222e; stroke-width: 1.5; stroke-dasharray: 4 3; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d0d7de; font-size: 13px; }
th, td { padding: 4px 7px; border-bottom: 1px solid #eaeef2; text-align: left; white-space: nowrap; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; color: #424a53; font-size: 12px; white-space: normal; }
td.t, td.wrap { white-space: normal; }
.nw { white-space: nowrap; }
td.route { white-space: normal; min-width: 190px; max-width: 250px; }
table.narrow { width: auto; min-width: 560px; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.clip { max-width: 170px; overflow: hidden; text-overflow: ellipsis; }
.clip.user { max-width: 110px; }
.risk { color: #cf222e; font-weight: 600; }
.near { color: #9a6700; font-weight: 600; }
.tag { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 9px; background: #ddf4ff; color: #0969da;
  font-size: 11px; font-family: system-ui, sans-serif; }
.empty { color: #57606a; }
ul.lines { margin: 0; padding-left: 20px; }
footer { margin-top: 28px; color: #8c959f; font-size: 12px; }
"#;

/// Writes the report as one self-contained HTML page with [`DEFAULT_ROWS`] rows per table.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_with(report, DEFAULT_ROWS, out)
}

/// Writes the report as HTML with at most `rows` rows in the token and IP tables.
pub fn render_with(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    let title = match r.time_range {
        Some(tr) => format!(
            "{} from {} to {} UTC",
            plural(t.failures, "token failure", "token failures"),
            format_human(tr.first.0),
            format_human(tr.last.0)
        ),
        None => plural(t.failures, "token failure", "token failures"),
    };
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(out, "<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(out, "<title>tokentrail: {title}</title>")?;
    writeln!(out, "<style>{STYLE}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")?;
    writeln!(out, "<main>")?;
    writeln!(out, "<header id=\"summary\">")?;
    writeln!(out, "<h1>tokentrail report</h1>")?;
    writeln!(out, "<p class=\"lead\">{title}</p>")?;
    cards(r, out)?;
    accounting(r, out)?;
    writeln!(out, "</header>")?;
    notes(r, out)?;
    chart(r, out)?;
    reasons(r, out)?;
    tokens(r, rows, out)?;
    ips(r, rows, out)?;
    problems(r, out)?;
    writeln!(
        out,
        "<footer>tokentrail · {} · all times UTC</footer>",
        r.schema
    )?;
    writeln!(out, "</main>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")?;
    out.flush()
}

fn cards(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    let at_risk = r.ips_at_ban_risk as u64;
    let cards = [
        ("Failures", t.failures, t.failures > 0),
        ("Attributed", t.attributed, false),
        ("Unattributed", t.unattributed, false),
        ("Failing tokens", r.distinct_tokens as u64, false),
        ("Client IPs", r.distinct_ips as u64, false),
    ];
    let risk_label = "IPs at ban risk".to_string();
    writeln!(out, "<div class=\"cards\">")?;
    let risk = (risk_label.as_str(), at_risk, at_risk > 0);
    for (label, n, alert) in cards.into_iter().chain([risk]) {
        writeln!(
            out,
            "<div class=\"card{}\"><span class=\"n\">{}</span><span class=\"l\">{label}</span></div>",
            if alert { " alert" } else { "" },
            thousands(n)
        )?;
    }
    writeln!(out, "</div>")
}

fn accounting(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    let bytes: u64 = r.inputs.iter().map(|i| i.bytes).sum();
    let read = r.inputs.iter().filter(|i| i.encoding.is_some()).count() as u64;
    let mut names: Vec<String> = r
        .inputs
        .iter()
        .take(5)
        .map(|i| clipped(&i.path, 80))
        .collect();
    if r.inputs.len() > 5 {
        names.push(format!("and {} more", r.inputs.len() - 5));
    }
    let b = &r.ban_threshold;
    writeln!(out, "<dl>")?;
    writeln!(
        out,
        "<dt>Inputs</dt><dd>{}, {}, {}: {}</dd>",
        plural(read, "input", "inputs"),
        human_bytes(bytes),
        plural(t.lines, "line", "lines"),
        names.join(", ")
    )?;
    let [lines, requests] = super::accounting(t);
    writeln!(out, "<dt>Lines</dt><dd>{lines}</dd>")?;
    writeln!(out, "<dt>Requests</dt><dd>{requests}</dd>")?;
    if r.untimed_failures > 0 {
        writeln!(
            out,
            "<dt>Untimed</dt><dd>{} without a usable time (not in the timeline nor in ban windows)</dd>",
            plural(r.untimed_failures, "failure", "failures")
        )?;
    }
    writeln!(out, "<dt>Ban rule</dt><dd>{b}</dd>")?;
    writeln!(out, "</dl>")
}

fn notes(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    if r.onset.is_none() && r.cliffs.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section id=\"notes\">")?;
    let bucket_s = r.timeline.bucket_s;
    if let Some(o) = &r.onset {
        let reason = match o.top_reason.as_deref() {
            Some(reason) => format!(
                ", top reason <code>{}</code>",
                html_text(reason_label(reason))
            ),
            None => String::new(),
        };
        writeln!(
            out,
            "<p class=\"note onset\"><strong>Onset</strong> {} UTC: {} in the {} bucket (baseline {:.1}, peak {}){reason}, {} for the first time.</p>",
            bucket_time(o.time, bucket_s),
            plural(o.failures, "failure", "failures"),
            duration_text(bucket_s),
            o.baseline_per_bucket,
            thousands(o.peak_per_bucket),
            plural(o.new_tokens, "token failing", "tokens failing"),
        )?;
    }
    for c in &r.cliffs {
        let worked = super::markdown::cliff_worked(c);
        writeln!(
            out,
            "<p class=\"note cliff\"><strong>Expiry cliff</strong> {}: {} started failing with <code>token_expired</code>, first at {} UTC{worked}.</p>",
            html_text(&c.day),
            plural(c.tokens as u64, "token", "tokens"),
            time_of_day_ms(c.first_failure),
        )?;
    }
    writeln!(out, "</section>")
}

fn reasons(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    writeln!(out, "<section id=\"reasons\">")?;
    writeln!(out, "<h2>Failures by reason</h2>")?;
    writeln!(out, "<table class=\"narrow\">")?;
    writeln!(
        out,
        "<thead><tr><th>Reason</th><th class=\"num\">Failures</th><th class=\"num\">Share</th></tr></thead>"
    )?;
    writeln!(out, "<tbody>")?;
    for rc in &r.reasons {
        let name = match &rc.reason {
            Some(reason) => format!("<code>{}</code>", clipped(reason, 60)),
            None => "(token id, no reason)".into(),
        };
        writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            thousands(rc.count),
            percent(rc.count, t.failures)
        )?;
    }
    writeln!(
        out,
        "<tr><td>unattributed (no token fields)</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        thousands(t.unattributed),
        percent(t.unattributed, t.failures)
    )?;
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</section>")
}

fn head(out: &mut dyn Write, columns: &[(&str, bool)]) -> io::Result<()> {
    let cells: String = columns
        .iter()
        .map(|(name, num)| {
            if *num {
                format!("<th class=\"num\">{name}</th>")
            } else {
                format!("<th>{name}</th>")
            }
        })
        .collect();
    writeln!(out, "<thead><tr>{cells}</tr></thead>")
}

fn tokens(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section id=\"tokens\">")?;
    writeln!(
        out,
        "<h2>Top tokens <span class=\"sub\">{} of {}</span></h2>",
        r.tokens.len().min(rows),
        thousands(r.distinct_tokens as u64)
    )?;
    if r.tokens.is_empty() {
        writeln!(
            out,
            "<p class=\"empty\">No failure named a token (<code>meta.auth_fail_token_id</code> appears from GitLab 17.2).</p>"
        )?;
        return writeln!(out, "</section>");
    }
    let columns = super::token_columns(r.last_success_tracked, "");
    let columns: Vec<(&str, bool)> = columns.iter().map(|(h, r)| (h.as_str(), *r)).collect();
    writeln!(out, "<div class=\"scroll\">")?;
    writeln!(out, "<table>")?;
    head(out, &columns)?;
    writeln!(out, "<tbody>")?;
    for tok in r.tokens.iter().take(rows) {
        let mut row = format!(
            "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>",
            clipped(&token_name(tok), 48),
            thousands(tok.count),
            clipped(&reasons_text(&tok.reasons), 48),
            unbroken_parts(&super::token::pattern_text(tok)),
            when(tok.first_seen),
            when(tok.last_seen),
        );
        if r.last_success_tracked {
            row.push_str(&format!(
                "<td class=\"t\">{}</td>",
                tok.last_success
                    .map(stamp)
                    .unwrap_or_else(|| "<span class=\"nw\">none seen</span>".into())
            ));
        }
        row.push_str(&format!(
            "<td class=\"mono\">{}</td><td class=\"clip\">{}</td><td class=\"route mono\">{}</td><td class=\"clip user\">{}</td></tr>",
            top_value(&tok.ips, 45),
            top_value(&tok.user_agents, 120),
            route(&tok.routes, 120),
            top_value(&tok.users, 32),
        ));
        writeln!(out, "{row}")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</div>")?;
    writeln!(out, "</section>")
}

fn ips(r: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    let b = &r.ban_threshold;
    writeln!(out, "<section id=\"ips\">")?;
    writeln!(
        out,
        "<h2>Top client IPs <span class=\"sub\">{} of {}; ban rule {}</span></h2>",
        r.ips.len().min(rows),
        thousands(r.distinct_ips as u64),
        b
    )?;
    if r.ips.is_empty() {
        writeln!(out, "<p class=\"empty\">No failure had a client IP.</p>")?;
        return writeln!(out, "</section>");
    }
    let max_head = format!("Max in {}&nbsp;s", b.findtime_s);
    writeln!(out, "<div class=\"scroll\">")?;
    writeln!(out, "<table>")?;
    head(
        out,
        &[
            ("IP", false),
            ("Failures", true),
            ("Attributed", true),
            ("Unattributed", true),
            (max_head.as_str(), true),
            ("Ban risk", false),
            ("403 after threshold", true),
            ("403 other", true),
            ("Tokens", true),
            ("First seen", false),
            ("Last seen", false),
        ],
    )?;
    writeln!(out, "<tbody>")?;
    let shown: Vec<_> = r.ips.iter().take(rows).collect();
    for ip in &shown {
        let risk = match ip.threshold_reached_at {
            Some(at) => format!("<span class=\"risk\">at risk</span> {}", stamp(at)),
            None if ip.max_in_window * 2 >= b.maxretry => "<span class=\"near\">near</span>".into(),
            None => "no".into(),
        };
        let shared = if ip.shared {
            "<span class=\"tag\">shared</span>"
        } else {
            ""
        };
        writeln!(
            out,
            "<tr><td class=\"mono\">{}{shared}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"t\">{risk}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
            clipped(&ip.ip, 45),
            thousands(ip.failures),
            thousands(ip.attributed),
            thousands(ip.unattributed),
            thousands(ip.max_in_window),
            thousands(ip.forbidden_after_threshold),
            thousands(ip.forbidden_other),
            thousands(ip.distinct_tokens as u64),
            when(ip.first_seen),
            when(ip.last_seen),
        )?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table>")?;
    writeln!(out, "</div>")?;
    if shown.iter().any(|ip| ip.shared) {
        writeln!(
            out,
            "<p class=\"sub\"><span class=\"tag\">shared</span> at least {} distinct tokens failed from the address (a NAT, proxy or CI fleet): a ban there stops every client behind it.</p>",
            crate::report::SHARED_IP_TOKENS
        )?;
    }
    writeln!(out, "</section>")
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
        writeln!(out, "<section id=\"unreadable\">")?;
        writeln!(
            out,
            "<h2>Unreadable lines <span class=\"sub\">first {} of {} non_json</span></h2>",
            listed.len(),
            thousands(t.non_json)
        )?;
        writeln!(out, "<ul class=\"lines mono\">")?;
        for (path, e) in listed {
            writeln!(
                out,
                "<li>{}:{}: {}</li>",
                clipped(path, 80),
                e.line,
                clipped(&e.text, 160)
            )?;
        }
        writeln!(out, "</ul>")?;
        writeln!(out, "</section>")?;
    }
    let errors: Vec<&String> = r.inputs.iter().filter_map(|i| i.error.as_ref()).collect();
    let shrank: Vec<&str> = r
        .inputs
        .iter()
        .filter(|i| i.shrank)
        .map(|i| i.path.as_str())
        .collect();
    if !errors.is_empty() || !shrank.is_empty() {
        writeln!(out, "<section id=\"problems\">")?;
        writeln!(out, "<h2>Input problems</h2>")?;
        writeln!(out, "<ul class=\"lines\">")?;
        for e in errors {
            writeln!(out, "<li>{}</li>", clipped(e, 200))?;
        }
        for path in shrank {
            writeln!(
                out,
                "<li>{}: the file got shorter while it was read (rotated?); counts cover what was there</li>",
                clipped(path, 120)
            )?;
        }
        writeln!(out, "</ul>")?;
        writeln!(out, "</section>")?;
    }
    Ok(())
}

// ---- The timeline chart ----

/// The fill of a reason: fixed colours for GitLab's reasons, then a small palette by rank.
fn reason_color(reason: &str, rank: usize) -> &'static str {
    const PALETTE: [&str; 5] = ["#0969da", "#1a7f37", "#bc4c00", "#6e7781", "#953800"];
    match reason {
        "token_expired" => "#d1242f",
        "token_revoked" => "#8250df",
        "insufficient_scope" => "#d4a72c",
        "impersonation_disabled" => "#1b7c83",
        "none" => "#afb8c1",
        _ => PALETTE[rank % PALETTE.len()],
    }
}

/// Neighbouring buckets merged so that at most [`MAX_BARS`] remain: (buckets, width in seconds).
fn merged(buckets: &[Bucket], bucket_s: u64) -> (Vec<Bucket>, u64) {
    let per = buckets.len().div_ceil(MAX_BARS).max(1);
    if per == 1 {
        return (buckets.to_vec(), bucket_s);
    }
    let merged = buckets
        .chunks(per)
        .map(|group| {
            let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
            for b in group {
                for (r, n) in &b.by_reason {
                    *by_reason.entry(r.clone()).or_default() += n;
                }
            }
            Bucket {
                start: group[0].start,
                failures: group.iter().map(|b| b.failures).sum(),
                by_reason,
            }
        })
        .collect();
    (merged, bucket_s * per as u64)
}

/// The count axis for a peak: (step, top), with 1, 2, 2.5 or 5 × 10ⁿ steps, at most five of them,
/// and room above the peak for its label.
fn count_axis(peak: u64) -> (u64, u64) {
    let needed = peak + peak / 12 + 1;
    let mut magnitude = 1u64;
    loop {
        for m in [10, 20, 25, 50] {
            let step = (m * magnitude / 10).max(1);
            if needed.div_ceil(step) <= 5 {
                return (step, needed.div_ceil(step) * step);
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// A time-axis step (seconds) giving at most `max_labels` labels over `span_s`.
fn time_step(span_s: u64, max_labels: u64) -> u64 {
    const STEPS: [u64; 16] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
        2_592_000, 31_536_000,
    ];
    STEPS
        .into_iter()
        .find(|s| span_s / s < max_labels)
        .unwrap_or(31_536_000)
}

fn chart(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    const W: f64 = 1200.0;
    const H: f64 = 320.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 30.0;
    const BOTTOM: f64 = 78.0;

    let tl = &r.timeline;
    writeln!(out, "<section id=\"timeline\">")?;
    let Some(peak) = peak_bucket(&tl.buckets) else {
        writeln!(out, "<h2>Failures over time</h2>")?;
        writeln!(out, "<p class=\"empty\">No failure with a time.</p>")?;
        return writeln!(out, "</section>");
    };
    let (bars, width_s) = merged(&tl.buckets, tl.bucket_s);
    writeln!(
        out,
        "<h2>Failures over time <span class=\"sub\">{} buckets, UTC; peak {} at {}</span></h2>",
        duration_text(width_s),
        plural(peak.failures, "failure", "failures"),
        bucket_time(peak.start, tl.bucket_s)
    )?;

    // Reasons bottom-up by total, most failures first.
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for b in &bars {
        for (reason, n) in &b.by_reason {
            *totals.entry(reason).or_default() += n;
        }
    }
    let mut order: Vec<(&str, u64)> = totals.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let colors: BTreeMap<&str, &str> = order
        .iter()
        .enumerate()
        .map(|(rank, (reason, _))| (*reason, reason_color(reason, rank)))
        .collect();

    let bar_peak = bars.iter().map(|b| b.failures).max().unwrap_or(1).max(1);
    let (step, y_max) = count_axis(bar_peak);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let base = TOP + plot_h;
    let y = |n: u64| base - n as f64 / y_max as f64 * plot_h;
    let slot = plot_w / bars.len() as f64;
    let bar_w = if slot >= 4.0 { slot - 1.0 } else { slot }.min(48.0);
    let t0 = bars[0].start.0;
    let span_ms = (bars.len() as u64 * width_s * 1000) as f64;
    let x_of = |t: i64| LEFT + (t - t0) as f64 / span_ms * plot_w;

    let mut svg = String::new();
    svg.push_str(&format!(
        "<figure><svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Failures per {} bucket, stacked by reason\">\n",
        duration_text(width_s)
    ));
    // Horizontal grid and counts.
    let mut n = 0;
    while n <= y_max {
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            W - RIGHT,
            y(n),
            y(n),
            LEFT - 6.0,
            y(n) + 4.0,
            thousands(n)
        ));
        n += step;
    }
    // Bars, stacked bottom-up.
    for (i, b) in bars.iter().enumerate() {
        if b.failures == 0 {
            continue;
        }
        let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
        let parts: Vec<String> = order
            .iter()
            .filter_map(|(reason, _)| {
                b.by_reason
                    .get(*reason)
                    .map(|n| format!("{} {}", reason_label(reason), thousands(*n)))
            })
            .collect();
        svg.push_str(&format!(
            "<g class=\"bar\"><title>{} UTC: {} ({})</title>",
            bucket_time(b.start, tl.bucket_s),
            plural(b.failures, "failure", "failures"),
            html_text(&parts.join(", "))
        ));
        let mut below = 0u64;
        for (reason, _) in &order {
            let Some(&n) = b.by_reason.get(*reason) else {
                continue;
            };
            if n == 0 {
                continue;
            }
            let (top, bottom) = (y(below + n), y(below));
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                (bottom - top).max(1.5),
                colors.get(reason).copied().unwrap_or("#6e7781")
            ));
            below += n;
        }
        svg.push_str("</g>\n");
    }
    // Axis and time labels.
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\"/>\n",
        W - RIGHT
    ));
    let span_s = bars.len() as u64 * width_s;
    let tick_s = time_step(span_s, 12).max(width_s);
    let tick_ms = tick_s as i64 * 1000;
    let mut tick = t0.div_euclid(tick_ms) * tick_ms;
    if tick < t0 {
        tick += tick_ms;
    }
    let end = t0 + span_ms as i64;
    let mut last_day = None;
    while tick < end {
        let x = x_of(tick);
        let anchor = if x > W - RIGHT - 36.0 {
            "end"
        } else {
            "middle"
        };
        let human = format_human(tick);
        let (day, clock) = (&human[..10], &human[11..16]);
        let label = if tick_s >= 86_400 {
            format!("<tspan x=\"{x:.1}\">{}</tspan>", &day[5..])
        } else {
            format!("<tspan x=\"{x:.1}\">{clock}</tspan>")
        };
        let date = if tick_s < 86_400 && last_day != Some(day.to_string()) {
            format!("<tspan x=\"{x:.1}\" dy=\"15\">{day}</tspan>")
        } else {
            String::new()
        };
        last_day = Some(day.to_string());
        svg.push_str(&format!(
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{label}{date}</text>\n",
            base + 4.0,
            base + 17.0
        ));
        tick += tick_ms;
    }
    svg.push_str(&format!(
        "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">time (UTC)</text>\n",
        W - RIGHT,
        base + 49.0
    ));
    // The onset: a dashed line at the start of its bucket, labelled above the plot.
    if let Some(o) = &r.onset {
        let x = x_of(o.time.0);
        let (anchor, dx) = if x > W - 220.0 {
            ("end", -5.0)
        } else {
            ("start", 5.0)
        };
        svg.push_str(&format!(
            "<line class=\"onset-line\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{base:.1}\"/><text class=\"onset-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">onset {} UTC</text>\n",
            TOP - 16.0,
            x + dx,
            TOP - 6.0,
            bucket_time(o.time, tl.bucket_s)
        ));
    }
    // The peak bar, labelled with its count.
    if let Some((i, b)) = bars
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.failures.cmp(&b.1.failures).then_with(|| b.0.cmp(&a.0)))
    {
        let x = LEFT + (i as f64 + 0.5) * slot;
        let anchor = if x < LEFT + 40.0 {
            "start"
        } else if x > W - RIGHT - 40.0 {
            "end"
        } else {
            "middle"
        };
        svg.push_str(&format!(
            "<text class=\"peak\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">peak {}</text>\n",
            y(b.failures) - 5.0,
            thousands(b.failures)
        ));
    }
    // Legend.
    let mut lx = LEFT;
    let ly = H - 14.0;
    for (reason, total) in &order {
        let name = escape_to_width(reason_label(reason), 40);
        let text = format!("{name} {}", thousands(*total));
        svg.push_str(&format!(
            "<rect class=\"swatch\" x=\"{lx:.1}\" y=\"{:.1}\" width=\"11\" height=\"11\" fill=\"{}\"/><text class=\"legend\" x=\"{:.1}\" y=\"{ly:.1}\">{}</text>\n",
            ly - 10.0,
            colors.get(reason).copied().unwrap_or("#6e7781"),
            lx + 16.0,
            entities(&text)
        ));
        lx += 16.0 + text.chars().count() as f64 * 7.0 + 18.0;
    }
    if r.onset.is_some() {
        svg.push_str(&format!(
            "<line class=\"onset-line\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text class=\"legend\" x=\"{:.1}\" y=\"{ly:.1}\">onset</text>\n",
            lx + 5.0,
            lx + 5.0,
            ly - 11.0,
            ly + 1.0,
            lx + 14.0
        ));
    }
    svg.push_str("</svg></figure>\n");
    out.write_all(svg.as_bytes())?;
    writeln!(out, "</section>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_become_html() {
        assert_eq!(
            html_text("<img src=x onerror=\"alert('1')\">&\u{1b}[2J"),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;\\x1b[2J"
        );
        assert_eq!(clipped("abc", 5), "abc");
        assert_eq!(
            clipped("<abcdef>", 4),
            "<span title=\"&lt;abcdef&gt;\">&lt;ab…</span>"
        );
    }

    #[test]
    fn steps() {
        assert_eq!(count_axis(178), (50, 200));
        assert_eq!(count_axis(320), (100, 400));
        assert_eq!(count_axis(8), (2, 10));
        assert_eq!(count_axis(1), (1, 2));
        assert_eq!(count_axis(0), (1, 1));
        assert_eq!(time_step(10 * 3600, 12), 3600);
        assert_eq!(time_step(3 * 86_400, 12), 43_200);
    }
}
