//! The html report (being written).

use std::io::{self, Write};

use crate::report::Report;

/// Writes the report as html.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let _ = report;
    out.flush()
}
