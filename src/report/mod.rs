//! Report: renders an [`Inventory`] and its [`Evaluation`] as files. It
//! computes nothing new — every fact comes from the snapshot or the
//! evaluation.
//!
//! * [`write_run`] — what `fleetscan scan` calls: a new run folder
//!   `DIR/<run-id>/`, every requested file, then `DIR/latest`.
//! * [`write_into`] — the same files into a folder you choose
//!   (`fleetscan report --snapshot FILE --out DIR`).
//! * [`previous_run`] — the findings of the run `DIR/latest` names, read
//!   before evaluating so evaluate can say what is new and resolved.
//!
//! Files (SPEC §8): `report.html` ([`OutputFormat::Html`]); `findings.csv`,
//! `apps.csv`, `drift.csv`, `coverage.csv` ([`OutputFormat::Csv`]);
//! `snapshot.json` ([`OutputFormat::Json`]); on request `findings.ocsf.json`,
//! `findings.asff.json`, `findings.sarif`, `findings.junit.xml` (one module
//! each). `findings.json` is written for
//! every run whatever the formats: it is the run's record, which the next
//! run reads for "new / resolved". Each file is written atomically.

pub mod asff;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod ocsf;
pub mod output;
pub mod previous;
pub mod sarif;
mod stream;

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
pub fn write_run(
    out_dir: &Path,
    inventory: &Inventory,
    evaluation: &Evaluation,
    formats: &[OutputFormat],
) -> Result<RunOutput, ReportError> {
    write_run_with(out_dir, inventory, evaluation, Outputs::new(formats))
}

/// [`write_run`] with the JUnit threshold given.
pub fn write_run_with(
    out_dir: &Path,
    inventory: &Inventory,
    evaluation: &Evaluation,
    outputs: Outputs<'_>,
) -> Result<RunOutput, ReportError> {
    let base = Some(inventory.run.run_id.as_str()).filter(|id| !id.is_empty());
    let (run_id, dir) = output::create_run_folder(out_dir, base)?;
    let files = write_files(&dir, &run_id, inventory, evaluation, outputs)?;
    output::update_latest(out_dir, &run_id)?;
    Ok(RunOutput { run_id, dir, files })
}

/// Writes the files for `formats` (plus `findings.json`) into `folder`,
/// creating it if needed, replacing files of the same names atomically. Does
/// not touch any `latest` pointer. Returns the files written.
pub fn write_into(
    folder: &Path,
    inventory: &Inventory,
    evaluation: &Evaluation,
    formats: &[OutputFormat],
) -> Result<Vec<PathBuf>, ReportError> {
    write_into_with(folder, inventory, evaluation, Outputs::new(formats))
}

/// [`write_into`] with the JUnit threshold given.
pub fn write_into_with(
    folder: &Path,
    inventory: &Inventory,
    evaluation: &Evaluation,
    outputs: Outputs<'_>,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(folder).map_err(|source| ReportError::io(folder, source))?;
    write_files(folder, &inventory.run.run_id, inventory, evaluation, outputs)
}

fn write_files(
    folder: &Path,
    run_id: &str,
    inventory: &Inventory,
    evaluation: &Evaluation,
    outputs: Outputs<'_>,
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
    write(FINDINGS_JSON, &|w| json::write_findings(w, run_id, inventory, evaluation))?;
    if formats.contains(&OutputFormat::Csv) {
        write(FINDINGS_CSV, &|w| csv::write_findings(w, &evaluation.findings))?;
        write(APPS_CSV, &|w| csv::write_apps(w, inventory))?;
        write(DRIFT_CSV, &|w| csv::write_drift(w, &evaluation.drift))?;
        write(COVERAGE_CSV, &|w| csv::write_coverage(w, &inventory.coverage))?;
    }
    if formats.contains(&OutputFormat::Html) {
        write(REPORT_HTML, &|w| html::write_report(w, run_id, inventory, evaluation))?;
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
