//! Every fixture gives its expected report (known by construction in `fixtures/build.py`), in the
//! default mode and with `--full-parse`, whatever the thread count, chunk size and buffer size.

mod common;

use std::collections::BTreeMap;

use common::*;

const NAMES: [&str; 5] = [
    "mixed/api_json.log",
    "k8s/kubectl.log",
    "k8s/timestamps.log",
    "k8s/cri.log",
    "rotated",
];

fn expected_map(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn every_fixture_matches_its_expected_report() {
    let expected = expected();
    for name in NAMES {
        let want = &expected[name];
        let path = fixtures().join(name);
        for full_parse in [false, true] {
            // Whole-file, tiny ranges and a tiny read buffer, on 1 and 2 threads.
            for (threads, chunk, buffer) in [(1, 1 << 30, 1 << 20), (2, 997, 64), (2, 1, 7)] {
                let outcome = scan_paths(
                    std::slice::from_ref(&path),
                    full_parse,
                    threads,
                    chunk,
                    buffer,
                );
                let report = report(&outcome);
                let mode = if full_parse { "full_parse" } else { "default" };
                let ctx = format!("{name} {mode} threads={threads} chunk={chunk} buffer={buffer}");
                assert!(!outcome.has_errors(), "{ctx}: {:?}", outcome.inputs);
                assert_eq!(totals_map(&report), expected_map(&want[mode]), "{ctx}");
                assert_eq!(tokens_map(&report), expected_map(&want["tokens"]), "{ctx}");
                let reasons: BTreeMap<String, u64> = report
                    .reasons
                    .iter()
                    .map(|r| (r.reason.clone().unwrap_or_else(|| "null".into()), r.count))
                    .collect();
                assert_eq!(reasons, expected_map(&want["reasons"]), "{ctx}");
                assert_balanced(&outcome);
            }
        }
    }
}

#[test]
fn rotated_directory_picks_every_request_log_and_nothing_else() {
    let outcome = scan_paths(&[fixtures().join("rotated")], false, 2, 1 << 20, 1 << 16);
    let names: Vec<String> = outcome
        .inputs
        .iter()
        .map(|i| {
            std::path::Path::new(&i.name)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "api_json.log",
            "api_json.log-2024-05-10.gz",
            "api_json.log.1",
            "api_json.log.2.gz",
            "api_json.log.3.gz",
            "api_json.log.4"
        ]
    );
    let multi = outcome
        .inputs
        .iter()
        .find(|i| i.name.ends_with("api_json.log.3.gz"))
        .unwrap();
    assert_eq!(multi.counts.lines, 27, "all three gzip members are read");
    let empty = outcome
        .inputs
        .iter()
        .find(|i| i.name.ends_with("api_json.log.4"))
        .unwrap();
    assert_eq!((empty.counts.lines, empty.error.as_ref()), (0, None));
}

#[test]
fn unreadable_lines_are_reported_with_file_and_line() {
    let path = fixtures().join("mixed/api_json.log");
    let outcome = scan_paths(&[path], false, 2, 509, 61);
    let input = &outcome.inputs[0];
    let lines: Vec<u64> = input.examples.iter().map(|e| e.line).collect();
    // The logger header, the JSON array and the truncated last line (1-based physical lines).
    let total = input.counts.lines;
    assert_eq!(lines, [1, total - 1, total]);
    assert!(input.examples[0].text.starts_with("# Logfile created"));
}

#[test]
fn cri_partial_line_keeps_its_first_chunk_time_and_fields() {
    let outcome = scan_paths(
        &[fixtures().join("k8s/cri.log")],
        false,
        1,
        1 << 20,
        1 << 16,
    );
    let report = report(&outcome);
    let t14 = report
        .tokens
        .iter()
        .find(|t| t.id == "14")
        .expect("the joined line names token 14");
    assert_eq!(t14.ips[0].value, "192.0.2.21");
    assert_eq!(
        t14.first_seen.unwrap().0,
        tokentrail::time::parse_rfc3339(b"2024-11-04T09:15:09Z").unwrap()
    );
}
