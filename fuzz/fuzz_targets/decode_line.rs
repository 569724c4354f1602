//! Fuzz target: one line through the byte prefilter, the container-prefix stripper and the JSON
//! decoder.
//!
//! The property is the prefilter's promise (`src/prefilter.rs`, `triage_semantics.md` §6): it never
//! rejects a line that full parsing classifies as a failure, a probe or a forbidden request, with
//! or without a container prefix; the cursor form of the test (used on read buffers) and the
//! prefilter that also lets successes through (`--last-success`) keep it too. Nothing here may
//! panic. This target does not look at line cutting or counting; `scan_buffer` does.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokentrail::event::Event;
use tokentrail::prefilter::Prefilter;
use tokentrail::summary::{Kind, classify};

/// The plain prefilter, and the one that also lets successful token requests through.
fn prefilters() -> &'static [Prefilter; 2] {
    static PREFILTERS: OnceLock<[Prefilter; 2]> = OnceLock::new();
    PREFILTERS.get_or_init(|| [Prefilter::new(), Prefilter::new().with_successes()])
}

/// Whether full parsing counts the line as a failure, a probe or a forbidden request.
fn matters(line: &[u8]) -> Option<Kind> {
    let kind = classify(&Event::parse(line).ok()?);
    matches!(kind, Kind::Failure | Kind::Probe | Kind::Forbidden).then_some(kind)
}

fn check_line(prefilter: &Prefilter, line: &[u8]) {
    if let Some(kind) = matters(line) {
        assert!(
            prefilter.is_candidate(line),
            "the prefilter rejects a {kind:?} line: {:?}",
            String::from_utf8_lossy(line)
        );
    }
}

/// The cursor answers for the lines of one buffer what the line test answers for every line that
/// is one JSON object, and keeps the promise. (On broken JSON they may differ: the line test does
/// not see a `"status"` that overlaps another, as in `"status"status":`.)
fn check_cursor(prefilter: &Prefilter, data: &[u8]) {
    let mut cursor = prefilter.cursor(data);
    let mut start = 0;
    for line in data.split(|&b| b == b'\n') {
        let end = start + line.len();
        let by_cursor = cursor.is_candidate(start, end);
        if Event::parse(line).is_ok() {
            assert_eq!(
                by_cursor,
                prefilter.is_candidate(line),
                "cursor and line test disagree on {:?}",
                String::from_utf8_lossy(line)
            );
        }
        if let Some(kind) = matters(line) {
            assert!(by_cursor, "the cursor rejects a {kind:?} line");
        }
        start = end + 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let [plain, with_successes] = prefilters();
    // Letting successes through only adds candidates.
    assert!(!plain.is_candidate(data) || with_successes.is_candidate(data));
    let stripped = tokentrail::prefix::strip(data).content;
    for prefilter in [plain, with_successes] {
        check_line(prefilter, data);
        check_line(prefilter, stripped);
        check_cursor(prefilter, data);
    }
});
