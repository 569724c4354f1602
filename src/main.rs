//! The `tokentrail` binary: parse arguments, run, exit with grep-like codes.

use std::process::ExitCode;

use clap::Parser;
use tokentrail::app::{EXIT_ERROR, main_with};
use tokentrail::cli::Cli;

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => ExitCode::from(main_with(cli)),
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2, like grep.
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            ExitCode::from(code)
        }
    }
}
