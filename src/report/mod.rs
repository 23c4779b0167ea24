//! Report: renders an [`Inventory`] and its [`Evaluation`] as files. It
//! computes nothing new — every fact comes from the snapshot or the
//! evaluation.
//!
//! * [`write_run`] — what `fleetscan scan` calls: a new run folder
//!   `DIR/<run-id>/`, every requested file, then `DIR/latest`.
//! * [`write_rerender`] — what `fleetscan report --snapshot` calls: its own
//!   folder `DIR/<now>-rerender-of-<run-id>/`, marked as a re-render, and
//!   `DIR/latest` left alone, so the next scan never compares with it.
//! * [`write_into`] — the same files into a folder you choose.
//! * [`previous_run`] — the findings of the last scan in `DIR` (the one
//!   `DIR/latest` names), read after evaluating so the run can say what is
//!   new, resolved and not checked.
//!
//! Files (SPEC §8): `report.html` ([`OutputFormat::Html`]); `findings.csv`,
//! `apps.csv`, `drift.csv`, `coverage.csv` ([`OutputFormat::Csv`]);
//! `snapshot.json` ([`OutputFormat::Json`]); on request `findings.ocsf.json`,
//! `findings.asff.json`, `findings.sarif`, `findings.junit.xml` (one module
//! each). `findings.json` and `summary.json` are written for every scan
//! whatever the formats: the run's record, which the next run reads for
//! "new / resolved" and the trend. Each file is written atomically.

pub mod asff;
pub mod csv;
pub mod html;
pub mod impact_html;
pub mod json;
pub mod junit;
pub mod ocsf;
pub mod output;
pub mod previous;
pub mod sarif;
mod stream;
pub mod trend;

use std::path::{Path, PathBuf};

pub use crate::config::OutputFormat;
use crate::findings::Evaluation;
use crate::inventory::Inventory;
use crate::severity::Severity;
pub use output::{new_run_id, previous_run, PreviousRun};

pub const REPORT_HTML: &str = "report.html";
pub const FINDINGS_CSV: &str = "findings.csv";
pub const APPS_CSV: &str = "apps.csv";
pub const DRIFT_CSV: &str = "drift.csv";
pub const COVERAGE_CSV: &str = "coverage.csv";
pub const SNAPSHOT_JSON: &str = "snapshot.json";
pub const FINDINGS_JSON: &str = "findings.json";
pub use trend::SUMMARY_JSON;
/// Runs the report's trend shows when the config does not say (`output.trend_runs`).
pub const DEFAULT_TREND_RUNS: usize = 30;

/// `run_kind` of a scan's `findings.json`.
pub const RUN_KIND_SCAN: &str = "scan";
/// `run_kind` of a `fleetscan report --snapshot` re-render.
pub const RUN_KIND_RERENDER: &str = "re-render";

/// What wrote a run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind<'a> {
    /// `fleetscan scan`: the comparison base of the next scan.
    Scan,
    /// `fleetscan report --snapshot` of the run `from`: never a comparison base.
    Rerender { from: &'a str },
}

pub const FINDINGS_OCSF: &str = "findings.ocsf.json";
pub const FINDINGS_ASFF: &str = "findings.asff.json";
pub const FINDINGS_SARIF: &str = "findings.sarif";
pub const FINDINGS_JUNIT: &str = "findings.junit.xml";

/// What to write: the formats, and the `--fail-on` severity the JUnit
/// report marks as failing.
#[derive(Debug, Clone, Copy)]
pub struct Outputs<'a> {
    pub formats: &'a [OutputFormat],
    pub fail_on: Severity,
}

impl<'a> Outputs<'a> {
    /// `formats` with the default `--fail-on` (high).
    pub fn new(formats: &'a [OutputFormat]) -> Self {
        Self { formats, fail_on: Severity::High }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // The cause is in the message (not a `source`), so it is printed once.
    #[error("cannot write {path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), cause: source }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// The run folder's name: the inventory's run id, with a `-2`, `-3`, …
    /// suffix when a folder of that name already existed.
    pub run_id: String,
    /// `DIR/<run-id>`.
    pub dir: PathBuf,
    /// Every file written, in writing order.
    pub files: Vec<PathBuf>,
}

/// Writes a run: creates `out_dir/<run-id>/` (run id from
/// `inventory.run.run_id`, or now), writes the files for `formats` plus
/// `findings.json`, then points `out_dir/latest` and `out_dir/latest.txt` at
/// it. On error, files already written stay (each complete) and `latest` is
/// not moved.
pub fn write_run(out_dir: &Path, inventory: &Inventory, evaluation: &Evaluation, formats: &[OutputFormat]) -> Result<RunOutput, ReportError> {
    write_run_with(out_dir, inventory, evaluation, Outputs::new(formats), DEFAULT_TREND_RUNS)
}

/// [`write_run`] with the JUnit threshold given and the report's trend over
/// the last `trend_runs` runs of `out_dir` (this one included), read from
/// their `summary.json` files.
pub fn write_run_with(
    out_dir: &Path,
    inventory: &Inventory,
    evaluation: &Evaluation,
    outputs: Outputs<'_>,
    trend_runs: usize,
) -> Result<RunOutput, ReportError> {
    let base = Some(inventory.run.run_id.as_str()).filter(|id| !id.is_empty());
    let (run_id, dir) = output::create_run_folder(out_dir, base)?;
    let mut runs = trend::previous(out_dir, &run_id, trend_runs.saturating_sub(1));
    runs.push(trend::RunSummary::of(&run_id, inventory, evaluation));
    let files = write_files(&dir, &run_id, RunKind::Scan, inventory, evaluation, outputs, &runs)?;
    output::update_latest(out_dir, &run_id)?;
    Ok(RunOutput { run_id, dir, files })
}

/// Writes a re-render of a saved snapshot (`fleetscan report --snapshot`):
/// a new folder `out_dir/<now>-rerender-of-<run-id>/` whose `findings.json`
/// says `"run_kind": "re-render"`. `latest` is not moved, and no later scan
/// takes it as its previous run.
pub fn write_rerender(out_dir: &Path, inventory: &Inventory, evaluation: &Evaluation, outputs: Outputs<'_>) -> Result<RunOutput, ReportError> {
    let from = inventory.run.run_id.as_str();
    let (run_id, dir) = output::create_rerender_folder(out_dir, from)?;
    // A re-render draws the trend of its own run only and leaves no
    // summary.json: it is not a run the next scan's trend should count.
    let runs = [trend::RunSummary::of(&run_id, inventory, evaluation)];
    let files = write_files(&dir, &run_id, RunKind::Rerender { from }, inventory, evaluation, outputs, &runs)?;
    Ok(RunOutput { run_id, dir, files })
}

/// Writes the files for `formats` (plus `findings.json`) into `folder`,
/// creating it if needed, replacing files of the same names atomically. Does
/// not touch any `latest` pointer. Returns the files written.
pub fn write_into(folder: &Path, inventory: &Inventory, evaluation: &Evaluation, formats: &[OutputFormat]) -> Result<Vec<PathBuf>, ReportError> {
    write_into_with(folder, inventory, evaluation, Outputs::new(formats))
}

/// [`write_into`] with the JUnit threshold given.
pub fn write_into_with(folder: &Path, inventory: &Inventory, evaluation: &Evaluation, outputs: Outputs<'_>) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(folder).map_err(|source| ReportError::io(folder, source))?;
    let runs = [trend::RunSummary::of(&inventory.run.run_id, inventory, evaluation)];
    write_files(folder, &inventory.run.run_id, RunKind::Scan, inventory, evaluation, outputs, &runs)
}

fn write_files(
    folder: &Path,
    run_id: &str,
    kind: RunKind<'_>,
    inventory: &Inventory,
    evaluation: &Evaluation,
    outputs: Outputs<'_>,
    trend: &[trend::RunSummary],
) -> Result<Vec<PathBuf>, ReportError> {
    let formats = outputs.formats;
    let mut files = Vec::new();
    let mut write = |name: &str, f: &dyn Fn(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>| {
        let path = folder.join(name);
        output::write_atomic(&path, |w| f(w))?;
        files.push(path);
        Ok::<(), ReportError>(())
    };
    if formats.contains(&OutputFormat::Json) {
        write(SNAPSHOT_JSON, &|w| json::write_snapshot(w, inventory))?;
    }
    write(FINDINGS_JSON, &|w| json::write_findings(w, run_id, kind, inventory, evaluation))?;
    // The run's few numbers, which later scans' trends read instead of this
    // run's files (a re-render is not a run of the trend).
    if let (RunKind::Scan, Some(current)) = (kind, trend.last()) {
        write(SUMMARY_JSON, &|w| serde_json::to_writer(&mut *w, current).map_err(std::io::Error::from))?;
    }
    if formats.contains(&OutputFormat::Csv) {
        write(FINDINGS_CSV, &|w| csv::write_findings(w, evaluation))?;
        write(APPS_CSV, &|w| csv::write_apps(w, inventory))?;
        write(DRIFT_CSV, &|w| csv::write_drift(w, &evaluation.drift))?;
        write(COVERAGE_CSV, &|w| csv::write_coverage(w, &inventory.coverage))?;
    }
    if formats.contains(&OutputFormat::Html) {
        write(REPORT_HTML, &|w| html::write_report_with_trend(w, run_id, inventory, evaluation, trend))?;
    }
    if formats.contains(&OutputFormat::Ocsf) {
        write(FINDINGS_OCSF, &|w| ocsf::write_findings(w, inventory, evaluation))?;
    }
    if formats.contains(&OutputFormat::Asff) {
        write(FINDINGS_ASFF, &|w| asff::write_findings(w, inventory, evaluation))?;
    }
    if formats.contains(&OutputFormat::Sarif) {
        write(FINDINGS_SARIF, &|w| sarif::write_findings(w, inventory, evaluation))?;
    }
    if formats.contains(&OutputFormat::Junit) {
        write(FINDINGS_JUNIT, &|w| junit::write_findings(w, inventory, evaluation, outputs.fail_on))?;
    }
    Ok(files)
}
