//! `snapshot.json` (the inventory, `schema_version` first) and
//! `findings.json` (the evaluation, for machines and for the next run's
//! "new / resolved"). Both stream to disk through the caller's writer.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::RunKind;
use crate::findings::{Cause, DriftRow, Evaluation, Finding, RunDelta};
use crate::inventory::Inventory;
use crate::severity::Severity;

/// Version of the `findings.json` format.
pub const FINDINGS_SCHEMA_VERSION: u32 = 1;

/// Writes the inventory as `snapshot.json`. `Inventory` declares
/// `schema_version` as its first field, so it is the first key.
pub fn write_snapshot<W: Write>(out: W, inventory: &Inventory) -> std::io::Result<()> {
    let mut out = out;
    serde_json::to_writer(&mut out, inventory).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// The shape of `findings.json`.
#[derive(Serialize)]
struct FindingsFile<'a> {
    schema_version: u32,
    run_id: &'a str,
    /// `scan`, or `re-render` (`fleetscan report --snapshot`): a re-render
    /// is never the comparison base of a later scan.
    run_kind: &'static str,
    /// The run a re-render was rendered from.
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered_from: Option<&'a str>,
    tool_version: &'a str,
    /// False when some account × region × scope was not scanned.
    complete: bool,
    open_by_severity: &'a BTreeMap<Severity, usize>,
    /// Root causes, most severe first, each with the findings it explains.
    causes: &'a [Cause],
    /// Each finding with its `cause_id`.
    findings: Vec<WithCause<'a>>,
    drift: &'a [DriftRow],
    since_previous: Option<&'a RunDelta>,
}

/// A finding as written: its fields and its `cause_id`.
#[derive(Serialize)]
struct WithCause<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    cause_id: &'a str,
}

/// Writes the evaluation as `findings.json`.
pub fn write_findings<W: Write>(out: W, run_id: &str, kind: RunKind<'_>, inventory: &Inventory, evaluation: &Evaluation) -> std::io::Result<()> {
    let mut out = out;
    let (run_kind, rendered_from) = match kind {
        RunKind::Scan => (super::RUN_KIND_SCAN, None),
        RunKind::Rerender { from } => (super::RUN_KIND_RERENDER, Some(from)),
    };
    let causes = evaluation.cause_ids();
    let file = FindingsFile {
        schema_version: FINDINGS_SCHEMA_VERSION,
        run_id,
        run_kind,
        rendered_from,
        tool_version: &inventory.run.tool_version,
        complete: inventory.is_complete(),
        open_by_severity: &evaluation.open_by_severity,
        causes: &evaluation.causes,
        findings: evaluation
            .findings
            .iter()
            .map(|finding| WithCause { finding, cause_id: causes.get(finding.finding_id.as_str()).copied().unwrap_or("") })
            .collect(),
        drift: &evaluation.drift,
        since_previous: evaluation.since_previous.as_ref(),
    };
    serde_json::to_writer(&mut out, &file).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
