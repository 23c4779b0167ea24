//! `fleetscan report --snapshot FILE`: re-evaluate a saved snapshot with the
//! current config and render every output again, offline, into a re-render
//! folder (`DIR/<now>-rerender-of-<run-id>/`, marked `"run_kind":
//! "re-render"`). `latest` is not moved and no later scan compares with it.

use std::time::Instant;

use crate::cli::args::ReportArgs;
use crate::cli::runtime::load_config;
use crate::cli::scan::{evaluate_and_write, Write};
use crate::cli::summary;
use crate::config::Overrides;
use crate::evaluate::exit_outcome;
use crate::exit::Outcome;
use crate::inventory::Inventory;

pub fn run(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        out_dir: args.out.clone(),
        formats: args.formats.clone(),
        fail_on: args.fail_on.clone(),
        ..Default::default()
    };
    let config = load_config(&args.config, overrides)?;
    let started = Instant::now();
    let inventory = Inventory::load(&args.snapshot)?;
    let (evaluation, output) = evaluate_and_write(&inventory, &config, &config.output.dir, Write::Rerender)?;
    let outcome = exit_outcome(&evaluation, config.checks.fail_on, inventory.is_complete());
    println!("{}", summary::paragraph(&inventory, &evaluation, &config, &output.dir, started.elapsed(), outcome));
    Ok(outcome)
}
