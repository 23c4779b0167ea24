//! `findings.sarif`: SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html),
//! for GitHub code scanning and other SARIF viewers. One run; one rule per
//! check id with its documentation (what / why / fix as help text); one
//! result per open or suppressed finding, streamed.
//!
//! Locations: each result names where it is as a logical location — the
//! resource ARN, fully qualified as `<account>/<region>/<ARN>`. GitHub code
//! scanning refuses results without a physical location ("expected at least
//! one location", https://github.com/github/codeql-action/issues/2459) and
//! accepts only repository-relative paths, so each result also carries an
//! artifact location `aws/<account>/<region>/<resource name>`: a stable
//! path, not a file. `partialFingerprints` hold the finding id, so alerts
//! match across runs. Suppressed findings carry a SARIF `suppressions`
//! entry with the reason.

use std::io::Write;

use serde::Serialize;

use super::stream::{one_line, resource_name, JsonArray};
use crate::checks::catalog::CheckId;
use crate::findings::{Evaluation, Finding};
use crate::inventory::Inventory;
use crate::severity::Severity;

pub const SARIF_SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'static str,
    name: String,
    short_description: Text<'static>,
    full_description: Text<'a>,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'static str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    /// GitHub's severity for security alerts: a score from 0.0 to 10.0.
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location<'a>; 1],
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: PhysicalLocation,
    logical_locations: [LogicalLocation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "fleetscanFindingId/v1")]
    finding_id: &'a str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
struct ResultProperties<'a> {
    finding_id: &'a str,
    severity: &'static str,
    status: &'static str,
    account_id: &'a str,
    account_name: &'a str,
    ou_path: &'a str,
    region: &'a str,
    resource_arn: &'a str,
    #[serde(skip_serializing_if = "String::is_empty")]
    evidence: String,
}

/// SARIF level: error for high and critical, warning for medium, note below.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` scores: critical > 9.0, high 7.0–8.9,
/// medium 4.0–6.9, low 0.1–3.9.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `checkpoint-slow` → `CheckpointSlow` (SARIF rule names are identifiers).
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The severity a rule is shown with: the one this run gave the check's
/// findings when they all share it (so a `[checks.severity]` override
/// reaches GitHub, which ranks security alerts by the rule's
/// `security-severity`, not the result's level), else the check's default.
fn rule_severity(id: CheckId, findings: &[Finding]) -> Severity {
    let mut severities = findings.iter().filter(|f| f.check == id).map(|f| f.severity);
    match severities.next() {
        Some(first) if severities.all(|s| s == first) => first,
        _ => id.default_severity(),
    }
}

fn rule(id: CheckId, severity: Severity) -> Rule<'static> {
    let doc = id.doc();
    let (what, why, fix) = (one_line(doc.what), one_line(doc.why), one_line(doc.fix));
    let mut markdown = format!("**What.** {what}\n\n**Why.** {why}\n\n**Fix.** {fix}\n");
    for reference in doc.references {
        markdown.push_str(&format!("\n- <{reference}>"));
    }
    Rule {
        id: id.as_str(),
        name: rule_name(id.as_str()),
        short_description: Text { text: id.title() },
        full_description: Text { text: doc.what },
        help: Help { text: format!("What: {what}\nWhy: {why}\nFix: {fix}"), markdown },
        help_uri: doc.references.first().copied(),
        default_configuration: Configuration { level: level(severity) },
        properties: RuleProperties { tags: ["security", family_tag(id)], security_severity: security_severity(severity) },
    }
}

fn family_tag(id: CheckId) -> &'static str {
    id.family().as_str()
}

fn result(f: &Finding) -> SarifResult<'_> {
    let rule_index = CheckId::ALL.iter().position(|&c| c == f.check).unwrap_or(0);
    let name = resource_name(&f.resource_arn);
    let message = if f.detail.trim().is_empty() { f.title.clone() } else { format!("{}: {}", f.title, f.detail) };
    SarifResult {
        rule_id: f.check.as_str(),
        rule_index,
        level: level(f.severity),
        message: Message { text: message },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: format!("aws/{}/{}/{}", f.account_id, f.region, uri_segment(name)) },
            },
            logical_locations: [LogicalLocation {
                name: &f.resource_arn,
                fully_qualified_name: format!("{}/{}/{}", f.account_id, f.region, f.resource_arn),
                kind: "resource",
            }],
        }],
        partial_fingerprints: Fingerprints { finding_id: &f.finding_id },
        suppressions: f.suppression.iter().map(|s| Suppression { kind: "external", justification: &s.reason }).collect(),
        properties: ResultProperties {
            finding_id: &f.finding_id,
            severity: f.severity.as_str(),
            status: f.status.as_str(),
            account_id: &f.account_id,
            account_name: &f.account_name,
            ou_path: &f.ou_path,
            region: &f.region,
            resource_arn: &f.resource_arn,
            evidence: f.evidence_text(),
        },
    }
}

/// A path segment: characters a URI path may hold as they are, others percent-encoded.
fn uri_segment(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(text, KEEP).to_string();
    if encoded.is_empty() || encoded == "." || encoded == ".." {
        "_".to_owned()
    } else {
        encoded
    }
}

/// Writes `findings.sarif`.
pub fn write_findings<W: Write>(out: W, inventory: &Inventory, evaluation: &Evaluation) -> std::io::Result<()> {
    let mut out = out;
    write!(
        out,
        "{{\"$schema\":{},\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":{{\"name\":\"fleetscan\",\"version\":{},\"rules\":",
        serde_json::to_string(SARIF_SCHEMA)?,
        serde_json::to_string(&inventory.run.tool_version)?,
    )?;
    let mut rules = JsonArray::start(&mut out)?;
    for &id in CheckId::ALL {
        rules.push(&rule(id, rule_severity(id, &evaluation.findings)))?;
    }
    rules.finish()?;
    // automationDetails.id `category/run`: GitHub keys alerts by the part
    // before the last slash, so every night's upload updates the same alerts.
    write!(
        out,
        "}}}},\"automationDetails\":{{\"id\":{}}},\"columnKind\":\"unicodeCodePoints\",\"results\":",
        serde_json::to_string(&format!("fleetscan/{}", inventory.run.run_id))?,
    )?;
    let mut results = JsonArray::start(&mut out)?;
    for f in &evaluation.findings {
        results.push(&result(f))?;
    }
    results.finish()?;
    out.write_all(b"}]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, Fleet};
    use crate::config::Config;

    /// `properties.security-severity` and `defaultConfiguration.level` of a rule.
    fn rule_of(inventory: &Inventory, evaluation: &Evaluation, id: CheckId) -> (String, String) {
        let mut out = Vec::new();
        write_findings(&mut out, inventory, evaluation).unwrap();
        let sarif: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][CheckId::ALL.iter().position(|&c| c == id).unwrap()];
        assert_eq!(rule["id"], id.as_str());
        (rule["properties"]["security-severity"].as_str().unwrap().to_owned(), rule["defaultConfiguration"]["level"].as_str().unwrap().to_owned())
    }

    #[test]
    fn a_severity_override_reaches_the_rule_that_code_scanning_ranks_by() {
        let inv = Fleet::new()
            .account("111111111111", "prod", "Root")
            .app("111111111111", "eu-west-1", "a", |a| a.runtime = "FLINK-1_13".into())
            .app("111111111111", "eu-west-1", "b", |a| a.snapshots_enabled = false)
            .build();
        let default = crate::evaluate::evaluate(&inv, &Config::default());
        assert_eq!(rule_of(&inv, &default, CheckId::RuntimeEndOfSupport), ("8.0".to_owned(), "error".to_owned()));
        assert_eq!(rule_of(&inv, &default, CheckId::SnapshotsDisabled), ("5.5".to_owned(), "warning".to_owned()));

        let config = config_from("[checks.severity]\n\"runtime-end-of-support\" = \"critical\"\n\"snapshots-disabled\" = \"low\"\n");
        let overridden = crate::evaluate::evaluate(&inv, &config);
        assert_eq!(rule_of(&inv, &overridden, CheckId::RuntimeEndOfSupport), ("9.5".to_owned(), "error".to_owned()));
        assert_eq!(rule_of(&inv, &overridden, CheckId::SnapshotsDisabled), ("3.0".to_owned(), "note".to_owned()));
        // A check without findings keeps its default.
        assert_eq!(rule_of(&inv, &overridden, CheckId::CheckpointSlow), rule_of(&inv, &default, CheckId::CheckpointSlow));
    }
}
