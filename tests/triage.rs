//! Triage views against scenarios with known truth (`tokentrail::scenario`): the onset of a
//! mass-expiry night, its expiry cliff with each token's last success, the pattern of a cron job
//! and of bursts, and the ban windows of IPs crossing each preset and then answered with 403s.

mod common;

use std::path::PathBuf;

use tokentrail::ban::BanThreshold;
use tokentrail::input::discover;
use tokentrail::prefilter::Prefilter;
use tokentrail::scenario::{burst_and_ban, cron_job, expiry_night};
use tokentrail::time::{format_rfc3339, parse_rfc3339};
use tokentrail::{Report, ReportOptions, ScanOptions, ScanSettings};

fn write(name: &str, f: impl FnOnce(&mut Vec<u8>)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    f(&mut bytes);
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn report(path: &PathBuf, last_success: bool, ban: BanThreshold, full_parse: bool) -> Report {
    report_top(path, last_success, ban, full_parse, None)
}

fn report_top(
    path: &PathBuf,
    last_success: bool,
    ban: BanThreshold,
    full_parse: bool,
    top: Option<usize>,
) -> Report {
    let (inputs, errors) = discover(std::slice::from_ref(path));
    let prefilter = if last_success {
        Prefilter::new().with_successes()
    } else {
        Prefilter::new()
    };
    let settings = ScanSettings {
        prefilter,
        track_successes: last_success,
        full_parse,
        ..ScanSettings::default()
    };
    let outcome = tokentrail::scan(
        &inputs,
        errors,
        &settings,
        &ScanOptions {
            chunk_size: 64 << 10,
            ..ScanOptions::default()
        },
    );
    common::assert_balanced(&outcome);
    Report::build(
        &outcome,
        &ReportOptions {
            ban,
            last_success_tracked: last_success,
            top,
            ..ReportOptions::default()
        },
    )
}

fn ms(s: &str) -> i64 {
    parse_rfc3339(s.as_bytes()).unwrap()
}

#[test]
fn mass_expiry_night_has_its_onset_and_cliff() {
    let mut truth = None;
    let (_dir, path) = write("api_json.log", |b| {
        truth = Some(expiry_night(300, b).unwrap())
    });
    let truth = truth.unwrap();
    for full_parse in [false, true] {
        let r = report(&path, true, BanThreshold::SELF_MANAGED, full_parse);
        assert_eq!(r.totals.failures, truth.failures);
        let onset = r.onset.as_ref().expect("an onset");
        assert_eq!(onset.time.0, truth.onset.unwrap());
        assert_eq!(onset.top_reason.as_deref(), Some("token_expired"));
        assert!(
            onset.peak_per_bucket >= 100 && onset.baseline_per_bucket < 1.0,
            "{onset:?}"
        );
        assert_eq!(r.cliffs.len(), 1);
        let cliff = &r.cliffs[0];
        let (day, tokens, first) = truth.cliffs[0];
        assert_eq!(cliff.day, format_rfc3339(day)[..10]);
        assert_eq!((cliff.tokens, cliff.first_failure.0), (tokens, first));
        assert_eq!(cliff.members.len(), 300);
        for (id, last_ok) in &truth.last_success {
            let m = cliff.members.iter().find(|m| &m.id == id).unwrap();
            assert_eq!(m.last_success.map(|t| t.0), Some(*last_ok), "token {id}");
        }
    }
    // Without --last-success the cliff is the same, the last successes unknown.
    let r = report(&path, false, BanThreshold::SELF_MANAGED, false);
    assert_eq!(r.cliffs[0].tokens, 300);
    assert!(r.cliffs[0].members.iter().all(|m| m.last_success.is_none()));
    // With --top (the table's rows), only the first members are built, the same first ones;
    // with last successes tracked all stay, since the summaries of last successes use them all.
    let top = report_top(&path, false, BanThreshold::SELF_MANAGED, false, Some(7));
    assert_eq!(top.cliffs[0].tokens, 300);
    assert_eq!(top.cliffs[0].members, r.cliffs[0].members[..7]);
    let tracked = report_top(&path, true, BanThreshold::SELF_MANAGED, false, Some(7));
    assert_eq!(tracked.cliffs[0].members.len(), 300);
    // Nothing shown, the cliff still says when it started.
    let none = report_top(&path, false, BanThreshold::SELF_MANAGED, false, Some(0));
    assert!(none.cliffs[0].members.is_empty());
    assert_eq!(none.cliffs[0].first_failure, r.cliffs[0].first_failure);
}

#[test]
fn no_cliff_and_no_onset_in_steady_traffic() {
    let (_dir, path) = write("api_json.log", |b| {
        cron_job(b).unwrap();
    });
    let r = report(&path, false, BanThreshold::SELF_MANAGED, false);
    assert!(r.cliffs.is_empty());
    assert!(r.onset.is_none(), "{:?}", r.onset);
}

#[test]
fn a_cron_job_is_recurring_every_ten_minutes() {
    let (_dir, path) = write("api_json.log", |b| {
        cron_job(b).unwrap();
    });
    let r = report(&path, false, BanThreshold::SELF_MANAGED, false);
    let t = &r.tokens[0];
    assert_eq!(
        (t.id.as_str(), t.pattern, t.interval_s),
        ("7777", "recurring", Some(600))
    );
    assert_eq!(t.count, 432 + 144);
}

#[test]
fn bursts_and_ban_windows_for_each_preset() {
    let (_dir, path) = write("api_json.log", |b| {
        burst_and_ban(b).unwrap();
    });
    let expect = [
        // (preset, [ips at risk])
        (
            BanThreshold::SELF_MANAGED,
            vec!["203.0.113.10", "203.0.113.30", "203.0.113.99"],
        ),
        (
            BanThreshold::GITLAB_COM_2024,
            vec!["203.0.113.30", "203.0.113.99"],
        ),
        (BanThreshold::GITLAB_COM, vec!["203.0.113.99"]),
    ];
    for (ban, at_risk) in expect {
        let r = report(&path, false, ban, false);
        let mut risky: Vec<&str> = r
            .ips
            .iter()
            .filter(|i| i.ban_risk)
            .map(|i| i.ip.as_str())
            .collect();
        risky.sort();
        assert_eq!(risky, at_risk, "{}", ban.preset);
        for ip in &r.ips {
            assert_eq!(ip.window_s, ban.findtime_s);
            if ip.ban_risk {
                assert_eq!(ip.forbidden_after_threshold, 5, "{} {}", ban.preset, ip.ip);
                assert!(ip.threshold_window_start.unwrap() <= ip.threshold_reached_at.unwrap());
            } else {
                assert_eq!(ip.forbidden_after_threshold, 0);
            }
        }
    }
    let r = report(&path, false, BanThreshold::SELF_MANAGED, false);
    let ip10 = r.ips.iter().find(|i| i.ip == "203.0.113.10").unwrap();
    assert_eq!(ip10.max_in_window, 12);
    assert_eq!(
        ip10.threshold_window_start.unwrap().0,
        ms("2024-05-12T10:00:00Z")
    );
    // The 10th failure (every 2.5 s) reaches the threshold.
    assert_eq!(
        ip10.threshold_reached_at.unwrap().0,
        ms("2024-05-12T10:00:22.500Z")
    );
    let ip99 = r.ips.iter().find(|i| i.ip == "203.0.113.99").unwrap();
    assert_eq!(
        (ip99.failures, ip99.unattributed, ip99.max_in_window),
        (320, 320, 320)
    );
    for t in &r.tokens {
        assert_eq!(t.pattern, "burst", "token {}", t.id);
    }
}

fn cli(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("tokentrail")
        .unwrap()
        .env("COLUMNS", "110")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn views_are_pinned() {
    let (_a, night) = write("api_json.log", |b| {
        expiry_night(40, b).unwrap();
    });
    let (_b, burst) = write("api_json.log", |b| {
        burst_and_ban(b).unwrap();
    });
    let (_c, cron) = write("api_json.log", |b| {
        cron_job(b).unwrap();
    });
    let night = night.to_str().unwrap();
    let clean = |s: String, path: &str| s.replace(path, "api_json.log");
    insta::assert_snapshot!("timeline_night", cli(&["timeline", night]));
    insta::assert_snapshot!(
        "table_night",
        clean(cli(&[night, "--last-success", "--top", "5"]), night)
    );
    insta::assert_snapshot!(
        "ips_burst",
        cli(&[
            "ips",
            burst.to_str().unwrap(),
            "--ban-threshold",
            "gitlab-com-2024"
        ])
    );
    insta::assert_snapshot!(
        "token_cron",
        cli(&["token", "PersonalAccessToken/7777", cron.to_str().unwrap()])
    );
    insta::assert_snapshot!(
        "csv_cron",
        cli(&[cron.to_str().unwrap(), "--format", "csv"])
    );
}

#[test]
fn token_view_of_a_token_that_did_not_fail() {
    let (_c, cron) = write("api_json.log", |b| {
        cron_job(b).unwrap();
    });
    let out = assert_cmd::Command::cargo_bin("tokentrail")
        .unwrap()
        .args(["token", "PersonalAccessToken/1", cron.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no failure in these logs"));
}
