//! Property tests: the line cutter, CRI partial joining and prefix stripping.
//!
//! Cutting the same bytes at any read boundary, or into any byte ranges, gives the same lines and
//! the same summary; a line split into CRI `P`…`F` chunks counts exactly like the whole line; the
//! one-pass vector cutter and the portable `memchr` cutter cut the same lines and answer the
//! prefilter the same way, and agree with full parsing on what counts.

mod common;

use std::io::Read;

use proptest::prelude::*;
use tokentrail::prefilter::{Prefilter, Rest};
use tokentrail::prefix::strip;
use tokentrail::time::{format_rfc3339, parse_rfc3339};
use tokentrail::{LineCounts, LineScanner, ScanSettings, Summary, scan_bytes};

/// A reader that hands out its bytes in the given piece sizes (then 1 byte at a time).
struct Choppy<'a> {
    data: &'a [u8],
    pieces: Vec<usize>,
    at: usize,
}

impl Read for Choppy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = self.pieces.pop().unwrap_or(1).max(1).min(buf.len());
        let n = want.min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn normalized(mut s: Summary) -> Summary {
    for ip in s.ips.values_mut() {
        ip.failure_times.sort_unstable();
    }
    s
}

const FAILURE: &str = r#"{"time":"2024-05-14T00:00:01.000Z","status":401,"path":"/api/v4/user","meta.remote_ip":"192.0.2.1","meta.auth_fail_reason":"token_expired","meta.auth_fail_token_id":"PersonalAccessToken/12"}"#;

/// Lines of a CRI stream whose long lines are cut in `P` chunks on stdout only, each `P`…`F` group
/// whole (as one container writes them), mixed with whole lines of other kinds.
fn stdout_cri_strategy() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        format!(
            "2024-01-19T14:12:24Z stdout P {}\n2024-01-19T14:12:24Z stdout P {}\n2024-01-19T14:12:24Z stdout F {}",
            &FAILURE[..50],
            &FAILURE[50..90],
            &FAILURE[90..]
        ),
        format!(
            "2024-01-19T14:12:24Z stdout P {}\n2024-01-19T14:12:24Z stdout F {}",
            &FAILURE[..7],
            &FAILURE[7..]
        ),
        format!("2024-01-19T14:12:24Z stdout F {FAILURE}"),
        FAILURE.to_string(),
        r#"{"status":200,"path":"/api/v4/user","ua":"x"}"#.to_string(),
        String::new(),
    ])
}

fn line_strategy(with_partials: bool) -> impl Strategy<Value = String> {
    let mut options = vec![
        Just(FAILURE.to_string()).boxed(),
        Just(r#"{"status":200,"path":"/api/v4/user","ua":"x"}"#.to_string()).boxed(),
        Just(r#"{"status":403,"path":"/","meta.remote_ip":"192.0.2.2","time":"2024-05-14T00:00:02Z"}"#.to_string()).boxed(),
        Just(r#"{"status":401,"path":"/","remote_ip":"192.0.2.3, 127.0.0.1"}"#.to_string()).boxed(),
        Just(String::new()).boxed(),
        Just(" \t".to_string()).boxed(),
        Just("# Logfile created on 2024-05-13".to_string()).boxed(),
        Just(format!("{FAILURE}\r")).boxed(),
        Just(format!("2024-01-19T14:12:24.214148186Z {FAILURE}")).boxed(),
        Just(format!("2024-01-19T14:12:24Z stdout F {FAILURE}")).boxed(),
        "[ -~]{0,40}".boxed(),
        Just(r#"{"status":401,"path":"/\u00e9"}"#.to_string()).boxed(),
    ];
    if with_partials {
        options.push(Just(format!("2024-01-19T14:12:24Z stdout P {}", &FAILURE[..50])).boxed());
        options.push(Just(format!("2024-01-19T14:12:24Z stderr P {}", &FAILURE[..20])).boxed());
        options.push(Just(format!("2024-01-19T14:12:24Z stdout F {}", &FAILURE[50..])).boxed());
    }
    proptest::strategy::Union::new(options)
}

/// Bytes made of the pieces the prefilter looks for, cut and mixed: needles whole and broken,
/// status values good and bad, escapes, and line ends, so that every pattern lands across the
/// vector loop's 32-byte blocks and its 2-byte look-ahead, and at the end of the buffer.
fn needle_soup() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"\"status\"",
        b"\"status\":",
        b"\"status\": 401",
        b"\"status\":401",
        b"\"status\":403,",
        b"\"status\":200",
        b"\"status\":4010",
        b"\"status\":\"401\"",
        b"\"status\" :",
        b"\"stat",
        b"us\"",
        b"us\":401",
        b"auth_fail",
        b"auth_",
        b"h_fail",
        b"h_",
        b"\\u00",
        b"\\u0",
        b"\\",
        b"\\\\u0061",
        b"\n",
        b"\n",
        b"\r\n",
        b"{",
        b"}",
        b"\"",
        b":",
        b" ",
        b"\t",
        b"401",
        b"403",
        b"200",
        b"u",
        b"h",
        b"s",
        b"_",
        b"x",
        b"\"path\":\"/api/v4/user\"",
        b"0123456789abcdef0123456789abcdef",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..120).prop_map(|p| p.concat())
}

/// Every line `for_each_line` reports, and its rest.
fn cut_lines(prefilter: &Prefilter, buf: &[u8]) -> (Vec<(usize, usize, bool)>, Rest) {
    let mut lines = Vec::new();
    let rest = prefilter.for_each_line(buf, |start, end, candidate| {
        lines.push((start, end, candidate))
    });
    (lines, rest)
}

fn document(lines: &[String], bom: bool, final_newline: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(lines.join("\n").as_bytes());
    if final_newline && !lines.is_empty() {
        bytes.push(b'\n');
    }
    bytes
}

fn scan_choppy(
    bytes: &[u8],
    settings: &ScanSettings,
    buffer: usize,
    pieces: Vec<usize>,
) -> (LineCounts, Summary) {
    let mut summary = Summary::default();
    let mut scanner = LineScanner::new(settings, true);
    let (read, err) = scanner.scan_reader(
        Choppy {
            data: bytes,
            pieces,
            at: 0,
        },
        buffer,
        &mut summary,
    );
    assert!(err.is_none());
    assert_eq!(read, bytes.len() as u64);
    (scanner.counts, summary)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn cutting_reads_anywhere_gives_the_same_lines(
        lines in prop::collection::vec(line_strategy(true), 0..30),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
        buffer in 1usize..300,
        pieces in prop::collection::vec(1usize..200, 0..40),
        full_parse in any::<bool>(),
    ) {
        let bytes = document(&lines, bom, final_newline);
        let settings = ScanSettings { full_parse, max_examples: 3, ..ScanSettings::default() };
        let (counts, summary) = scan_bytes(&bytes, &settings);
        prop_assert!(counts.is_balanced(), "{:?}", counts);
        let (c2, s2) = scan_choppy(&bytes, &settings, buffer, pieces);
        prop_assert_eq!(counts, c2);
        prop_assert_eq!(normalized(summary), normalized(s2));
    }

    #[test]
    fn cutting_into_ranges_gives_the_same_report(
        lines in prop::collection::vec(line_strategy(false), 1..40),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
        chunk in 1u64..400,
        buffer in 1usize..100,
    ) {
        let bytes = document(&lines, bom, final_newline);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api_json.log");
        std::fs::write(&path, &bytes).unwrap();
        let settings = ScanSettings { max_examples: 3, ..ScanSettings::default() };
        let (counts, _) = scan_bytes(&bytes, &settings);
        let whole = common::scan_paths(std::slice::from_ref(&path), false, 1, 1 << 30, 1 << 16);
        let cut = common::scan_paths(std::slice::from_ref(&path), false, 2, chunk, buffer);
        let read = common::scan_paths_mapped(std::slice::from_ref(&path), false, 2, chunk, buffer, false);
        prop_assert_eq!(whole.totals(), counts);
        prop_assert_eq!(cut.totals(), counts);
        prop_assert_eq!(read.totals(), counts);
        prop_assert_eq!(&read.inputs[0].examples, &whole.inputs[0].examples);
        prop_assert_eq!(common::failure_view(&common::report(&read)), common::failure_view(&common::report(&whole)));
        prop_assert_eq!(&cut.inputs[0].examples, &whole.inputs[0].examples);
        prop_assert_eq!(common::failure_view(&common::report(&cut)), common::failure_view(&common::report(&whole)));
    }

    #[test]
    fn cri_chunks_are_joined_across_byte_ranges(
        lines in prop::collection::vec(stdout_cri_strategy(), 1..60),
        chunk in 1u64..600,
        buffer in 1usize..100,
    ) {
        // 64 KiB of plain lines first, so that the file is not recognised as a CRI file and is cut
        // into ranges: the range edges themselves must keep P…F chunks together.
        let filler = format!("{}\n", r#"{"status":200,"path":"/"}"#).repeat(2800);
        let mut bytes = filler.into_bytes();
        bytes.extend(document(&lines, false, true));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api_json.log");
        std::fs::write(&path, &bytes).unwrap();
        let settings = ScanSettings { max_examples: 3, ..ScanSettings::default() };
        let (counts, _) = scan_bytes(&bytes, &settings);
        let cut = common::scan_paths(std::slice::from_ref(&path), false, 2, 100 + chunk, buffer);
        prop_assert_eq!(cut.totals(), counts);
        let read = common::scan_paths_mapped(std::slice::from_ref(&path), false, 2, 100 + chunk, buffer, false);
        prop_assert_eq!(read.totals(), counts);
        let whole = common::scan_paths(std::slice::from_ref(&path), false, 1, 1 << 30, 1 << 16);
        prop_assert_eq!(common::failure_view(&common::report(&cut)), common::failure_view(&common::report(&whole)));
    }

    #[test]
    fn a_line_split_into_cri_chunks_counts_like_the_whole_line(
        cuts in prop::collection::btree_set(1usize..FAILURE.len(), 0..6),
        stderr_between in any::<bool>(),
    ) {
        let mut chunks = Vec::new();
        let mut last = 0;
        for &c in &cuts {
            chunks.push(&FAILURE[last..c]);
            last = c;
        }
        chunks.push(&FAILURE[last..]);
        let mut text = String::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let tag = if i + 1 == chunks.len() { "F" } else { "P" };
            text.push_str(&format!("2024-01-19T14:12:24.1Z stdout {tag} {chunk}\n"));
            if stderr_between && i == 0 {
                text.push_str("2024-01-19T14:12:24.2Z stderr F {\"msg\":\"hello\"}\n");
            }
        }
        let settings = ScanSettings::default();
        let (counts, summary) = scan_bytes(text.as_bytes(), &settings);
        let (whole_counts, whole) = scan_bytes(format!("{FAILURE}\n").as_bytes(), &settings);
        prop_assert_eq!(counts.failures, 1);
        prop_assert_eq!(counts.lines, 1 + u64::from(stderr_between));
        prop_assert_eq!(counts.attributed, whole_counts.attributed);
        prop_assert_eq!(summary.tokens, whole.tokens);
    }

    #[test]
    fn prefixes_strip_to_the_content(
        millis in 0i64..4_102_444_800_000,
        nanos in 0u32..1_000_000,
        content in "[ -~]{0,60}",
        stream in prop::sample::select(vec!["", "stdout F ", "stderr F ", "stdout P "]),
    ) {
        // A runtime timestamp with nanoseconds: the milliseconds survive.
        let base = format_rfc3339(millis);
        let stamp = format!("{}{:06}Z", &base[..23], nanos);
        let line = format!("{stamp} {stream}{content}");
        let s = strip(line.as_bytes());
        prop_assert_eq!(s.content, content.as_bytes());
        prop_assert_eq!(s.time, Some(millis));
        prop_assert_eq!(s.cri.is_some(), !stream.is_empty());
        prop_assert_eq!(parse_rfc3339(base.as_bytes()), Some(millis));
    }

    #[test]
    fn vector_and_portable_cutters_agree(bytes in needle_soup(), skip in 0usize..40) {
        // Also from an offset, so that blocks start at every alignment.
        let buf = &bytes[skip.min(bytes.len())..];
        let vector = Prefilter::new();
        let (lines, rest) = cut_lines(&vector, buf);
        prop_assert_eq!(cut_lines(&vector.clone().portable(), buf), (lines.clone(), rest));
        let mut start = 0;
        for &(s, end, candidate) in &lines {
            prop_assert_eq!(s, start);
            prop_assert_eq!(buf[end], b'\n');
            prop_assert!(!buf[s..end].contains(&b'\n'));
            prop_assert_eq!(candidate, vector.is_candidate(&buf[s..end]), "{:?}", String::from_utf8_lossy(&buf[s..end]));
            start = end + 1;
        }
        prop_assert_eq!(rest.start, start);
        prop_assert!(!buf[start..].contains(&b'\n'));
        prop_assert_eq!(rest.candidate, vector.is_candidate(&buf[start..]));
    }

    #[test]
    fn vector_portable_and_full_parse_count_the_same(
        lines in prop::collection::vec(line_strategy(true), 0..40),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let bytes = document(&lines, bom, final_newline);
        let vector = ScanSettings { max_examples: 3, ..ScanSettings::default() };
        let portable = ScanSettings { prefilter: Prefilter::new().portable(), ..vector.clone() };
        let full = ScanSettings { full_parse: true, ..vector.clone() };
        let (counts, summary) = scan_bytes(&bytes, &vector);
        let (c2, s2) = scan_bytes(&bytes, &portable);
        prop_assert_eq!(counts, c2);
        prop_assert_eq!(normalized(summary.clone()), normalized(s2));
        let (c3, s3) = scan_bytes(&bytes, &full);
        prop_assert_eq!(c3.skipped, 0);
        prop_assert_eq!((counts.failures, counts.attributed, counts.probes, counts.forbidden_other),
            (c3.failures, c3.attributed, c3.probes, c3.forbidden_other));
        prop_assert_eq!(counts.lines, c3.lines);
        prop_assert_eq!(summary.tokens.len(), s3.tokens.len());
    }
}
