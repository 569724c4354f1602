//! The real binary on fixtures: exit codes, standard input, missing files, closed pipes, output
//! formats and the JSON contract's field names.

mod common;

use std::io::Read;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use common::fixtures;
use predicates::prelude::*;

fn tokentrail() -> Command {
    let mut cmd = Command::cargo_bin("tokentrail").unwrap();
    cmd.env_remove("NO_COLOR").env("TERM", "dumb");
    cmd
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_string_lossy().into_owned()
}

#[test]
fn exit_zero_when_failures_match() {
    tokentrail()
        .arg(fixture("mixed/api_json.log"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("TOP TOKENS"));
}

#[test]
fn exit_one_when_nothing_matches() {
    tokentrail()
        .args([&fixture("mixed/api_json.log"), "--reason", "no_such_reason"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("failures 0"));
    // An empty input has nothing to match either.
    tokentrail().arg("-").write_stdin("").assert().code(1);
}

#[test]
fn exit_two_on_a_missing_file_and_the_rest_is_still_reported() {
    let out = tokentrail()
        .args([
            "/no/such/api_json.log",
            &fixture("mixed/api_json.log"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/no/such/api_json.log") && stderr.contains("No such file"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["failures"], 14);
    let missing = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "/no/such/api_json.log")
        .unwrap();
    assert!(missing["error"].as_str().unwrap().contains("No such file"));
}

#[test]
fn exit_two_on_usage_errors() {
    tokentrail()
        .args(["--since", "yesterday-ish", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
    tokentrail().args(["--format", "yaml"]).assert().code(2);
    tokentrail()
        .args(["--ban-threshold", "lots", "-"])
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn dash_reads_standard_input() {
    let data = std::fs::read(fixtures().join("k8s/kubectl.log")).unwrap();
    tokentrail()
        .args(["-", "--format", "csv"])
        .write_stdin(data)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PersonalAccessToken,12,1,"));
}

#[test]
fn no_path_and_piped_stdin_reads_stdin() {
    let data = std::fs::read(fixtures().join("k8s/kubectl.log")).unwrap();
    tokentrail()
        .args(["--format", "json"])
        .write_stdin(data)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"path\": \"-\""));
}

#[test]
fn closed_pipe_is_not_an_error() {
    // Outputs far longer than a pipe's buffer, read 10 bytes, then the pipe closes (`| head -c 10`):
    // every format must end quietly, with the exit status of the scan (0: failures found).
    let spec = tokentrail::generate::GenSpec {
        lines: 20_000,
        failure_ppm: 200_000,
        ips: 5_000,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api_json.log");
    let mut bytes = Vec::new();
    tokentrail::generate::generate(&spec, &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    for format in ["json", "ndjson", "csv", "table"] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("tokentrail"))
            .args([
                path.to_str().unwrap(),
                "--format",
                format,
                "--top",
                "100000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut head = [0u8; 10];
        stdout.read_exact(&mut head).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{format}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{format}");
    }
}

#[test]
fn json_report_has_the_contract_fields() {
    let out = tokentrail()
        .args([&fixture("mixed/api_json.log"), "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "tokentrail.report/v1");
    let has = |obj: &serde_json::Value, keys: &[&str]| {
        for k in keys {
            assert!(obj.get(k).is_some(), "missing {k} in {obj}");
        }
    };
    has(
        &v,
        &[
            "schema",
            "inputs",
            "totals",
            "time_range",
            "reasons",
            "tokens",
            "ips",
            "timeline",
        ],
    );
    has(
        &v["inputs"][0],
        &[
            "path",
            "bytes",
            "lines",
            "blank",
            "non_json",
            "skipped",
            "other_component",
            "other_json",
            "requests",
            "failures",
            "error",
        ],
    );
    has(
        &v["totals"],
        &[
            "lines",
            "blank",
            "non_json",
            "skipped",
            "other_component",
            "other_json",
            "requests",
            "failures",
            "attributed",
            "unattributed",
            "probes",
            "forbidden_other",
            "other_requests",
            "filtered_out",
        ],
    );
    has(&v["time_range"], &["first", "last"]);
    has(&v["reasons"][0], &["reason", "count"]);
    has(
        &v["tokens"][0],
        &[
            "class",
            "id",
            "count",
            "first_seen",
            "last_seen",
            "reasons",
            "status",
            "ips",
            "user_agents",
            "routes",
            "users",
            "requested_scopes",
            "distinct_ips",
            "distinct_user_agents",
            "distinct_routes",
            "distinct_users",
            "distinct_requested_scopes",
        ],
    );
    has(&v["tokens"][0]["ips"][0], &["value", "count"]);
    has(
        &v["ips"][0],
        &[
            "ip",
            "failures",
            "attributed",
            "unattributed",
            "first_seen",
            "last_seen",
            "max_in_window",
            "window_s",
            "ban_risk",
        ],
    );
    has(&v["timeline"], &["bucket_s", "buckets"]);
    has(
        &v["timeline"]["buckets"][0],
        &["start", "failures", "by_reason"],
    );
    // The most failing token first; times are RFC 3339 UTC with milliseconds.
    assert_eq!(v["tokens"][0]["class"], "PersonalAccessToken");
    assert_eq!(v["tokens"][0]["id"], "12");
    assert_eq!(v["tokens"][0]["count"], 4);
    let first = v["tokens"][0]["first_seen"].as_str().unwrap();
    assert!(first.len() == 24 && first.ends_with('Z'), "{first}");
    // A reason-less attributed failure is keyed null in `reasons`.
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reason"].is_null())
    );
}

#[test]
fn same_input_gives_the_same_bytes() {
    let run = || {
        tokentrail()
            .args([&fixture("rotated"), "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn table_output_is_pinned() {
    let out = tokentrail()
        .args([&fixture("mixed/api_json.log"), "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&fixtures().to_string_lossy().into_owned(), "fixtures");
    insta::assert_snapshot!("table_mixed", text);
}

#[test]
fn csv_output_is_pinned() {
    let out = tokentrail()
        .args([&fixture("mixed/api_json.log"), "--format", "csv"])
        .output()
        .unwrap();
    insta::assert_snapshot!("csv_mixed", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let plain = tokentrail()
        .arg(fixture("mixed/api_json.log"))
        .output()
        .unwrap()
        .stdout;
    assert!(!plain.contains(&0x1b), "piped output has no escape codes");
    let forced = tokentrail()
        .args([&fixture("mixed/api_json.log"), "--color", "always"])
        .output()
        .unwrap()
        .stdout;
    assert!(forced.contains(&0x1b));
}

#[test]
fn hostile_log_text_is_escaped_in_table_and_csv() {
    let line = concat!(
        r#"{"time":"2024-05-14T00:00:01.000Z","status":401,"path":"/api/v4/user","route":"/api/:version/user","#,
        r#""ua":"evil\u001b[2J\u001b]0;pwned\u0007\u202e","meta.remote_ip":"192.0.2.1","#,
        r#""meta.auth_fail_reason":"token_expired","meta.auth_fail_token_id":"=cmd|' /C calc'!A0/1"}"#,
        "\n"
    );
    let table = tokentrail()
        .arg("-")
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    assert!(
        !table.contains(&0x1b) && !table.contains(&0x07),
        "{}",
        String::from_utf8_lossy(&table)
    );
    assert!(String::from_utf8_lossy(&table).contains("evil\\x1b[2J"));
    let csv = tokentrail()
        .args(["-", "--format", "csv"])
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("'=cmd"), "{csv}");
    assert!(!csv.contains('\u{1b}'));
    // JSON stays exact.
    let json = tokentrail()
        .args(["-", "--format", "json"])
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        v["tokens"][0]["user_agents"][0]["value"],
        "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}"
    );
}

#[test]
fn help_teaches() {
    tokentrail().arg("--help").assert().code(0).stdout(
        predicate::str::contains("Examples:").and(predicate::str::contains("--ban-threshold")),
    );
}

#[test]
fn ndjson_has_one_object_per_matching_failure_with_file_and_line() {
    let out = tokentrail()
        .args([&fixture("k8s/cri.log"), "--format", "ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for key in [
        "time",
        "status",
        "reason",
        "token_class",
        "token_id",
        "ip",
        "user",
        "route",
        "method",
        "ua",
        "scopes",
        "file",
        "line",
    ] {
        assert!(lines[0].get(key).is_some(), "missing {key}");
    }
    // The P/P/F line is reported at its first chunk's line.
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["token_id"], "12");
    assert_eq!(lines[2]["token_id"], "14");
    assert_eq!(lines[2]["line"], 5);
}

#[test]
fn raw_prints_the_matching_lines_unchanged_in_input_order() {
    let path = fixture("mixed/api_json.log");
    let text = std::fs::read_to_string(fixtures().join("mixed/api_json.log")).unwrap();
    let out = tokentrail()
        .args([
            &path,
            "--raw",
            "--token",
            "PersonalAccessToken/12",
            "--chunk-size",
            "1000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    let want: Vec<&str> = text
        .split('\n')
        .filter(|l| {
            l.contains("\"meta.auth_fail_token_id\":\"PersonalAccessToken/12\"")
                && !l.contains("\"status\":302")
        })
        .collect();
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        want.iter()
            .map(|l| l.trim_end_matches('\r'))
            .collect::<Vec<_>>()
    );
    assert!(printed.contains("\r\n"), "the CRLF line keeps its CR");
}

#[test]
fn list_inputs_shows_what_was_picked_and_why() {
    let out = tokentrail()
        .args([&fixture("rotated"), "--list-inputs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(text.contains("api_json.log.3.gz\t1.96 KiB\tgzip\trequest log in"));
    assert!(!text.contains("sidekiq.log"));
}

#[test]
fn completions_and_man_page() {
    tokentrail()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("_tokentrail"));
    tokentrail()
        .args(["completions", "zsh"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("#compdef tokentrail"));
    tokentrail()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH tokentrail 1"));
}

#[test]
fn a_file_named_twice_is_read_once() {
    let dir = fixtures().join("rotated");
    let file = dir.join("api_json.log");
    let once = tokentrail()
        .args([dir.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap()
        .stdout;
    let twice = tokentrail()
        .args([
            dir.to_str().unwrap(),
            file.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap()
        .stdout;
    let failures = |out: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(out).unwrap()["totals"]["failures"].clone()
    };
    assert_eq!(failures(&once), failures(&twice));
}

#[test]
fn absurd_windows_are_refused_not_overflowed() {
    tokentrail()
        .args(["--ban-threshold", "10/10000000000000000", "-"])
        .write_stdin("")
        .assert()
        .code(2);
    tokentrail()
        .args(["--bucket", "99999999999999w", "-"])
        .write_stdin("")
        .assert()
        .code(2);
    tokentrail()
        .args(["--since", "20000000000w", "-"])
        .write_stdin("")
        .assert()
        .code(2);
}

/// Makes a named pipe with the `mkfifo` command (coreutils).
fn mkfifo(path: &std::path::Path) {
    let status = StdCommand::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_named_pipe_on_the_command_line_is_read_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("ff");
    mkfifo(&pipe);
    let log = std::fs::read(fixture("mixed/api_json.log")).unwrap();
    let expected = tokentrail()
        .args(["--format", "json", &fixture("mixed/api_json.log")])
        .output()
        .unwrap();
    let expected: serde_json::Value = serde_json::from_slice(&expected.stdout).unwrap();
    let writer_pipe = pipe.clone();
    // The writer opens the pipe, writes once and closes it, like `cat log > pipe`.
    let writer = std::thread::spawn(move || std::fs::write(writer_pipe, log).unwrap());
    let out = tokentrail()
        .args(["--format", "json"])
        .arg(&pipe)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    writer.join().unwrap();
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["totals"], expected["totals"]);
}

#[test]
fn a_named_pipe_in_a_log_folder_is_skipped_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("api_json.log"));
    std::fs::copy(
        fixture("mixed/api_json.log"),
        dir.path().join("api_json.log.1"),
    )
    .unwrap();
    let out = tokentrail()
        .arg("--list-inputs")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{listed}");
    assert!(listed.contains("api_json.log.1"), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
}

#[test]
fn hundreds_of_files_fit_under_a_low_soft_limit_on_open_files() {
    // Every plain input stays open until read; tokentrail raises its soft limit to the hard one.
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=200 {
        std::fs::copy(
            fixture("mixed/api_json.log"),
            dir.path().join(format!("api_json.log.{i}")),
        )
        .unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("tokentrail");
    let out = StdCommand::new("sh")
        .arg("-c")
        // Where the hard limit itself is too low for 200 files, there is nothing to test.
        .arg(
            r#"h=$(ulimit -H -n); [ "$h" != unlimited ] && [ "$h" -lt 300 ] && exit 0
                ulimit -S -n 64 && exec "$0" -q "$1""#,
        )
        .arg(bin)
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}
