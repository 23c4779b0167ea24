//! `findings.ocsf.json`: every open or suppressed finding as an OCSF
//! Detection Finding event (class 2004, the class Prowler emits, so the
//! pipelines that ingest Prowler's OCSF — Security Lake, SIEM tools — take these
//! too). A JSON array, one event per finding, streamed.
//!
//! Mapping: `finding_info.uid` = the finding id (stable across runs);
//! `metadata.event_code` = the check id; `cloud` = provider AWS, the
//! account (id, name, OU path as label) and region; `resources` = the
//! resource ARN; `severity_id` 1–5 from info–critical; `status_id` New (1)
//! for open, Suppressed (3) for suppressed, with the suppression reason in
//! `status_detail`; `remediation.desc` = the check's fix text with its
//! references. Classes and ids:
//! https://schema.ocsf.io/1.5.0/classes/detection_finding

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::stream::{is_account_id, iso, one_line, resource_name, run_time, JsonArray};
use crate::collect::arn::partition_of;
use crate::findings::{Evaluation, Finding, FindingStatus};
use crate::inventory::Inventory;
use crate::severity::Severity;

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";
const CLASS_UID: u32 = 2004;
const CATEGORY_UID: u32 = 2;
/// Activity Create (1): `type_uid` = class_uid × 100 + activity_id.
const ACTIVITY_CREATE: u32 = 1;

#[derive(Serialize)]
struct Event<'a> {
    metadata: Metadata<'a>,
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    status_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<&'a str>,
    message: &'a str,
    time: i64,
    time_dt: &'a str,
    finding_info: FindingInfo<'a>,
    cloud: Cloud<'a>,
    resources: [Resource<'a>; 1],
    remediation: Remediation<'a>,
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product<'a>,
    event_code: &'static str,
    profiles: [&'static str; 2],
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
    uid: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    src_url: Option<&'static str>,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<Org<'a>>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    name: &'a str,
    /// AWS Account (10).
    type_id: u8,
    r#type: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<&'a str>,
}

#[derive(Serialize)]
struct Org<'a> {
    uid: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    ou_name: &'a str,
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: &'a str,
    name: &'a str,
    region: &'a str,
    cloud_partition: &'a str,
    r#type: &'a str,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: String,
    references: &'a [&'static str],
}

/// fleetscan's own fields, kept for round trips (OCSF `unmapped`).
#[derive(Serialize)]
struct Unmapped<'a> {
    check_id: &'static str,
    subject: &'a str,
    evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression_expires: Option<String>,
}

/// OCSF `severity_id` and caption.
fn severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// OCSF `status_id` and caption.
fn status(status: FindingStatus) -> (u8, &'static str) {
    match status {
        FindingStatus::Open => (1, "New"),
        FindingStatus::Suppressed => (3, "Suppressed"),
    }
}

/// The service part of an ARN as the resource type (`kinesisanalytics`),
/// `AwsAccount` for an account id (account-wide findings), else `Other`.
fn resource_type(resource: &str) -> &str {
    if is_account_id(resource) {
        return "AwsAccount";
    }
    resource.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(1)).filter(|s| !s.is_empty()).unwrap_or("Other")
}

fn event<'a>(f: &'a Finding, inventory: &'a Inventory, time: DateTime<Utc>, time_dt: &'a str) -> Event<'a> {
    let doc = f.check.doc();
    let (severity_id, severity) = severity(f.severity);
    let (status_id, status) = status(f.status);
    let org = inventory.organization.as_ref().map(|o| Org { uid: &o.id, ou_name: &f.ou_path });
    Event {
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product { name: "fleetscan", vendor_name: "fleetscan", version: &inventory.run.tool_version, uid: "fleetscan" },
            event_code: f.check.as_str(),
            profiles: ["cloud", "datetime"],
        },
        activity_id: ACTIVITY_CREATE,
        activity_name: "Create",
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Detection Finding",
        type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
        type_name: "Detection Finding: Create",
        severity_id,
        severity,
        status_id,
        status,
        status_code: f.status.as_str(),
        status_detail: f.suppression.as_ref().map(|s| s.reason.as_str()),
        message: &f.title,
        time: time.timestamp_millis(),
        time_dt,
        finding_info: FindingInfo {
            uid: &f.finding_id,
            title: &f.title,
            desc: &f.detail,
            types: [f.check.as_str()],
            src_url: doc.references.first().copied(),
        },
        cloud: Cloud {
            provider: "AWS",
            region: &f.region,
            account: Account {
                uid: &f.account_id,
                name: &f.account_name,
                type_id: 10,
                r#type: "AWS Account",
                labels: Some(f.ou_path.as_str()).filter(|p| !p.is_empty()).into_iter().collect(),
            },
            org,
        },
        resources: [Resource {
            uid: &f.resource_arn,
            name: resource_name(&f.resource_arn),
            region: &f.region,
            cloud_partition: partition_of(&f.resource_arn),
            r#type: resource_type(&f.resource_arn),
        }],
        remediation: Remediation { desc: one_line(doc.fix), references: doc.references },
        unmapped: Unmapped {
            check_id: f.check.as_str(),
            subject: &f.subject,
            evidence: f.evidence_text(),
            suppression_expires: f.suppression.as_ref().and_then(|s| s.expires).map(|d| d.to_string()),
        },
    }
}

/// Writes `findings.ocsf.json`: one Detection Finding per open or suppressed finding.
pub fn write_findings<W: Write>(out: W, inventory: &Inventory, evaluation: &Evaluation) -> std::io::Result<()> {
    let mut out = out;
    let time = run_time(inventory);
    let time_dt = iso(time);
    let mut array = JsonArray::start(&mut out)?;
    for f in &evaluation.findings {
        array.push(&event(f, inventory, time, &time_dt))?;
    }
    array.finish()?;
    out.write_all(b"\n")
}
