//! `fleetscan scan`: plan → collect → evaluate → report, then the summary
//! and the exit code.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::args::ScanArgs;
use crate::cli::progress::Progress;
use crate::cli::runtime::{load_config, tokio_runtime};
use crate::cli::signals::Signals;
use crate::cli::summary;
use crate::collect::{Collector, StopHandle};
use crate::config::{Config, Overrides};
use crate::drift::nightly::{since_previous, Previous, PreviousRun};
use crate::evaluate::{evaluate, exit_outcome};
use crate::exit::Outcome;
use crate::findings::Evaluation;
use crate::inventory::Inventory;
use crate::{plan, report};

pub fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        regions: args.regions.clone(),
        accounts: args.accounts.clone(),
        fail_on: args.fail_on.clone(),
        out_dir: args.out.clone(),
        formats: args.formats.clone(),
    };
    let config = load_config(&args.config, overrides)?;
    let started = Instant::now();
    let run_id = report::new_run_id();
    // One runtime for the whole command: the signal watcher keeps listening
    // while evaluation and report writing run on this thread.
    let runtime = tokio_runtime()?;
    let signals = Signals::watch(&runtime);
    let inventory = runtime.block_on(collect(&config, &run_id, args.max_duration, quiet, &signals))?;
    signals.collection_done();
    crate::memory::before_evaluation();
    let (evaluation, output) = evaluate_and_write(&inventory, &config, &config.output.dir, Write::Scan)?;
    let outcome = exit_outcome(&evaluation, config.checks.fail_on, inventory.is_complete());
    println!("{}", summary::paragraph(&inventory, &evaluation, &config, &output.dir, started.elapsed(), outcome));
    Ok(outcome)
}

async fn collect(config: &Config, run_id: &str, max_duration: Option<Duration>, quiet: bool, signals: &Signals) -> anyhow::Result<Inventory> {
    let collector = Collector::from_env(config, run_id).await?;
    let org = collector.discover_tree().await?;
    let plan = plan::build(config, &org);
    for warning in &plan.warnings {
        tracing::warn!("{warning}");
    }
    let stop = collector.stop_handle();
    let watchers = [tokio::spawn(stop_on_first_signal(signals.clone(), stop.clone())), tokio::spawn(stop_after(stop, max_duration))];
    let progress = Progress::new(plan.targets() as u64, quiet);
    let inventory = collector.scan(&plan, |event| progress.event(&event)).await;
    progress.finish();
    watchers.iter().for_each(|w| w.abort());
    Ok(inventory)
}

/// The first SIGINT/SIGTERM while collecting stops the scan (see
/// [`Signals`]): no new call starts, the report is written marked interrupted.
async fn stop_on_first_signal(signals: Signals, stop: StopHandle) {
    let name = signals.first().await;
    stop.stop(format!("interrupted by {name}"));
}

async fn stop_after(stop: StopHandle, limit: Option<Duration>) {
    let Some(limit) = limit else { return };
    tokio::time::sleep(limit).await;
    tracing::warn!("--max-duration {}s reached: no new work starts; unfinished targets are recorded as skipped", limit.as_secs());
    stop.stop(format!("--max-duration {}s reached", limit.as_secs()));
}

/// What [`evaluate_and_write`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A scan: a run folder, `latest` moved, compared with the last scan.
    Scan,
    /// `report --snapshot`: a re-render folder, `latest` left alone,
    /// compared with the last scan before the snapshot's run.
    Rerender,
}

/// Evaluates, compares with the previous scan in `out_dir`, and writes the
/// run folder. Shared by `scan` and `report --snapshot`.
pub fn evaluate_and_write(inventory: &Inventory, config: &Config, out_dir: &Path, write: Write) -> anyhow::Result<(Evaluation, report::RunOutput)> {
    let mut evaluation = evaluate(inventory, config);
    crate::memory::release_free_memory();
    // Read only now, so last night's findings and evaluation's temporaries
    // are never in memory together.
    let before = match write {
        Write::Scan => None,
        Write::Rerender => Some(inventory.run.run_id.as_str()).filter(|id| !id.is_empty()),
    };
    let previous = report::previous_run(out_dir, &evaluation.findings, before);
    evaluation.since_previous = previous.map(|p| {
        let previous = Previous { run_id: Some(&p.run_id), findings: &p.findings, seen: &p.seen, not_checked: &p.not_checked };
        since_previous(PreviousRun::Findings(previous), inventory, &evaluation.findings, config)
    });
    let outputs = report::Outputs { formats: &config.output.formats, fail_on: config.checks.fail_on };
    let output = match write {
        Write::Scan => report::write_run_with(out_dir, inventory, &evaluation, outputs, config.output.trend_runs)?,
        Write::Rerender => report::write_rerender(out_dir, inventory, &evaluation, outputs)?,
    };
    Ok((evaluation, output))
}
