//! Wires the stages together for each command and maps results to exit codes.

mod accounts;
pub mod args;
mod completions;
mod config_cmd;
mod diff;
mod doctor;
mod explain;
mod impact;
mod logging;
mod progress;
mod report_cmd;
mod runtime;
mod scan;
mod signals;
mod summary;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::Outcome;
use args::{Cli, Command};

/// Parses the command line, runs the command, returns the process exit code.
pub fn main() -> ExitCode {
    crate::memory::tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are not errors.
            let code = if err.use_stderr() { Outcome::Fatal.code() } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    logging::init(cli.verbose, cli.quiet);
    let outcome = match run(cli.command, cli.quiet) {
        Ok(outcome) => outcome,
        Err(err) => {
            eprintln!("error: {}", printable(&format!("{err:#}")));
            Outcome::Fatal
        }
    };
    ExitCode::from(outcome.code())
}

/// `text` with control characters other than newline and tab escaped, so
/// an error quoting a hostile file (a config with NULs or terminal escape
/// sequences) cannot drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

fn run(command: Command, quiet: bool) -> anyhow::Result<Outcome> {
    match command {
        Command::Scan(args) => scan::run(&args, quiet),
        Command::Report(args) => report_cmd::run(&args),
        Command::Checks(args) => crate::checks::catalog_cmd::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Accounts(args) => accounts::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Impact(args) => impact::run(&args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Manpage => completions::manpage(),
        Command::Config(args::ConfigCommand::Schema) => config_cmd::schema(),
        Command::Config(args::ConfigCommand::Init(args)) => config_cmd::init(&args.path),
    }
}
