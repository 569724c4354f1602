//! The raw command line, as clap parses it. [`crate::config::Config::from_args`] resolves it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned tables for people (the default).
    Table,
    /// The `tokentrail.report/v1` JSON document, for scripts.
    Json,
    /// One row per failing token, for spreadsheets.
    Csv,
    /// The table report as GitHub/GitLab-flavoured Markdown, to paste into an incident issue.
    Markdown,
    /// One self-contained HTML page (no network, no scripts) with the timeline as inline SVG; use
    /// with --output report.html.
    Html,
    /// One JSON object per matching failure (time, status, reason, token, ip, user, route, method,
    /// ua, scopes, file, line), for jq, Elasticsearch or Loki.
    Ndjson,
}

/// When to colour the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The command line: a report over PATHs, or one of the commands.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tokentrail",
    version,
    args_conflicts_with_subcommands = true,
    about = "Which GitLab access tokens are failing, why, since when, and from where.",
    long_about = "Which GitLab access tokens are failing, why, since when, and from where.\n\n\
Reads GitLab's api_json.log (and production_json.log) files, live or rotated, plain, gzip or zstd, \
plain or wrapped by Kubernetes (gitlab-logger, kubectl --timestamps, CRI node files), and counts \
authentication failures per token and reason (meta.auth_fail_reason, meta.auth_fail_token_id, \
GitLab 17.2+), per client IP with ban risk, and over time.",
    after_help = "Examples:\n  \
tokentrail /var/log/gitlab/gitlab-rails/          every api_json.log* and production_json.log* there\n  \
tokentrail api_json.log.1.gz --since 2024-05-14   failures from midnight UTC on\n  \
kubectl logs deploy/gitlab-webservice-default -c webservice | tokentrail -\n  \
tokentrail --format json logs/ | jq '.tokens[0]'\n  \
tokentrail --raw --token PersonalAccessToken/12 logs/   the matching lines themselves\n\n\
Exit status: 0 when a failure matched, 1 when none did, 2 when an input could not be read \
(the report of what could be read is still printed)."
)]
pub struct Cli {
    /// A command instead of the report.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The report's arguments.
    #[command(flatten)]
    pub args: Args,
}

/// Commands besides the default report.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Failures over time: a bar chart per bucket, stacked by reason, with the onset and the peak.
    Timeline(Args),
    /// Everything about one token: counts, times, IPs, user agents, routes, scopes, next steps.
    Token(TokenArgs),
    /// Client IPs by failures with ban risk, the window that crossed it, and the tokens behind them.
    Ips(Args),
    /// Print a shell completion script: tokentrail completions bash > /etc/bash_completion.d/tokentrail
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): tokentrail man > /usr/local/share/man/man1/tokentrail.1
    Man,
}

/// `tokentrail token CLASS/ID [PATH]...`
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The token as logged in meta.auth_fail_token_id: PersonalAccessToken/12, OauthAccessToken/7.
    #[arg(id = "which", value_name = "CLASS/ID")]
    pub which: String,
    /// Paths and options, as for the report.
    #[command(flatten)]
    pub args: Args,
}

/// The report's paths and options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Log files, directories (searched for api_json.log* and production_json.log*), or - for
    /// standard input. Default: standard input when it is not a terminal, else
    /// /var/log/gitlab/gitlab-rails/.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Only events at or after this time: RFC 3339, YYYY-MM-DD (midnight UTC), or relative to now
    /// (30m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only failures with this meta.auth_fail_reason (repeatable; `none` for failures without one):
    /// token_expired, token_revoked, insufficient_scope, impersonation_disabled.
    #[arg(long, value_name = "REASON")]
    pub reason: Vec<String>,

    /// Only this token, as logged in meta.auth_fail_token_id (repeatable): PersonalAccessToken/12.
    #[arg(long, value_name = "CLASS/ID")]
    pub token: Vec<String>,

    /// Only this client IP (repeatable).
    #[arg(long, value_name = "ADDR")]
    pub ip: Vec<String>,

    /// Rows per table (and, with --format json/csv, keep only the top N tokens and IPs).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Values kept per token for IPs, user agents, routes, users and scopes.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top_values: usize,

    /// The ban rule for ban risk: self-managed (10 failures in 60 s), gitlab-com (300 in 60 s),
    /// gitlab-com-2024 (30 in 180 s), or N/SECONDS.
    #[arg(long, value_name = "RULE", default_value = "self-managed")]
    pub ban_threshold: String,

    /// Timeline bucket: 1m, 5m, 1h, 1d, … (default: chosen from the time span).
    #[arg(long, value_name = "DURATION")]
    pub bucket: Option<String>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Parse every line as JSON instead of only the lines the byte prefilter lets through (slower;
    /// the reference the prefilter is tested against).
    #[arg(long)]
    pub full_parse: bool,

    /// Never memory-map files; read them with pread. (By default a plain file is mapped only
    /// when a read lease can be taken on it, i.e. nothing has it open for writing: the live log
    /// is read with pread while GitLab runs, so copytruncate cannot crash a scan.) Use it on a
    /// failing disk, or when writers must not wait for tokentrail to finish a file.
    #[arg(long)]
    pub no_mmap: bool,

    /// Also find when each failing token last WORKED (successful requests log `token_type` and
    /// `token_id`): "worked until 23:58:12, failing since 00:00:03" proves an expiry. Costs time:
    /// most successful API lines are then decoded too.
    #[arg(long)]
    pub last_success: bool,

    /// Unreadable lines to show, with file and line number.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub examples: usize,

    /// When to use colour in the table.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    /// Bytes per parallel range of a plain file (testing and tuning).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub chunk_size: Option<u64>,

    /// Read buffer size (testing and tuning).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub buffer_size: Option<usize>,

    /// Print the original matching failure lines unchanged, in input order (like grep), instead of
    /// a report.
    #[arg(long, conflicts_with = "format")]
    pub raw: bool,

    /// List the inputs that would be read (path, size, encoding, why) and exit.
    #[arg(long)]
    pub list_inputs: bool,

    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommands_and_paths() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "tokentrail",
            "token",
            "PersonalAccessToken/12",
            "a.log",
            "--top",
            "3",
        ])?;
        match cli.command {
            Some(Command::Token(t)) => {
                assert_eq!(t.which, "PersonalAccessToken/12");
                assert_eq!(t.args.paths, [PathBuf::from("a.log")]);
                assert_eq!(t.args.top, Some(3));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["tokentrail", "x.log", "--format", "json"])?;
        assert!(cli.command.is_none());
        assert_eq!(cli.args.paths, [PathBuf::from("x.log")]);
        Ok(())
    }
}
