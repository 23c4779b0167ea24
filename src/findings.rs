//! What evaluation produces and reports render: findings, drift rows and
//! access decisions. Plain data; computed once, rendered many ways.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checks::alarms::AlarmCommand;
use crate::checks::catalog::CheckId;
use crate::inventory::InlineString;
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
    pub label: InlineString,
    pub value: EvidenceValue,
}

impl Evidence {
    pub fn new(label: impl Into<InlineString>, value: impl Into<InlineString>) -> Self {
        Self { label: label.into(), value: EvidenceValue::Text(value.into()) }
    }

    /// A `put-metric-alarm` command, written out when read.
    pub fn command(label: impl Into<InlineString>, command: AlarmCommand) -> Self {
        Self { label: label.into(), value: EvidenceValue::AlarmCommand(Box::new(command)) }
    }
}

/// The value of a piece of evidence: text, or a command kept as its
/// parameters (see [`AlarmCommand`]). Serialized, compared and shown as text.
#[derive(Debug, Clone)]
pub enum EvidenceValue {
    Text(InlineString),
    AlarmCommand(Box<AlarmCommand>),
}

impl EvidenceValue {
    /// The value when it is kept as text (labels a check reads back, such as
    /// `principal` or `missing input`, always are).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::AlarmCommand(_) => None,
        }
    }

    /// The value as text, written out if need be.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Text(text) => std::borrow::Cow::Borrowed(text.as_str()),
            Self::AlarmCommand(command) => std::borrow::Cow::Owned(command.to_string()),
        }
    }

    fn shrink_to_fit(&mut self) {
        if let Self::Text(text) = self {
            text.shrink_to_fit();
        }
    }
}

impl std::fmt::Display for EvidenceValue {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => out.write_str(text),
            Self::AlarmCommand(command) => command.fmt(out),
        }
    }
}

impl PartialEq for EvidenceValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::AlarmCommand(a), Self::AlarmCommand(b)) => a == b,
            // A command read back from findings.json is text.
            _ => self.text() == other.text(),
        }
    }
}

impl Eq for EvidenceValue {}

impl PartialEq<&str> for EvidenceValue {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl Serialize for EvidenceValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written straight into the output: nothing kept per finding.
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EvidenceValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        InlineString::deserialize(deserializer).map(Self::Text)
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
    pub finding_id: InlineString,
    pub check: CheckId,
    pub severity: Severity,
    pub status: FindingStatus,
    pub account_id: InlineString,
    pub account_name: InlineString,
    pub ou_path: String,
    pub region: InlineString,
    pub resource_arn: String,
    /// What on the resource the finding is about (an action, a metric, a
    /// policy), so two findings of one check on one resource stay distinct.
    pub subject: InlineString,
    pub title: String,
    pub detail: String,
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<AppliedSuppression>,
    /// A `[[suppress]]` entry matched this finding but has expired (its
    /// `expires` date is before the run date): the finding is open again and
    /// this says which suppression stopped hiding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_suppression: Option<AppliedSuppression>,
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

    /// Gives back the spare capacity its text and lists were built with
    /// (the sink calls it: tens of thousands of findings live to the end).
    pub fn shrink_to_fit(&mut self) {
        self.ou_path.shrink_to_fit();
        self.resource_arn.shrink_to_fit();
        self.title.shrink_to_fit();
        self.detail.shrink_to_fit();
        self.evidence.shrink_to_fit();
        for evidence in &mut self.evidence {
            evidence.value.shrink_to_fit();
        }
    }

    /// Evidence as one line: `label: value; label: value`.
    pub fn evidence_text(&self) -> String {
        self.evidence.iter().map(|e| format!("{}: {}", e.label, e.value)).collect::<Vec<_>>().join("; ")
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
///
/// Only open findings count: `new` are open now and were not open before,
/// `resolved` were open before, are gone now *and* their account × region ×
/// scope was read completely tonight; `not_checked` were open before and
/// are gone now only because their scope was not read tonight (AssumeRole
/// denied, a throttled region, `--max-duration`, a subset run), carried with
/// last night's data; `still_open` are open in both. A finding that is
/// still produced but is now hidden by a `[[suppress]]` entry is listed in
/// `now_suppressed`, not in `resolved`. A finding not checked on one night
/// stays in the comparison of the next (it is not "new" when it is seen
/// again, nor "resolved" until its scope is read).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunDelta {
    pub previous_run_id: Option<String>,
    pub new: Vec<String>,
    pub resolved: Vec<Finding>,
    #[serde(default)]
    pub not_checked: Vec<NotChecked>,
    pub still_open: usize,
    #[serde(default)]
    pub now_suppressed: Vec<String>,
}

/// A finding of the previous run that tonight's run found again: all the
/// comparison needs of it is its id and whether it was open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenFinding {
    pub finding_id: InlineString,
    pub status: FindingStatus,
}

/// A finding open when last checked whose scope was not read tonight: the
/// finding as last seen, why it was not checked, and the run that last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotChecked {
    #[serde(flatten)]
    pub finding: Finding,
    /// What tonight did not read, e.g. `account 222222222222: assume-role denied (AccessDenied)`.
    pub not_checked_because: String,
    /// The run in which the finding was last seen open.
    pub last_seen_run_id: Option<String>,
}

/// The outcome of one IAM decision, as the policy engine reports it:
/// `Unknown` when an input could not be read (or parsed) and the answer
/// depends on it — the tool never guesses allow or deny for a policy it
/// cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AccessOutcome {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
    #[serde(alias = "Indeterminate")]
    Unknown,
}

impl AccessOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "Allowed",
            Self::ImplicitlyDenied => "ImplicitlyDenied",
            Self::ExplicitlyDenied => "ExplicitlyDenied",
            Self::Unknown => "Unknown",
        }
    }

    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }
}

/// A statement that decided (or helped decide) an access decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidingStatement {
    /// `identity`, `boundary`, `scp`, `rcp`, `resource`, `session`, `endpoint`.
    pub policy_kind: InlineString,
    /// Policy name (managed policy name, inline name, SCP/RCP name, or
    /// `key policy` / `bucket policy` / `stream policy`).
    pub policy: String,
    /// Where the policy is attached: `Root`, an OU path such as
    /// `Root/Workloads/Prod (ou-ab12-...)`, `account 111111111111 (prod)`,
    /// the role ARN, or the resource ARN.
    pub attached_at: String,
    pub statement_index: Option<usize>,
    pub sid: Option<String>,
    /// `Allow` or `Deny`, or empty when the decision comes from a missing allow.
    pub effect: InlineString,
    /// Why the engine counts it (e.g. "explicit deny matched", "no Allow at this level").
    pub why: String,
}

impl DecidingStatement {
    /// `SCP DenyOutsideRegion statement #1 (Sid RegionLock) attached at Root/Workloads/Prod`.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.policy_kind.to_ascii_uppercase(), self.policy);
        if let Some(index) = self.statement_index {
            text.push_str(&format!(" statement #{index}"));
        }
        if let Some(sid) = self.sid.as_deref().filter(|s| !s.is_empty()) {
            text.push_str(&format!(" (Sid {sid})"));
        }
        if !self.attached_at.is_empty() {
            text.push_str(&format!(" attached at {}", self.attached_at));
        }
        if !self.why.is_empty() {
            text.push_str(&format!(": {}", self.why));
        }
        text
    }
}

/// One required action of one application, decided by the policy engine
/// (report: the app's access table; drift: compared between paired apps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub account_id: InlineString,
    pub region: InlineString,
    pub application: InlineString,
    pub application_arn: String,
    /// The execution role ARN, or a service principal such as
    /// `kinesisanalytics.amazonaws.com` for customer managed key checks.
    pub principal: String,
    pub action: InlineString,
    pub resource: String,
    /// Where the requirement comes from (`flink: metrics`, `config: reason`, ...).
    pub source: String,
    pub outcome: AccessOutcome,
    /// Policy kinds that blocked it (`identity`, `boundary`, `scp`, `rcp`, `resource`, ...).
    pub blocked_by: Vec<InlineString>,
    pub deciding: Vec<DecidingStatement>,
    /// For an `Unknown` decision: each input that could not be read and
    /// that the answer depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingInput>,
}

impl AccessDecision {
    /// The order decisions are listed in: account, region, application,
    /// principal, action, resource.
    pub fn sort_key(&self) -> [&str; 6] {
        [&self.account_id, &self.region, &self.application, &self.principal, &self.action, &self.resource]
    }

    /// Gives back spare capacity, as [`Finding::shrink_to_fit`].
    pub fn shrink_to_fit(&mut self) {
        for text in [&mut self.application_arn, &mut self.principal, &mut self.resource, &mut self.source] {
            text.shrink_to_fit();
        }
        self.blocked_by.shrink_to_fit();
        self.deciding.shrink_to_fit();
        for statement in &mut self.deciding {
            for text in [&mut statement.policy, &mut statement.attached_at, &mut statement.why] {
                text.shrink_to_fit();
            }
        }
        self.missing.shrink_to_fit();
    }
}

/// An input of an access decision that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MissingInput {
    /// What: `targets of SCP DenyKinesis (p-123)`, `bucket policy of arn:…`.
    pub what: String,
    /// The account whose policy it is (or whose credentials read it).
    pub account_id: String,
    /// AWS's error code, or fleetscan's (`MalformedPolicyDocument`,
    /// `NotCollected`, `OutsideOrganization`, `OwnerNotScanned`, ...).
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The audit permission that reads it (`organizations:ListTargetsForPolicy`).
    pub permission: String,
    /// For an org policy whose attachment is unknown: its name, so only
    /// the policies that can change the answer are named.
    #[serde(skip)]
    pub policy: Option<String>,
}

impl MissingInput {
    /// One line for people.
    pub fn describe(&self) -> String {
        let mut line = format!("{} (account {}): {}", self.what, self.account_id, self.error_code);
        if let Some(id) = &self.request_id {
            line.push_str(&format!(", request id {id}"));
        }
        line
    }
}

/// Findings that share a root cause (see [`crate::checks::causes`]): the
/// deciding policy statement at its attachment point, one key policy, one
/// configuration flag on one app, one missing alarm set, one AWS Health
/// event. Fixing the cause clears every finding listed under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// Stable across runs: hash of the cause's kind and key.
    pub cause_id: InlineString,
    /// `policy-statement`, `key-policy`, `configuration`, `metrics`,
    /// `alarms`, `health-event`, `finding`.
    pub kind: InlineString,
    /// Highest severity among its open findings (else among all).
    pub severity: Severity,
    /// What it is: `SCP RestrictCodeBuckets statement #1 (Sid DenyReads)`.
    pub what: String,
    /// Where it is: the attachment point, key, app or account and region.
    #[serde(rename = "where")]
    pub where_: String,
    /// Applications with a finding from this cause.
    pub apps: usize,
    /// Distinct (application, action) pairs it blocks; 0 for causes that block no action.
    pub actions: usize,
    /// How to fix it for all its findings at once (most causes share their
    /// check's text, so it is borrowed, not copied per cause).
    pub fix: std::borrow::Cow<'static, str>,
    /// Its open findings.
    pub open: usize,
    /// `finding_id`s of every finding it explains (open and suppressed).
    pub finding_ids: Vec<InlineString>,
}

/// What became of one `[[suppress]]` entry in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionReport {
    /// Position in the config file (`suppress[0]` is the first entry).
    pub index: usize,
    pub check: String,
    pub account: Option<String>,
    pub resource: Option<String>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
    /// `expires` is before the run date: the entry no longer hides anything.
    pub expired: bool,
    /// Findings hidden by it (0 when expired).
    pub suppressed: usize,
    /// Findings it would have hidden had it not expired.
    pub matched_after_expiry: usize,
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
    /// How many required actions were not allowed (denied, or `Unknown`):
    /// each is a finding whose evidence names the deciding statements.
    #[serde(default)]
    pub access_not_allowed: usize,
    /// How many required actions were allowed.
    #[serde(default)]
    pub access_allowed: usize,
    /// One entry per `[[suppress]]` in the config, in file order.
    #[serde(default)]
    pub suppressions: Vec<SuppressionReport>,
    /// Things evaluation could not do (no run date, unknown compare account, ...).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Root causes, most severe first; every finding is under exactly one.
    #[serde(default)]
    pub causes: Vec<Cause>,
}

impl Evaluation {
    /// `finding_id` → `cause_id`, for renderers.
    pub fn cause_ids(&self) -> std::collections::HashMap<&str, &str> {
        self.causes.iter().flat_map(|c| c.finding_ids.iter().map(move |f| (f.as_str(), c.cause_id.as_str()))).collect()
    }

    /// Causes with at least one open finding.
    pub fn open_causes(&self) -> usize {
        self.causes.iter().filter(|c| c.open > 0).count()
    }

    pub fn highest_open_severity(&self) -> Option<Severity> {
        self.findings.iter().filter(|f| f.status == FindingStatus::Open).map(|f| f.severity).max()
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
