//! Access findings a security review can act on, through the real binary on
//! emulator fleets: a missing input never becomes a verdict, RCPs apply only
//! where AWS applies them, and a resource is judged in the account that owns
//! it.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use support::emulator::{fleet, Emulator};
use support::run::{fleetscan, latest, text};

fn findings(run: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(run.join("findings.json")).expect("findings.json")).expect("json");
    doc["findings"].as_array().cloned().unwrap_or_default()
}

fn scan(emu: &Emulator, config: &str, out: &Path) -> (Output, PathBuf) {
    let output = fleetscan(emu, &["scan", "--config", config, "--out", &out.display().to_string()]);
    let run = latest(out);
    (output, run)
}

const VERDICTS: [&str; 5] = ["execution-role-access-denied", "cmk-service-access-denied", "drift-access-decision", "drift-scp", "drift-rcp"];

#[test]
fn unreadable_policy_targets_give_undetermined_decisions_never_false_findings() {
    let emu = Emulator::start(&fleet("demo.json"));
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml").display().to_string();
    let complete_out = tempfile::tempdir().expect("tempdir");
    let (complete, complete_run) = scan(&emu, &config, complete_out.path());
    assert_eq!(complete.status.code(), Some(1), "{}", text(&complete));
    let complete_ids: BTreeSet<String> = findings(&complete_run).iter().filter_map(|f| f["finding_id"].as_str().map(str::to_owned)).collect();

    // The audit role may not read where organization policies are attached.
    emu.set_faults(&json!({"deny_operations": [
        {"service": "organizations", "operation": "ListTargetsForPolicy"},
        {"service": "organizations", "operation": "ListPoliciesForTarget"}]}));
    let partial_out = tempfile::tempdir().expect("tempdir");
    let (partial, partial_run) = scan(&emu, &config, partial_out.path());
    assert_eq!(partial.status.code(), Some(3), "incomplete: {}", text(&partial));
    let partial_findings = findings(&partial_run);
    let invented: Vec<&Value> = partial_findings
        .iter()
        .filter(|f| VERDICTS.contains(&f["check"].as_str().unwrap_or_default()))
        .filter(|f| !complete_ids.contains(f["finding_id"].as_str().unwrap_or_default()))
        .collect();
    assert!(invented.is_empty(), "findings the complete run does not have: {invented:#?}");
    let undetermined: Vec<&Value> = partial_findings.iter().filter(|f| f["check"] == "access-undetermined").collect();
    assert!(!undetermined.is_empty(), "access-undetermined names what is missing");
    let detail = undetermined[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("organizations:ListTargetsForPolicy") && detail.contains("AccessDeniedException"), "{detail}");
    assert_eq!(undetermined[0]["severity"], "low");
    // The chains are not compared: a drift row says which side is unknown.
    let drift = std::fs::read_to_string(partial_run.join("drift.csv")).expect("drift.csv");
    assert!(drift.lines().any(|l| l.contains(",scp,all levels,") && l.contains("unknown")), "{drift}");
}

fn ownership_config(dir: &Path) -> String {
    let path = dir.join("fleetscan.toml");
    std::fs::write(&path, "[aws]\nrole_name = \"OrganizationAccountAccessRole\"\nregions = [\"us-east-1\"]\n").expect("config");
    path.display().to_string()
}

#[test]
fn rcps_only_where_aws_applies_them_and_resources_judged_by_their_owner() {
    let emu = Emulator::start(&fleet("ownership.json"));
    let out = tempfile::tempdir().expect("tempdir");
    let config = ownership_config(out.path());
    let (output, run) = scan(&emu, &config, &out.path().join("reports"));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let coverage = std::fs::read_to_string(run.join("coverage.csv")).expect("coverage.csv");
    let incomplete: Vec<&str> = coverage.lines().skip(1).filter(|l| !l.contains(",ok,") && !l.contains(",region-disabled,")).collect();
    assert!(incomplete.is_empty(), "the central bucket is read by its owner, coverage complete: {incomplete:#?}");

    let all = findings(&run);
    let denied: Vec<(&str, &str)> = all
        .iter()
        .filter(|f| f["check"] == "execution-role-access-denied")
        .map(|f| (f["resource_arn"].as_str().unwrap_or_default(), f["title"].as_str().unwrap_or_default()))
        .collect();
    // The lab RCP denies everything to untagged principals, but RCPs govern
    // S3 and not Kinesis or CloudWatch: only the code reads are denied.
    assert_eq!(denied.len(), 2, "{denied:#?}");
    for (resource, title) in &denied {
        assert!(resource.ends_with(":application/sensors-lab"), "{resource}");
        assert!(title.contains("s3:GetObject") && title.contains("RCP LabPerimeter"), "{title}");
    }
    assert!(!all.iter().any(|f| f["check"] == "access-undetermined"), "{all:#?}");

    // The app whose code sits in the artifacts account's bucket is allowed,
    // by the bucket policy its owner returned.
    let of_central = |f: &&Value| f["resource_arn"].as_str().is_some_and(|r| r.ends_with(":application/payments-central-code"));
    let central: Vec<&Value> = all.iter().filter(of_central).filter(|f| f["check"].as_str().is_some_and(|c| c.contains("access"))).collect();
    assert!(central.is_empty(), "payments-central-code may read its code from the artifacts account: {central:#?}");
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(run.join("snapshot.json")).expect("json")).expect("json");
    let artifacts = snapshot["accounts"].as_array().into_iter().flatten().find(|a| a["name"] == "artifacts").expect("artifacts account");
    let bucket = artifacts["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["arn"] == "arn:aws:s3:::central-artifacts-555555555555");
    let bucket = bucket.expect("the central bucket is recorded under its owner");
    assert!(bucket["policy"].is_object() && bucket["unread"].is_null(), "{bucket}");
    // Read with the owner's credentials: no GetBucketPolicy was refused.
    let refused: Vec<Value> = emu
        .requests()
        .into_iter()
        .filter(|r| r["operation"] == "GetBucketPolicy" && r["status"].as_u64() == Some(403))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
}
