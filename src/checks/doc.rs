//! Check documentation and the catalogue (`fleetscan checks`).
//!
//! Each check's [`CheckDoc`] is a constant beside the check's code in its
//! family module; [`CheckId::doc`] maps an id to it. The catalogue renderers
//! here (plain text for people, JSON for machines) and the HTML report read
//! the same text.

use serde::Serialize;

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::{access, alarms, application, checkpoint, health, snapshot};
use crate::config::{ChecksConfig, Config};
use crate::drift;
use crate::severity::SeverityOverride;

impl CheckId {
    /// The check's documentation (defined next to its code).
    pub fn doc(self) -> &'static CheckDoc {
        use CheckId::*;
        match self {
            CheckpointingDisabled => &checkpoint::DOC_CHECKPOINTING_DISABLED,
            CheckpointIntervalOutOfRange => &checkpoint::DOC_INTERVAL_OUT_OF_RANGE,
            CheckpointFailures => &checkpoint::DOC_CHECKPOINT_FAILURES,
            CheckpointSlow => &checkpoint::DOC_CHECKPOINT_SLOW,
            SnapshotsDisabled => &snapshot::DOC_SNAPSHOTS_DISABLED,
            SnapshotStale => &snapshot::DOC_SNAPSHOT_STALE,
            RuntimeEndOfSupport => &application::DOC_RUNTIME_END_OF_SUPPORT,
            ApplicationUnhealthy => &application::DOC_APPLICATION_UNHEALTHY,
            OperationFailed => &application::DOC_OPERATION_FAILED,
            CmkServiceAccessDenied => &access::DOC_CMK_SERVICE_ACCESS_DENIED,
            ExecutionRoleAccessDenied => &access::DOC_EXECUTION_ROLE_ACCESS_DENIED,
            AccessUndetermined => &access::DOC_ACCESS_UNDETERMINED,
            DriftAccessDecision => &drift::docs::DOC_ACCESS_DECISION,
            DriftScp => &drift::docs::DOC_SCP,
            DriftRcp => &drift::docs::DOC_RCP,
            DriftPermissionBoundary => &drift::docs::DOC_PERMISSION_BOUNDARY,
            DriftIdentityPolicy => &drift::docs::DOC_IDENTITY_POLICY,
            DriftResourcePolicy => &drift::docs::DOC_RESOURCE_POLICY,
            DriftTrustPolicy => &drift::docs::DOC_TRUST_POLICY,
            DriftCheckpointConfig => &drift::docs::DOC_CHECKPOINT_CONFIG,
            DriftRuntime => &drift::docs::DOC_RUNTIME,
            DriftSnapshotConfig => &drift::docs::DOC_SNAPSHOT_CONFIG,
            AlarmMissing => &alarms::DOC_ALARM_MISSING,
            HealthEventOpen => &health::DOC_HEALTH_EVENT_OPEN,
        }
    }

    /// The `[checks]` settings this check reads, with their values.
    pub fn thresholds(self, checks: &ChecksConfig) -> Vec<(&'static str, String)> {
        use CheckId::*;
        match self {
            CheckpointIntervalOutOfRange => vec![
                ("checkpoint_interval_min_ms", checks.checkpoint_interval_min_ms.to_string()),
                ("checkpoint_interval_max_ms", checks.checkpoint_interval_max_ms.to_string()),
            ],
            CheckpointFailures | OperationFailed | ApplicationUnhealthy => {
                vec![("metrics_lookback_hours", checks.metrics_lookback_hours.to_string())]
            }
            CheckpointSlow => vec![
                ("checkpoint_slow_ratio", checks.checkpoint_slow_ratio.to_string()),
                ("metrics_lookback_hours", checks.metrics_lookback_hours.to_string()),
            ],
            SnapshotStale => vec![("snapshot_max_age_days", checks.snapshot_max_age_days.to_string())],
            RuntimeEndOfSupport => vec![("runtime_warn_days", checks.runtime_warn_days.to_string())],
            AlarmMissing => vec![
                ("alarm_sigma", checks.alarm_sigma.to_string()),
                ("alarms_required", checks.alarms_required.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
                ("metrics_lookback_hours", checks.metrics_lookback_hours.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

/// One check as `fleetscan checks --format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueEntry {
    pub id: &'static str,
    pub family: crate::checks::catalog::Family,
    pub title: &'static str,
    pub default_severity: &'static str,
    /// The severity in force with this config: a level, or `off`.
    pub severity: String,
    pub thresholds: std::collections::BTreeMap<&'static str, String>,
    #[serde(flatten)]
    pub doc: CheckDoc,
}

/// Every check, in catalogue order, with the severities and thresholds in
/// force under `config` (the built-in defaults when `None`).
pub fn catalogue(config: Option<&Config>) -> Vec<CatalogueEntry> {
    let default_config;
    let config = match config {
        Some(c) => c,
        None => {
            default_config = Config::default();
            &default_config
        }
    };
    CheckId::ALL
        .iter()
        .map(|&id| CatalogueEntry {
            id: id.as_str(),
            family: id.family(),
            title: id.title(),
            default_severity: id.default_severity().as_str(),
            severity: match config.checks.severity.get(id.as_str()) {
                Some(SeverityOverride::Off) => "off".to_owned(),
                Some(SeverityOverride::Level(level)) => level.as_str().to_owned(),
                None => id.default_severity().as_str().to_owned(),
            },
            thresholds: id.thresholds(&config.checks).into_iter().collect(),
            doc: *id.doc(),
        })
        .collect()
}

/// The catalogue as JSON (an array, one object per check).
pub fn render_catalogue_json(config: Option<&Config>) -> String {
    render_json(&catalogue(config))
}

/// The catalogue as plain text: one block per check.
pub fn render_catalogue_text(config: Option<&Config>) -> String {
    render_text(&catalogue(config))
}

pub fn render_json(entries: &[CatalogueEntry]) -> String {
    serde_json::to_string_pretty(entries).unwrap_or_else(|_| "[]".to_owned())
}

/// Markdown: one section per check (for a README or a wiki).
pub fn render_markdown(entries: &[CatalogueEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&format!("## `{}` ({})\n\n{}\n\n", entry.id, entry.severity, entry.title));
        for (label, text) in [("What", entry.doc.what), ("Why", entry.doc.why), ("Example", entry.doc.example), ("Fix", entry.doc.fix)] {
            out.push_str(&format!("**{label}.** {}\n\n", text.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        if !entry.thresholds.is_empty() {
            let settings: Vec<String> = entry.thresholds.iter().map(|(k, v)| format!("`{k} = {v}`")).collect();
            out.push_str(&format!("**Settings.** {}\n\n", settings.join(", ")));
        }
        for reference in entry.doc.references {
            out.push_str(&format!("- <{reference}>\n"));
        }
        out.push('\n');
    }
    out
}

pub fn render_text(entries: &[CatalogueEntry]) -> String {
    let mut out = String::new();
    for entry in entries.iter().cloned() {
        let severity = if entry.severity == entry.default_severity {
            entry.severity.clone()
        } else {
            format!("{} (default {})", entry.severity, entry.default_severity)
        };
        out.push_str(&format!("{}  [{}]  {}\n", entry.id, severity, entry.title));
        for (label, text) in [("what", entry.doc.what), ("why", entry.doc.why), ("example", entry.doc.example), ("fix", entry.doc.fix)] {
            out.push_str(&wrap(label, text));
        }
        if !entry.thresholds.is_empty() {
            let settings: Vec<String> = entry.thresholds.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            out.push_str(&format!("  {:<9}{}\n", "settings", settings.join(", ")));
        }
        for reference in entry.doc.references {
            out.push_str(&format!("  {:<9}{}\n", "see", reference));
        }
        out.push('\n');
    }
    out
}

fn wrap(label: &str, text: &str) -> String {
    const WIDTH: usize = 88;
    let mut out = String::new();
    let mut line = String::new();
    let mut first = true;
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&format!("  {:<9}{}\n", if first { label } else { "" }, line));
            first = false;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("  {:<9}{}\n", if first { label } else { "" }, line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_documented() {
        for &id in CheckId::ALL {
            let doc = id.doc();
            for (field, text) in [("what", doc.what), ("why", doc.why), ("example", doc.example), ("fix", doc.fix)] {
                assert!(text.len() > 20, "{id}: `{field}` is too short");
            }
            assert!(!doc.references.is_empty(), "{id}: no references");
            assert!(doc.references.iter().all(|r| r.starts_with("https://")), "{id}: references must be links");
        }
    }

    #[test]
    fn text_catalogue_has_one_block_per_check_and_shows_overrides() {
        let config = crate::checks::testkit::config_from("[checks.severity]\n\"snapshot-stale\" = \"off\"\n");
        let text = render_catalogue_text(Some(&config));
        for &id in CheckId::ALL {
            assert!(text.lines().any(|l| l.starts_with(id.as_str())), "{id} missing");
        }
        assert!(text.contains("snapshot-stale  [off (default low)]"));
        assert!(text.contains("snapshot_max_age_days = 7"));
    }

    #[test]
    fn json_catalogue_is_machine_readable() {
        let json: serde_json::Value = serde_json::from_str(&render_catalogue_json(None)).unwrap();
        let entries = json.as_array().unwrap();
        assert_eq!(entries.len(), CheckId::ALL.len());
        assert_eq!(entries[0]["id"], "checkpointing-disabled");
        assert_eq!(entries[0]["default_severity"], "high");
        assert!(entries[0]["what"].as_str().unwrap().len() > 20);
    }
}
