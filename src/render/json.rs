//! The JSON report: `tokentrail.report/v1`, pretty-printed, one document.

use std::io::{self, Write};

use crate::report::Report;

/// Writes the report as JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
