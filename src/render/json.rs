//! The JSON report: `tokentrail.report/v1`, pretty-printed, one document.

use std::io::{self, Write};

use crate::report::Report;

/// Writes the report as JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(into_io)?;
    out.write_all(b"\n")
}

/// Keeps the kind of an I/O error that serde_json wraps, so that a closed pipe stays a closed pipe.
pub fn into_io(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    }
}
