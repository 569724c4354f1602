//! The CSV report: one row per failing token with its counts and first/last seen.
//!
//! Cells from the log are escaped and defused against spreadsheet formulas ([`csv_cell`]).

use std::io::{self, Write};

use super::escape::csv_cell;
use crate::report::Report;

/// The header row.
pub const HEADER: [&str; 17] = [
    "class",
    "id",
    "failures",
    "first_seen",
    "last_seen",
    "reasons",
    "status",
    "top_ip",
    "distinct_ips",
    "top_user_agent",
    "top_route",
    "user",
    "requested_scopes",
    "distinct_user_agents",
    "pattern",
    "interval_s",
    "last_success",
];

/// Writes one row per token.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| io::Error::other(e.to_string());
    w.write_record(HEADER).map_err(err)?;
    for t in &report.tokens {
        let join = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let first = |v: &[crate::report::ValueCount]| {
            v.first().map(|x| x.value.clone()).unwrap_or_default()
        };
        let row = [
            csv_cell(&t.class),
            csv_cell(&t.id),
            t.count.to_string(),
            t.first_seen
                .map(|x| crate::time::format_rfc3339(x.0))
                .unwrap_or_default(),
            t.last_seen
                .map(|x| crate::time::format_rfc3339(x.0))
                .unwrap_or_default(),
            csv_cell(&join(&t.reasons)),
            join(&t.status),
            csv_cell(&first(&t.ips)),
            t.distinct_ips.to_string(),
            csv_cell(&first(&t.user_agents)),
            csv_cell(&first(&t.routes)),
            csv_cell(&first(&t.users)),
            csv_cell(&first(&t.requested_scopes)),
            t.distinct_user_agents.to_string(),
            t.pattern.to_string(),
            t.interval_s.map(|s| s.to_string()).unwrap_or_default(),
            t.last_success
                .map(|x| crate::time::format_rfc3339(x.0))
                .unwrap_or_default(),
        ];
        w.write_record(&row).map_err(err)?;
    }
    w.flush()
}
