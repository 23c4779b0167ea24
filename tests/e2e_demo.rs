//! End to end through the real binary: the demo Organization in the
//! emulator (prod and dev twins that differ the way a real incident does),
//! scanned with `config/demo.toml`; then the fleet changes overnight and a
//! second scan and `fleetscan diff` report exactly what changed.

mod support;

use std::path::Path;

use serde_json::Value;
use support::emulator::{fleet, Emulator};
use support::run::{fleetscan, latest, text};

fn demo_config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml").display().to_string()
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().expect("header").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn column<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let index = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    &row[index]
}

#[test]
fn demo_prod_vs_dev_and_night_over_night() {
    let emu = Emulator::start(&fleet("demo.json"));
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().display().to_string();
    let config = demo_config();

    let first = fleetscan(&emu, &["scan", "--config", &config, "--out", &out_dir]);
    assert_eq!(first.status.code(), Some(1), "findings at or above high exit 1\n{}", text(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("Report: ") && stdout.contains("report.html"), "summary names the report: {stdout}");
    let run1 = latest(out.path());

    // Every file of SPEC §8, with the contract columns first.
    for (file, columns) in [
        ("findings.csv", "finding_id,check_id,severity,status,account_id,account_name,ou_path,region,resource_arn,title,detail,evidence"),
        ("apps.csv", "account_id,account_name,ou_path,region,application_name,application_arn,status,runtime,checkpointing_enabled,checkpoint_interval_ms,min_pause_ms,snapshots_enabled,latest_snapshot_at,failed_checkpoints,max_checkpoint_duration_ms,execution_role_arn,permissions_boundary_arn,encryption_key_type,encryption_key_arn"),
        ("drift.csv", "comparison,baseline_account_id,target_account_id,application,dimension,subject,baseline,target,explanation"),
        ("coverage.csv", "account_id,account_name,region,scope,status,error_code,request_id,detail"),
    ] {
        let (header, _) = csv_rows(&run1.join(file));
        assert!(header.join(",").starts_with(columns), "{file} header: {}", header.join(","));
    }
    for file in ["report.html", "findings.json", "snapshot.json"] {
        assert!(run1.join(file).is_file(), "{file} written");
    }
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(run1.join("snapshot.json")).expect("snapshot")).expect("json");
    assert!(snapshot.as_object().and_then(|o| o.keys().next()).is_some_and(|k| k == "schema_version"));

    let (ch, coverage) = csv_rows(&run1.join("coverage.csv"));
    assert!(!coverage.is_empty());
    for row in &coverage {
        assert_eq!(column(&ch, row, "status"), "ok", "coverage row {row:?}");
    }

    // Prod differs from dev by an SCP on a nested OU, a narrower boundary,
    // checkpointing disabled and a key policy without the service principals.
    let (dh, drift) = csv_rows(&run1.join("drift.csv"));
    let orders: Vec<&Vec<String>> = drift.iter().filter(|r| column(&dh, r, "comparison") == "orders").collect();
    let has =
        |dimension: &str, needle: &str| orders.iter().any(|r| column(&dh, r, "dimension") == dimension && r.iter().any(|cell| cell.contains(needle)));
    assert!(has("scp", "OrdersProdEuMigration"), "SCP on Root/Workloads/Prod/Orders: {orders:#?}");
    assert!(has("scp", "Root/Workloads/Prod/Orders"), "SCP level named by OU path");
    assert!(orders.iter().any(|r| column(&dh, r, "dimension") == "permission-boundary"), "boundary differs");
    assert!(has("checkpoint-config", "checkpointing enabled"), "checkpointing differs");
    assert!(has("resource-policy", "KMS key"), "key policy differs");
    assert!(orders.iter().any(|r| column(&dh, r, "dimension") == "access-decision"), "access decisions differ");

    let (fh, findings) = csv_rows(&run1.join("findings.csv"));
    let of = |check: &str, account: &str| -> Vec<&Vec<String>> {
        findings.iter().filter(|r| column(&fh, r, "check_id") == check && column(&fh, r, "account_name") == account).collect()
    };
    assert_eq!(of("checkpointing-disabled", "prod-orders").len(), 1);
    assert!(!of("cmk-service-access-denied", "prod-orders").is_empty(), "key policy lacks the service principals");
    let denied = of("execution-role-access-denied", "prod-orders");
    assert!(
        denied.iter().any(|r| {
            let evidence = format!("{} {}", column(&fh, r, "detail"), column(&fh, r, "evidence"));
            evidence.contains("OrdersProdEuMigration")
                && evidence.contains("DenyStreamReadsOutsideEu")
                && evidence.contains("Root/Workloads/Prod/Orders")
        }),
        "a denied action names the exact SCP, statement and OU: {denied:#?}"
    );
    for dev in ["dev-orders", "dev-payments", "dev-analytics"] {
        assert!(of("execution-role-access-denied", dev).is_empty(), "{dev} is healthy: {:#?}", of("execution-role-access-denied", dev));
        assert!(of("cmk-service-access-denied", dev).is_empty(), "{dev} key policy is fine");
    }
    let suppressed: Vec<_> = findings.iter().filter(|r| column(&fh, r, "status") == "suppressed").collect();
    assert_eq!(suppressed.len(), 1, "the demo's one suppression applies");

    // The runbook: causes first, alarms with thresholds from history, AWS Health beside the failing app.
    let high: Vec<&Vec<String>> = findings.iter().filter(|r| column(&fh, r, "severity") == "high" && column(&fh, r, "status") == "open").collect();
    let high_causes: std::collections::BTreeSet<&str> = high.iter().map(|r| column(&fh, r, "cause_id")).collect();
    assert_eq!((high.len(), high_causes.len()), (34, 6), "the demo's 34 high findings come from 6 causes (README)");
    assert!(stdout.contains(" findings from ") && stdout.contains(" causes."), "summary counts causes: {stdout}");
    let findings_json: Value = serde_json::from_str(&std::fs::read_to_string(run1.join("findings.json")).expect("findings.json")).expect("json");
    let scp_cause = findings_json["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .find(|c| c["what"].as_str().unwrap_or_default().contains("OrdersProdEuMigration"))
        .expect("the SCP statement is a cause");
    assert_eq!(scp_cause["where"], "Root/Workloads/Prod/Orders (ou-demo-267izdc7)", "{scp_cause}");
    let alarm = |account: &str| -> Option<String> { of("alarm-missing", account).first().map(|r| column(&fh, r, "evidence").to_owned()) };
    let payments = alarm("prod-payments").expect("payments-prod has no alarm");
    assert!(payments.contains("missing: failed-checkpoints, checkpoint-duration, restarts"), "{payments}");
    let duration_command = payments.split("command checkpoint-duration: ").nth(1).unwrap_or_default();
    let threshold = duration_command.split("--threshold ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or_default();
    assert!(threshold.parse::<u64>().is_ok_and(|ms| ms > 0), "computed threshold in the command: {payments}");
    let orders_alarm = alarm("prod-orders").expect("orders-prod's failed-checkpoint alarm has actions disabled");
    assert!(orders_alarm.contains("missing: failed-checkpoints;") && orders_alarm.contains("has its actions disabled"), "{orders_alarm}");
    assert!(
        of("alarm-missing", "prod-analytics").iter().all(|r| !column(&fh, r, "resource_arn").ends_with("/sessionizer-prod")),
        "sessionizer-prod has all three alarms"
    );
    let health = of("health-event-open", "prod-payments");
    assert_eq!(health.len(), 1, "the open Health event shows beside payments-prod");
    assert!(column(&fh, health[0], "resource_arn").ends_with("application/payments-prod"));
    let failing = of("checkpoint-failures", "prod-payments");
    assert!(
        column(&fh, failing[0], "evidence").contains("AWS Health: open AWS_KINESISANALYTICS_OPERATIONAL_ISSUE"),
        "the failing app's checkpoint finding names the event"
    );
    assert!(coverage.iter().any(|r| column(&ch, r, "scope") == "health" && column(&ch, r, "status") == "ok"));

    // Every call the scan made is covered by the least-privilege audit
    // policies shipped in config/iam (sts:GetCallerIdentity needs none).
    let policy_actions: Vec<String> = ["fleetscan-org-read.json", "fleetscan-member-read.json"]
        .iter()
        .flat_map(|file| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam").join(file);
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("policy")).expect("json");
            doc["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|st| match &st["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Array(list) => list.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect(),
                    _ => vec![],
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let stackset = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam/fleetscan-audit-stackset.yaml")).expect("stackset");
    let calls = snapshot["run"]["api_calls"].as_object().expect("api_calls");
    assert!(calls.len() > 10, "call counter filled: {calls:?}");
    // API operations whose IAM action has another name.
    let iam_action = |operation: &str| match operation {
        "s3:ListBuckets" => "s3:ListAllMyBuckets".to_owned(),
        other => other.to_owned(),
    };
    for operation in calls.keys().filter(|a| *a != "sts:GetCallerIdentity") {
        let action = &iam_action(operation);
        assert!(policy_actions.contains(action), "{action} is not in config/iam policies");
        // Organizations, STS and the Health organizational view are called with the management credentials.
        if !action.starts_with("organizations:") && !action.starts_with("sts:") && !action.starts_with("health:") {
            assert!(stackset.contains(action.as_str()), "{action} is not granted by the StackSet role");
        }
    }

    // fleetscan only reads: after seeding, the emulator saw no write call.
    for request in emu.requests() {
        let operation = request["operation"].as_str().unwrap_or_default();
        let read = ["List", "Describe", "Get"].iter().any(|p| operation.starts_with(p)) || operation == "AssumeRole";
        assert!(read, "write call made: {request}");
    }

    // Overnight: a guardrail SCP is edited and a new app appears in dev-payments.
    let mut next: Value = serde_json::from_str(&std::fs::read_to_string(fleet("demo.json")).expect("demo fleet")).expect("json");
    let policies = next["organization"]["policies"].as_array_mut().expect("policies");
    let guardrails = policies.iter_mut().find(|p| p["name"] == "ProdGuardrails").expect("ProdGuardrails");
    guardrails["document"]["Statement"][0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] =
        serde_json::json!(["us-east-1", "eu-west-1", "eu-central-1"]);
    let accounts = next["accounts"].as_array_mut().expect("accounts");
    let dev_payments = accounts.iter_mut().find(|a| a["name"] == "dev-payments").expect("dev-payments");
    let apps = dev_payments["applications"].as_array_mut().expect("applications");
    let mut added = apps[0].clone();
    added["name"] = Value::from("refunds-dev");
    apps.push(added);
    let next_path = out.path().join("demo-next-night.json");
    std::fs::write(&next_path, serde_json::to_string_pretty(&next).expect("json")).expect("write fleet");
    emu.apply_fleet(&next_path);

    let second = fleetscan(&emu, &["scan", "--config", &config, "--out", &out_dir]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stdout).contains("Since "), "second run compares with the first: {}", text(&second));
    let run2 = latest(out.path());
    assert_ne!(run1, run2);
    let report2 = std::fs::read_to_string(run2.join("report.html")).expect("report");
    assert!(report2.contains("<svg id=\"trend-chart\"") && report2.contains("last 2 runs of this output folder"), "the trend has two points");

    let diff = fleetscan(
        &emu,
        &["diff", &run1.join("snapshot.json").display().to_string(), &run2.join("snapshot.json").display().to_string(), "--config", &config],
    );
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    let report = String::from_utf8_lossy(&diff.stdout);
    let changes: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("Inventory changes:"))
        .skip(1)
        .filter(|l| l.starts_with("  ") && !l.starts_with("      "))
        .collect();
    assert!(changes.iter().any(|l| l.contains("app-added") && l.contains("refunds-dev")), "app added: {report}");
    assert!(changes.iter().any(|l| l.contains("policy-changed") && l.contains("ProdGuardrails")), "policy edited: {report}");
    assert_eq!(changes.len(), 2, "exactly those two changes: {report}");
}
