//! The markdown report (being written).

use std::io::{self, Write};

use crate::report::Report;

/// Writes the report as markdown.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let _ = report;
    out.flush()
}
