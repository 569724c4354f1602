//! The command-line application: choose inputs, scan, render, and decide the exit code.
//!
//! This is the only module that knows about standard output, standard error and terminals: the
//! progress bar, colour, `NO_COLOR`, and a closed output pipe (`tokentrail … | head`), which ends
//! the run quietly.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::CommandFactory;

use crate::cli::{Cli, ColorWhen, Command, Format};
use crate::config::Config;
use crate::input::{Input, Source, discover, open_file};
use crate::record::{Located, RecordBody};
use crate::render::escape::escape;
use crate::render::table::TableOptions;
use crate::render::{self, human_bytes};
use crate::report::Report;
use crate::run::{ScanOutcome, scan};

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

/// Writes to standard output; a reader that went away is success, any other error is reported.
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), u8> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 << 10, stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            eprintln!("tokentrail: cannot write to standard output: {e}");
            Err(EXIT_ERROR)
        }
    }
}

/// Writes to a file (`--output`), reporting a failure with the path.
fn write_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), u8> {
    let result = std::fs::File::create(path).and_then(|f| {
        let mut out = io::BufWriter::with_capacity(64 << 10, f);
        write(&mut out)?;
        out.flush()
    });
    result.map_err(|e| {
        eprintln!("tokentrail: cannot write {}: {e}", path.display());
        EXIT_ERROR
    })
}

/// Which view of the report to print as a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The default report.
    Report,
    /// `tokentrail timeline`.
    Timeline,
    /// `tokentrail token CLASS/ID`.
    Token(String),
    /// `tokentrail ips`.
    Ips,
}

/// Columns of the terminal on standard output (`COLUMNS`, else 100 when unknown).
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100)
}

/// Raises the soft limit on open files to the hard one. Every plain input stays open (and leased)
/// until it has been read, and a month of rotated logs can be hundreds of files: a soft limit of
/// 1024 (or less) would turn the rest into "Too many open files".
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is "unlimited".
    let below_hard = match (limit.current, limit.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below_hard {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
}

/// Runs a parsed command line and returns the exit status.
pub fn main_with(cli: Cli) -> u8 {
    raise_open_file_limit();
    let (args, view) = match cli.command {
        None => (cli.args, View::Report),
        Some(Command::Timeline(args)) => (args, View::Timeline),
        Some(Command::Ips(args)) => (args, View::Ips),
        Some(Command::Token(t)) => {
            let mut args = t.args;
            args.token.push(t.which.clone());
            args.top_values = usize::MAX;
            (args, View::Token(t.which))
        }
        Some(other) => return print_command(other),
    };
    match Config::from_args(args) {
        Ok(config) => run(config, &view),
        Err(e) => {
            eprintln!("tokentrail: {e}");
            EXIT_ERROR
        }
    }
}

/// Prints completions or the man page.
fn print_command(command: Command) -> u8 {
    let written = match command {
        Command::Completions { shell } => write_stdout(|out| {
            clap_complete::generate(shell, &mut Cli::command(), "tokentrail", out);
            Ok(())
        }),
        Command::Man => write_stdout(|out| clap_mangen::Man::new(Cli::command()).render(out)),
        Command::Timeline(_) | Command::Token(_) | Command::Ips(_) => Ok(()),
    };
    written.err().unwrap_or(0)
}

/// Lists the inputs with their size, encoding and why they were picked.
fn list_inputs(inputs: &[Input], out: &mut dyn Write) -> io::Result<()> {
    for input in inputs {
        let (size, encoding) = match &input.source {
            Source::Stdin => ("-".to_string(), "sniffed when read".to_string()),
            Source::File(path) => match open_file(path) {
                Ok((_, Some(enc), size)) => (human_bytes(size), format!("{enc:?}").to_lowercase()),
                Ok((_, None, _)) => ("-".into(), "stream".into()),
                Err(e) => ("-".into(), format!("unreadable: {e}")),
            },
        };
        writeln!(
            out,
            "{}\t{size}\t{encoding}\t{}",
            escape(&input.name),
            escape(&input.why)
        )?;
    }
    Ok(())
}

/// Total bytes the progress bar counts: file sizes on disk (0 when unknown, e.g. stdin).
fn total_bytes(inputs: &[Input]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| match &i.source {
            Source::File(p) => std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            Source::Stdin => None,
        })
        .sum()
}

/// Scans with a progress bar on standard error when the scan takes more than a second and standard
/// error is a terminal.
fn scan_with_progress(
    config: &Config,
    inputs: &[Input],
    errors: Vec<crate::input::InputError>,
) -> ScanOutcome {
    if config.quiet || !io::stderr().is_terminal() {
        return scan(inputs, errors, &config.scan, &config.options);
    }
    let counter = Arc::new(AtomicU64::new(0));
    let mut options = config.options.clone();
    options.progress = Some(Arc::clone(&counter));
    let total = total_bytes(inputs);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // The bar's clock starts with the scan; it becomes visible only after a second.
            let bar = indicatif::ProgressBar::with_draw_target((total > 0).then_some(total), indicatif::ProgressDrawTarget::hidden());
            let template = if total > 0 {
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
            } else {
                "{spinner} [{elapsed_precise}] {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            let start = std::time::Instant::now();
            let mut visible = false;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if !visible && start.elapsed() >= Duration::from_secs(1) {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
                    visible = true;
                }
                bar.set_position(counter.load(Ordering::Relaxed));
            }
            bar.finish_and_clear();
        });
        let outcome = scan(inputs, errors, &config.scan, &options);
        done.store(true, Ordering::Relaxed);
        outcome
    })
}

/// Writes the kept failures: NDJSON objects, or the original lines (`--raw`). Raw lines go out
/// unchanged into a pipe; on a terminal their control characters are escaped (a bare CR is valid
/// JSON whitespace and could hide what precedes it).
fn write_records(outcome: &ScanOutcome, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
    for input in &outcome.inputs {
        for record in &input.records {
            match &record.body {
                RecordBody::Raw(bytes) => {
                    let line = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                    if terminal {
                        let text = String::from_utf8_lossy(line);
                        let shown = text.split('\n').map(escape).collect::<Vec<_>>().join("\n");
                        out.write_all(shown.as_bytes())?;
                    } else {
                        out.write_all(line)?;
                    }
                    out.write_all(b"\n")?;
                }
                RecordBody::Normalized(failure) => {
                    let located = Located {
                        failure,
                        file: &input.name,
                        line: record.line,
                    };
                    serde_json::to_writer(&mut *out, &located).map_err(render::json::into_io)?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    Ok(())
}

/// Runs the report (or the raw / ndjson listing, or a view) and returns the exit status.
pub fn run(config: Config, view: &View) -> u8 {
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
    if config.list_inputs {
        for e in &errors {
            eprintln!("tokentrail: {}", escape(&e.to_string()));
        }
        if let Err(code) = write_stdout(|out| list_inputs(&inputs, out)) {
            return code;
        }
        return if !errors.is_empty() {
            EXIT_ERROR
        } else if inputs.is_empty() {
            EXIT_NO_MATCH
        } else {
            EXIT_MATCH
        };
    }
    let outcome = scan_with_progress(&config, &inputs, errors);
    for input in &outcome.inputs {
        if let Some(e) = &input.error {
            eprintln!("tokentrail: {}", escape(e));
        }
        if input.shrank {
            eprintln!(
                "tokentrail: {}: the file got shorter while it was read (rotated?); counted what was there",
                escape(&input.name)
            );
        }
    }
    // Views for people show `rows` entries: build only those (the totals stay complete).
    let mut report_options = config.report.clone();
    let for_people = matches!(
        config.format,
        Format::Table | Format::Markdown | Format::Html
    );
    if for_people && !config.raw && report_options.top.is_none() {
        report_options.top = Some(config.rows);
    }
    // Building runs tokens, IPs and cliffs side by side: on as many threads as the scan.
    let build = || Report::build(&outcome, &report_options);
    let report = match rayon::ThreadPoolBuilder::new()
        .num_threads(config.options.threads)
        .build()
    {
        Ok(pool) => pool.install(build),
        Err(_) => build(),
    };
    let to_file = config.output.is_some();
    let emit = |out: &mut dyn Write| {
        let terminal = !to_file && io::stdout().is_terminal();
        if config.raw {
            return write_records(&outcome, out, terminal);
        }
        match config.format {
            Format::Table => {
                let color = !to_file && use_color(config.color);
                let opts = TableOptions {
                    color,
                    rows: config.rows,
                    examples: config.examples,
                    width: terminal_width(),
                };
                match view {
                    View::Report => render::table::render(&report, &opts, out),
                    View::Timeline => render::timeline::render(&report, opts.width, color, out),
                    View::Token(name) => render::token::render(&report, name, out),
                    View::Ips => render::ips::render(&report, config.rows, out),
                }
            }
            Format::Json => render::json::render(&report, out),
            Format::Csv => render::csv::render(&report, out),
            Format::Ndjson => write_records(&outcome, out, false),
            Format::Markdown => render::markdown::render_with(&report, config.rows, out),
            Format::Html => render::html::render_with(&report, config.rows, out),
        }
    };
    let written = match &config.output {
        Some(path) => write_file(path, emit),
        None => write_stdout(emit),
    };
    let code = if let Err(code) = written {
        code
    } else if outcome.has_errors() {
        EXIT_ERROR
    } else if report.totals.failures > 0 {
        EXIT_MATCH
    } else {
        EXIT_NO_MATCH
    };
    // The process ends now: freeing hundreds of thousands of map entries one by one would only
    // cost time (seconds on logs with many distinct tokens and addresses).
    std::mem::forget(outcome);
    std::mem::forget(report);
    code
}
