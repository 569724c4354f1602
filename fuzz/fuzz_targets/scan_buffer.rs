//! Fuzz target: a whole buffer through the line scanner, in the default mode and with
//! `--full-parse`, and once more through the streaming reader with a tiny buffer.
//!
//! Properties (`triage_semantics.md` §6): both accountings balance; full parse skips nothing; the
//! prefilter changes nothing that counts (failures, attributed, unattributed, probes,
//! forbidden_other, and the whole failure summary); lines and blanks do not depend on the mode;
//! reading in 3-byte pieces gives what one buffer gives; the one-pass vector cutter and the
//! portable `memchr` one cut the same lines and answer the prefilter alike. Nothing here may
//! panic. File handling
//! (ranges, compression) is not covered here; `tests/hostile.rs` and `tests/equivalence.rs` do it.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokentrail::prefilter::Prefilter;
use tokentrail::{LineCounts, LineScanner, ScanSettings, Summary};

fn settings() -> &'static [ScanSettings; 2] {
    static SETTINGS: OnceLock<[ScanSettings; 2]> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let default = ScanSettings {
            max_examples: 2,
            ..ScanSettings::default()
        };
        let full = ScanSettings {
            full_parse: true,
            ..default.clone()
        };
        [default, full]
    })
}

fn failure_fields(c: &LineCounts) -> [u64; 5] {
    [
        c.failures,
        c.attributed,
        c.unattributed,
        c.probes,
        c.forbidden_other,
    ]
}

fuzz_target!(|data: &[u8]| {
    let [default, full] = settings();
    let (a, summary_a) = tokentrail::scan_bytes(data, default);
    let (b, summary_b) = tokentrail::scan_bytes(data, full);
    assert!(a.is_balanced(), "default mode: {a:?}");
    assert!(b.is_balanced(), "full parse: {b:?}");
    assert_eq!(b.skipped, 0, "full parse skipped lines: {b:?}");
    assert_eq!(
        failure_fields(&a),
        failure_fields(&b),
        "the prefilter changed the counts:\n{a:?}\n{b:?}"
    );
    assert_eq!((a.lines, a.blank), (b.lines, b.blank));
    assert_eq!(summary_a, summary_b, "the prefilter changed the summary");

    // The same bytes read 3 at a time: the line buffer grows and carries partial lines.
    let mut summary_c = Summary::default();
    let mut scanner = LineScanner::new(default, true);
    let (read, error) = scanner.scan_reader(data, 3, &mut summary_c);
    assert!(error.is_none());
    assert_eq!(read, data.len() as u64);
    assert_eq!(scanner.counts, a, "3-byte reads differ from one buffer");
    assert_eq!(summary_c, summary_a);

    // The vector cutter against the portable one, line by line.
    let cut = |p: &Prefilter| {
        let mut lines = Vec::new();
        let rest = p.for_each_line(data, |start, end, candidate| {
            lines.push((start, end, candidate))
        });
        (lines, rest)
    };
    let vector = Prefilter::new();
    assert_eq!(
        cut(&vector),
        cut(&vector.clone().portable()),
        "vector and portable cutters differ"
    );
});
