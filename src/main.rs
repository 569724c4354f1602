//! The `tokentrail` binary: parse arguments, run, exit with grep-like codes.

use std::process::ExitCode;

use clap::Parser;
use tokentrail::app::{EXIT_ERROR, run};
use tokentrail::cli::Args;
use tokentrail::config::Config;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2, like grep.
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match Config::from_args(args) {
        Ok(config) => ExitCode::from(run(config)),
        Err(e) => {
            eprintln!("tokentrail: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
