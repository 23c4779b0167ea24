//! What evaluation produces and reports render: findings, drift rows and
//! access decisions. Plain data; computed once, rendered many ways.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checks::catalog::CheckId;
use crate::severity::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Suppressed,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Suppressed => "suppressed",
        }
    }
}

/// One labelled piece of evidence (e.g. `policy` = `DenyOutsideRegion`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub label: String,
    pub value: String,
}

impl Evidence {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedSuppression {
    pub reason: String,
    pub expires: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across runs: hash of check, account, region, resource, subject.
    pub finding_id: String,
    pub check: CheckId,
    pub severity: Severity,
    pub status: FindingStatus,
    pub account_id: String,
    pub account_name: String,
    pub ou_path: String,
    pub region: String,
    pub resource_arn: String,
    /// What on the resource the finding is about (an action, a metric, a
    /// policy), so two findings of one check on one resource stay distinct.
    pub subject: String,
    pub title: String,
    pub detail: String,
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<AppliedSuppression>,
}

impl Finding {
    /// `finding_id` = first 16 hex digits of SHA-256 over the identifying fields.
    pub fn id_for(check: CheckId, account_id: &str, region: &str, resource: &str, subject: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [check.as_str(), account_id, region, resource, subject] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(&hasher.finalize()[..8])
    }

    /// Evidence as one line: `label: value; label: value`.
    pub fn evidence_text(&self) -> String {
        self.evidence
            .iter()
            .map(|e| format!("{}: {}", e.label, e.value))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One difference between a baseline and a target (drift.csv).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    pub comparison: String,
    pub baseline_account_id: String,
    pub target_account_id: String,
    pub application: String,
    /// `scp`, `rcp`, `permission-boundary`, `identity-policy`,
    /// `resource-policy`, `trust-policy`, `checkpoint-config`, `runtime`,
    /// `snapshot-config`, `access-decision`, ...
    pub dimension: String,
    pub subject: String,
    pub baseline: String,
    pub target: String,
    pub explanation: String,
}

/// Findings compared with the previous run's (by `finding_id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunDelta {
    pub previous_run_id: Option<String>,
    pub new: Vec<String>,
    pub resolved: Vec<Finding>,
    pub still_open: usize,
}

/// Everything evaluate produces from one inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub drift: Vec<DriftRow>,
    /// Counts of open findings by severity.
    pub open_by_severity: BTreeMap<Severity, usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_previous: Option<RunDelta>,
}

impl Evaluation {
    pub fn highest_open_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open)
            .map(|f| f.severity)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_ids_are_stable_and_distinguish_every_field() {
        let base = Finding::id_for(CheckId::CheckpointSlow, "1", "eu-west-1", "arn", "s");
        assert_eq!(base, Finding::id_for(CheckId::CheckpointSlow, "1", "eu-west-1", "arn", "s"));
        assert_eq!(base.len(), 16);
        for other in [
            Finding::id_for(CheckId::CheckpointFailures, "1", "eu-west-1", "arn", "s"),
            Finding::id_for(CheckId::CheckpointSlow, "2", "eu-west-1", "arn", "s"),
            Finding::id_for(CheckId::CheckpointSlow, "1", "us-east-1", "arn", "s"),
            Finding::id_for(CheckId::CheckpointSlow, "1", "eu-west-1", "arn2", "s"),
            Finding::id_for(CheckId::CheckpointSlow, "1", "eu-west-1", "arn", "t"),
            // field boundaries matter: "ab"+"c" differs from "a"+"bc"
            Finding::id_for(CheckId::CheckpointSlow, "1", "eu-west-1", "arns", ""),
        ] {
            assert_ne!(base, other);
        }
    }
}
