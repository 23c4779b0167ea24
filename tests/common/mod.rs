//! Synthetic fleets for report tests: a small one with every kind of row
//! (and a hostile account name), and a large one (5,000 accounts, 10,000
//! apps) for the size bound. Deterministic: fixed times, no randomness.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use fleetscan::checks::catalog::CheckId;
use fleetscan::findings::{AppliedSuppression, DriftRow, Evaluation, Evidence, Finding, FindingStatus, NotChecked, RunDelta};
use fleetscan::inventory::*;
use fleetscan::severity::Severity;
use serde_json::json;

pub const HOSTILE: &str = "<img src=x onerror=alert(1)>";

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T19:30:00Z").unwrap().with_timezone(&Utc)
}

fn policy_level(id: &str, name: &str, policies: &[&str]) -> PolicyLevel {
    PolicyLevel {
        target_id: id.into(),
        target_name: name.into(),
        policy_ids: policies.iter().map(|s| (*s).into()).collect(),
        maybe_policy_ids: Vec::new(),
        unlisted: false,
    }
}

/// Metric series over a 24 h window at 5-minute points.
pub fn metrics(seed: u64, failures_at: &[usize], duration_base: f64, spike: Option<(usize, f64)>) -> CheckpointMetrics {
    let start = t0() - Duration::hours(24);
    let mut failed = Vec::new();
    let mut duration = Vec::new();
    let mut cumulative = 3.0;
    for i in 0..288usize {
        let at = start + Duration::minutes(5 * i as i64);
        if failures_at.contains(&i) {
            cumulative += 1.0 + (i % 3) as f64;
        }
        failed.push(MetricPoint { at, value: cumulative });
        let wobble = ((i as u64 * 7919 + seed * 104_729) % 97) as f64 / 97.0;
        let mut d = duration_base * (0.7 + 0.6 * wobble);
        if let Some((at_i, value)) = spike {
            if i.abs_diff(at_i) < 6 {
                d = value;
            }
        }
        duration.push(MetricPoint { at, value: d.round() });
    }
    let mut metrics = CheckpointMetrics { window_start: Some(start), window_end: Some(t0()), period_secs: 300, series: BTreeMap::new() };
    metrics.set_points(metric_names::FAILED_CHECKPOINTS, failed);
    metrics.set_points(metric_names::CHECKPOINT_DURATION, duration);
    metrics
}

pub fn app(
    account: &str,
    region: &str,
    name: &str,
    custom: Option<(bool, i64, i64)>,
    snapshots: bool,
    cmk: bool,
    metrics: Option<CheckpointMetrics>,
) -> FlinkApp {
    let checkpoint = match custom {
        Some((enabled, interval, pause)) => CheckpointConfig::from_api("CUSTOM", Some(enabled), Some(interval), Some(pause)),
        None => CheckpointConfig::from_api("DEFAULT", None, None, None),
    };
    FlinkApp {
        name: name.into(),
        arn: format!("arn:aws:kinesisanalytics:{region}:{account}:application/{name}"),
        status: "RUNNING".into(),
        runtime: "FLINK-1_18".into(),
        version_id: Some(4),
        execution_role_arn: Some(format!("arn:aws:iam::{account}:role/flink-{name}")),
        checkpoint,
        snapshots_enabled: snapshots,
        snapshots: vec![
            Snapshot {
                name: "nightly-2".into(),
                status: "CREATING".into(),
                created_at: Some(t0() - Duration::hours(1)),
                application_version_id: Some(4),
                runtime: None,
            },
            Snapshot {
                name: "nightly-1".into(),
                status: "READY".into(),
                created_at: Some(t0() - Duration::hours(20)),
                application_version_id: Some(4),
                runtime: None,
            },
            Snapshot {
                name: "nightly-0".into(),
                status: "READY".into(),
                created_at: Some(t0() - Duration::hours(44)),
                application_version_id: Some(3),
                runtime: None,
            },
        ],
        encryption: if cmk {
            Encryption {
                key_type: "CUSTOMER_MANAGED_KEY".into(),
                key_arn: Some(format!("arn:aws:kms:{region}:{account}:key/0b4c-{name}")),
            }
        } else {
            Encryption { key_type: "AWS_OWNED_KEY".into(), key_arn: None }
        },
        metrics,
        ..Default::default()
    }
}

fn account(id: &str, name: &str, ou: &str, parents: &[&str], regions: Vec<RegionInventory>, scps: Vec<PolicyLevel>, boundary: bool) -> Account {
    let roles = regions
        .iter()
        .flat_map(|r| r.applications.iter())
        .filter_map(|a| a.execution_role_arn.clone())
        .map(|arn| Role {
            name: arn.rsplit('/').next().unwrap_or_default().to_owned(),
            arn,
            path: "/".into(),
            permissions_boundary_arn: boundary.then(|| format!("arn:aws:iam::{id}:policy/flink-boundary")),
            ..Default::default()
        })
        .collect();
    Account {
        id: id.into(),
        name: name.into(),
        email: None,
        status: "ACTIVE".into(),
        ou_path: ou.into(),
        parent_ids: parents.iter().map(|s| s.to_string()).collect(),
        tags: BTreeMap::new(),
        is_management: false,
        scan: ScanDecision::AssumedRole { role_arn: format!("arn:aws:iam::{id}:role/fleetscan-audit") },
        rcp_chain: vec![policy_level("r-ab12", "Root", &["p-rcpfull"]), policy_level(id, name, &[])],
        scp_chain: scps,
        roles,
        managed_policies: vec![],
        resources: vec![],
        regions,
    }
}

fn coverage(account_id: &str, name: &str, region: &str, scope: &str, status: CoverageStatus) -> CoverageRow {
    let failed = status != CoverageStatus::Ok;
    CoverageRow {
        account_id: account_id.into(),
        account_name: name.into(),
        region: region.into(),
        scope: scope.into(),
        status,
        error_code: failed.then(|| "AccessDenied".into()),
        request_id: failed.then(|| "7c0e4b1a-1111-4d2e-9a0b-000000000001".to_owned()),
        detail: failed.then(|| "User: arn:aws:sts::111111111111:assumed-role/x is not authorized to perform: sts:AssumeRole".to_owned()),
        at: t0(),
    }
}

fn run_info(regions: &[&str]) -> RunInfo {
    let mut api_calls = BTreeMap::new();
    for (k, v) in [
        ("organizations:ListAccountsForParent", 4),
        ("sts:AssumeRole", 4),
        ("kinesisanalyticsv2:DescribeApplication", 6),
        ("cloudwatch:GetMetricData", 4),
    ] {
        api_calls.insert(k.to_owned(), v);
    }
    RunInfo {
        run_id: "20261125T193000Z".into(),
        tool_version: "0.1.0".into(),
        started_at: Some(t0() - Duration::seconds(95)),
        finished_at: Some(t0()),
        caller_arn: Some("arn:aws:sts::111111111111:assumed-role/Auditor/alice".into()),
        config_digest: Some("9f2c1e0d5b7a4c3e".into()),
        regions: regions.iter().map(|s| s.to_string()).collect(),
        metrics_window_start: Some(t0() - Duration::hours(24)),
        metrics_window_end: Some(t0()),
        api_calls,
        interrupted: None,
    }
}

fn org_policy(id: &str, name: &str, kind: OrgPolicyKind, doc: serde_json::Value, targets: &[&str]) -> OrgPolicy {
    OrgPolicy {
        id: id.into(),
        name: name.into(),
        kind,
        aws_managed: id.ends_with("full"),
        document: PolicyDoc::from_json(doc),
        targets: targets.iter().map(|s| s.to_string()).collect(),
        targets_unread: None,
    }
}

/// A small fleet: dev and prod twins, an analytics account, an account with a
/// hostile name, one account that denied AssumeRole.
pub fn small_inventory() -> Inventory {
    let allow_all = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let deny_regions = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyOutsideEU", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]});
    let deny_kms =
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyKmsGrants", "Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"}]});
    let organization = Organization {
        id: "o-abc123".into(),
        arn: None,
        management_account_id: "111111111111".into(),
        root_id: "r-ab12".into(),
        organizational_units: vec![
            OrgUnit {
                id: "ou-ab12-work".into(),
                name: "Workloads".into(),
                parent_id: "r-ab12".into(),
                path: "Root/Workloads".into(),
            },
            OrgUnit {
                id: "ou-ab12-prod".into(),
                name: "Prod".into(),
                parent_id: "ou-ab12-work".into(),
                path: "Root/Workloads/Prod".into(),
            },
            OrgUnit {
                id: "ou-ab12-dev".into(),
                name: "Dev".into(),
                parent_id: "ou-ab12-work".into(),
                path: "Root/Workloads/Dev".into(),
            },
        ],
        policies: vec![
            org_policy(
                "p-FullAWSAccess",
                "FullAWSAccess",
                OrgPolicyKind::ServiceControlPolicy,
                allow_all.clone(),
                &["r-ab12", "ou-ab12-work", "ou-ab12-prod", "ou-ab12-dev"],
            ),
            org_policy("p-denyregions", "DenyOutsideEU", OrgPolicyKind::ServiceControlPolicy, deny_regions, &["ou-ab12-prod"]),
            org_policy("p-denykms", "DenyKmsGrants", OrgPolicyKind::ServiceControlPolicy, deny_kms, &["222222222222"]),
            org_policy("p-rcpfull", "RCPFullAWSAccess", OrgPolicyKind::ResourceControlPolicy, allow_all, &["r-ab12"]),
        ],
        policies_unread: Default::default(),
    };
    let chain = |leaf_ou: (&str, &str), account: (&str, &str), extra: &[&str], account_extra: &[&str]| {
        let mut ou = vec!["p-FullAWSAccess"];
        ou.extend_from_slice(extra);
        let mut acct = vec!["p-FullAWSAccess"];
        acct.extend_from_slice(account_extra);
        vec![
            policy_level("r-ab12", "Root", &["p-FullAWSAccess"]),
            policy_level("ou-ab12-work", "Workloads", &["p-FullAWSAccess"]),
            policy_level(leaf_ou.0, leaf_ou.1, &ou),
            policy_level(account.0, account.1, &acct),
        ]
    };
    let dev = account(
        "111122223333",
        "dev-orders",
        "Root/Workloads/Dev",
        &["r-ab12", "ou-ab12-work", "ou-ab12-dev"],
        vec![RegionInventory {
            region: "eu-west-1".into(),
            applications: vec![
                app("111122223333", "eu-west-1", "orders-enricher-dev", None, true, true, Some(metrics(1, &[], 4_000.0, None))),
                app("111122223333", "eu-west-1", "orders-sink-dev", Some((true, 30_000, 5_000)), true, false, Some(metrics(2, &[], 2_500.0, None))),
            ],
            alarms: None,
        }],
        chain(("ou-ab12-dev", "Dev"), ("111122223333", "dev-orders"), &[], &[]),
        false,
    );
    let mut enricher = app(
        "222222222222",
        "eu-west-1",
        "orders-enricher-prod",
        Some((true, 20_000, 5_000)),
        true,
        true,
        Some(metrics(3, &[40, 41, 120, 200, 201, 202], 9_000.0, Some((210, 19_000.0)))),
    );
    enricher.status = "RUNNING".into();
    let mut sink =
        app("222222222222", "eu-west-1", "orders-sink-prod", Some((false, 30_000, 5_000)), false, false, Some(metrics(4, &[], 2_500.0, None)));
    sink.runtime = "FLINK-1_13".into();
    let prod = account(
        "222222222222",
        "prod-orders",
        "Root/Workloads/Prod",
        &["r-ab12", "ou-ab12-work", "ou-ab12-prod"],
        vec![
            RegionInventory { region: "eu-west-1".into(), applications: vec![enricher, sink], alarms: None },
            RegionInventory { region: "us-east-1".into(), applications: vec![], alarms: None },
        ],
        chain(("ou-ab12-prod", "Prod"), ("222222222222", "prod-orders"), &["p-denyregions"], &["p-denykms"]),
        true,
    );
    let hostile = account(
        "333333333333",
        HOSTILE,
        "Root/Workloads/Dev",
        &["r-ab12", "ou-ab12-work", "ou-ab12-dev"],
        vec![RegionInventory {
            region: "eu-west-1".into(),
            applications: vec![app("333333333333", "eu-west-1", "=cmd|' /C calc'!A0", None, true, false, None)],
            alarms: None,
        }],
        chain(("ou-ab12-dev", "Dev"), ("333333333333", HOSTILE), &[], &[]),
        false,
    );
    let mut denied = account("444444444444", "analytics-sandbox", "Root/Sandbox", &["r-ab12"], vec![], vec![], false);
    denied.scan = ScanDecision::AssumedRole { role_arn: "arn:aws:iam::444444444444:role/fleetscan-audit".into() };

    let mut cov = Vec::new();
    for (id, name) in [("111122223333", "dev-orders"), ("222222222222", "prod-orders"), ("333333333333", HOSTILE)] {
        cov.push(coverage(id, name, GLOBAL_REGION, "assume-role", CoverageStatus::Ok));
        cov.push(coverage(id, name, GLOBAL_REGION, "iam", CoverageStatus::Ok));
        cov.push(coverage(id, name, "eu-west-1", "flink", CoverageStatus::Ok));
        cov.push(coverage(id, name, "eu-west-1", "cloudwatch", CoverageStatus::Ok));
    }
    cov.push(coverage("444444444444", "analytics-sandbox", GLOBAL_REGION, "assume-role", CoverageStatus::Denied));
    let mut throttled = coverage("222222222222", "prod-orders", "us-east-1", "flink", CoverageStatus::Throttled);
    throttled.error_code = Some("ThrottlingException".into());
    throttled.detail = Some("Rate exceeded after 8 attempts".into());
    cov.push(throttled);

    Inventory {
        schema_version: SCHEMA_VERSION,
        run: run_info(&["eu-west-1", "us-east-1"]),
        organization: Some(organization),
        accounts: vec![dev, prod, hostile, denied],
        coverage: cov,
        health: None,
    }
}

pub fn finding(
    check: CheckId,
    severity: Severity,
    account_id: &str,
    account_name: &str,
    ou: &str,
    region: &str,
    resource: &str,
    subject: &str,
    title: &str,
    detail: &str,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        finding_id: Finding::id_for(check, account_id, region, resource, subject).into(),
        check,
        severity,
        status: FindingStatus::Open,
        account_id: account_id.into(),
        account_name: account_name.into(),
        ou_path: ou.into(),
        region: region.into(),
        resource_arn: resource.into(),
        subject: subject.into(),
        title: title.into(),
        detail: detail.into(),
        evidence,
        suppression: None,
        expired_suppression: None,
    }
}

fn open_by_severity(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut map = BTreeMap::new();
    for f in findings.iter().filter(|f| f.status == FindingStatus::Open) {
        *map.entry(f.severity).or_insert(0) += 1;
    }
    map
}

pub fn small_evaluation() -> Evaluation {
    let prod_app = "arn:aws:kinesisanalytics:eu-west-1:222222222222:application/orders-enricher-prod";
    let sink = "arn:aws:kinesisanalytics:eu-west-1:222222222222:application/orders-sink-prod";
    let hostile_app = "arn:aws:kinesisanalytics:eu-west-1:333333333333:application/=cmd|' /C calc'!A0";
    let prod_ou = "Root/Workloads/Prod";
    let mut findings = vec![
        finding(
            CheckId::CheckpointFailures,
            Severity::High,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            prod_app,
            "numberOfFailedCheckpoints",
            "Checkpoints failed in the lookback window",
            "numberOfFailedCheckpoints rose by 14 in the last 24 h.",
            vec![Evidence::new("increase", "14"), Evidence::new("window", "2026-11-24T19:30Z – 2026-11-25T19:30Z")],
        ),
        finding(
            CheckId::CmkServiceAccessDenied,
            Severity::High,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            prod_app,
            "kms:CreateGrant",
            "Customer managed key does not let Managed Flink use it",
            "infrastructure.kinesisanalytics.amazonaws.com cannot kms:CreateGrant on the application's key: an SCP denies it.",
            vec![
                Evidence::new("decision", "ExplicitlyDenied"),
                Evidence::new("policy", "DenyKmsGrants (p-denykms)"),
                Evidence::new("attached to", "account 222222222222"),
                Evidence::new("statement", "DenyKmsGrants"),
            ],
        ),
        finding(
            CheckId::CheckpointingDisabled,
            Severity::High,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            sink,
            "checkpointing",
            "Checkpointing is disabled",
            "ConfigurationType CUSTOM with CheckpointingEnabled = false.",
            vec![Evidence::new("configuration_type", "CUSTOM")],
        ),
        finding(
            CheckId::RuntimeEndOfSupport,
            Severity::High,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            sink,
            "FLINK-1_13",
            "Flink runtime past or near end of support",
            "FLINK-1_13 is past end of support.",
            vec![Evidence::new("runtime", "FLINK-1_13")],
        ),
        finding(
            CheckId::SnapshotsDisabled,
            Severity::Medium,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            sink,
            "snapshots",
            "Snapshots are disabled",
            "ApplicationSnapshotConfiguration.SnapshotsEnabled = false.",
            vec![],
        ),
        finding(
            CheckId::CheckpointSlow,
            Severity::Medium,
            "222222222222",
            "prod-orders",
            prod_ou,
            "eu-west-1",
            prod_app,
            "lastCheckpointDuration",
            "Checkpoints take too long for their interval",
            "Max lastCheckpointDuration 19 s is 0.95 × the 20 s interval (limit 0.5).",
            vec![Evidence::new("max duration ms", "19000"), Evidence::new("interval ms", "20000")],
        ),
        finding(
            CheckId::CheckpointIntervalOutOfRange,
            Severity::Medium,
            "333333333333",
            HOSTILE,
            "Root/Workloads/Dev",
            "eu-west-1",
            hostile_app,
            "interval",
            "Checkpoint interval outside the allowed range",
            "Hostile detail </details><script>alert(2)</script>",
            vec![Evidence::new("=HYPERLINK(\"http://evil\")", "<b>label</b>")],
        ),
        finding(
            CheckId::SnapshotStale,
            Severity::Low,
            "111122223333",
            "dev-orders",
            "Root/Workloads/Dev",
            "eu-west-1",
            "arn:aws:kinesisanalytics:eu-west-1:111122223333:application/orders-sink-dev",
            "snapshot",
            "No recent READY snapshot",
            "Newest READY snapshot is 20 h old.",
            vec![],
        ),
    ];
    let mut suppressed = finding(
        CheckId::RuntimeEndOfSupport,
        Severity::High,
        "111122223333",
        "dev-orders",
        "Root/Workloads/Dev",
        "eu-west-1",
        "arn:aws:kinesisanalytics:eu-west-1:111122223333:application/orders-enricher-dev",
        "FLINK-1_15",
        "Flink runtime past or near end of support",
        "End of support announced for FLINK-1_15.",
        vec![],
    );
    suppressed.status = FindingStatus::Suppressed;
    suppressed.suppression =
        Some(AppliedSuppression { reason: "migration planned, OPS-1234".into(), expires: chrono::NaiveDate::from_ymd_opt(2027, 1, 31) });
    findings.push(suppressed);

    let drift = vec![
        DriftRow { comparison: "orders".into(), baseline_account_id: "111122223333".into(), target_account_id: "222222222222".into(),
            application: "orders-enricher".into(), dimension: "access-decision".into(),
            subject: "kms:CreateGrant on arn:aws:kms:eu-west-1:222222222222:key/0b4c-orders-enricher-prod".into(),
            baseline: "Allowed".into(), target: "ExplicitlyDenied".into(),
            explanation: "SCP DenyKmsGrants (p-denykms) attached to account 222222222222, statement DenyKmsGrants".into() },
        DriftRow { comparison: "orders".into(), baseline_account_id: "111122223333".into(), target_account_id: "222222222222".into(),
            application: String::new(), dimension: "scp".into(), subject: "Root/Workloads/Prod: DenyOutsideEU (p-denyregions)".into(),
            baseline: String::new(),
            target: r#"{"Sid":"DenyOutsideEU","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}"#.into(),
            explanation: "Only the target's OU has this statement.".into() },
        DriftRow { comparison: "orders".into(), baseline_account_id: "111122223333".into(), target_account_id: "222222222222".into(),
            application: "orders-enricher".into(), dimension: "identity-policy".into(), subject: "inline flink-access".into(),
            baseline: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:ListShards"],"Resource":"*"}]}"#.into(),
            target: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords"],"Resource":"*"}]}"#.into(),
            explanation: "kinesis:ListShards is allowed only in the baseline.".into() },
        DriftRow { comparison: "orders".into(), baseline_account_id: "111122223333".into(), target_account_id: "222222222222".into(),
            application: "orders-sink".into(), dimension: "checkpoint-config".into(), subject: "effective checkpointing".into(),
            baseline: "enabled, 30 s interval, 5 s min pause".into(), target: "disabled".into(), explanation: String::new() },
        DriftRow { comparison: "orders".into(), baseline_account_id: "111122223333".into(), target_account_id: "222222222222".into(),
            application: HOSTILE.into(), dimension: "runtime".into(), subject: "runtime".into(),
            baseline: "FLINK-1_18".into(), target: "-1+1".into(), explanation: "@SUM(1)".into() },
    ];
    let resolved = finding(
        CheckId::ApplicationUnhealthy,
        Severity::Medium,
        "111122223333",
        "dev-orders",
        "Root/Workloads/Dev",
        "eu-west-1",
        "arn:aws:kinesisanalytics:eu-west-1:111122223333:application/orders-enricher-dev",
        "status",
        "Application is unhealthy",
        "Status ROLLED_BACK.",
        vec![],
    );
    let since_previous = RunDelta {
        previous_run_id: Some("20261124T193000Z".into()),
        new: vec![findings[1].finding_id.to_string(), findings[6].finding_id.to_string()],
        resolved: vec![resolved.clone()],
        not_checked: vec![NotChecked {
            finding: Finding {
                finding_id: "0badc0ffee000001".into(),
                account_id: "333333333333".into(),
                account_name: HOSTILE.into(),
                ..resolved
            },
            not_checked_because: "account 333333333333: assume-role denied (AccessDenied)".into(),
            last_seen_run_id: Some("20261124T193000Z".into()),
        }],
        still_open: 6,
        now_suppressed: vec![],
    };
    let causes = fleetscan::checks::causes::group(&findings, &[]);
    Evaluation {
        open_by_severity: open_by_severity(&findings),
        causes,
        findings,
        drift,
        since_previous: Some(since_previous),
        ..Default::default()
    }
}

/// 5,000 accounts × 2 apps (10,000 apps), 24 h of 5-minute metrics each,
/// about 1.6 findings per app, 6 coverage rows per account.
pub fn large_fleet(accounts: usize) -> (Inventory, Evaluation) {
    let regions = ["eu-west-1", "us-east-1"];
    let mut inventory_accounts = Vec::with_capacity(accounts);
    let mut coverage_rows = Vec::new();
    let mut findings = Vec::new();
    let checks = [
        (CheckId::CheckpointFailures, Severity::High, "Checkpoints failed in the lookback window"),
        (CheckId::SnapshotStale, Severity::Low, "No recent READY snapshot"),
        (CheckId::CheckpointSlow, Severity::Medium, "Checkpoints take too long for their interval"),
        (CheckId::ExecutionRoleAccessDenied, Severity::High, "Execution role cannot perform a required action"),
        (CheckId::RuntimeEndOfSupport, Severity::High, "Flink runtime past or near end of support"),
    ];
    for i in 0..accounts {
        let id = format!("{:012}", 100_000_000_000u64 + i as u64);
        let env = if i % 2 == 0 { "prod" } else { "dev" };
        let name = format!("team-{:04}-{env}", i / 2);
        let ou = format!("Root/Workloads/{}/BU-{:02}", if env == "prod" { "Prod" } else { "Dev" }, i % 40);
        let mut region_inv = Vec::new();
        for (r, region) in regions.iter().enumerate() {
            let name_app = format!("stream-{:04}-{r}", i);
            let failures: Vec<usize> = if i % 7 == 0 { vec![10, 11, 150] } else { vec![] };
            let a = app(
                &id,
                region,
                &name_app,
                Some((true, 60_000, 5_000)),
                true,
                i % 3 == 0,
                Some(metrics(i as u64 * 2 + r as u64, &failures, 6_000.0, None)),
            );
            region_inv.push(RegionInventory { region: (*region).into(), applications: vec![a], alarms: None });
            for scope in ["flink", "cloudwatch"] {
                coverage_rows.push(coverage(&id, &name, region, scope, if i % 997 == 5 { CoverageStatus::Throttled } else { CoverageStatus::Ok }));
            }
            let n = 1 + usize::from((i + r) % 5 < 3);
            for k in 0..n {
                let (check, severity, title) = checks[(i + r + k * 2) % checks.len()];
                let arn = format!("arn:aws:kinesisanalytics:{region}:{id}:application/{name_app}");
                findings.push(finding(
                    check,
                    severity,
                    &id,
                    &name,
                    &ou,
                    region,
                    &arn,
                    "subject",
                    title,
                    "numberOfFailedCheckpoints rose by 4 in the last 24 h; the application restarted twice.",
                    vec![Evidence::new("increase", "4"), Evidence::new("policy", "DenyOutsideEU (p-denyregions), statement DenyOutsideEU")],
                ));
            }
        }
        for scope in ["assume-role", "iam"] {
            coverage_rows.push(coverage(&id, &name, GLOBAL_REGION, scope, CoverageStatus::Ok));
        }
        let scps = vec![
            policy_level("r-ab12", "Root", &["p-FullAWSAccess"]),
            policy_level("ou-x", "Workloads", &["p-FullAWSAccess"]),
            policy_level(&id, &name, &["p-FullAWSAccess"]),
        ];
        inventory_accounts.push(account(&id, &name, &ou, &["r-ab12"], region_inv, scps, i % 2 == 0));
    }
    let mut drift = Vec::new();
    for pair in 0..200 {
        let (dev, prod) = (format!("{:012}", 100_000_000_001u64 + pair * 2), format!("{:012}", 100_000_000_000u64 + pair * 2));
        drift.push(DriftRow {
            comparison: format!("team-{pair:04}"),
            baseline_account_id: dev.clone(),
            target_account_id: prod.clone(),
            application: format!("stream-{pair:04}"),
            dimension: "access-decision".into(),
            subject: "kinesis:GetRecords on stream/x".into(),
            baseline: "Allowed".into(),
            target: "ExplicitlyDenied".into(),
            explanation: "SCP DenyOutsideEU, statement DenyOutsideEU".into(),
        });
    }
    let inventory = Inventory {
        schema_version: SCHEMA_VERSION,
        run: run_info(&regions),
        organization: None,
        accounts: inventory_accounts,
        coverage: coverage_rows,
        health: None,
    };
    let causes = fleetscan::checks::causes::group(&findings, &[]);
    let evaluation = Evaluation {
        open_by_severity: open_by_severity(&findings),
        causes,
        findings,
        drift,
        since_previous: None,
        ..Default::default()
    };
    (inventory, evaluation)
}
