//! Configuration: TOML file → [`FileConfig`] (every field optional) → merged
//! with command-line overrides in one place ([`Config::resolve`]) → validated
//! [`Config`]. Unknown keys are rejected with the key and line named.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::severity::{Severity, SeverityOverride};

/// Largest config file accepted; anything bigger is a mistake, not a config.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("config file {path} is {size} bytes; the limit is {MAX_CONFIG_BYTES} bytes")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("invalid config file {path}:\n{message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config value `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

// ---------------------------------------------------------------------------
// The file, as written: every field optional so layers can be merged. The
// doc comments are the descriptions of `fleetscan config schema`.

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// fleetscan configuration (TOML). Every key is optional.
pub struct FileConfig {
    /// Credentials, the role assumed in member accounts, regions, concurrency.
    pub aws: Option<AwsSection>,
    /// Which accounts of the Organization are scanned.
    pub accounts: Option<AccountsSection>,
    /// Thresholds of the checks and per-check severities.
    pub checks: Option<ChecksSection>,
    /// Prod-vs-dev pairs: a baseline account compared with a target account.
    #[serde(default)]
    pub compare: Vec<CompareSection>,
    /// Findings hidden on purpose, with a reason and an optional expiry date.
    #[serde(default)]
    pub suppress: Vec<SuppressSection>,
    /// Extra actions every execution role must be allowed (access analysis).
    #[serde(default)]
    pub require: Vec<RequireSection>,
    /// Where reports go and in which formats.
    pub output: Option<OutputSection>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    /// Role assumed in every member account. Default: OrganizationAccountAccessRole.
    pub role_name: Option<String>,
    /// External id passed to AssumeRole, if the role's trust policy requires one.
    pub external_id: Option<String>,
    /// AssumeRole session length, 900..=43200. Default: 3600.
    pub session_duration_secs: Option<u32>,
    /// Regions to scan, e.g. ["us-east-1", "eu-west-1"]. Default: the credential chain's region.
    pub regions: Option<Vec<String>>,
    /// Simultaneous in-flight AWS calls, 1..=1024. Default: 32.
    pub concurrency: Option<usize>,
    /// Concurrent Organizations calls (AWS throttles them hard).
    pub org_concurrency: Option<usize>,
    /// Attempts per call for throttling and 5xx, including the first.
    pub max_attempts: Option<u32>,
    pub connect_timeout_secs: Option<u64>,
    pub operation_timeout_secs: Option<u64>,
    /// How long AssumeRole is retried on AccessDenied (new roles take up to
    /// a minute to propagate); 0 disables the retry.
    pub assume_role_retry_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountsSection {
    /// OU ids or paths such as "Root/Workloads/Prod"; empty = all.
    pub include_ous: Option<Vec<String>>,
    /// Account ids or names; empty = all.
    pub include_accounts: Option<Vec<String>>,
    /// Account ids or names never scanned.
    pub exclude_accounts: Option<Vec<String>>,
    /// Read each scanned account's tags (one Organizations call per account).
    pub tags: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksSection {
    /// Exit 1 when an open finding is at or above this severity. Default: high.
    #[schemars(with = "Option<SeverityName>")]
    pub fail_on: Option<String>,
    /// CloudWatch window read for checkpoint metrics, 1..=1512 hours. Default: 24.
    pub metrics_lookback_hours: Option<u32>,
    /// Shortest acceptable checkpoint interval. Default: 10000.
    pub checkpoint_interval_min_ms: Option<i64>,
    /// Longest acceptable checkpoint interval. Default: 300000.
    pub checkpoint_interval_max_ms: Option<i64>,
    /// Largest acceptable lastCheckpointDuration / interval. Default: 0.5.
    pub checkpoint_slow_ratio: Option<f64>,
    /// Age after which the newest READY snapshot is stale. Default: 7.
    pub snapshot_max_age_days: Option<u32>,
    pub runtime_warn_days: Option<u32>,
    /// Suggested checkpoint-duration alarm threshold: mean + sigma × stddev.
    pub alarm_sigma: Option<f64>,
    /// Which alarms every app needs (`alarm-missing`).
    pub alarms_required: Option<Vec<String>>,
    /// Per-check severity override, keyed by check id (`fleetscan checks`): a severity or "off".
    pub severity: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareSection {
    /// Name of the comparison in the report. Default: "<baseline>-vs-<target>".
    pub name: Option<String>,
    /// Baseline account id or name (required), e.g. the dev account.
    pub baseline: Option<String>,
    /// Target account id or name (required), e.g. the prod account.
    pub target: Option<String>,
    /// Regex pairing apps by its `key` capture (or first group). Default: same name.
    pub app_pattern: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressSection {
    /// Check id (required).
    pub check: Option<String>,
    /// Account id or name; default any.
    pub account: Option<String>,
    /// Glob over the resource ARN (`*`, `?`); default any.
    pub resource: Option<String>,
    /// Why it is suppressed (required).
    pub reason: Option<String>,
    /// YYYY-MM-DD after which the finding returns.
    pub expires: Option<String>,
}

/// An extra action every execution role must be allowed (access analysis).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequireSection {
    /// `service:Action` (required).
    pub action: Option<String>,
    /// Resource ARN or pattern. Default: "*".
    pub resource: Option<String>,
    /// Only apps whose name matches this regex; default all.
    pub app_pattern: Option<String>,
    /// Shown with the decision. Default: "required by config".
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Output folder; each run writes DIR/<run-id>/. Default: reports.
    pub dir: Option<String>,
    /// Files to write. Default: ["html", "csv", "json"]; findings.json is always written.
    #[schemars(with = "Option<Vec<FormatName>>")]
    pub formats: Option<Vec<String>>,
    /// Runs of the output folder the report's trend shows.
    pub trend_runs: Option<usize>,
}

/// The names `[output] formats` accepts (schema only; parsed by [`OutputFormat`]).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum FormatName {
    Html,
    Csv,
    Json,
    Ocsf,
    Asff,
    Sarif,
    Junit,
}

/// The names `fail_on` accepts (schema only; parsed by [`Severity`]).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum SeverityName {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// The JSON Schema of the config file (`fleetscan config schema`), for
/// editors (Taplo, Even Better TOML) to complete and check it.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<FileConfig>().to_value();
    drop_null(&mut schema);
    schema["title"] = "fleetscan configuration (fleetscan.toml)".into();
    schema
}

/// Removes the `null` alternative schemars gives `Option` fields: TOML has
/// no null, an absent key is how a value is left unset.
fn drop_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            if let Some(Value::Array(any_of)) = map.get_mut("anyOf") {
                any_of.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
                if any_of.len() == 1 {
                    let only = any_of.remove(0);
                    map.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let size = std::fs::metadata(path).map_err(|cause| ConfigError::Read { path: path.to_owned(), cause })?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge { path: path.to_owned(), size });
        }
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read { path: path.to_owned(), cause })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })
    }

    /// Parses TOML text; the error names the key and the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|err| err.to_string())
    }
}

// ---------------------------------------------------------------------------
// Command-line overrides: the top layer.

#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub regions: Option<Vec<String>>,
    pub accounts: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub out_dir: Option<PathBuf>,
    /// `--format`: replaces `[output] formats`.
    pub formats: Option<Vec<OutputFormat>>,
}

// ---------------------------------------------------------------------------
// The resolved, validated configuration.

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub aws: AwsConfig,
    pub accounts: AccountFilter,
    pub checks: ChecksConfig,
    pub compare: Vec<Comparison>,
    pub suppress: Vec<Suppression>,
    pub require: Vec<Requirement>,
    pub output: OutputConfig,
}

#[derive(Clone, Serialize)]
pub struct AwsConfig {
    pub role_name: String,
    #[serde(skip_serializing)]
    pub external_id: Option<String>,
    pub session_duration_secs: u32,
    /// Empty means the region of the credential chain only.
    pub regions: Vec<String>,
    pub concurrency: usize,
    pub org_concurrency: usize,
    pub max_attempts: u32,
    pub connect_timeout_secs: u64,
    pub operation_timeout_secs: u64,
    /// Budget for retrying AssumeRole on AccessDenied; 0 = no retry.
    pub assume_role_retry_secs: u64,
}

/// Written by hand so the external id never reaches a log line.
impl fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfig")
            .field("role_name", &self.role_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "<redacted>"))
            .field("session_duration_secs", &self.session_duration_secs)
            .field("regions", &self.regions)
            .field("concurrency", &self.concurrency)
            .field("org_concurrency", &self.org_concurrency)
            .field("max_attempts", &self.max_attempts)
            .field("assume_role_retry_secs", &self.assume_role_retry_secs)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("operation_timeout_secs", &self.operation_timeout_secs)
            .finish()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountFilter {
    pub include_ous: Vec<String>,
    pub include_accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
    /// Off by default: Organizations has no batch call for tags, so this is
    /// one throttled Organizations call per account.
    pub tags: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecksConfig {
    pub fail_on: Severity,
    pub metrics_lookback_hours: u32,
    pub checkpoint_interval_min_ms: i64,
    pub checkpoint_interval_max_ms: i64,
    pub checkpoint_slow_ratio: f64,
    pub snapshot_max_age_days: u32,
    /// `runtime-end-of-support` is medium this many days before a runtime's
    /// end-of-support date (high from the date on); 0: only after the date.
    pub runtime_warn_days: u32,
    pub alarm_sigma: f64,
    /// In the order of [`AlarmKind::ALL`], without repeats.
    pub alarms_required: Vec<AlarmKind>,
    /// Per-check severity override or `off`, keyed by check id.
    pub severity: BTreeMap<String, SeverityOverride>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub name: String,
    pub baseline: String,
    pub target: String,
    #[serde(serialize_with = "serialize_regex")]
    pub app_pattern: Option<Regex>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    pub check: String,
    pub account: Option<String>,
    pub resource: Option<String>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub action: String,
    pub resource: String,
    #[serde(serialize_with = "serialize_regex")]
    pub app_pattern: Option<Regex>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputConfig {
    pub dir: PathBuf,
    pub formats: Vec<OutputFormat>,
    pub trend_runs: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Html,
    Csv,
    Json,
    /// `findings.ocsf.json`: OCSF Detection Finding events.
    Ocsf,
    /// `findings.asff.json`: the `Findings` list of Security Hub's `BatchImportFindings`.
    Asff,
    /// `findings.sarif`: SARIF 2.1.0.
    Sarif,
    /// `findings.junit.xml`: one test case per application × check family.
    Junit,
}

impl OutputFormat {
    /// Every format, in the order `--help` and errors list them.
    pub const ALL: [OutputFormat; 7] = [Self::Html, Self::Csv, Self::Json, Self::Ocsf, Self::Asff, Self::Sarif, Self::Junit];
    /// Written when neither the config nor `--format` names any.
    pub const DEFAULT: [OutputFormat; 3] = [Self::Html, Self::Csv, Self::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ocsf => "ocsf",
            Self::Asff => "asff",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
        }
    }

    /// `html, csv, json, ocsf, asff, sarif, junit`
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("`{name}` is not an output format (one of: {})", Self::names()))
    }
}

/// An alarm every app should have (`[checks] alarms_required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmKind {
    /// `numberOfFailedCheckpoints` growing.
    FailedCheckpoints,
    /// `lastCheckpointDuration` above a threshold from the app's history.
    CheckpointDuration,
    /// Restarts: `fullRestarts` (Flink 1.x) or `numRestarts` (Flink 2.x).
    Restarts,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 3] = [AlarmKind::FailedCheckpoints, AlarmKind::CheckpointDuration, AlarmKind::Restarts];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FailedCheckpoints => "failed-checkpoints",
            Self::CheckpointDuration => "checkpoint-duration",
            Self::Restarts => "restarts",
        }
    }
}

impl std::str::FromStr for AlarmKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlarmKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not one of \"failed-checkpoints\", \"checkpoint-duration\", \"restarts\""))
    }
}

fn serialize_regex<S: serde::Serializer>(re: &Option<Regex>, s: S) -> Result<S::Ok, S::Error> {
    match re {
        Some(re) => s.serialize_str(re.as_str()),
        None => s.serialize_none(),
    }
}

/// Default role Organizations creates in member accounts.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";
pub const DEFAULT_APP_PATTERN_NOTE: &str = "apps paired by identical name";

impl Default for Config {
    fn default() -> Self {
        match Self::resolve(FileConfig::default(), Overrides::default()) {
            Ok(config) => config,
            // The built-in defaults are valid by construction (tested).
            Err(err) => unreachable!("built-in defaults are invalid: {err}"),
        }
    }
}

impl Config {
    /// Loads `path` (or the defaults when `None`) and applies `overrides`.
    pub fn load(path: Option<&Path>, overrides: Overrides) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(file, overrides)
    }

    /// The one place where defaults, file and command line are merged.
    pub fn resolve(file: FileConfig, overrides: Overrides) -> Result<Self, ConfigError> {
        let aws = file.aws.unwrap_or_default();
        let accounts = file.accounts.unwrap_or_default();
        let checks = file.checks.unwrap_or_default();
        let output = file.output.unwrap_or_default();

        let regions = overrides.regions.or(aws.regions).unwrap_or_default();
        for region in &regions {
            validate_region(region)?;
        }
        let role_name = aws.role_name.unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned());
        if role_name.trim().is_empty() || role_name.contains(['/', ':', ' ']) {
            return Err(invalid("aws.role_name", format!("`{role_name}` is not a role name (no path, no ARN)")));
        }
        let session_duration_secs = aws.session_duration_secs.unwrap_or(3600);
        if !(900..=43_200).contains(&session_duration_secs) {
            return Err(invalid("aws.session_duration_secs", format!("{session_duration_secs} is outside 900..=43200 (AssumeRole limits)")));
        }
        let concurrency = aws.concurrency.unwrap_or(32);
        if !(1..=1024).contains(&concurrency) {
            return Err(invalid("aws.concurrency", format!("{concurrency} is outside 1..=1024")));
        }
        let org_concurrency = aws.org_concurrency.unwrap_or(4);
        if !(1..=64).contains(&org_concurrency) {
            return Err(invalid("aws.org_concurrency", format!("{org_concurrency} is outside 1..=64")));
        }
        let max_attempts = aws.max_attempts.unwrap_or(8);
        if !(1..=20).contains(&max_attempts) {
            return Err(invalid("aws.max_attempts", format!("{max_attempts} is outside 1..=20")));
        }
        let connect_timeout_secs = positive("aws.connect_timeout_secs", aws.connect_timeout_secs.unwrap_or(10))?;
        let operation_timeout_secs = positive("aws.operation_timeout_secs", aws.operation_timeout_secs.unwrap_or(120))?;
        let external_id = aws.external_id.filter(|id| !id.is_empty());
        let assume_role_retry_secs = aws.assume_role_retry_secs.unwrap_or(60);
        if assume_role_retry_secs > 900 {
            return Err(invalid("aws.assume_role_retry_secs", format!("{assume_role_retry_secs} is above 900")));
        }

        let mut include_accounts = accounts.include_accounts.unwrap_or_default();
        if let Some(cli_accounts) = overrides.accounts {
            include_accounts = cli_accounts;
        }

        let fail_on_text = overrides.fail_on.or(checks.fail_on).unwrap_or_else(|| "high".to_owned());
        let fail_on = fail_on_text.parse::<Severity>().map_err(|message| invalid("checks.fail_on", message))?;
        let metrics_lookback_hours = checks.metrics_lookback_hours.unwrap_or(24);
        if !(1..=24 * 63).contains(&metrics_lookback_hours) {
            return Err(invalid("checks.metrics_lookback_hours", "must be 1..=1512 (CloudWatch keeps 5-minute data for 63 days)"));
        }
        let checkpoint_interval_min_ms = checks.checkpoint_interval_min_ms.unwrap_or(10_000);
        let checkpoint_interval_max_ms = checks.checkpoint_interval_max_ms.unwrap_or(300_000);
        if checkpoint_interval_min_ms < 0 || checkpoint_interval_min_ms > checkpoint_interval_max_ms {
            return Err(invalid(
                "checks.checkpoint_interval_min_ms",
                format!("{checkpoint_interval_min_ms} must be >= 0 and <= checkpoint_interval_max_ms ({checkpoint_interval_max_ms})"),
            ));
        }
        let checkpoint_slow_ratio = checks.checkpoint_slow_ratio.unwrap_or(0.5);
        if !(checkpoint_slow_ratio.is_finite() && checkpoint_slow_ratio > 0.0) {
            return Err(invalid("checks.checkpoint_slow_ratio", "must be a number above 0"));
        }
        let snapshot_max_age_days = checks.snapshot_max_age_days.unwrap_or(7);
        let runtime_warn_days = checks.runtime_warn_days.unwrap_or(180);
        if runtime_warn_days > 3650 {
            return Err(invalid("checks.runtime_warn_days", format!("{runtime_warn_days} is more than ten years; use at most 3650")));
        }
        let alarm_sigma = checks.alarm_sigma.unwrap_or(2.0);
        if !(alarm_sigma.is_finite() && (0.0..=10.0).contains(&alarm_sigma)) {
            return Err(invalid("checks.alarm_sigma", format!("{alarm_sigma} must be a number from 0 to 10 (standard deviations above the mean)")));
        }
        let alarms_required = match checks.alarms_required {
            None => AlarmKind::ALL.to_vec(),
            Some(list) => {
                let mut kinds = list
                    .iter()
                    .map(|k| k.parse::<AlarmKind>().map_err(|message| invalid("checks.alarms_required", message)))
                    .collect::<Result<Vec<_>, _>>()?;
                kinds.sort();
                kinds.dedup();
                kinds
            }
        };
        let mut severity = BTreeMap::new();
        for (check, level) in checks.severity.unwrap_or_default() {
            let key = format!("checks.severity.\"{check}\"");
            if !crate::checks::catalog::is_known_check(&check) {
                return Err(invalid(key, format!("`{check}` is not a check id (see `fleetscan checks`)")));
            }
            let level = level.parse::<SeverityOverride>().map_err(|message| invalid(key, message))?;
            severity.insert(check, level);
        }

        let compare = file.compare.into_iter().enumerate().map(|(i, section)| resolve_compare(i, section)).collect::<Result<Vec<_>, _>>()?;
        let suppress = file.suppress.into_iter().enumerate().map(|(i, section)| resolve_suppress(i, section)).collect::<Result<Vec<_>, _>>()?;
        let require = file.require.into_iter().enumerate().map(|(i, section)| resolve_require(i, section)).collect::<Result<Vec<_>, _>>()?;

        let dir = overrides.out_dir.or_else(|| output.dir.map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("reports"));
        let formats = match (overrides.formats, output.formats) {
            (Some(cli), _) => cli,
            (None, None) => OutputFormat::DEFAULT.to_vec(),
            (None, Some(list)) => list
                .iter()
                .map(|f| f.parse::<OutputFormat>().map_err(|message| invalid("output.formats", message)))
                .collect::<Result<Vec<_>, _>>()?,
        };

        let trend_runs = output.trend_runs.unwrap_or(30);
        if !(1..=1000).contains(&trend_runs) {
            return Err(invalid("output.trend_runs", format!("{trend_runs} is outside 1..=1000")));
        }

        Ok(Self {
            aws: AwsConfig {
                role_name,
                external_id,
                session_duration_secs,
                regions,
                concurrency,
                org_concurrency,
                max_attempts,
                connect_timeout_secs,
                operation_timeout_secs,
                assume_role_retry_secs,
            },
            accounts: AccountFilter {
                include_ous: accounts.include_ous.unwrap_or_default(),
                include_accounts,
                exclude_accounts: accounts.exclude_accounts.unwrap_or_default(),
                tags: accounts.tags.unwrap_or(false),
            },
            checks: ChecksConfig {
                fail_on,
                metrics_lookback_hours,
                checkpoint_interval_min_ms,
                checkpoint_interval_max_ms,
                checkpoint_slow_ratio,
                snapshot_max_age_days,
                runtime_warn_days,
                alarm_sigma,
                alarms_required,
                severity,
            },
            compare,
            suppress,
            require,
            output: OutputConfig { dir, formats, trend_runs },
        })
    }

    /// SHA-256 over the effective settings (secrets excluded), for run metadata.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }
}

fn positive(key: &str, value: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        return Err(invalid(key, "must be above 0"));
    }
    Ok(value)
}

fn validate_region(region: &str) -> Result<(), ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && region.split('-').count() >= 3;
    if ok {
        Ok(())
    } else {
        Err(invalid("aws.regions", format!("`{region}` is not an AWS region name such as `eu-west-1`")))
    }
}

fn required(value: Option<String>, key: String) -> Result<String, ConfigError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| invalid(key, "is required"))
}

fn compile_pattern(key: String, pattern: Option<String>) -> Result<Option<Regex>, ConfigError> {
    pattern.map(|p| Regex::new(&p).map_err(|err| invalid(key, format!("not a valid regex: {err}")))).transpose()
}

fn resolve_compare(index: usize, section: CompareSection) -> Result<Comparison, ConfigError> {
    let key = |field: &str| format!("compare[{index}].{field}");
    let app_pattern = compile_pattern(key("app_pattern"), section.app_pattern)?;
    if let Some(re) = &app_pattern {
        if !re.capture_names().any(|name| name == Some("key")) && re.captures_len() < 2 {
            return Err(invalid(key("app_pattern"), "needs a capture group (named `key` or the first group) that pairs apps"));
        }
    }
    let baseline = required(section.baseline, key("baseline"))?;
    let target = required(section.target, key("target"))?;
    Ok(Comparison {
        name: section.name.unwrap_or_else(|| format!("{baseline}-vs-{target}")),
        baseline,
        target,
        app_pattern,
    })
}

fn resolve_suppress(index: usize, section: SuppressSection) -> Result<Suppression, ConfigError> {
    let key = |field: &str| format!("suppress[{index}].{field}");
    let check = required(section.check, key("check"))?;
    if !crate::checks::catalog::is_known_check(&check) {
        return Err(invalid(key("check"), format!("`{check}` is not a check id (see `fleetscan checks`)")));
    }
    let expires = section
        .expires
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| invalid(key("expires"), format!("`{text}` is not a date like 2027-01-31")))
        })
        .transpose()?;
    Ok(Suppression {
        check,
        account: section.account.filter(|a| !a.is_empty()),
        resource: section.resource.filter(|r| !r.is_empty()),
        reason: required(section.reason, key("reason"))?,
        expires,
    })
}

fn resolve_require(index: usize, section: RequireSection) -> Result<Requirement, ConfigError> {
    let key = |field: &str| format!("require[{index}].{field}");
    let action = required(section.action, key("action"))?;
    if !action.contains(':') {
        return Err(invalid(key("action"), format!("`{action}` is not `service:Action`")));
    }
    Ok(Requirement {
        action,
        resource: section.resource.unwrap_or_else(|| "*".to_owned()),
        app_pattern: compile_pattern(key("app_pattern"), section.app_pattern)?,
        reason: section.reason.unwrap_or_else(|| "required by config".to_owned()),
    })
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        let file = FileConfig::parse(text)?;
        Config::resolve(file, Overrides::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = Config::default();
        assert_eq!(config.aws.role_name, "OrganizationAccountAccessRole");
        assert_eq!(config.aws.concurrency, 32);
        assert_eq!(config.checks.fail_on, Severity::High);
        assert_eq!(config.checks.checkpoint_interval_min_ms, 10_000);
        assert_eq!(config.checks.checkpoint_interval_max_ms, 300_000);
        assert_eq!(config.checks.snapshot_max_age_days, 7);
        assert_eq!(config.checks.runtime_warn_days, 180);
        assert_eq!(config.output.dir, PathBuf::from("reports"));
        assert_eq!(config.checks.alarm_sigma, 2.0);
        assert_eq!(config.output.trend_runs, 30);
        assert_eq!(config.checks.alarms_required, AlarmKind::ALL.to_vec());
    }

    #[test]
    fn alarms_required_names_the_bad_entry_and_dedups() {
        let err = parse("[checks]\nalarms_required = [\"restarts\", \"downtime\"]").unwrap_err();
        assert!(err.contains("`downtime` is not one of"), "{err}");
        let config = parse("[checks]\nalarms_required = [\"restarts\", \"failed-checkpoints\", \"restarts\"]\nalarm_sigma = 1.5").unwrap();
        assert_eq!(config.checks.alarms_required, vec![AlarmKind::FailedCheckpoints, AlarmKind::Restarts]);
        assert_eq!(config.checks.alarm_sigma, 1.5);
        assert!(parse("[checks]\nalarms_required = []").unwrap().checks.alarms_required.is_empty());
    }

    #[test]
    fn example_configs_parse() {
        for name in ["demo.toml", "example.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(name);
            if let Err(err) = Config::load(Some(&path), Overrides::default()) {
                panic!("{name}: {err}");
            }
        }
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[aws]\nregions = [\"us-east-1\"]\nconcurency = 3\n").unwrap_err();
        assert!(err.contains("concurency"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let err = parse("[awz]\nrole_name = \"x\"\n").unwrap_err();
        assert!(err.contains("awz"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            ("[aws]\nregions = [\"Mars\"]", "aws.regions"),
            ("[aws]\nsession_duration_secs = 60", "aws.session_duration_secs"),
            ("[aws]\nconcurrency = 0", "aws.concurrency"),
            ("[checks]\nfail_on = \"severe\"", "checks.fail_on"),
            ("[checks.severity]\n\"no-such-check\" = \"off\"", "no-such-check"),
            ("[checks.severity]\n\"snapshot-stale\" = \"loud\"", "snapshot-stale"),
            ("[[compare]]\nbaseline = \"a\"", "compare[0].target"),
            ("[[compare]]\nbaseline = \"a\"\ntarget = \"b\"\napp_pattern = \"(\"", "compare[0].app_pattern"),
            ("[[suppress]]\ncheck = \"snapshot-stale\"\nreason = \"x\"\nexpires = \"soon\"", "suppress[0].expires"),
            ("[[suppress]]\ncheck = \"snapshot-stale\"", "suppress[0].reason"),
            ("[output]\nformats = [\"pdf\"]", "output.formats"),
            ("[checks]\nalarm_sigma = -1.0", "checks.alarm_sigma"),
            ("[output]\ntrend_runs = 0", "output.trend_runs"),
            ("[checks]\nalarms_required = [\"cpu\"]", "checks.alarms_required"),
            ("[output]\nformats = [\"html\", \"sarif2\"]", "sarif2"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(key), "expected `{key}` in: {err}");
        }
    }

    #[test]
    fn command_line_overrides_the_file() {
        let file = FileConfig::parse("[aws]\nregions = [\"us-east-1\"]\n[checks]\nfail_on = \"low\"").unwrap();
        let config =
            Config::resolve(file, Overrides { regions: Some(vec!["eu-west-1".into()]), fail_on: Some("critical".into()), ..Default::default() })
                .unwrap();
        assert_eq!(config.aws.regions, vec!["eu-west-1"]);
        assert_eq!(config.checks.fail_on, Severity::Critical);
    }

    #[test]
    fn digest_excludes_secrets_and_tracks_settings() {
        let a = parse("[aws]\nexternal_id = \"secret-1\"").unwrap();
        let b = parse("[aws]\nexternal_id = \"secret-2\"").unwrap();
        let c = parse("[aws]\nconcurrency = 5").unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
        assert!(!serde_json::to_string(&a).unwrap().contains("secret-1"));
        assert!(!format!("{a:?}").contains("secret-1"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "[aws]",
        "[accounts]",
        "[checks]",
        "[checks.severity]",
        "[[compare]]",
        "[[suppress]]",
        "[[require]]",
        "[output]",
        "role_name",
        "regions",
        "concurrency",
        "session_duration_secs",
        "fail_on",
        "include_ous",
        "baseline",
        "target",
        "app_pattern",
        "check",
        "expires",
        "reason",
        "formats",
        "dir",
        "\"snapshot-stale\"",
        "action",
    ];
    const VALUES: &[&str] = &[
        "\"x\"",
        "0",
        "-1",
        "99999999999999999999",
        "1e309",
        "[]",
        "[\"us-east-1\"]",
        "\"(\"",
        "\"off\"",
        "true",
        "{}",
        "\"<script>\"",
        "\"2027-13-45\"",
        "\"\u{0}\"",
        "nan",
        "\"high\"",
        "\"runtime-end-of-support\"",
    ];

    fn toml_like() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            (0..KEYS.len(), 0..VALUES.len(), any::<bool>()).prop_map(|(k, v, header)| {
                if header || KEYS[k].starts_with('[') {
                    KEYS[k].to_string()
                } else {
                    format!("{} = {}", KEYS[k], VALUES[v])
                }
            }),
            0..12,
        )
        .prop_map(|lines| lines.join("\n"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Hostile or random configs never panic, and every rejection says
        /// something a person can act on.
        #[test]
        fn random_configs_error_clearly(text in toml_like()) {
            match FileConfig::parse(&text) {
                Err(message) => prop_assert!(message.len() > 10, "unhelpful: {message}"),
                Ok(file) => {
                    if let Err(err) = Config::resolve(file, Overrides::default()) {
                        let message = err.to_string();
                        prop_assert!(message.contains('`') || message.contains("config"), "unhelpful: {message}");
                    }
                }
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(file) = FileConfig::parse(&text) {
                let _ = Config::resolve(file, Overrides::default());
            }
        }
    }

    #[test]
    fn oversized_config_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
        let err = Config::load(Some(&path), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("limit"), "{err}");
    }

    #[test]
    fn missing_config_file_names_the_path() {
        let err = Config::load(Some(Path::new("/nonexistent/fleetscan.toml")), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/fleetscan.toml"), "{err}");
    }
}
