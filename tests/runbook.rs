//! The runbook sources against the emulator through the real binary: AWS
//! Health unavailable (no Business support, organizational view off) is one
//! `skipped` coverage row and never makes the run incomplete; alarms that
//! cannot be read are a coverage row like any other read, and no app is
//! judged on alarms nobody read.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::emulator::{fleet, Emulator};

fn scan(emu: &Emulator, out: &Path) -> Output {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetscan"));
    command.args(["scan", "--config", &config.display().to_string(), "--out", &out.display().to_string()]);
    command.env_remove("RUST_LOG").env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN");
    for (key, value) in emu.aws_env() {
        command.env(key, value);
    }
    command.output().expect("fleetscan runs")
}

fn demo_with(out: &Path, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(fleet("demo.json")).expect("demo")).expect("json");
    edit(&mut doc);
    let path = out.join("fleet.json");
    std::fs::write(&path, serde_json::to_string(&doc).expect("json")).expect("write");
    path
}

fn run_files(out: &Path) -> (Value, Value) {
    let run = out.join(std::fs::read_to_string(out.join("latest.txt")).expect("latest").trim());
    let findings = serde_json::from_str(&std::fs::read_to_string(run.join("findings.json")).expect("findings")).expect("json");
    let snapshot = serde_json::from_str(&std::fs::read_to_string(run.join("snapshot.json")).expect("snapshot")).expect("json");
    (findings, snapshot)
}

fn rows<'a>(snapshot: &'a Value, scope: &str) -> Vec<&'a Value> {
    snapshot["coverage"].as_array().expect("coverage").iter().filter(|r| r["scope"] == scope).collect()
}

#[test]
fn health_unavailable_is_skipped_and_the_run_stays_complete() {
    for (mode, code) in [("not-subscribed", "SubscriptionRequiredException"), ("org-view-disabled", "AccessDeniedException")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let fleet = demo_with(dir.path(), |doc| doc["health"]["mode"] = Value::from(mode));
        let emu = Emulator::start(&fleet);
        let out = dir.path().join("reports");
        let output = scan(&emu, &out);
        // 1: the demo's high findings; never 3 for Health alone
        assert_eq!(output.status.code(), Some(1), "{mode}: {}", String::from_utf8_lossy(&output.stdout));
        let (findings, snapshot) = run_files(&out);
        let health = rows(&snapshot, "health");
        assert_eq!(health.len(), 1, "{mode}: one health row");
        assert_eq!(
            (health[0]["status"].as_str(), health[0]["error_code"].as_str(), health[0]["region"].as_str()),
            (Some("skipped"), Some(code), Some("global"))
        );
        assert_eq!(findings["complete"], true, "{mode}");
        assert!(snapshot.get("health").is_none(), "{mode}: no Health view recorded");
        assert!(findings["findings"].as_array().expect("findings").iter().all(|f| f["check"] != "health-event-open"));
    }
}

#[test]
fn unreadable_alarms_are_a_coverage_row_and_judge_no_app() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = Emulator::start(&fleet("demo.json"));
    emu.set_faults(&serde_json::json!({"deny_operations": [{"service": "cloudwatch", "operation": "DescribeAlarms", "account": "210000000002"}]}));
    let out = dir.path().join("reports");
    let output = scan(&emu, &out);
    assert_eq!(output.status.code(), Some(3), "a denied read leaves the scan incomplete: {}", String::from_utf8_lossy(&output.stdout));
    let (findings, snapshot) = run_files(&out);
    let denied: Vec<_> = rows(&snapshot, "alarms").into_iter().filter(|r| r["status"] == "denied").collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["account_id"], "210000000002");
    let alarm_findings: Vec<&Value> = findings["findings"].as_array().expect("findings").iter().filter(|f| f["check"] == "alarm-missing").collect();
    assert!(alarm_findings.iter().all(|f| f["account_id"] != "210000000002"), "payments-prod is not judged on alarms nobody read");
    assert!(alarm_findings.iter().any(|f| f["account_id"] == "210000000001"), "other accounts still are");
    // the calls were the paged reads, once per account × region with apps
    let describe = emu.requests().into_iter().filter(|r| r["operation"] == "DescribeAlarms").count();
    let regions_with_apps = snapshot["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .flat_map(|a| a["regions"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["applications"].as_array().is_some_and(|apps| !apps.is_empty()))
        .count();
    assert_eq!(describe, regions_with_apps);
}
