//! The Markdown and HTML reports on incident scenarios with known truth (`tokentrail::scenario`)
//! and on a log written by an attacker.
//!
//! Markdown is pinned whole with `insta`. HTML is pinned as its structure (elements, ids, classes,
//! headings, the SVG's labels; no coordinates), after a parse that fails on any unbalanced tag.
//! Real assertions check what must hold whatever the snapshots say: the page loads nothing (no
//! script, no network reference, one SVG), every Markdown table row has as many cells as its
//! header, and hostile log text (HTML, `|`, backticks, ESC, links, mentions) comes out inert in
//! both formats.

use std::fmt::Write as _;
use std::path::PathBuf;

use tokentrail::ban::BanThreshold;
use tokentrail::input::discover;
use tokentrail::prefilter::Prefilter;
use tokentrail::render::{html, markdown};
use tokentrail::scenario::{burst_and_ban, cron_job, expiry_night};
use tokentrail::{Report, ReportOptions, ScanOptions, ScanSettings};

/// A scenario's log in a temporary directory, and its report.
struct Scenario {
    dir: tempfile::TempDir,
    report: Report,
}

impl Scenario {
    fn new(last_success: bool, write: impl FnOnce(&mut Vec<u8>)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        write(&mut bytes);
        let path: PathBuf = dir.path().join("api_json.log");
        std::fs::write(&path, bytes).unwrap();
        let (inputs, errors) = discover(std::slice::from_ref(&path));
        let settings = ScanSettings {
            prefilter: if last_success {
                Prefilter::new().with_successes()
            } else {
                Prefilter::new()
            },
            track_successes: last_success,
            ..ScanSettings::default()
        };
        let outcome = tokentrail::scan(&inputs, errors, &settings, &ScanOptions::default());
        let report = Report::build(
            &outcome,
            &ReportOptions {
                ban: BanThreshold::SELF_MANAGED,
                last_success_tracked: last_success,
                ..ReportOptions::default()
            },
        );
        Scenario { dir, report }
    }

    /// Output with the temporary directory replaced by `TMPDIR`.
    fn clean(&self, bytes: Vec<u8>) -> String {
        let text = String::from_utf8(bytes).unwrap();
        text.replace(&self.dir.path().to_string_lossy().into_owned(), "TMPDIR")
    }

    fn markdown(&self) -> String {
        let mut out = Vec::new();
        markdown::render(&self.report, &mut out).unwrap();
        self.clean(out)
    }

    fn html(&self) -> String {
        let mut out = Vec::new();
        html::render(&self.report, &mut out).unwrap();
        self.clean(out)
    }
}

fn night() -> Scenario {
    Scenario::new(true, |b| {
        expiry_night(300, b).unwrap();
    })
}

fn bans() -> Scenario {
    Scenario::new(false, |b| {
        burst_and_ban(b).unwrap();
    })
}

fn cron() -> Scenario {
    Scenario::new(false, |b| {
        cron_job(b).unwrap();
    })
}

// ---- Markdown ----

/// `|` that separate cells: not escaped by an odd run of backslashes.
fn cell_separators(line: &str) -> usize {
    let mut count = 0;
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '|' && backslashes % 2 == 0 {
            count += 1;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    count
}

/// Every table row has as many cells as its header, and no line of a table is broken.
fn assert_tables_hold(md: &str) {
    let mut header = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = cell_separators(line);
            let expected = *header.get_or_insert(n);
            assert_eq!(n, expected, "row with a different cell count: {line}");
            assert!(line.ends_with('|'), "{line}");
        } else {
            header = None;
        }
    }
}

#[test]
fn markdown_of_an_expiry_night() {
    let s = night();
    let md = s.markdown();
    assert_tables_hold(&md);
    assert!(md.contains(
        "**Onset** 2024-05-14 00:00 UTC: 178 failures in the 5 min bucket (baseline 0.2, peak 178), top reason token\\_expired, 177 tokens failing for the first time."
    ));
    assert!(md.contains(
        "**Expiry cliff** 2024-05-14: 300 tokens started failing with token\\_expired, first at 00:00:00.500 UTC"
    ));
    assert!(md.contains("| Last success (UTC) |"));
    insta::assert_snapshot!("markdown_night", md);
}

#[test]
fn markdown_of_bans_and_a_cron_job() {
    let s = bans();
    let md = s.markdown();
    assert_tables_hold(&md);
    assert!(md.contains(
        "| 203.0.113.10 | 12 | 12 | 0 | 12 | **at risk** 2024-05-12 10:00:22 | 5 | 5 | 1 |"
    ));
    assert!(!md.contains("Last success"), "not tracked");
    insta::assert_snapshot!("markdown_bans", md);

    let s = cron();
    let md = s.markdown();
    assert_tables_hold(&md);
    assert!(md.contains("| recurring, every 10 min |"));
    assert!(!md.contains("**Onset**") && !md.contains("**Expiry cliff**"));
    insta::assert_snapshot!("markdown_cron", md);
}

#[test]
fn markdown_rows_follow_the_limit() {
    let s = night();
    let mut out = Vec::new();
    markdown::render_with(&s.report, 3, &mut out).unwrap();
    let md = s.clean(out);
    assert!(md.contains("### Top tokens (3 of 300)"));
    assert!(md.contains("### Top client IPs (3 of 301;"));
    let token_rows = md
        .lines()
        .filter(|l| l.starts_with("| PersonalAccessToken/"))
        .count();
    assert_eq!(token_rows, 3);
}

// ---- HTML ----

/// An element of a parsed page.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

const VOID: [&str; 6] = ["meta", "br", "wbr", "link", "img", "hr"];

fn parse_attrs(text: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = rest.find(['=', ' ']).unwrap_or(rest.len());
        let name = rest[..end].to_string();
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').expect("closed attribute value");
            attrs.push((name, after[..close].to_string()));
            rest = after[close + 1..].trim_start();
        } else {
            attrs.push((name, String::new()));
            rest = rest.trim_start();
        }
    }
    attrs
}

/// Parses the page's elements; panics on an unbalanced or mismatched tag.
fn parse_html(page: &str) -> Element {
    let mut stack = vec![Element {
        name: "#document".into(),
        attrs: Vec::new(),
        children: Vec::new(),
    }];
    let mut rest = page;
    while let Some(open) = rest.find('<') {
        if open > 0 {
            let text = &rest[..open];
            stack
                .last_mut()
                .unwrap()
                .children
                .push(Node::Text(text.to_string()));
        }
        rest = &rest[open..];
        let close = rest.find('>').expect("tag closed with >");
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let el = stack.pop().expect("a close tag with an open element");
            assert_eq!(el.name, name, "</{name}> closes <{}>", el.name);
            stack
                .last_mut()
                .expect("not the document")
                .children
                .push(Node::Element(el));
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let el = Element {
            name: name.to_string(),
            attrs: parse_attrs(attrs),
            children: Vec::new(),
        };
        if self_closing || VOID.contains(&name) {
            stack.last_mut().unwrap().children.push(Node::Element(el));
        } else if name == "style" {
            let end = rest.find("</style>").expect("style closed");
            let mut el = el;
            el.children.push(Node::Text(rest[..end].to_string()));
            rest = &rest[end + "</style>".len()..];
            stack.last_mut().unwrap().children.push(Node::Element(el));
        } else {
            stack.push(el);
        }
    }
    assert!(rest.trim().is_empty(), "text after the last tag: {rest}");
    assert_eq!(
        stack.len(),
        1,
        "unclosed: {:?}",
        stack.last().map(|e| &e.name)
    );
    stack.pop().unwrap()
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.0 == name)
            .map(|a| a.1.as_str())
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(t),
                // SVG text lines are separate words.
                Node::Element(e) if e.name == "tspan" => write!(out, " {} ", e.text()).unwrap(),
                Node::Element(e) => out.push_str(&e.text()),
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    fn describe(&self) -> String {
        let mut d = self.name.clone();
        if let Some(id) = self.attr("id") {
            write!(d, "#{id}").unwrap();
        }
        if let Some(class) = self.attr("class") {
            for c in class.split_whitespace() {
                write!(d, ".{c}").unwrap();
            }
        }
        for a in ["charset", "http-equiv", "name", "lang", "text-anchor"] {
            if let Some(v) = self.attr(a) {
                write!(d, "[{a}={v}]").unwrap();
            }
        }
        d
    }
}

/// The page as an outline: one element a line with its id and classes, the text of headings, table
/// heads, notes and SVG labels; table rows as their cells' classes; runs of identical lines folded.
fn outline(page: &str) -> String {
    fn walk(e: &Element, depth: usize, lines: &mut Vec<String>) {
        let pad = "  ".repeat(depth);
        let mut line = format!("{pad}{}", e.describe());
        match e.name.as_str() {
            "style" => {}
            "tr" if e.elements().any(|c| c.name == "td") => {
                let cells: Vec<String> = e.elements().map(Element::describe).collect();
                lines.push(format!("{line}: {}", cells.join(" ")));
                return;
            }
            "g" => {
                lines.push(line);
                return;
            }
            "title" | "h1" | "h2" | "th" | "dt" | "p" | "li" | "footer" | "text" => {
                write!(line, ": {}", e.text()).unwrap();
                lines.push(line);
                return;
            }
            _ => {}
        }
        lines.push(line);
        for c in e.elements() {
            walk(c, depth + 1, lines);
        }
    }
    let doc = parse_html(page);
    let mut lines = Vec::new();
    for e in doc.elements() {
        walk(e, 0, &mut lines);
    }
    let mut folded: Vec<(String, usize)> = Vec::new();
    for l in lines {
        match folded.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => folded.push((l, 1)),
        }
    }
    folded
        .into_iter()
        .map(|(l, n)| {
            if n > 1 {
                format!("{l}  ×{n}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Attributes that load or link something.
const FETCHING: [&str; 8] = [
    "src",
    "href",
    "xlink:href",
    "srcset",
    "action",
    "formaction",
    "poster",
    "data",
];

fn assert_fetches_nothing(e: &Element) {
    for (name, value) in &e.attrs {
        assert!(
            !FETCHING.contains(&name.as_str()) && !name.starts_with("on"),
            "attribute {name}=\"{value}\" on <{}>",
            e.name
        );
        assert!(!value.contains("url("), "{name}=\"{value}\"");
    }
    if e.name == "style" {
        let css = e.text();
        assert!(!css.contains("url(") && !css.contains("@import"), "{css}");
    }
    for c in e.elements() {
        assert_fetches_nothing(c);
    }
}

/// What every page must be: well formed, scriptless, one chart, nothing fetched or linked.
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    assert!(lower.starts_with("<!doctype html>"));
    assert!(!lower.contains("<script"), "no script");
    assert!(!lower.contains("javascript:"), "no script URL");
    assert!(!lower.contains("http://") && !lower.contains("https://"));
    assert_eq!(lower.matches("<svg").count(), 1, "exactly one chart");
    assert!(lower.contains("content-security-policy"));
    assert_fetches_nothing(&parse_html(page));
}

#[test]
fn html_of_an_expiry_night() {
    let s = night();
    let page = s.html();
    assert_self_contained(&page);
    for needle in [
        "<strong>Onset</strong> 2024-05-14 00:00 UTC: 178 failures in the 5 min bucket",
        "<strong>Expiry cliff</strong> 2024-05-14: 300 tokens started failing",
        ">peak 178</text>",
        ">onset 2024-05-14 00:00 UTC</text>",
        "<th>Last success</th>",
        "<td class=\"num\">1,200</td>",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    // Stacked bars: every non-empty bucket is one group, each reason one rectangle in it.
    let non_empty = s
        .report
        .timeline
        .buckets
        .iter()
        .filter(|b| b.failures > 0)
        .count();
    assert_eq!(page.matches("<g class=\"bar\">").count(), non_empty);
    insta::assert_snapshot!("html_night_outline", outline(&page));
}

#[test]
fn html_of_bans_and_a_cron_job() {
    let s = bans();
    let page = s.html();
    assert_self_contained(&page);
    assert_eq!(
        page.matches("<span class=\"risk\">at risk</span>").count(),
        3
    );
    insta::assert_snapshot!("html_bans_outline", outline(&page));

    let s = cron();
    let page = s.html();
    assert_self_contained(&page);
    assert!(
        !page.contains("class=\"onset-line\""),
        "no onset in steady traffic"
    );
    assert!(page.contains(">peak 8</text>"));
    insta::assert_snapshot!("html_cron_outline", outline(&page));
}

// ---- Hostile log text ----

const HOSTILE_UA: &str = "<img src=x onerror=alert(1)>|\u{1b}[2J";
const HOSTILE_ROUTE: &str = "/api/[x](https://evil.example)`rm`*b*";
const HOSTILE_USER: &str = "@all #1 _i_ \u{202e}";

/// Failures whose user agent, user, route, reason and token id were chosen by an attacker.
fn hostile(out: &mut Vec<u8>) {
    for k in 0..12 {
        let line = serde_json::json!({
            "time": format!("2024-05-14T00:00:{:02}.000Z", k * 2),
            "severity": "INFO",
            "status": 401,
            "method": "GET",
            "path": "/api/v4/projects/1/issues",
            "route": HOSTILE_ROUTE,
            "remote_ip": "192.0.2.66",
            "meta.remote_ip": "192.0.2.66",
            "ua": HOSTILE_UA,
            "meta.user": HOSTILE_USER,
            "meta.auth_fail_reason": "token_expired<svg onload=alert(1)>|",
            "meta.auth_fail_token_id": "PersonalAccessToken/1|`x`",
        });
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
}

/// Whether `needle` occurs in the report's log text without a backslash before it (the report's own
/// Markdown, `**bold**`, `**Onset**` and table rules, is left out).
fn has_unescaped(md: &str, needle: &str) -> bool {
    let own = md
        .replace("**", "")
        .replace("*shared*", "")
        .replace("### ", "")
        .replace("## ", "");
    own.match_indices(needle).any(|(i, _)| {
        let backslashes = own[..i].chars().rev().take_while(|&c| c == '\\').count();
        backslashes % 2 == 0
    })
}

#[test]
fn hostile_log_text_is_inert_in_markdown() {
    let s = Scenario::new(false, hostile);
    assert_eq!(s.report.totals.failures, 12);
    let t = &s.report.tokens[0];
    assert_eq!(
        (t.user_agents[0].value.as_str(), t.routes[0].value.as_str()),
        (HOSTILE_UA, HOSTILE_ROUTE)
    );
    let md = s.markdown();
    assert_tables_hold(&md);
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    for escaped in [
        "| \\<img src=x onerror=alert(1)\\>\\|\\\\x1b\\[2J |",
        "| /api/\\[x\\](https\\://evil.example)\\`rm\\`\\*b\\* |",
        "| \\@all \\#1 \\_i\\_ \\\\u\\{202e\\} |",
        "| PersonalAccessToken/1\\|\\`x\\` |",
        "| token\\_expired\\<svg onload=alert(1)\\>\\| |",
    ] {
        assert!(md.contains(escaped), "{escaped} not in {md}");
    }
    for raw in ["<", ">", "`", "*", "[", "](", "@", "#1", "_i"] {
        assert!(!has_unescaped(&md, raw), "unescaped {raw:?} in {md}");
    }
}

#[test]
fn hostile_log_text_is_inert_in_html() {
    let s = Scenario::new(false, hostile);
    let page = s.html();
    assert!(!page.contains('\u{1b}') && !page.contains('\u{202e}'));
    assert!(!page.contains("<img") && !page.contains("<svg onload"));
    for escaped in [
        "&lt;img src=x onerror=alert(1)&gt;|\\x1b[2J",
        "[x](https:/<wbr>/<wbr>evil.example)`rm`*b*",
        "@all #1 _i_ \\u{202e}",
        "token_expired&lt;svg onload=alert(1)&gt;|",
        "PersonalAccessToken/1|`x`",
    ] {
        assert!(page.contains(escaped), "{escaped} not in {page}");
    }
    // The link text is shown, never linked: without it the page is self-contained.
    assert_self_contained(&page.replace("https:/<wbr>/<wbr>evil.example", ""));
}
