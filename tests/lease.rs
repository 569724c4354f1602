//! The memory-map path under its read lease: a writer that shows up in the middle of a scan
//! breaks the lease, the scan goes on with `pread` from where it was, and the counts are exact.
//!
//! In a test binary of its own: a broken lease stops every later map in the process.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokentrail::generate::{GenSpec, generate};
use tokentrail::input::discover;
use tokentrail::map::{lease_broken, map_if_safe};
use tokentrail::{ScanOptions, ScanSettings};

#[test]
fn a_writer_in_the_middle_of_a_scan_breaks_the_lease_and_the_counts_stay_exact() {
    let spec = GenSpec {
        lines: 40_000,
        failure_ppm: 50_000,
        tokens: 60,
        ips: 40,
        ..GenSpec::default()
    };
    let mut bytes = Vec::new();
    let truth = generate(&spec, &mut bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api_json.log");
    std::fs::write(&path, &bytes).unwrap();

    // Leases need the file's owner and a local file system; without them there is nothing to
    // test here (the scan reads with pread, which the other tests cover).
    let probe = std::fs::File::open(&path).unwrap();
    if map_if_safe(&probe).is_none() {
        eprintln!("no read lease on this file system: skipped");
        return;
    }
    drop(probe);

    // The writer opens the file once the scan has read a little of it (the progress counter
    // says so): in the middle of the scan, whatever the speed of the build.
    let progress = Arc::new(AtomicU64::new(0));
    let opts = ScanOptions {
        threads: 1,
        buffer_size: 4096,
        progress: Some(Arc::clone(&progress)),
        ..ScanOptions::default()
    };
    let (inputs, errors) = discover(std::slice::from_ref(&path));
    let settings = ScanSettings::default();
    let outcome = std::thread::scope(|s| {
        let scan = s.spawn(|| tokentrail::scan(&inputs, errors, &settings, &opts));
        while progress.load(Ordering::Relaxed) < 64 << 10 && !scan.is_finished() {
            std::hint::spin_loop();
        }
        // Opening for writing breaks the lease: we get SIGIO, and this open waits until the
        // scan closes the file.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        scan.join().unwrap()
    });
    assert!(lease_broken(), "the lease-break signal arrived");
    assert!(!outcome.has_errors());
    common::assert_balanced(&outcome);
    let t = outcome.totals();
    assert_eq!(t.lines, truth.counts.lines);
    assert_eq!(t.failures, truth.counts.failures);
    assert_eq!(t.attributed, truth.counts.attributed);
    assert_eq!(t.probes, truth.counts.probes);
    assert_eq!(t.forbidden_other, truth.counts.forbidden_other);
    assert_eq!(outcome.inputs[0].bytes, bytes.len() as u64);

    // After a break, files are no longer mapped.
    let again = std::fs::File::open(&path).unwrap();
    assert!(map_if_safe(&again).is_none());
}
