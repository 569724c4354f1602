//! Client IPs and ban risk (`tokentrail ips`): failures, the sliding-window maximum, the window in
//! which the ban threshold was crossed, the tokens and user agents behind each address, and the
//! 403s that followed (the ban itself).

use std::io::{self, Write};

use super::escape::{escape, escape_to_width};
use super::thousands;
use crate::report::{Report, ValueCount};
use crate::time::format_human;

fn short(v: &[ValueCount], n: usize) -> String {
    let mut parts: Vec<String> = v
        .iter()
        .take(n)
        .map(|x| format!("{} ({})", escape_to_width(&x.value, 40), x.count))
        .collect();
    if v.len() > n {
        parts.push("…".into());
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// Writes the IP view, at most `rows` addresses.
pub fn render(report: &Report, rows: usize, out: &mut dyn Write) -> io::Result<()> {
    let b = &report.ban_threshold;
    let at_risk = report.ips_at_ban_risk;
    writeln!(
        out,
        "CLIENT IPS: {} with failures, {} reached the ban threshold ({})",
        thousands(report.distinct_ips as u64),
        thousands(at_risk as u64),
        b
    )?;
    for ip in report.ips.iter().take(rows) {
        writeln!(out)?;
        let shared = if ip.shared {
            format!(
                "  SHARED: {} distinct tokens (NAT, proxy or CI fleet)",
                ip.distinct_tokens
            )
        } else {
            String::new()
        };
        writeln!(out, "{}{shared}", escape(&ip.ip))?;
        writeln!(
            out,
            "  failures {} (attributed {}, unattributed {}), max {} in {} s",
            thousands(ip.failures),
            thousands(ip.attributed),
            thousands(ip.unattributed),
            thousands(ip.max_in_window),
            ip.window_s
        )?;
        let when = |t: Option<crate::report::Time>| {
            t.map(|t| format_human(t.0)).unwrap_or_else(|| "-".into())
        };
        writeln!(
            out,
            "  seen {} → {} UTC",
            when(ip.first_seen),
            when(ip.last_seen)
        )?;
        match (ip.threshold_window_start, ip.threshold_reached_at) {
            (Some(start), Some(reached)) => {
                writeln!(
                    out,
                    "  BAN RISK: {} failures within {} s reached between {} and {} UTC",
                    b.maxretry,
                    b.findtime_s,
                    format_human(start.0),
                    format_human(reached.0)
                )?;
                if ip.forbidden_after_threshold > 0 {
                    writeln!(
                        out,
                        "  then {} × 403 without auth fields: most likely banned by Rack::Attack",
                        thousands(ip.forbidden_after_threshold)
                    )?;
                }
            }
            _ => writeln!(out, "  below the ban threshold")?,
        }
        writeln!(out, "  tokens       {}", short(&ip.tokens, 5))?;
        writeln!(out, "  user agents  {}", short(&ip.user_agents, 3))?;
    }
    let shown = report.ips.len().min(rows);
    if report.distinct_ips > shown {
        writeln!(out)?;
        writeln!(
            out,
            "… {} more with failures (--top N shows more)",
            thousands((report.distinct_ips - shown) as u64)
        )?;
    }
    Ok(())
}
