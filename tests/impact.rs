//! `fleetscan impact` through the real binary, on the snapshot of a scan of
//! the demo Organization in the emulator.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use support::emulator::{fleet, Emulator};
use support::run::{fleetscan, latest, text};

fn impact(snapshot: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetscan"))
        .arg("impact")
        .arg("--snapshot")
        .arg(snapshot)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("fleetscan runs")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("impact JSON: {e}\n{}", text(output)))
}

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).expect("write policy");
    path.display().to_string()
}

fn apps(report: &Value) -> BTreeSet<String> {
    report["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["application_arn"].as_str())
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
        .collect()
}

fn demo_snapshot(dir: &Path) -> PathBuf {
    let emu = Emulator::start(&fleet("demo.json"));
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml").display().to_string();
    let out = dir.join("reports");
    let scan = fleetscan(&emu, &["scan", "--config", &config, "--out", &out.display().to_string()]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan));
    latest(&out).join("snapshot.json")
}

#[test]
fn policy_changes_against_the_demo_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = demo_snapshot(dir.path());
    let policies = dir.path();

    // A Deny on Kinesis writes at the dev OU: exactly the dev apps that write
    // and whose roles are not exempted lose them; exit 1.
    let deny_writes = |exempt_team: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoKinesisWrites", "Effect": "Deny",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": exempt_team}}}]})
    };
    let file = write(policies, "DenyDevKinesisWrites.json", &deny_writes("platform"));
    let out = impact(&snapshot, &["--attach", &file, "--to", "Root/Workloads/Dev", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json_of(&out);
    assert_eq!(apps(&report), BTreeSet::from(["orders-dev".to_owned()]), "{report:#}");
    for change in report["changes"].as_array().into_iter().flatten() {
        assert_eq!((change["before"].as_str(), change["after"].as_str()), (Some("Allowed"), Some("ExplicitlyDenied")), "{change}");
        assert!(change["action"].as_str().is_some_and(|a| a.starts_with("kinesis:PutRecord")), "{change}");
        for key in ["application_arn", "account_id", "region", "action", "resource", "before", "after", "deciding"] {
            assert!(!change[key].is_null(), "contract key {key} in {change}");
        }
        assert!(change["deciding"].to_string().contains("DenyDevKinesisWrites"), "{change}");
    }
    assert_eq!(report["summary"]["apps_losing"], 1);
    assert_eq!(report["summary"]["actions_losing"], 2);
    // The same policy exempting the orders team's roles breaks nothing.
    let exempt = write(policies, "DenyDevKinesisWritesExceptOrders.json", &deny_writes("orders"));
    let out = impact(&snapshot, &["--attach", &exempt, "--to", "Root/Workloads/Dev"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No required action changes its decision"), "{}", text(&out));

    // Detaching the SCP that blocks orders-prod's stream reads: they become
    // allowed, nothing becomes denied; exit 0. The text report names the app.
    let out = impact(
        &snapshot,
        &["--detach", "OrdersProdEuMigration", "--from", "Root/Workloads/Prod/Orders", "--out", &dir.path().join("page").display().to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("orders-prod") && stdout.contains("kinesis:GetRecords") && stdout.contains("ExplicitlyDenied → Allowed"), "{stdout}");
    let page = std::fs::read_to_string(dir.path().join("page/impact.html")).expect("impact.html");
    assert!(page.contains("orders-prod") && page.contains("Content-Security-Policy"), "the page is written in the report's style");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("page/impact.json")).expect("impact.json")).expect("json");
    assert_eq!(apps(&written), BTreeSet::from(["orders-prod".to_owned()]));

    // Replacing prod-orders' boundary changes exactly the role that uses it.
    let boundary = "arn:aws:iam::210000000001:policy/flink-boundary";
    let wide =
        write(policies, "boundary-v2.json", &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
    let out = impact(&snapshot, &["--replace", boundary, "--with", &wide, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json_of(&out);
    assert_eq!(apps(&report), BTreeSet::from(["orders-prod".to_owned()]), "{report:#}");
    assert!(report["summary"]["actions_gaining"].as_u64().is_some_and(|n| n > 0), "{report:#}");

    // Bad input: a clear error, exit 2, nothing printed as a result.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"Statement\": [").expect("write");
    let broken = broken.display().to_string();
    for (args, want) in [
        (vec!["--attach", file.as_str(), "--to", "Root/NoSuchOu"], "Root/NoSuchOu: no root, OU or account"),
        (vec!["--detach", "NoSuchPolicy", "--from", "Root"], "NoSuchPolicy: no organization policy"),
        (vec!["--attach", broken.as_str(), "--to", "Root/Workloads/Dev"], "not a valid IAM policy"),
        (vec!["--detach", "FullAWSAccess", "--from", "Root/Workloads/Dev"], "last SCP attached to Root/Workloads/Dev"),
        (vec!["--detach", "RCPFullAWSAccess", "--from", "Root"], "cannot be detached"),
        (vec!["--attach", file.as_str()], "needs --to TARGET"),
        (vec!["--to", "Root"], "--to Root must follow an --attach FILE"),
        (vec![], "no change given"),
    ] {
        let out = impact(&snapshot, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{args:?}: want {want:?} in\n{stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing half-applied is printed");
    }
}
