//! The snapshot: everything `collect` learned about the Organization, as plain
//! serde data. Every later stage (checks, access analysis, drift, reports)
//! runs from an `Inventory` alone, so `fleetscan report --snapshot` works
//! offline. This module depends on nothing else in the crate.
//!
//! Bump [`SCHEMA_VERSION`] whenever a field changes meaning or is removed;
//! adding an optional field does not need a bump.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the snapshot format written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// Error code of coverage rows for work not attempted because the scan was
/// stopped (interrupt or `--max-duration`).
pub const INTERRUPTED_CODE: &str = "Interrupted";

/// Error code of coverage rows for a list cut at its page cap: not every
/// page was read, so the scope is not complete.
pub const TRUNCATED_CODE: &str = "Truncated";

/// Name of the scope used for account-wide (not regional) coverage rows.
pub const GLOBAL_REGION: &str = "global";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inventory {
    /// Always the first key of `snapshot.json`.
    pub schema_version: u32,
    pub run: RunInfo,
    pub organization: Option<Organization>,
    pub accounts: Vec<Account>,
    /// One row per account × region × scope that collect tried.
    pub coverage: Vec<CoverageRow>,
    /// AWS Health events for Managed Flink (organizational view); `None`
    /// when not read (see the `health` coverage row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthView>,
}

/// AWS Health's organizational view of Managed Flink, once per scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HealthView {
    /// Open events, and events updated inside the lookback window.
    pub events: Vec<HealthEvent>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HealthEvent {
    pub arn: String,
    /// `AWS_KINESISANALYTICS_OPERATIONAL_ISSUE`, ...
    pub event_type: InlineString,
    /// `issue`, `scheduledChange`, `accountNotification`, ...
    pub category: InlineString,
    pub region: InlineString,
    /// `open`, `closed` or `upcoming`.
    pub status: InlineString,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub last_updated_at: Option<DateTime<Utc>>,
    /// Accounts of the Organization it affects.
    pub accounts: Vec<InlineString>,
    /// Resources it names (application ARNs or names), by account.
    pub entities: Vec<HealthEntity>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HealthEntity {
    pub account_id: InlineString,
    pub value: String,
    /// `IMPAIRED`, `UNIMPAIRED`, `UNKNOWN`, `PENDING`, `RESOLVED`.
    pub status: InlineString,
}

impl HealthEvent {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    /// Whether it concerns this account and region (an event that names no
    /// account concerns the whole region).
    pub fn affects(&self, account_id: &str, region: &str) -> bool {
        self.region == region && (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account_id))
    }

    /// `open AWS_KINESISANALYTICS_OPERATIONAL_ISSUE since 2026-11-25 18:00 UTC`.
    pub fn describe(&self) -> String {
        let when = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "?".to_owned());
        match self.ended_at {
            Some(_) => format!("{} {} from {} to {}", self.status, self.event_type, when(self.started_at), when(self.ended_at)),
            None => format!("{} {} since {}", self.status, self.event_type, when(self.started_at)),
        }
    }
}

impl Inventory {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// Finds an account by id or by name (config refers to accounts either way).
    pub fn account_by_id_or_name(&self, key: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == key).or_else(|| self.accounts.iter().find(|a| a.name == key))
    }

    pub fn org_policy(&self, id: &str) -> Option<&OrgPolicy> {
        self.organization.as_ref().and_then(|org| org.policies.iter().find(|p| p.id == id))
    }

    /// Every Flink application with the account and region that hold it.
    pub fn apps(&self) -> impl Iterator<Item = AppRef<'_>> {
        self.accounts.iter().flat_map(|account| {
            account
                .regions
                .iter()
                .flat_map(move |region| region.applications.iter().map(move |app| AppRef { account, region: region.region.as_str(), app }))
        })
    }

    /// True when no coverage row says something could not be scanned.
    pub fn is_complete(&self) -> bool {
        self.coverage.iter().all(CoverageRow::is_complete)
    }

    /// The coverage rows that make the scan incomplete.
    pub fn missing(&self) -> impl Iterator<Item = &CoverageRow> {
        self.coverage.iter().filter(|row| !row.is_complete())
    }
}

/// A Flink application together with where it lives.
#[derive(Debug, Clone, Copy)]
pub struct AppRef<'a> {
    pub account: &'a Account,
    pub region: &'a str,
    pub app: &'a FlinkApp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    /// UTC timestamp such as `20261125T190918Z`; also the output folder name.
    pub run_id: String,
    pub tool_version: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// ARN of the identity that ran the scan (STS GetCallerIdentity).
    pub caller_arn: Option<String>,
    /// SHA-256 of the effective configuration, so two runs can be told apart.
    pub config_digest: Option<String>,
    pub regions: Vec<String>,
    /// Start of the CloudWatch lookback window used for metrics.
    pub metrics_window_start: Option<DateTime<Utc>>,
    pub metrics_window_end: Option<DateTime<Utc>>,
    /// AWS calls made, keyed `service:Operation`.
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    /// Set when the run stopped early (interrupt, `--max-duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
}

// ---------------------------------------------------------------------------
// Organization

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Organization {
    pub id: String,
    pub arn: Option<String>,
    pub management_account_id: String,
    pub root_id: String,
    pub organizational_units: Vec<OrgUnit>,
    /// Every SCP and RCP, each document fetched once.
    pub policies: Vec<OrgPolicy>,
    /// Policy kinds whose policies could not be listed (`ListPolicies`
    /// failed): any policy of that kind may be attached anywhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies_unread: BTreeMap<OrgPolicyKind, Unread>,
}

/// An input of access decisions that collect tried to read and could not:
/// the call that failed, in which account, and AWS's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Unread {
    /// The call (and so the permission) that reads it, e.g.
    /// `organizations:ListTargetsForPolicy`.
    pub operation: String,
    /// The account whose credentials made (or would make) the call.
    pub account_id: String,
    /// AWS's error code (`AccessDeniedException`, `Throttling`, ...) or a
    /// fleetscan code such as `OutsideOrganization`.
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub parent_id: String,
    /// Names from the root, e.g. `Root/Workloads/Prod`.
    pub path: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgPolicyKind {
    ServiceControlPolicy,
    ResourceControlPolicy,
}

impl OrgPolicyKind {
    pub fn short(self) -> &'static str {
        match self {
            Self::ServiceControlPolicy => "SCP",
            Self::ResourceControlPolicy => "RCP",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrgPolicy {
    pub id: String,
    pub name: String,
    pub kind: OrgPolicyKind,
    pub aws_managed: bool,
    pub document: PolicyDoc,
    /// Root, OU and account ids the policy is attached to.
    pub targets: Vec<String>,
    /// Set when the targets could not be listed (nor inferred): the policy
    /// may be attached anywhere, and `targets` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_unread: Option<Unread>,
}

/// A string kept inline when it fits in 24 bytes: ids, names, regions,
/// statuses. Those are most of the inventory's strings, and as `String`s each
/// was its own heap block costing at least 32 bytes besides its text; at
/// 10,000 apps that was a quarter of the resident memory. Serialized as a
/// plain string.
pub type InlineString = compact_str::CompactString;

// ---------------------------------------------------------------------------
// Accounts

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, ... as Organizations reports it.
    pub status: String,
    /// Names from the root, e.g. `Root/Workloads/Prod`.
    pub ou_path: String,
    /// Org ids from the root to the account's parent: `r-...`, `ou-...`.
    pub parent_ids: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub is_management: bool,
    pub scan: ScanDecision,
    /// Levels root → OUs → account, each with the SCP ids attached there.
    pub scp_chain: Vec<PolicyLevel>,
    /// Levels root → OUs → account, each with the RCP ids attached there.
    pub rcp_chain: Vec<PolicyLevel>,
    /// Execution roles of this account's apps (IAM is global: once per account).
    pub roles: Vec<Role>,
    /// Managed policies referenced by `roles`, each fetched once.
    pub managed_policies: Vec<ManagedPolicy>,
    /// KMS keys, buckets and streams the apps touch, with their policies.
    pub resources: Vec<ResourcePolicy>,
    pub regions: Vec<RegionInventory>,
}

impl Account {
    /// An active account with nothing collected yet (not planned for a scan).
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            email: None,
            status: "ACTIVE".to_owned(),
            ou_path: String::new(),
            parent_ids: Vec::new(),
            tags: BTreeMap::new(),
            is_management: false,
            scan: ScanDecision::Skipped { reason: "not planned".to_owned() },
            scp_chain: Vec::new(),
            rcp_chain: Vec::new(),
            roles: Vec::new(),
            managed_policies: Vec::new(),
            resources: Vec::new(),
            regions: Vec::new(),
        }
    }

    pub fn role(&self, arn: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.arn == arn)
    }

    pub fn managed_policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.managed_policies.iter().find(|p| p.arn == arn)
    }

    pub fn resource(&self, arn: &str) -> Option<&ResourcePolicy> {
        self.resources.iter().find(|r| r.arn == arn)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum ScanDecision {
    /// Scanned with credentials from AssumeRole into the audit role.
    AssumedRole { role_arn: String },
    /// The management account: scanned with the base credentials.
    BaseCredentials,
    /// Not scanned, and why (filtered out, suspended, ...).
    Skipped { reason: String },
}

impl ScanDecision {
    pub fn is_scanned(&self) -> bool {
        !matches!(self, Self::Skipped { .. })
    }
}

/// One level of the Organization (root, an OU or the account itself) with the
/// policy ids attached there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyLevel {
    /// `r-...`, `ou-...` or the account id.
    pub target_id: InlineString,
    /// `Root`, the OU name, or the account name.
    pub target_name: InlineString,
    pub policy_ids: Vec<InlineString>,
    /// Policies whose targets could not be read: each may or may not be
    /// attached at this level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maybe_policy_ids: Vec<InlineString>,
    /// The policies of this kind could not be listed at all: unknown
    /// policies may be attached here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlisted: bool,
}

impl PolicyLevel {
    /// True when exactly which policies are attached here is known.
    pub fn is_complete(&self) -> bool {
        self.maybe_policy_ids.is_empty() && !self.unlisted
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub trust_policy: PolicyDoc,
    pub permissions_boundary_arn: Option<String>,
    /// Attached managed policy ARNs; documents in `Account::managed_policies`.
    pub attached_policy_arns: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InlinePolicy {
    pub name: String,
    pub document: PolicyDoc,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub default_version_id: Option<String>,
    pub document: PolicyDoc,
}

/// A policy document as collected. `json` holds the document, compact, when
/// the text was valid JSON; otherwise `raw` keeps the text and `error` says
/// why. Kept as text rather than a parsed tree: a fleet holds tens of
/// thousands of documents, and the policy engine compiles from text anyway.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PolicyDoc {
    pub json: Option<Box<serde_json::value::RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PartialEq for PolicyDoc {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text() && self.raw == other.raw && self.error == other.error
    }
}

impl PolicyDoc {
    /// Parses policy text as returned by AWS. IAM URL-encodes documents;
    /// text is decoded only when it is encoded (moto returns some plain).
    pub fn from_aws_text(text: &str) -> Self {
        let trimmed = text.trim_start();
        let decoded = if trimmed.starts_with('%') || (!trimmed.starts_with('{') && text.contains('%')) {
            percent_encoding::percent_decode_str(text).decode_utf8().map(|s| s.into_owned()).unwrap_or_else(|_| text.to_owned())
        } else {
            text.to_owned()
        };
        match serde_json::from_str::<serde_json::Value>(&decoded) {
            Ok(json) => Self::from_json(json),
            Err(err) => Self { json: None, raw: Some(decoded), error: Some(format!("not valid JSON: {err}")) },
        }
    }

    pub fn from_json(json: serde_json::Value) -> Self {
        match serde_json::value::to_raw_value(&json) {
            Ok(raw) => Self { json: Some(raw), raw: None, error: None },
            Err(err) => Self { json: None, raw: Some(json.to_string()), error: Some(err.to_string()) },
        }
    }

    /// The document's JSON text, when it parsed.
    pub fn text(&self) -> Option<&str> {
        self.json.as_deref().map(serde_json::value::RawValue::get)
    }

    /// The document as a JSON tree (parsed on demand).
    pub fn value(&self) -> Option<serde_json::Value> {
        self.text().and_then(|t| serde_json::from_str(t).ok())
    }

    pub fn is_present(&self) -> bool {
        self.json.is_some() || self.raw.is_some()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    KmsKey,
    S3Bucket,
    KinesisStream,
}

/// A resource an app touches, with its resource-based policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourcePolicy {
    pub arn: String,
    pub kind: ResourceKind,
    pub account_id: String,
    pub region: Option<String>,
    /// `None` when the resource has no policy (S3 `NoSuchBucketPolicy`, a
    /// stream without one) or it could not be read (see coverage).
    pub policy: Option<PolicyDoc>,
    /// KMS only: `CUSTOMER` or `AWS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<String>,
    /// Set when the policy could not be read (then `policy` is `None` and
    /// says nothing): decisions that need it are `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<Unread>,
}

// ---------------------------------------------------------------------------
// Flink applications

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegionInventory {
    pub region: InlineString,
    pub applications: Vec<FlinkApp>,
    /// CloudWatch metric alarms on Managed Flink metrics (namespace
    /// `AWS/KinesisAnalytics` with an `Application` dimension); `None` when
    /// they were not read (no apps, or the read failed: see coverage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Vec<MetricAlarm>>,
}

/// One CloudWatch metric alarm, reduced to what the alarm check reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetricAlarm {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: InlineString,
    pub actions_enabled: bool,
    /// What runs when it goes to ALARM (SNS topics, ...).
    pub alarm_actions: Vec<String>,
    /// The Managed Flink metrics it watches (one, or several for metric math).
    pub metrics: Vec<AlarmedMetric>,
}

/// A metric of `AWS/KinesisAnalytics` an alarm watches, with its `Application` dimension.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AlarmedMetric {
    pub metric_name: InlineString,
    pub application: InlineString,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlinkApp {
    pub name: InlineString,
    pub arn: String,
    pub description: Option<String>,
    /// `RUNNING`, `READY`, `FORCE_STOPPING`, ... as the API reports it.
    pub status: InlineString,
    /// `FLINK-1_18`, `SQL-1_0`, ...
    pub runtime: InlineString,
    pub version_id: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub execution_role_arn: Option<String>,
    pub checkpoint: CheckpointConfig,
    pub parallelism: Option<Parallelism>,
    pub monitoring: Option<Monitoring>,
    pub snapshots_enabled: bool,
    /// Newest first.
    pub snapshots: Vec<Snapshot>,
    /// Newest first.
    pub operations: Vec<Operation>,
    pub vpc: Option<VpcConfig>,
    pub encryption: Encryption,
    pub property_groups: Vec<PropertyGroup>,
    /// Kinesis stream ARNs named in property groups.
    pub stream_arns: Vec<String>,
    pub code: Option<CodeLocation>,
    /// CloudWatch Logs log stream ARNs.
    pub log_stream_arns: Vec<String>,
    pub metrics: Option<CheckpointMetrics>,
    pub tags: BTreeMap<InlineString, InlineString>,
}

/// Checkpoint settings: what the API returned and what is in force.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckpointConfig {
    /// `DEFAULT` or `CUSTOM`.
    pub configuration_type: InlineString,
    pub raw_enabled: Option<bool>,
    pub raw_interval_ms: Option<i64>,
    pub raw_min_pause_ms: Option<i64>,
    pub effective: EffectiveCheckpoint,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EffectiveCheckpoint {
    pub enabled: bool,
    pub interval_ms: i64,
    pub min_pause_ms: i64,
}

impl EffectiveCheckpoint {
    /// Values Managed Flink uses when `ConfigurationType = DEFAULT`.
    pub const SERVICE_DEFAULT: Self = Self { enabled: true, interval_ms: 60_000, min_pause_ms: 5_000 };
}

impl CheckpointConfig {
    /// Derives the effective values: DEFAULT means the service defaults
    /// whatever the other fields say; CUSTOM uses the fields, falling back to
    /// the defaults for any field left unset.
    pub fn from_api(configuration_type: &str, enabled: Option<bool>, interval_ms: Option<i64>, min_pause_ms: Option<i64>) -> Self {
        let default = EffectiveCheckpoint::SERVICE_DEFAULT;
        let effective = if configuration_type.eq_ignore_ascii_case("CUSTOM") {
            EffectiveCheckpoint {
                enabled: enabled.unwrap_or(default.enabled),
                interval_ms: interval_ms.unwrap_or(default.interval_ms),
                min_pause_ms: min_pause_ms.unwrap_or(default.min_pause_ms),
            }
        } else {
            default
        };
        Self {
            configuration_type: configuration_type.into(),
            raw_enabled: enabled,
            raw_interval_ms: interval_ms,
            raw_min_pause_ms: min_pause_ms,
            effective,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Parallelism {
    pub configuration_type: InlineString,
    pub parallelism: Option<i32>,
    pub parallelism_per_kpu: Option<i32>,
    pub current_parallelism: Option<i32>,
    pub auto_scaling_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Monitoring {
    pub configuration_type: InlineString,
    pub metrics_level: Option<InlineString>,
    pub log_level: Option<InlineString>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub name: InlineString,
    /// `CREATING`, `READY`, `DELETING`, `FAILED`.
    pub status: InlineString,
    pub created_at: Option<DateTime<Utc>>,
    pub application_version_id: Option<i64>,
    pub runtime: Option<InlineString>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Operation {
    pub id: InlineString,
    /// `UpdateApplication`, `StartApplication`, ...
    pub operation: InlineString,
    /// `IN_PROGRESS`, `CANCELLED`, `SUCCESSFUL`, `FAILED`.
    pub status: InlineString,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Error string of a failed operation, when the API gave one.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VpcConfig {
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Encryption {
    /// `AWS_OWNED_KEY` or `CUSTOMER_MANAGED_KEY`.
    pub key_type: InlineString,
    /// Key ARN (resolved from an id or alias when possible).
    pub key_arn: Option<String>,
}

impl Encryption {
    pub fn is_customer_managed(&self) -> bool {
        self.key_type == "CUSTOMER_MANAGED_KEY"
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PropertyGroup {
    pub id: InlineString,
    pub properties: BTreeMap<InlineString, InlineString>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CodeLocation {
    pub bucket_arn: String,
    pub file_key: String,
    pub object_version: Option<String>,
}

impl CodeLocation {
    /// `arn:aws:s3:::bucket/key`, the resource `s3:GetObject` applies to.
    pub fn object_arn(&self) -> String {
        format!("{}/{}", self.bucket_arn, self.file_key)
    }

    pub fn bucket_name(&self) -> &str {
        self.bucket_arn.rsplit(':').next().unwrap_or(&self.bucket_arn)
    }
}

/// Checkpoint health over the lookback window, from CloudWatch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckpointMetrics {
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub period_secs: i32,
    /// Series keyed by metric name (`numberOfFailedCheckpoints`, ...).
    pub series: BTreeMap<String, MetricSeries>,
}

/// One metric over the window, compactly: a value (or nothing) per period
/// from `start`. Ten thousand apps × five metrics × a day stay a few MB.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetricSeries {
    pub start: Option<DateTime<Utc>>,
    pub period_secs: i32,
    /// Oldest first; `null` where CloudWatch had no data for that period.
    pub values: SeriesValues,
}

/// A value per period, NaN standing for "no data": half the memory of
/// `Option<f32>`, allocated at its exact length. Serialized as numbers and
/// `null`s.
#[derive(Debug, Clone, Default)]
pub struct SeriesValues(Box<[f32]>);

impl SeriesValues {
    pub fn iter(&self) -> impl Iterator<Item = Option<f32>> + '_ {
        self.0.iter().map(|v| Some(*v).filter(|v| !v.is_nan()))
    }
}

impl From<Vec<Option<f32>>> for SeriesValues {
    fn from(values: Vec<Option<f32>>) -> Self {
        Self(values.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
    }
}

impl PartialEq for SeriesValues {
    /// Gaps equal gaps (NaN would not).
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Serialize for SeriesValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for SeriesValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Option<f32>>::deserialize(deserializer).map(Self::from)
    }
}

/// One point of a series, for the code that reads them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct MetricPoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

impl MetricSeries {
    /// Buckets points by `period_secs` from the earliest one; a later point
    /// in the same period replaces an earlier one.
    pub fn from_points(period_secs: i32, mut points: Vec<MetricPoint>) -> Self {
        let period = i64::from(period_secs.max(1));
        points.sort_by_key(|p| p.at);
        let Some(start) = points.first().map(|p| p.at) else {
            return Self { start: None, period_secs, values: SeriesValues::default() };
        };
        let index = |at: DateTime<Utc>| usize::try_from((at - start).num_seconds() / period).unwrap_or(0);
        let len = points.last().map(|p| index(p.at) + 1).unwrap_or(0);
        let mut values = vec![f32::NAN; len].into_boxed_slice();
        for point in points {
            // f32 holds counts and milliseconds exactly up to 16.7 million.
            values[index(point.at)] = point.value as f32;
        }
        Self { start: Some(start), period_secs, values: SeriesValues(values) }
    }

    pub fn points(&self) -> Vec<MetricPoint> {
        let Some(start) = self.start else { return Vec::new() };
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|value| MetricPoint {
                    at: start + chrono::Duration::seconds(i as i64 * i64::from(self.period_secs)),
                    value: f64::from(value),
                })
            })
            .collect()
    }
}

/// The CloudWatch metrics read per app (namespace `AWS/KinesisAnalytics`),
/// by the app's runtime. Flink 2.x removed `fullRestarts` (use
/// `numRestarts`) and deprecated `uptime` / `downtime` (use `runningTime`,
/// `restartingTime`, `cancellingTime`, `failingTime`):
/// <https://docs.aws.amazon.com/managed-flink/latest/java/flink-2-2.html>,
/// <https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html>.
pub mod metric_names {
    pub const FAILED_CHECKPOINTS: &str = "numberOfFailedCheckpoints";
    pub const CHECKPOINT_DURATION: &str = "lastCheckpointDuration";
    pub const CHECKPOINT_SIZE: &str = "lastCheckpointSize";
    /// Flink 1.x: ms the job was not running (restarting or failing).
    pub const DOWNTIME: &str = "downtime";
    /// Flink 1.x: restarts since the job started (cumulative).
    pub const FULL_RESTARTS: &str = "fullRestarts";
    /// Flink 2.x: restarts since the job was submitted (cumulative).
    pub const NUM_RESTARTS: &str = "numRestarts";
    /// Flink 2.x: ms spent restarting / failing in the current state.
    pub const RESTARTING_TIME: &str = "restartingTime";
    pub const FAILING_TIME: &str = "failingTime";
    /// What a Flink 1.x (and SQL / Studio) app publishes.
    pub const FLINK_1: [&str; 5] = [FAILED_CHECKPOINTS, CHECKPOINT_DURATION, CHECKPOINT_SIZE, DOWNTIME, FULL_RESTARTS];
    /// What a Flink 2.x app publishes instead.
    pub const FLINK_2: [&str; 6] = [FAILED_CHECKPOINTS, CHECKPOINT_DURATION, CHECKPOINT_SIZE, NUM_RESTARTS, RESTARTING_TIME, FAILING_TIME];
    /// Every metric of either generation.
    pub const ALL: [&str; 8] =
        [FAILED_CHECKPOINTS, CHECKPOINT_DURATION, CHECKPOINT_SIZE, DOWNTIME, FULL_RESTARTS, NUM_RESTARTS, RESTARTING_TIME, FAILING_TIME];

    /// Whether `runtime` (a `RuntimeEnvironment` such as `FLINK-2_2`) is
    /// Flink 2 or later. Studio (`ZEPPELIN-FLINK-*`) and SQL runtimes are
    /// Flink 1.x; an unknown `FLINK-<major>_<minor>` newer than this build
    /// counts by its major version.
    pub fn is_flink2(runtime: &str) -> bool {
        runtime
            .strip_prefix("FLINK-")
            .and_then(|version| version.split('_').next())
            .and_then(|major| major.parse::<u32>().ok())
            .is_some_and(|major| major >= 2)
    }

    /// The metrics to read for an app on `runtime`.
    pub fn for_runtime(runtime: &str) -> &'static [&'static str] {
        if is_flink2(runtime) {
            &FLINK_2
        } else {
            &FLINK_1
        }
    }

    /// The cumulative restart counter of `runtime`.
    pub fn restarts(runtime: &str) -> &'static str {
        if is_flink2(runtime) {
            NUM_RESTARTS
        } else {
            FULL_RESTARTS
        }
    }

    /// The metrics whose value above 0 means the job was not running
    /// (restarting or failing; a deliberate cancel is not counted).
    pub fn not_running(runtime: &str) -> &'static [&'static str] {
        if is_flink2(runtime) {
            &[RESTARTING_TIME, FAILING_TIME]
        } else {
            &[DOWNTIME]
        }
    }
}

impl CheckpointMetrics {
    /// The points of one metric, oldest first.
    pub fn points(&self, metric: &str) -> Vec<MetricPoint> {
        self.series.get(metric).map(MetricSeries::points).unwrap_or_default()
    }

    /// Stores a metric's points compactly at this window's period.
    pub fn set_points(&mut self, metric: &str, points: Vec<MetricPoint>) {
        self.series.insert(metric.to_owned(), MetricSeries::from_points(self.period_secs, points));
    }

    /// How much the cumulative `numberOfFailedCheckpoints` grew inside the
    /// window (a restart resets the counter, so each drop starts a new run).
    pub fn failed_checkpoint_increase(&self) -> Option<f64> {
        self.increase_of(metric_names::FAILED_CHECKPOINTS)
    }

    /// How much a cumulative counter grew inside the window (a drop is a
    /// reset: the new run's value counts from 0).
    pub fn increase_of(&self, metric: &str) -> Option<f64> {
        let points = self.points(metric);
        let first = points.first()?;
        let mut increase = 0.0;
        let mut previous = first.value;
        for point in &points[1..] {
            if point.value >= previous {
                increase += point.value - previous;
            } else {
                increase += point.value;
            }
            previous = point.value;
        }
        Some(increase)
    }

    pub fn max_of(&self, metric: &str) -> Option<f64> {
        self.points(metric).iter().map(|p| p.value).fold(None, |max, v| match max {
            Some(m) if m >= v => Some(m),
            _ => Some(v),
        })
    }

    pub fn latest_of(&self, metric: &str) -> Option<f64> {
        self.points(metric).last().map(|p| p.value)
    }
}

impl FlinkApp {
    /// The newest snapshot in `READY` state.
    pub fn latest_ready_snapshot(&self) -> Option<&Snapshot> {
        self.snapshots.iter().filter(|s| s.status == "READY").max_by_key(|s| s.created_at)
    }

    pub fn region(&self) -> Option<&str> {
        self.arn.split(':').nth(3)
    }
}

// ---------------------------------------------------------------------------
// Coverage

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    Ok,
    Denied,
    RegionDisabled,
    Throttled,
    Error,
    Skipped,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::RegionDisabled => "region-disabled",
            Self::Throttled => "throttled",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }
}

impl CoverageRow {
    /// Whether this row leaves the scan complete. A region not enabled for
    /// the account holds nothing to scan; a `skipped` row for something that
    /// vanished mid-scan (an app deleted between list and describe) lost
    /// nothing; a `skipped` row for work the stopped scan never did, or for
    /// the pages of a list beyond its cap ([`TRUNCATED_CODE`]), did.
    pub fn is_complete(&self) -> bool {
        match self.status {
            CoverageStatus::Ok | CoverageStatus::RegionDisabled => true,
            CoverageStatus::Skipped => !matches!(self.error_code.as_deref(), Some(INTERRUPTED_CODE | TRUNCATED_CODE)),
            CoverageStatus::Denied | CoverageStatus::Throttled | CoverageStatus::Error => false,
        }
    }
}

/// One account × region × scope that collect tried (coverage.csv).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CoverageRow {
    pub account_id: InlineString,
    pub account_name: InlineString,
    /// A region, or [`GLOBAL_REGION`] for account-wide scopes (IAM, assume-role).
    pub region: InlineString,
    /// What was tried: `organizations`, `assume-role`, `iam`, `flink`,
    /// `cloudwatch`, `kms`, `s3`, `kinesis`, or `flink:<app>` for one app.
    pub scope: InlineString,
    pub status: CoverageStatus,
    pub error_code: Option<InlineString>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_checkpoint_configuration_ignores_raw_fields() {
        let config = CheckpointConfig::from_api("DEFAULT", Some(false), Some(1), Some(1));
        assert_eq!(config.effective, EffectiveCheckpoint::SERVICE_DEFAULT);
        assert_eq!(config.raw_interval_ms, Some(1));
    }

    #[test]
    fn custom_checkpoint_configuration_uses_fields() {
        let config = CheckpointConfig::from_api("CUSTOM", Some(false), Some(120_000), None);
        assert!(!config.effective.enabled);
        assert_eq!(config.effective.interval_ms, 120_000);
        assert_eq!(config.effective.min_pause_ms, 5_000);
    }

    #[test]
    fn url_encoded_documents_are_decoded_and_plain_ones_kept() {
        let encoded = PolicyDoc::from_aws_text("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(encoded.value(), Some(serde_json::json!({"Version": "2012-10-17"})));
        let plain = PolicyDoc::from_aws_text(r#"{"Version":"2012-10-17","Statement":[{"Resource":"arn:aws:s3:::a%20b"}]}"#);
        assert_eq!(plain.value().as_ref().and_then(|j| j.pointer("/Statement/0/Resource")).and_then(|v| v.as_str()), Some("arn:aws:s3:::a%20b"));
    }

    #[test]
    fn invalid_documents_keep_raw_text_and_say_why() {
        let doc = PolicyDoc::from_aws_text("{not json");
        assert!(doc.json.is_none());
        assert_eq!(doc.raw.as_deref(), Some("{not json"));
        assert!(doc.error.as_deref().unwrap_or("").contains("not valid JSON"));
    }

    fn metrics(values: &[f64]) -> CheckpointMetrics {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let points = values
            .iter()
            .enumerate()
            .map(|(i, v)| MetricPoint { at: start + chrono::Duration::minutes(i as i64 * 5), value: *v })
            .collect();
        let mut metrics = CheckpointMetrics { period_secs: 300, ..Default::default() };
        metrics.set_points(metric_names::FAILED_CHECKPOINTS, points);
        metrics
    }

    #[test]
    fn series_round_trip_with_gaps() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let at = |minutes: i64, value: f64| MetricPoint { at: start + chrono::Duration::minutes(minutes), value };
        let series = MetricSeries::from_points(300, vec![at(10, 3.0), at(0, 1.0), at(5, 2.0), at(25, 7.5)]);
        assert_eq!(series.values.iter().collect::<Vec<_>>(), vec![Some(1.0), Some(2.0), Some(3.0), None, None, Some(7.5)]);
        // gaps are `null` in the snapshot and come back as gaps
        let json = serde_json::to_string(&series.values).unwrap();
        assert_eq!(json, "[1.0,2.0,3.0,null,null,7.5]");
        let back: SeriesValues = serde_json::from_str(&json).unwrap();
        assert_eq!(back, series.values);
        assert_eq!(back.iter().nth(3), Some(None));
        assert_eq!(back.iter().nth(5), Some(Some(7.5)));
        assert_eq!(series.points(), vec![at(0, 1.0), at(5, 2.0), at(10, 3.0), at(25, 7.5)]);
        let json = serde_json::to_string(&series).unwrap();
        assert!(json.contains("[1.0,2.0,3.0,null,null,7.5]"), "{json}");
    }

    #[test]
    fn metrics_follow_the_runtime_generation() {
        for runtime in ["FLINK-2_2", "FLINK-2_3", "FLINK-3_0", "FLINK-10_1"] {
            assert!(metric_names::is_flink2(runtime), "{runtime}");
            assert_eq!(metric_names::restarts(runtime), "numRestarts");
            assert!(!metric_names::for_runtime(runtime).contains(&"fullRestarts"), "{runtime}: removed in Flink 2.x");
            assert_eq!(metric_names::not_running(runtime), ["restartingTime", "failingTime"]);
        }
        for runtime in ["FLINK-1_20", "FLINK-1_6", "ZEPPELIN-FLINK-3_0", "SQL-1_0", "", "FLINK-x"] {
            assert!(!metric_names::is_flink2(runtime), "{runtime}");
            assert_eq!(metric_names::restarts(runtime), "fullRestarts");
            assert_eq!(metric_names::not_running(runtime), ["downtime"]);
        }
        for metric in metric_names::FLINK_1.iter().chain(&metric_names::FLINK_2) {
            assert!(metric_names::ALL.contains(metric), "{metric}");
        }
    }

    #[test]
    fn failed_checkpoints_count_increase_not_level() {
        assert_eq!(metrics(&[7.0, 7.0, 7.0]).failed_checkpoint_increase(), Some(0.0));
        assert_eq!(metrics(&[7.0, 8.0, 10.0]).failed_checkpoint_increase(), Some(3.0));
        // a restart resets the cumulative counter
        assert_eq!(metrics(&[5.0, 6.0, 0.0, 2.0]).failed_checkpoint_increase(), Some(3.0));
        assert_eq!(metrics(&[]).failed_checkpoint_increase(), None);
    }
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {cause}")]
    Read { path: std::path::PathBuf, cause: std::io::Error },
    #[error("{path} is not a fleetscan snapshot: {message}")]
    Invalid { path: std::path::PathBuf, message: String },
    #[error("{path} has schema_version {found}; this fleetscan reads version {SCHEMA_VERSION} (re-run the scan, or use the fleetscan release that wrote it)")]
    Version { path: std::path::PathBuf, found: u64 },
}

impl Inventory {
    /// Reads a `snapshot.json`, checking its schema version first so an old
    /// or foreign file gets a clear message rather than a field error.
    pub fn load(path: &std::path::Path) -> Result<Self, SnapshotError> {
        // Read as text and checked for its version by a one-field pass: a
        // generic JSON tree of a 10,000-app snapshot would take ten times
        // the inventory's memory.
        let text = std::fs::read_to_string(path).map_err(|cause| SnapshotError::Read { path: path.to_owned(), cause })?;
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u64>,
        }
        let version: Version =
            serde_json::from_str(&text).map_err(|err| SnapshotError::Invalid { path: path.to_owned(), message: err.to_string() })?;
        match version.schema_version {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(found) => return Err(SnapshotError::Version { path: path.to_owned(), found }),
            None => return Err(SnapshotError::Invalid { path: path.to_owned(), message: "no schema_version field".into() }),
        }
        serde_json::from_str(&text).map_err(|err| SnapshotError::Invalid { path: path.to_owned(), message: err.to_string() })
    }
}
