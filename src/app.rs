//! The command-line application: choose inputs, scan, render, and decide the exit code.
//!
//! This is the only module that knows about standard output, standard error and terminals.
//! A closed output pipe (`tokentrail … | head`) ends the run quietly.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{ColorWhen, Format};
use crate::config::Config;
use crate::input::discover;
use crate::render::table::TableOptions;
use crate::render::{self};
use crate::report::Report;
use crate::run::scan;

/// Exit status: a failure matched.
pub const EXIT_MATCH: u8 = 0;
/// Exit status: no failure matched.
pub const EXIT_NO_MATCH: u8 = 1;
/// Exit status: an input could not be read, or the command line was wrong.
pub const EXIT_ERROR: u8 = 2;

/// The GitLab Linux package's log directory, used when no path is given on a terminal.
pub const DEFAULT_LOG_DIR: &str = "/var/log/gitlab/gitlab-rails/";

/// Where to read when no PATH is given: standard input when piped, else the default log directory.
fn default_paths() -> Result<Vec<PathBuf>, String> {
    if !io::stdin().is_terminal() {
        return Ok(vec![PathBuf::from("-")]);
    }
    if std::path::Path::new(DEFAULT_LOG_DIR).is_dir() {
        return Ok(vec![PathBuf::from(DEFAULT_LOG_DIR)]);
    }
    Err(format!(
        "no PATH given and {DEFAULT_LOG_DIR} does not exist\n\n\
         Usage: tokentrail [OPTIONS] [PATH]...\n  \
         tokentrail /path/to/gitlab-rails/         a log directory\n  \
         tokentrail api_json.log api_json.log.1.gz  files\n  \
         kubectl logs POD -c webservice | tokentrail -\n\n\
         For more information, try '--help'."
    ))
}

fn use_color(choice: ColorWhen) -> bool {
    match choice {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Whether an error is the reader of our output going away.
fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Runs the application and returns the exit status.
pub fn run(config: Config) -> u8 {
    let paths = if config.paths.is_empty() {
        match default_paths() {
            Ok(p) => p,
            Err(msg) => {
                eprintln!("tokentrail: {msg}");
                return EXIT_ERROR;
            }
        }
    } else {
        config.paths.clone()
    };
    let (inputs, errors) = discover(&paths);
    let outcome = scan(&inputs, errors, &config.scan, &config.options);
    for input in &outcome.inputs {
        if let Some(e) = &input.error {
            eprintln!("tokentrail: {}", render::escape::escape(e));
        }
        if input.shrank {
            eprintln!(
                "tokentrail: {}: the file got shorter while it was read (rotated?); counted what was there",
                render::escape::escape(&input.name)
            );
        }
    }
    let report = Report::build(&outcome, &config.report);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let written = match config.format {
        Format::Table => {
            let opts = TableOptions {
                color: use_color(config.color),
                rows: config.rows,
                examples: config.examples,
            };
            render::table::render(&report, &opts, &mut out)
        }
        Format::Json => render::json::render(&report, &mut out),
        Format::Csv => render::csv::render(&report, &mut out),
    }
    .and_then(|()| out.flush());
    if let Err(e) = written
        && !is_broken_pipe(&e)
    {
        eprintln!("tokentrail: cannot write the report: {e}");
        return EXIT_ERROR;
    }
    if outcome.has_errors() {
        EXIT_ERROR
    } else if report.totals.failures > 0 {
        EXIT_MATCH
    } else {
        EXIT_NO_MATCH
    }
}
