//! Everything about one token (`tokentrail token CLASS/ID`): counts, times, where it is used, and
//! what an administrator should do next.

use std::io::{self, Write};

use super::escape::escape;
use super::thousands;
use crate::report::{Report, TokenEntry, ValueCount};
use crate::time::format_human;

fn values(
    out: &mut dyn Write,
    title: &str,
    values: &[ValueCount],
    distinct: usize,
) -> io::Result<()> {
    writeln!(out, "{title} ({distinct})")?;
    if values.is_empty() {
        writeln!(out, "  -")?;
    }
    for v in values {
        writeln!(out, "  {:>8}  {}", thousands(v.count), escape(&v.value))?;
    }
    Ok(())
}

/// Describes a recurring interval for people: `every 10 min`.
pub fn interval_text(seconds: u64) -> String {
    match seconds {
        s if s % 3600 == 0 => format!("every {} h", s / 3600),
        s if s % 60 == 0 => format!("every {} min", s / 60),
        s => format!("every {s} s"),
    }
}

/// The pattern for people: `recurring, every 10 min`.
pub fn pattern_text(t: &TokenEntry) -> String {
    match t.interval_s {
        Some(s) => format!("{}, {}", t.pattern, interval_text(s)),
        None => t.pattern.to_string(),
    }
}

fn next_steps(t: &TokenEntry, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "NEXT STEPS")?;
    let id = escape(&t.id);
    let reasons: Vec<&str> = t.reasons.keys().map(String::as_str).collect();
    if t.class == "PersonalAccessToken" {
        writeln!(
            out,
            "  Inspect it (owner, scopes, expires_at, last_used_at), with an administrator's token:"
        )?;
        writeln!(
            out,
            "    curl --header \"PRIVATE-TOKEN: $ADMIN_TOKEN\" \"$GITLAB_URL/api/v4/personal_access_tokens/{id}\""
        )?;
        // An expired or revoked token cannot be rotated: only a new token helps (said below).
        if !(reasons.contains(&"token_expired") || reasons.contains(&"token_revoked")) {
            writeln!(
                out,
                "  Rotate it (revokes it and returns a new token with the same scopes):"
            )?;
            writeln!(
                out,
                "    curl --request POST --header \"PRIVATE-TOKEN: $ADMIN_TOKEN\" \"$GITLAB_URL/api/v4/personal_access_tokens/{id}/rotate\""
            )?;
        }
        writeln!(
            out,
            "  Project and group access tokens log as PersonalAccessToken too: the owner is their bot user"
        )?;
        writeln!(
            out,
            "  (project_N_bot_…); rotate those under the project's or group's Settings > Access tokens."
        )?;
    } else if t.class.starts_with("Oauth") {
        writeln!(
            out,
            "  An OAuth access token belongs to an OAuth application (Admin > Applications, or the"
        )?;
        writeln!(
            out,
            "  user's Preferences > Applications). The client must refresh it (refresh_token grant)"
        )?;
        writeln!(
            out,
            "  or re-authorize; revoke a leaked one with POST /oauth/revoke."
        )?;
    } else {
        writeln!(
            out,
            "  {} is not a token class GitLab's token API manages; find its owner from the",
            escape(&t.class)
        )?;
        writeln!(out, "  user agents and IPs above.")?;
    }
    if reasons.contains(&"token_expired") || reasons.contains(&"token_revoked") {
        writeln!(
            out,
            "  An expired or revoked token never works again: create a new one and update the"
        )?;
        writeln!(
            out,
            "  automation that still sends this one (see its user agents and IPs above)."
        )?;
    }
    if reasons.contains(&"insufficient_scope") {
        let wanted: Vec<String> = t
            .requested_scopes
            .iter()
            .map(|v| escape(&v.value))
            .collect();
        if wanted.is_empty() {
            writeln!(
                out,
                "  The endpoint needs a scope this token lacks; scopes cannot be added to a token:"
            )?;
        } else {
            writeln!(
                out,
                "  The endpoints wanted the scopes: {}. Scopes cannot be added to an existing",
                wanted.join(" | ")
            )?;
        }
        writeln!(
            out,
            "  token: create one with the needed scope and replace this one."
        )?;
    }
    if reasons.contains(&"impersonation_disabled") {
        writeln!(
            out,
            "  Impersonation tokens are disabled on this instance (Admin > Settings > General >"
        )?;
        writeln!(
            out,
            "  Account and limit > Allow impersonation): use a personal or project access token."
        )?;
    }
    Ok(())
}

/// Writes the token view; `wanted` is the token as asked for, shown when it did not fail.
pub fn render(report: &Report, wanted: &str, out: &mut dyn Write) -> io::Result<()> {
    let Some(t) = report.tokens.first() else {
        writeln!(out, "TOKEN {}: no failure in these logs", escape(wanted))?;
        if !wanted.is_empty() && wanted.bytes().all(|b| b.is_ascii_digit()) {
            writeln!(
                out,
                "  a token is named with its class, as logged: tokentrail token PersonalAccessToken/{} PATH…",
                escape(wanted)
            )?;
        } else {
            writeln!(
                out,
                "  tokens are named as logged in meta.auth_fail_token_id (GitLab 17.2+), e.g. PersonalAccessToken/12"
            )?;
        }
        writeln!(out, "  `tokentrail PATH…` lists the failing tokens")?;
        return Ok(());
    };
    let name = if t.id.is_empty() {
        t.class.clone()
    } else {
        format!("{}/{}", t.class, t.id)
    };
    writeln!(out, "TOKEN {}", escape(&name))?;
    let by_reason: Vec<String> = t
        .reasons
        .iter()
        .map(|(r, n)| format!("{} {}", escape(r), thousands(*n)))
        .collect();
    let by_status: Vec<String> = t
        .status
        .iter()
        .map(|(s, n)| format!("{s}: {}", thousands(*n)))
        .collect();
    writeln!(
        out,
        "  failures      {} ({})",
        thousands(t.count),
        by_reason.join(", ")
    )?;
    writeln!(out, "  status        {}", by_status.join(", "))?;
    writeln!(out, "  pattern       {}", pattern_text(t))?;
    let when = |x: Option<crate::report::Time>| {
        x.map(|t| format!("{} UTC", format_human(t.0)))
            .unwrap_or_else(|| "-".into())
    };
    writeln!(out, "  first seen    {}", when(t.first_seen))?;
    writeln!(out, "  last seen     {}", when(t.last_seen))?;
    if report.last_success_tracked {
        match t.last_success {
            Some(ok) => writeln!(
                out,
                "  last success  {} UTC (before its first failure)",
                format_human(ok.0)
            )?,
            None => writeln!(out, "  last success  none in these logs")?,
        }
    } else {
        writeln!(
            out,
            "  last success  run with --last-success to find when it last worked"
        )?;
    }
    let list = |v: &[ValueCount]| {
        v.iter()
            .map(|x| escape(&x.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !t.token_types.is_empty() {
        writeln!(out, "  token type    {}", list(&t.token_types))?;
    }
    if !t.auth_header_types.is_empty() {
        writeln!(out, "  sent as       {}", list(&t.auth_header_types))?;
    }
    writeln!(out)?;
    writeln!(out, "FAILURES BY UTC HOUR OF DAY")?;
    let peak = t.hours_utc.iter().copied().max().unwrap_or(0).max(1);
    for (h, n) in t.hours_utc.iter().enumerate() {
        let bar: String = std::iter::repeat_n('█', ((n * 40).div_ceil(peak)) as usize).collect();
        writeln!(out, "  {h:02}:00  {bar:<40} {}", thousands(*n))?;
    }
    writeln!(out)?;
    values(out, "CLIENT IPS", &t.ips, t.distinct_ips)?;
    values(out, "USER AGENTS", &t.user_agents, t.distinct_user_agents)?;
    values(out, "ROUTES", &t.routes, t.distinct_routes)?;
    values(out, "USERS", &t.users, t.distinct_users)?;
    values(
        out,
        "REQUESTED SCOPES",
        &t.requested_scopes,
        t.distinct_requested_scopes,
    )?;
    writeln!(out)?;
    next_steps(t, out)
}
