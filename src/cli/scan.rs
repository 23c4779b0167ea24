//! `fleetscan scan`: plan → collect → evaluate → report, then the summary
//! and the exit code.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::args::ScanArgs;
use crate::cli::progress::Progress;
use crate::cli::runtime::{load_config, tokio_runtime};
use crate::cli::summary;
use crate::collect::{Collector, StopHandle};
use crate::config::{Config, Overrides};
use crate::drift::nightly::{since_previous, PreviousRun};
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
    let inventory = tokio_runtime()?.block_on(collect(&config, &run_id, args.max_duration, quiet))?;
    crate::memory::before_evaluation();
    let (evaluation, output) = evaluate_and_write(&inventory, &config, &config.output.dir)?;
    let outcome = exit_outcome(&evaluation, config.checks.fail_on, inventory.is_complete());
    println!("{}", summary::paragraph(&inventory, &evaluation, &config, &output.dir, started.elapsed(), outcome));
    Ok(outcome)
}

async fn collect(config: &Config, run_id: &str, max_duration: Option<Duration>, quiet: bool) -> anyhow::Result<Inventory> {
    let collector = Collector::from_env(config, run_id).await?;
    let org = collector.discover_tree().await?;
    let plan = plan::build(config, &org);
    for warning in &plan.warnings {
        tracing::warn!("{warning}");
    }
    let stop = collector.stop_handle();
    let watchers = [
        tokio::spawn(stop_on_signals(stop.clone())),
        tokio::spawn(stop_after(stop, max_duration)),
    ];
    let progress = Progress::new(plan.targets() as u64, quiet);
    let inventory = collector.scan(&plan, |event| progress.event(&event)).await;
    progress.finish();
    watchers.iter().for_each(|w| w.abort());
    Ok(inventory)
}

/// First SIGINT/SIGTERM: stop starting work, let in-flight calls finish, and
/// write the report marked incomplete. Second: give up at once.
async fn stop_on_signals(stop: StopHandle) {
    let mut signals = 0;
    loop {
        let name = next_signal().await;
        signals += 1;
        if signals == 1 {
            tracing::warn!("{name}: stopping; finishing in-flight calls, then writing the report (send again to abandon)");
            stop.stop(format!("interrupted by {name}"));
        } else {
            eprintln!("{name} again: abandoning the scan; no report written");
            std::process::exit(i32::from(Outcome::Fatal.code()));
        }
    }
}

#[cfg(unix)]
async fn next_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn next_signal() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(_) => std::future::pending().await,
    }
}

async fn stop_after(stop: StopHandle, limit: Option<Duration>) {
    let Some(limit) = limit else { return };
    tokio::time::sleep(limit).await;
    tracing::warn!("--max-duration {}s reached: no new work starts; unfinished targets are recorded as skipped", limit.as_secs());
    stop.stop(format!("--max-duration {}s reached", limit.as_secs()));
}

/// Evaluates, compares with the previous run in `out_dir`, and writes the
/// run folder. Shared by `scan` and `report --snapshot`.
pub fn evaluate_and_write(
    inventory: &Inventory,
    config: &Config,
    out_dir: &Path,
) -> anyhow::Result<(Evaluation, report::RunOutput)> {
    let mut evaluation = evaluate(inventory, config);
    crate::memory::release_free_memory();
    // Read only now, so last night's findings and evaluation's temporaries
    // are never in memory together.
    let previous = report::previous_run(out_dir, &evaluation.findings);
    evaluation.since_previous = previous.map(|p| {
        since_previous(
            PreviousRun::Findings { run_id: Some(p.run_id), findings: &p.findings },
            &evaluation.findings,
            config,
        )
    });
    let outputs = report::Outputs { formats: &config.output.formats, fail_on: config.checks.fail_on };
    let output = report::write_run_with(out_dir, inventory, &evaluation, outputs)?;
    Ok((evaluation, output))
}
