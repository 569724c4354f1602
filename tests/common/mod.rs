//! Helpers shared by the integration tests: scanning paths with given options, and reading the
//! expected reports of `fixtures/expected.json`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tokentrail::input::discover;
use tokentrail::{Report, ReportOptions, ScanOptions, ScanOutcome, ScanSettings};

/// The repository's fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Scans paths with the given mode and work split.
pub fn scan_paths(
    paths: &[PathBuf],
    full_parse: bool,
    threads: usize,
    chunk: u64,
    buffer: usize,
) -> ScanOutcome {
    scan_paths_mapped(paths, full_parse, threads, chunk, buffer, true)
}

/// [`scan_paths`], choosing whether plain files may be memory-mapped (when a lease allows).
pub fn scan_paths_mapped(
    paths: &[PathBuf],
    full_parse: bool,
    threads: usize,
    chunk: u64,
    buffer: usize,
    memory_map: bool,
) -> ScanOutcome {
    let (inputs, errors) = discover(paths);
    let settings = ScanSettings {
        full_parse,
        max_examples: 5,
        ..ScanSettings::default()
    };
    let opts = ScanOptions {
        threads,
        chunk_size: chunk,
        buffer_size: buffer,
        memory_map,
        ..ScanOptions::default()
    };
    tokentrail::scan(&inputs, errors, &settings, &opts)
}

/// The report of an outcome with default options.
pub fn report(outcome: &ScanOutcome) -> Report {
    Report::build(outcome, &ReportOptions::default())
}

/// The totals of a report as a name → count map, the shape of `expected.json`.
pub fn totals_map(report: &Report) -> BTreeMap<String, u64> {
    let v = serde_json::to_value(report.totals).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// Failures per token id text (`Class/id`).
pub fn tokens_map(report: &Report) -> BTreeMap<String, u64> {
    report
        .tokens
        .iter()
        .map(|t| {
            (
                if t.id.is_empty() {
                    t.class.clone()
                } else {
                    format!("{}/{}", t.class, t.id)
                },
                t.count,
            )
        })
        .collect()
}

/// What must be identical across every path, thread count, chunking and mode: the failure counts
/// and the complete token and IP tables (as JSON).
pub fn failure_view(report: &Report) -> serde_json::Value {
    let t = &report.totals;
    serde_json::json!({
        "failures": t.failures,
        "attributed": t.attributed,
        "unattributed": t.unattributed,
        "probes": t.probes,
        "forbidden_other": t.forbidden_other,
        "filtered_out": t.filtered_out,
        "tokens": serde_json::to_value(&report.tokens).unwrap(),
        "ips": serde_json::to_value(&report.ips).unwrap(),
        "reasons": serde_json::to_value(&report.reasons).unwrap(),
        "timeline": serde_json::to_value(&report.timeline).unwrap(),
        "time_range": serde_json::to_value(report.time_range).unwrap(),
    })
}

/// Asserts the accounting identities of §6 on the totals and on every input.
pub fn assert_balanced(outcome: &ScanOutcome) {
    assert!(
        outcome.totals().is_balanced(),
        "totals: {:?}",
        outcome.totals()
    );
    for i in &outcome.inputs {
        assert!(i.counts.is_balanced(), "{}: {:?}", i.name, i.counts);
    }
}

/// `fixtures/expected.json`.
pub fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}
