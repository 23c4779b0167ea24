//! Policy-change impact (`fleetscan impact`): what a proposed SCP, RCP or
//! managed-policy change would do to every running app's required actions,
//! decided offline from a snapshot with the same engine and requirements
//! as a scan. [`changes`] applies the changes to a copy of the snapshot;
//! [`analysis`] decides the apps they can touch before and after.

pub mod analysis;
pub mod changes;

#[cfg(test)]
mod tests;

pub use analysis::{analyse, Impact, ImpactRow, Summary};
pub use changes::{apply, Applied, Change, ChangeError, Touched};

use std::collections::BTreeMap;
use std::fmt::Write;

/// The statement that decides a row after the change, for grouping: the
/// Deny when there is one, else the first entry (a layer that allows
/// nothing, or the grant).
pub fn cause(row: &ImpactRow) -> String {
    let first = row.deciding.iter().find(|s| s.effect == "Deny").or_else(|| row.deciding.first());
    match first {
        Some(s) => {
            let mut text = format!("{} {}", s.policy_kind.to_ascii_uppercase(), s.policy);
            if let Some(index) = s.statement_index {
                let _ = write!(text, " statement #{index}");
            }
            if let Some(sid) = s.sid.as_deref().filter(|s| !s.is_empty()) {
                let _ = write!(text, " (Sid {sid})");
            }
            if !s.attached_at.is_empty() {
                let _ = write!(text, " attached at {}", s.attached_at);
            }
            if s.statement_index.is_none() && !s.why.is_empty() {
                let _ = write!(text, ": {}", s.why);
            }
            text.trim().to_owned()
        }
        None => "no statement recorded".to_owned(),
    }
}

/// An app in the text report: OU path, account name, region, app name.
type AppKey<'a> = (&'a str, &'a str, &'a str, &'a str);

/// The text report: the changes, then each affected app with its actions
/// grouped by the statement that decides them after.
pub fn render_text(impact: &Impact) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Changes applied to the snapshot:");
    for line in &impact.applied {
        let _ = writeln!(out, "  - {line}");
    }
    let s = &impact.summary;
    let _ = writeln!(
        out,
        "\n{} app(s) decided again of {}; {} required action(s) of {} app(s) become denied, {} action(s) of {} app(s) become allowed.",
        impact.apps_evaluated, impact.apps_total, s.actions_losing, s.apps_losing, s.actions_gaining, s.apps_gaining
    );
    if impact.changes.is_empty() {
        let _ = writeln!(out, "No required action changes its decision.");
        return out;
    }
    let mut by_app: BTreeMap<AppKey<'_>, BTreeMap<String, Vec<&ImpactRow>>> = BTreeMap::new();
    for row in &impact.changes {
        let app = (row.ou_path.as_str(), row.account_name.as_str(), row.region.as_str(), row.application.as_str());
        by_app.entry(app).or_default().entry(cause(row)).or_default().push(row);
    }
    for ((ou, account, region, app), causes) in by_app {
        let first = causes.values().next().and_then(|rows| rows.first());
        let account_id = first.map(|r| r.account_id.as_str()).unwrap_or_default();
        let _ = writeln!(out, "\n{app} — account {account_id} ({account}), {ou}, {region}");
        for (cause, rows) in causes {
            let _ = writeln!(out, "  {cause}");
            for row in rows {
                let mark = if row.loses() {
                    "LOSES"
                } else if row.gains() {
                    "gains"
                } else {
                    "changes"
                };
                let _ = writeln!(out, "    {mark:7} {} on {}: {} → {}", row.action, row.resource, row.before.as_str(), row.after.as_str());
            }
        }
    }
    out
}

/// The JSON report (contract: `changes` rows with `application_arn`,
/// `account_id`, `region`, `action`, `resource`, `before`, `after`,
/// `deciding`; `summary` with `apps_losing`, `apps_gaining`,
/// `actions_losing`, `actions_gaining`).
pub fn render_json(impact: &Impact) -> serde_json::Result<String> {
    serde_json::to_string_pretty(impact)
}
