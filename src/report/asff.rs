//! `findings.asff.json`: the `Findings` list a user passes to Security
//! Hub's `BatchImportFindings` (fleetscan never calls it), streamed.
//!
//! * every open or suppressed finding, `RecordState` ACTIVE, `Compliance`
//!   FAILED, `Workflow` NEW (open) or SUPPRESSED;
//! * every finding the previous run had open and this run no longer has
//!   (`since_previous.resolved`), `RecordState` ARCHIVED, `Compliance`
//!   PASSED, `Workflow` RESOLVED, so an import closes it in Security Hub.
//!
//! `Id` = the finding id (stable across runs: re-importing updates the same
//! Security Hub finding), `GeneratorId` = the check id, `ProductArn` = the
//! account's default product, `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`
//! (with the default product ARN each account imports its own findings:
//! "the identifier of the account that you are calling BatchImportFindings
//! from needs to be the same as the AwsAccountId attribute for the finding",
//! https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html).
//! Times are ISO 8601 (the run's time). Length limits of the format
//! (Title 256, Description 1024, Recommendation Text 512 characters,
//! https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html)
//! are applied by shortening.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::stream::{is_account_id, iso, one_line, run_time, shorten, JsonArray};
use crate::checks::CheckId;
use crate::collect::arn::partition_of;
use crate::findings::{Evaluation, Finding, FindingStatus};
use crate::inventory::Inventory;
use crate::severity::Severity;

pub const ASFF_SCHEMA_VERSION: &str = "2018-10-08";
/// Region for findings whose region is not a region (`global`).
const HOME_REGION: &str = "us-east-1";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffFinding<'a> {
    schema_version: &'static str,
    id: &'a str,
    product_arn: String,
    product_name: &'static str,
    company_name: &'static str,
    region: &'a str,
    generator_id: &'static str,
    aws_account_id: &'a str,
    aws_account_name: &'a str,
    types: [&'static str; 1],
    created_at: &'a str,
    updated_at: &'a str,
    severity: AsffSeverity,
    title: std::borrow::Cow<'a, str>,
    description: std::borrow::Cow<'a, str>,
    remediation: AsffRemediation,
    product_fields: BTreeMap<&'static str, String>,
    resources: [AsffResource<'a>; 1],
    compliance: AsffCompliance,
    workflow: AsffWorkflow,
    record_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffSeverity {
    label: &'static str,
    original: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffRemediation {
    recommendation: AsffRecommendation,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffRecommendation {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffResource<'a> {
    r#type: &'static str,
    id: std::borrow::Cow<'a, str>,
    partition: &'a str,
    region: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffCompliance {
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffWorkflow {
    status: &'static str,
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// The ASFF resource type for an ARN: the named types Security Hub knows
/// for what fleetscan reports on, else `Other`.
fn resource_type(arn: &str) -> &'static str {
    if is_account_id(arn) {
        return "AwsAccount";
    }
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or("");
    let resource = parts.nth(2).unwrap_or("");
    match service {
        "iam" if resource.starts_with("role/") => "AwsIamRole",
        "kms" if resource.starts_with("key/") => "AwsKmsKey",
        "s3" => "AwsS3Bucket",
        "kinesis" if resource.starts_with("stream/") => "AwsKinesisStream",
        _ => "Other",
    }
}

/// A region name, or [`HOME_REGION`] for `global` and other non-regions.
fn region_of(region: &str) -> &str {
    if region.split('-').count() >= 3 {
        region
    } else {
        HOME_REGION
    }
}

/// How one finding stands in this run.
#[derive(Clone, Copy)]
enum State {
    Current(FindingStatus),
    Resolved,
}

/// `access-undetermined` says a decision could not be made, not that a
/// control failed: `NOT_AVAILABLE` ("the check could not be performed",
/// <https://docs.aws.amazon.com/securityhub/latest/userguide/asff-top-level-attributes.html#asff-compliance>).
fn failed_or_unknown(f: &Finding) -> &'static str {
    if f.check == CheckId::AccessUndetermined {
        "NOT_AVAILABLE"
    } else {
        "FAILED"
    }
}

fn asff<'a>(f: &'a Finding, state: State, time: &'a str) -> AsffFinding<'a> {
    let doc = f.check.doc();
    let region = region_of(&f.region);
    let partition = partition_of(&f.resource_arn);
    let (compliance, workflow, record_state) = match state {
        State::Current(FindingStatus::Open) => (failed_or_unknown(f), "NEW", "ACTIVE"),
        State::Current(FindingStatus::Suppressed) => (failed_or_unknown(f), "SUPPRESSED", "ACTIVE"),
        State::Resolved => ("PASSED", "RESOLVED", "ARCHIVED"),
    };
    let mut product_fields = BTreeMap::new();
    product_fields.insert("fleetscan/check_id", f.check.as_str().to_owned());
    product_fields.insert(
        "fleetscan/status",
        match state {
            State::Current(status) => status.as_str().to_owned(),
            State::Resolved => "resolved".to_owned(),
        },
    );
    if !f.ou_path.is_empty() {
        product_fields.insert("fleetscan/ou_path", shorten(&f.ou_path, 2000).into_owned());
    }
    let evidence = f.evidence_text();
    if !evidence.is_empty() {
        product_fields.insert("fleetscan/evidence", shorten(&evidence, 2000).into_owned());
    }
    if let Some(s) = &f.suppression {
        product_fields.insert("fleetscan/suppression_reason", shorten(&s.reason, 2000).into_owned());
    }
    // Security Hub names an account as a resource `AWS::::Account:<id>`.
    let resource_id: std::borrow::Cow<'_, str> =
        if is_account_id(&f.resource_arn) { format!("AWS::::Account:{}", f.resource_arn).into() } else { f.resource_arn.as_str().into() };
    let description = if f.detail.trim().is_empty() { f.title.as_str() } else { f.detail.as_str() };
    AsffFinding {
        schema_version: ASFF_SCHEMA_VERSION,
        id: &f.finding_id,
        product_arn: format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default", account = f.account_id),
        product_name: "fleetscan",
        company_name: "fleetscan",
        region,
        generator_id: f.check.as_str(),
        aws_account_id: &f.account_id,
        aws_account_name: &f.account_name,
        types: ["Software and Configuration Checks/AWS Security Best Practices"],
        created_at: time,
        updated_at: time,
        severity: AsffSeverity { label: severity_label(f.severity), original: f.severity.as_str() },
        title: shorten(&f.title, 256),
        description: shorten(description, 1024),
        remediation: AsffRemediation {
            recommendation: AsffRecommendation { text: shorten(&one_line(doc.fix), 512).into_owned(), url: doc.references.first().copied() },
        },
        product_fields,
        resources: [AsffResource { r#type: resource_type(&f.resource_arn), id: resource_id, partition, region }],
        compliance: AsffCompliance { status: compliance },
        workflow: AsffWorkflow { status: workflow },
        record_state,
    }
}

/// Writes `findings.asff.json`: the current findings, then the resolved ones.
pub fn write_findings<W: Write>(out: W, inventory: &Inventory, evaluation: &Evaluation) -> std::io::Result<()> {
    let mut out = out;
    let time = iso(run_time(inventory));
    let mut array = JsonArray::start(&mut out)?;
    for f in &evaluation.findings {
        array.push(&asff(f, State::Current(f.status), &time))?;
    }
    for f in evaluation.since_previous.iter().flat_map(|delta| &delta.resolved) {
        array.push(&asff(f, State::Resolved, &time))?;
    }
    array.finish()?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_and_regions() {
        assert_eq!(resource_type("arn:aws:iam::111111111111:role/flink"), "AwsIamRole");
        assert_eq!(resource_type("arn:aws:kms:eu-west-1:111111111111:key/abc"), "AwsKmsKey");
        assert_eq!(resource_type("arn:aws:s3:::code-bucket"), "AwsS3Bucket");
        assert_eq!(resource_type("arn:aws:kinesis:eu-west-1:1:stream/orders"), "AwsKinesisStream");
        assert_eq!(resource_type("arn:aws:kinesisanalytics:eu-west-1:1:application/orders"), "Other");
        assert_eq!(resource_type("111111111111"), "AwsAccount");
        assert_eq!(region_of("eu-west-1"), "eu-west-1");
        assert_eq!(region_of("global"), HOME_REGION);
    }
}
