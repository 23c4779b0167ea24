//! `fleetscan completions SHELL` and `fleetscan manpage`: generated from the
//! clap definition (src/cli/args.rs), so they never drift from the flags.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::exit::Outcome;

/// The completion script for `shell`. Built in memory (a few KB): the
/// generator's own writes panic on a closed pipe, ours report it.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "fleetscan", &mut buffer);
    buffer
}

/// The man page (roff).
pub fn page() -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buffer)?;
    Ok(buffer)
}

fn print(bytes: &[u8], what: &str) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).with_context(|| format!("cannot write the {what}"))?;
    Ok(Outcome::Clean)
}

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    print(&script(shell), "completion script")
}

pub fn manpage() -> anyhow::Result<Outcome> {
    print(&page().context("cannot render the man page")?, "man page")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_every_subcommand() {
        use clap_complete::Shell;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in ["scan", "report", "completions", "manpage", "fail-on", "format"] {
                assert!(text.contains(word), "{shell}: `{word}` missing");
            }
        }
    }

    #[test]
    fn man_page_has_the_roff_header_and_the_commands() {
        let page = String::from_utf8(page().unwrap()).unwrap();
        assert!(page.starts_with(".ie") || page.contains(".TH fleetscan"), "{}", &page[..200.min(page.len())]);
        assert!(page.contains(".TH fleetscan 1"));
        for word in ["scan", "report", "diff", "completions"] {
            assert!(page.contains(word), "`{word}` missing");
        }
    }
}
