//! The same content through every path gives the same failure counts and token tables: plain file
//! (positioned reads, split into ranges), gzip (one and several members), zstd, standard input, 1 and
//! N threads, tiny and large chunks and buffers, default and `--full-parse`.

mod common;

use std::io::Write;
use std::path::PathBuf;

use assert_cmd::Command;
use common::*;
use tokentrail::generate::{GenSpec, generate};

fn generated() -> (Vec<u8>, tokentrail::generate::Truth) {
    let spec = GenSpec {
        lines: 3_000,
        failure_ppm: 60_000,
        tokens: 40,
        ips: 30,
        ..GenSpec::default()
    };
    let mut bytes = Vec::new();
    let truth = generate(&spec, &mut bytes).unwrap();
    (bytes, truth)
}

fn gzip(data: &[u8], members: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let step = data.len().div_ceil(members.max(1));
    for part in data.chunks(step.max(1)) {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).unwrap();
        out.extend(enc.finish().unwrap());
    }
    out
}

fn write(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn generated_log_matches_its_truth_through_every_path() {
    let (plain, truth) = generated();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        write(&dir, "plain.log", &plain),
        write(&dir, "one.gz", &gzip(&plain, 1)),
        // Members cut anywhere, even inside a line: the decoder joins them.
        write(&dir, "many.gz", &gzip(&plain, 7)),
        write(&dir, "log.zst", &zstd::encode_all(&plain[..], 3).unwrap()),
        // A compressed file without a telling name is still recognised by its magic bytes.
        write(&dir, "api_json.log.1", &gzip(&plain, 1)),
    ];
    let mut reference = None;
    for file in &files {
        for (full_parse, map) in [(false, true), (false, false), (true, true)] {
            for (threads, chunk, buffer) in
                [(1, 1 << 30, 1 << 20), (2, 4096, 1000), (3, 100_003, 13)]
            {
                let outcome = common::scan_paths_mapped(
                    std::slice::from_ref(file),
                    full_parse,
                    threads,
                    chunk,
                    buffer,
                    map,
                );
                let ctx = format!(
                    "{} full={full_parse} map={map} t={threads} c={chunk} b={buffer}",
                    file.display()
                );
                assert!(!outcome.has_errors(), "{ctx}");
                assert_balanced(&outcome);
                let report = report(&outcome);
                let t = outcome.totals();
                assert_eq!(t.lines, truth.counts.lines, "{ctx}");
                assert_eq!(t.failures, truth.counts.failures, "{ctx}");
                assert_eq!(t.attributed, truth.counts.attributed, "{ctx}");
                assert_eq!(t.unattributed, truth.counts.unattributed, "{ctx}");
                assert_eq!(t.probes, truth.counts.probes, "{ctx}");
                assert_eq!(t.forbidden_other, truth.counts.forbidden_other, "{ctx}");
                if full_parse {
                    assert_eq!(t, truth.counts, "{ctx}");
                }
                let tokens: std::collections::BTreeMap<String, u64> =
                    tokens_map(&report).into_iter().collect();
                assert_eq!(tokens, truth.tokens, "{ctx}");
                let view = failure_view(&report);
                match &reference {
                    None => reference = Some(view),
                    Some(r) => assert_eq!(&view, r, "{ctx}"),
                }
            }
        }
    }
}

#[test]
fn standard_input_gives_the_same_report_as_the_file() {
    let (plain, _) = generated();
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "api_json.log", &plain);
    let run = |args: &[&str], stdin: Option<Vec<u8>>| {
        let mut cmd = Command::cargo_bin("tokentrail").unwrap();
        cmd.args(args).args(["--format", "json"]);
        if let Some(s) = stdin {
            cmd.write_stdin(s);
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Only the input's name differs.
        v["inputs"][0]["path"] = serde_json::Value::Null;
        v["inputs"][0]["why"] = serde_json::Value::Null;
        v["inputs"][0]["compressed_bytes"] = serde_json::Value::Null;
        v["inputs"][0]["encoding"] = serde_json::Value::Null;
        v
    };
    let from_file = run(&[file.to_str().unwrap()], None);
    assert_eq!(run(&["-"], Some(plain.clone())), from_file);
    assert_eq!(
        run(&["-", "--threads", "1"], Some(gzip(&plain, 3))),
        from_file
    );
    assert_eq!(
        run(&["-"], Some(zstd::encode_all(&plain[..], 1).unwrap())),
        from_file
    );
}

#[test]
fn several_files_in_parallel_sum_up() {
    let (plain, truth) = generated();
    let dir = tempfile::tempdir().unwrap();
    let a = write(&dir, "api_json.log", &plain);
    let b = write(&dir, "api_json.log.1.gz", &gzip(&plain, 2));
    for threads in [1, 2, 4] {
        let outcome = scan_paths(&[a.clone(), b.clone()], false, threads, 64 << 10, 1 << 14);
        assert_eq!(outcome.totals().failures, 2 * truth.counts.failures);
        assert_eq!(outcome.inputs.len(), 2);
        assert_eq!(outcome.inputs[0].counts.failures, truth.counts.failures);
    }
}
