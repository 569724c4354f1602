//! tokentrail: which GitLab access tokens are failing, why, since when, and from where.
//!
//! The engine reads GitLab request logs (`api_json.log`, `production_json.log`) and counts
//! authentication failures per token, reason, client IP and time, following
//! `triage_semantics.md`. Data flows one way:
//!
//! ```text
//! input (discover, open, decompress) ─► scan (cut lines, strip prefixes, join CRI partials)
//!   ─► prefilter (bytes) ─► event (JSON) ─► filter ─► summary (mergeable) ─► report ─► render
//! ```
//!
//! `run` scans many inputs in parallel (a summary per rayon thread, merged at the end); `app` is
//! the command-line layer that ties paths, configuration, rendering and exit codes together. The core (`scan`, `prefilter`,
//! `event`, `filter`, `summary`) never imports the CLI, the configuration or the renderers.

pub mod app;
pub mod ban;
pub mod cli;
pub mod config;
pub mod event;
pub mod filter;
pub mod generate;
pub mod gzip;
pub mod input;
pub mod keyed;
pub mod map;
pub mod pipe;
pub mod prefilter;
pub mod prefix;
pub mod record;
pub mod render;
pub mod report;
pub mod run;
pub mod scan;
pub mod scenario;
pub mod summary;
pub mod tally;
pub mod time;
pub mod token;
pub mod triage;

pub use report::{Report, ReportOptions};
pub use run::{ScanOptions, ScanOutcome, scan};
pub use scan::{LineScanner, ScanSettings};
pub use summary::{LineCounts, Summary};

/// Scans one in-memory buffer as if it were a whole file (tests, benches, fuzzing).
pub fn scan_bytes(bytes: &[u8], settings: &ScanSettings) -> (LineCounts, Summary) {
    let mut summary = Summary::default();
    let mut scanner = LineScanner::new(settings, true);
    scanner.scan_buffer(bytes, true, &mut summary);
    scanner.finish(&mut summary);
    (scanner.counts, summary)
}
