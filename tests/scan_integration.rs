//! The collect stage against the emulator (moto + middleware) seeded with
//! `tests/fleets/integration.json`, through the library API.
//!
//! One emulator and one scan per test function (each test links the AWS
//! SDK and starts Python, so they are kept few); assertions are gathered and
//! reported together so one run shows every mismatch.
// Each test holds the environment lock for its whole (async) body on purpose.
#![allow(clippy::await_holding_lock)]

mod support;

use support::checks::Checks;

use std::collections::{BTreeMap, BTreeSet};

use fleetscan::collect::Collector;
use fleetscan::config::{Config, FileConfig, Overrides};
use fleetscan::inventory::{metric_names, CoverageStatus, Inventory, OrgPolicyKind, ResourceKind, ScanDecision};
use support::emulator::{fleet, Emulator};

const MANAGEMENT: &str = "123456789012";
const PROD: &str = "111111111111";
const DEV: &str = "222222222222";
const SUSPENDED: &str = "444444444444";

/// The SDK resolves `AWS_ENDPOINT_URL` from the process environment when it
/// builds each client, so each test owns the environment (and runs alone)
/// while it scans.
static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn own_env(emu: &Emulator) -> std::sync::MutexGuard<'static, ()> {
    let guard = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    point_env_at(emu);
    guard
}

fn point_env_at(emu: &Emulator) {
    for (key, value) in emu.aws_env() {
        std::env::set_var(key, value);
    }
    for key in ["AWS_PROFILE", "AWS_SESSION_TOKEN"] {
        std::env::remove_var(key);
    }
}

fn config(extra: &str) -> Config {
    let text = format!("[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\nassume_role_retry_secs = 0\nmax_attempts = 3\n{extra}");
    Config::resolve(FileConfig::parse(&text).expect("test config parses"), Overrides::default()).expect("test config valid")
}

async fn scan(config: &Config) -> (Inventory, fleetscan::plan::Plan) {
    let collector = Collector::from_env(config, "20260101T000000Z").await.expect("collector");
    let org = collector.discover_org().await.expect("discover");
    let plan = fleetscan::plan::build(config, &org);
    let inventory = collector.scan(&plan, |_| {}).await;
    (inventory, plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_fleet_scan() {
    let emu = Emulator::start(&fleet("integration.json"));
    let _env = own_env(&emu);
    let config = config("[accounts]\ntags = true\n");
    let (inv, plan) = scan(&config).await;
    let mut c = Checks::default();

    // --- organization, accounts, OU paths, plan
    let org = inv.organization.as_ref().expect("organization read");
    c.eq(org.management_account_id.as_str(), MANAGEMENT, "management account");
    c.eq(inv.accounts.len(), 27, "accounts in the organization");
    let path = |id: &str| inv.account(id).map(|a| a.ou_path.clone()).unwrap_or_default();
    c.eq(path(PROD), "Root/Workloads/Prod/Payments".into(), "prod OU path (3 deep)");
    c.eq(path(DEV), "Root/Workloads/Dev/Payments".into(), "dev OU path");
    c.eq(path("333333333333"), "Root/Security".into(), "security OU path");
    c.eq(path(MANAGEMENT), "Root".into(), "management OU path");
    let teams: Vec<_> = inv.accounts.iter().filter(|a| a.ou_path == "Root/Workloads/Shared/Teams").collect();
    c.eq(teams.len(), 22, "accounts in Teams OU (> 20, paged)");
    if let Some(prod) = inv.account(PROD) {
        c.eq(prod.parent_ids.len(), 4, "prod parent ids root→Payments");
        c.check(prod.parent_ids.first().map(|p| p.starts_with("r-")).unwrap_or(false), "parent ids start at the root");
        c.eq(prod.tags.get("team").map(String::as_str), Some("payments"), "prod account tags");
        c.check(matches!(&prod.scan, ScanDecision::AssumedRole { role_arn } if role_arn == "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"), "prod scanned by assumed role");
    }
    let management = inv.account(MANAGEMENT);
    c.check(
        management.map(|a| a.is_management && a.scan == ScanDecision::BaseCredentials).unwrap_or(false),
        "management account uses base credentials",
    );
    let suspended = inv.account(SUSPENDED);
    c.check(
        suspended.map(|a| matches!(&a.scan, ScanDecision::Skipped { reason } if reason.contains("SUSPENDED"))).unwrap_or(false),
        format!("suspended account skipped: {:?}", suspended.map(|a| &a.scan)),
    );
    c.check(!inv.coverage.iter().any(|r| r.account_id == SUSPENDED), "no coverage rows for the skipped account");
    c.eq(plan.scanned().count(), 26, "scanned accounts");

    // --- SCP / RCP chains
    let policy_names = |ids: &[fleetscan::inventory::InlineString]| -> BTreeSet<String> {
        ids.iter().filter_map(|id| inv.org_policy(id)).map(|p| p.name.clone()).collect()
    };
    if let Some(prod) = inv.account(PROD) {
        let levels: Vec<_> = prod.scp_chain.iter().map(|l| l.target_name.clone()).collect();
        c.eq(levels, vec!["Root".into(), "Workloads".into(), "Prod".into(), "Payments".into(), "prod-payments".into()], "prod SCP chain levels");
        let names: Vec<BTreeSet<String>> = prod.scp_chain.iter().map(|l| policy_names(&l.policy_ids)).collect();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        c.eq(names.first().cloned(), Some(set(&["FullAWSAccess", "DenyLeaveOrganization"])), "prod SCPs at root");
        c.eq(names.get(2).cloned(), Some(set(&["FullAWSAccess", "ProdRegionGuard"])), "prod SCPs at Prod");
        c.eq(names.get(3).cloned(), Some(set(&["FullAWSAccess", "ProdPaymentsKinesisGuard"])), "prod SCPs at Payments");
        c.eq(names.get(4).cloned(), Some(set(&["FullAWSAccess", "AccountDenyStreamDelete"])), "prod SCPs at the account");
        let rcps: Vec<BTreeSet<String>> = prod.rcp_chain.iter().map(|l| policy_names(&l.policy_ids)).collect();
        c.eq(rcps.first().cloned(), Some(set(&["RCPFullAWSAccess", "RCPDataPerimeter"])), "prod RCPs at root");
        c.eq(rcps.get(2).cloned(), Some(set(&["RCPFullAWSAccess", "RCPEnforceTLS"])), "prod RCPs at Prod");
        c.eq(rcps.get(4).cloned(), Some(set(&["RCPFullAWSAccess"])), "prod RCPs at the account");
    }
    if let Some(dev) = inv.account(DEV) {
        let rcps: Vec<BTreeSet<String>> = dev.rcp_chain.iter().map(|l| policy_names(&l.policy_ids)).collect();
        c.check(rcps.last().map(|s| s.contains("RCPDevKmsGuard")).unwrap_or(false), format!("dev account-level RCPs: {rcps:?}"));
    }
    if let Some(sandbox) = inv.account(SUSPENDED) {
        let at_account = sandbox.scp_chain.last().map(|l| policy_names(&l.policy_ids)).unwrap_or_default();
        c.eq(at_account, ["SandboxReadOnlyAllowList".to_string()].into(), "sandbox-old: FullAWSAccess replaced by an allow-list");
    }
    let full = org.policies.iter().find(|p| p.name == "FullAWSAccess");
    c.check(
        full.map(|p| p.aws_managed && p.kind == OrgPolicyKind::ServiceControlPolicy && p.document.json.is_some())
            .unwrap_or(false),
        "FullAWSAccess kept, AWS managed, with its document",
    );
    c.check(org.policies.iter().any(|p| p.name == "RCPFullAWSAccess" && p.kind == OrgPolicyKind::ResourceControlPolicy), "RCPFullAWSAccess kept");

    // --- Flink apps
    let apps: BTreeMap<String, _> = inv.apps().map(|r| (format!("{}/{}/{}", r.account.id, r.region, r.app.name), r)).collect();
    let want_apps = [
        format!("{PROD}/us-east-1/payments-prod"),
        format!("{PROD}/us-east-1/ledger-prod"),
        format!("{PROD}/us-east-1/fraud-prod"),
        format!("{PROD}/us-east-1/reports-prod"),
        format!("{PROD}/eu-west-1/payments-eu-prod"),
        format!("{DEV}/us-east-1/payments-dev"),
    ];
    c.eq(apps.keys().cloned().collect::<BTreeSet<_>>(), want_apps.iter().cloned().collect(), "apps found (two regions, > 1 ListApplications page)");
    let app = |key: &str| apps.get(&key.replace("PROD", PROD).replace("DEV", DEV)).map(|r| r.app);
    if let Some(a) = app("PROD/us-east-1/payments-prod") {
        c.eq(
            (a.checkpoint.effective.enabled, a.checkpoint.effective.interval_ms, a.checkpoint.effective.min_pause_ms),
            (true, 30_000, 5_000),
            "payments-prod checkpoint",
        );
        c.eq(a.status.as_str(), "RUNNING", "payments-prod status");
        c.eq(a.runtime.as_str(), "FLINK-1_18", "payments-prod runtime");
        c.eq(a.version_id, Some(7), "payments-prod version");
        c.eq(a.latest_ready_snapshot().map(|s| s.name.as_str()), Some("payments-prod-nightly-3"), "payments-prod latest READY snapshot");
        c.eq(a.snapshots.len(), 3, "payments-prod snapshots");
        c.check(a.snapshots_enabled, "payments-prod snapshots enabled");
        let metrics = a.metrics.as_ref();
        c.eq(metrics.and_then(|m| m.failed_checkpoint_increase()), Some(12.0), "payments-prod failed-checkpoint increase");
        c.eq(metrics.and_then(|m| m.max_of(metric_names::CHECKPOINT_DURATION)), Some(22_000.0), "payments-prod max checkpoint duration");
        c.check(metrics.map(|m| m.points(metric_names::CHECKPOINT_SIZE).len() > 80).unwrap_or(false), "payments-prod checkpoint size series");
        c.eq(a.vpc.as_ref().and_then(|v| v.vpc_id.clone()), Some("vpc-0a1b2c3d".into()), "payments-prod VPC");
        c.eq(a.vpc.as_ref().map(|v| v.subnet_ids.len()), Some(2), "payments-prod subnets");
        c.check(a.encryption.is_customer_managed(), "payments-prod CMK");
        c.check(
            a.encryption.key_arn.as_deref().map(|k| k.starts_with("arn:aws:kms:us-east-1:111111111111:key/")).unwrap_or(false),
            format!("payments-prod key ARN resolved: {:?}", a.encryption.key_arn),
        );
        c.eq(
            a.stream_arns.clone(),
            vec![
                "arn:aws:kinesis:us-east-1:111111111111:stream/payments-in".to_string(),
                "arn:aws:kinesis:us-east-1:111111111111:stream/payments-out".into(),
            ],
            "payments-prod stream ARNs",
        );
        c.eq(
            a.code.as_ref().map(|c| c.object_arn()),
            Some("arn:aws:s3:::payments-prod-code-111111111111/payments/app-1.4.2.jar".into()),
            "payments-prod code",
        );
        c.eq(a.tags.get("tier").map(|t| t.as_str()), Some("1"), "payments-prod tags");
        c.eq(a.parallelism.as_ref().and_then(|p| p.parallelism), Some(4), "payments-prod parallelism");
        c.eq(a.execution_role_arn.as_deref(), Some("arn:aws:iam::111111111111:role/service-role/payments-flink-role"), "payments-prod role");
        c.check(a.operations.len() >= 2, "payments-prod operations");
    }
    if let Some(a) = app("PROD/us-east-1/ledger-prod") {
        c.eq(a.checkpoint.effective.enabled, false, "ledger-prod checkpointing off");
    }
    if let Some(a) = app("PROD/us-east-1/fraud-prod") {
        c.eq(
            (a.checkpoint.configuration_type.as_str(), a.checkpoint.effective),
            ("DEFAULT", fleetscan::inventory::EffectiveCheckpoint::SERVICE_DEFAULT),
            "fraud-prod DEFAULT ⇒ service defaults",
        );
        c.eq(a.status.as_str(), "ROLLED_BACK", "fraud-prod status");
        c.eq(a.runtime.as_str(), "FLINK-1_11", "fraud-prod runtime");
        let failed = a.operations.iter().find(|o| o.status == "FAILED");
        c.check(
            failed.and_then(|o| o.error.as_deref()).map(|e| e.contains("Checkpoint expired")).unwrap_or(false),
            format!("fraud-prod failed operation error: {failed:?}"),
        );
        c.eq(a.metrics.as_ref().and_then(|m| m.max_of(metric_names::DOWNTIME)), Some(120_000.0), "fraud-prod downtime");
    }
    if let Some(a) = app("PROD/us-east-1/reports-prod") {
        c.eq(a.snapshots_enabled, false, "reports-prod snapshots off");
    }
    if let Some(a) = app("DEV/us-east-1/payments-dev") {
        c.eq(a.metrics.as_ref().and_then(|m| m.failed_checkpoint_increase()), Some(0.0), "payments-dev flat failed-checkpoint counter");
        c.eq(a.metrics.as_ref().and_then(|m| m.max_of(metric_names::CHECKPOINT_DURATION)), Some(1_500.0), "payments-dev max duration");
    }

    // --- IAM
    if let Some(prod) = inv.account(PROD) {
        let role = prod.role("arn:aws:iam::111111111111:role/service-role/payments-flink-role");
        c.check(role.is_some(), format!("prod payments role read; roles: {:?}", prod.roles.iter().map(|r| &r.arn).collect::<Vec<_>>()));
        if let Some(role) = role {
            c.eq(role.permissions_boundary_arn.as_deref(), Some("arn:aws:iam::111111111111:policy/payments-boundary"), "boundary ARN");
            c.check(role.trust_policy.json.is_some(), format!("trust policy parsed: {:?}", role.trust_policy));
            c.eq(role.attached_policy_arns.len(), 2, "attached policies");
            c.eq(role.inline_policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), vec!["kinesis-io"], "inline policies");
            c.check(role.inline_policies.iter().all(|p| p.document.json.is_some()), "inline documents parsed");
            c.eq(role.tags.get("team").map(String::as_str), Some("payments"), "role tags");
            c.eq(role.path.as_str(), "/service-role/", "role path");
        }
        c.eq(prod.roles.len(), 2, "prod roles");
        let managed: BTreeSet<&str> = prod.managed_policies.iter().map(|p| p.arn.as_str()).collect();
        for arn in [
            "arn:aws:iam::111111111111:policy/payments-boundary",
            "arn:aws:iam::111111111111:policy/payments-flink-access",
            "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        ] {
            c.check(managed.contains(arn), format!("managed policy {arn} fetched; have {managed:?}"));
        }
        c.check(prod.managed_policies.iter().all(|p| p.document.json.is_some()), "managed policy documents parsed");

        // --- resources
        let kinds = |kind: ResourceKind| prod.resources.iter().filter(|r| r.kind == kind).collect::<Vec<_>>();
        let keys = kinds(ResourceKind::KmsKey);
        c.eq(keys.len(), 1, "prod KMS keys");
        if let Some(key) = keys.first() {
            c.eq(key.key_manager.as_deref(), Some("CUSTOMER"), "key manager");
            let sids: Vec<String> = key
                .policy
                .as_ref()
                .and_then(|p| p.value())
                .and_then(|j| j.get("Statement").and_then(|s| s.as_array()).cloned())
                .map(|s| s.iter().filter_map(|st| st.get("Sid").and_then(|v| v.as_str()).map(str::to_owned)).collect())
                .unwrap_or_default();
            c.check(sids.contains(&"AllowFlinkInfra".to_string()), format!("key policy statements: {sids:?}"));
        }
        let buckets = kinds(ResourceKind::S3Bucket);
        c.eq(buckets.len(), 2, "prod code buckets");
        let us = buckets.iter().find(|b| b.arn == "arn:aws:s3:::payments-prod-code-111111111111");
        c.check(us.and_then(|b| b.policy.as_ref()).and_then(|p| p.json.as_ref()).is_some(), "us code bucket policy");
        let eu = buckets.iter().find(|b| b.arn == "arn:aws:s3:::payments-eu-code-111111111111");
        c.check(eu.map(|b| b.policy.is_none()).unwrap_or(false), "eu code bucket has no policy (NoSuchBucketPolicy)");
        let streams = kinds(ResourceKind::KinesisStream);
        c.eq(streams.len(), 3, "prod streams");
        let policy_of = |name: &str| streams.iter().find(|s| s.arn.ends_with(name)).map(|s| s.policy.is_some());
        c.eq(policy_of("stream/payments-in"), Some(true), "payments-in policy");
        c.eq(policy_of("stream/payments-out"), Some(true), "payments-out policy");
        c.eq(policy_of("stream/payments-out-eu"), Some(false), "payments-out-eu no policy");
        c.check(streams.iter().any(|s| s.region.as_deref() == Some("eu-west-1")), "eu stream read in its region");
    }
    if let Some(dev) = inv.account(DEV) {
        c.check(
            dev.role("arn:aws:iam::222222222222:role/service-role/payments-flink-role")
                .map(|r| r.permissions_boundary_arn.is_some())
                .unwrap_or(false),
            "dev role with boundary",
        );
        c.eq(dev.resources.iter().filter(|r| r.kind == ResourceKind::KmsKey).count(), 1, "dev key");
    }

    // --- coverage
    let bad: Vec<String> = inv
        .coverage
        .iter()
        .filter(|r| r.status != CoverageStatus::Ok)
        .map(|r| format!("{} {} {} {:?} {:?} {:?}", r.account_id, r.region, r.scope, r.status, r.error_code, r.detail))
        .collect();
    c.check(bad.is_empty(), format!("coverage rows not ok: {bad:#?}"));
    let scopes: BTreeSet<&str> = inv.coverage.iter().map(|r| r.scope.as_str()).collect();
    for scope in ["organizations", "assume-role", "iam", "flink", "cloudwatch", "kms", "s3", "kinesis"] {
        c.check(scopes.contains(scope), format!("a coverage row for scope {scope}"));
    }
    for entry in plan.scanned() {
        for region in &entry.regions {
            c.check(
                inv.coverage.iter().any(|r| r.account_id == entry.account_id && r.region == region && r.scope == "flink"),
                format!("flink coverage row for {} {region}", entry.account_id),
            );
        }
    }

    // --- run info and request log: reads only, all through AWS_ENDPOINT_URL
    c.check(inv.run.caller_arn.is_some(), "caller ARN recorded");
    c.check(inv.run.metrics_window_start.is_some() && inv.run.finished_at.is_some(), "run timings recorded");
    let requests = emu.requests();
    c.check(!requests.is_empty(), "the emulator saw the scan's requests");
    let writes: Vec<String> = requests
        .iter()
        .filter_map(|r| r.get("operation").and_then(|o| o.as_str()))
        .filter(|op| !(op.starts_with("List") || op.starts_with("Describe") || op.starts_with("Get") || *op == "AssumeRole"))
        .map(str::to_owned)
        .collect();
    c.check(writes.is_empty(), format!("non-read operations sent: {writes:?}"));
    // The emulator pages GetMetricData (100 datapoints a page): the payments-prod
    // series checked above were read from several pages through NextToken.
    let metric_pages = requests
        .iter()
        .filter(|r| r["operation"] == "GetMetricData" && r["account"] == PROD && r["region"] == "us-east-1")
        .count();
    c.check(metric_pages > 2, format!("GetMetricData for {PROD}/us-east-1 followed NextToken over several pages: {metric_pages}"));
    let logged: u64 = requests.len() as u64;
    let counted: u64 = inv.run.api_calls.values().sum();
    c.eq(counted, logged, "api_calls total equals the emulator's request count");

    let summary = format!("api_calls: {}\n", serde_json::to_string_pretty(&inv.run.api_calls).unwrap_or_default());
    eprintln!("{summary}");
    if std::env::var_os("FLEETSCAN_DUMP_INVENTORY").is_some() {
        let _ = std::fs::write("/tmp/fleetscan-integration-inventory.json", serde_json::to_string_pretty(&inv).unwrap_or_default());
    }
    c.finish(&summary);
}

/// Faults: AssumeRole denied, an opt-in region disabled, token errors in a
/// region enabled by default, an app deleted between list and describe, an
/// operation denied, throttling. Each becomes its coverage row; nothing else
/// is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_become_coverage_rows_without_losing_other_data() {
    let emu = Emulator::start(&fleet("integration.json"));
    emu.set_faults(&serde_json::json!({
        "seed": 3,
        "assume_role_denied": ["300000000001"],
        "disabled_regions": [{"account": "300000000002", "region": "eu-south-1"}, {"account": "300000000003", "region": "eu-west-1"}],
        "vanish_apps": [{"account": PROD, "region": "us-east-1", "application": "reports-prod"}],
        "deny_operations": [{"service": "kms", "operation": "GetKeyPolicy", "account": DEV}],
        "throttle_rate": {"kinesisanalyticsv2": 0.2}
    }));
    let _env = own_env(&emu);
    let mut config = config("");
    config.aws.regions.push("eu-south-1".into());
    config.aws.max_attempts = 6;
    // A 1 s AssumeRole retry budget: a few quick retries, then give up.
    config.aws.assume_role_retry_secs = 1;
    let (inv, _plan) = scan(&config).await;
    let mut c = Checks::default();
    let row =
        |account: &str, region: &str, scope: &str| inv.coverage.iter().find(|r| r.account_id == account && r.region == region && r.scope == scope);

    let denied = row("300000000001", "global", "assume-role");
    c.eq(denied.map(|r| r.status), Some(CoverageStatus::Denied), "assume-role denied row");
    c.eq(denied.and_then(|r| r.error_code.clone()), Some("AccessDenied".into()), "assume-role error code");
    c.check(denied.map(|r| r.request_id.is_some()).unwrap_or(false), "assume-role row has the request id");
    c.eq(inv.coverage.iter().filter(|r| r.account_id == "300000000001").count(), 1, "nothing else tried in the denied account");
    let denied_attempts = emu.requests().iter().filter(|r| r.get("injected_fault").and_then(|f| f.as_str()) == Some("assume_role_denied")).count();
    c.check((2..=6).contains(&denied_attempts), format!("AssumeRole retried briefly: {denied_attempts} attempts"));

    c.eq(row("300000000002", "eu-south-1", "flink").map(|r| r.status), Some(CoverageStatus::RegionDisabled), "disabled opt-in region");
    c.eq(row("300000000002", "us-east-1", "flink").map(|r| r.status), Some(CoverageStatus::Ok), "enabled region of the same account");
    let default_region = row("300000000003", "eu-west-1", "flink");
    c.eq(default_region.map(|r| r.status), Some(CoverageStatus::Error), "token error in a default region is an error");
    c.check(default_region.is_some_and(|r| !r.is_complete()), "and the scan is incomplete for it");

    let vanished = row(PROD, "us-east-1", "flink:reports-prod");
    c.eq(vanished.map(|r| r.status), Some(CoverageStatus::Skipped), "vanished app row");
    c.eq(vanished.and_then(|r| r.error_code.clone()), Some("ResourceNotFoundException".into()), "vanished app code");
    c.eq(row(PROD, "us-east-1", "flink").map(|r| r.status), Some(CoverageStatus::Ok), "region with a vanished app is ok");
    let prod_apps: BTreeSet<String> = inv.apps().filter(|a| a.account.id == PROD).map(|a| a.app.name.to_string()).collect();
    c.eq(prod_apps.len(), 4, "prod keeps its other apps");

    let kms = row(DEV, "us-east-1", "kms");
    c.eq(kms.map(|r| r.status), Some(CoverageStatus::Denied), "dev kms denied");
    c.check(kms.and_then(|r| r.detail.clone()).map(|d| d.contains("kms:GetKeyPolicy")).unwrap_or(false), "kms row names the operation");
    if let Some(dev) = inv.account(DEV) {
        c.eq(dev.regions.iter().map(|r| r.applications.len()).sum::<usize>(), 1, "dev app kept despite the kms failure");
        c.check(!dev.roles.is_empty(), "dev IAM kept despite the kms failure");
        c.eq(row(DEV, "global", "iam").map(|r| r.status), Some(CoverageStatus::Ok), "dev iam ok");
    }

    let throttled = emu.requests().iter().filter(|r| r.get("injected_fault").and_then(|f| f.as_str()) == Some("throttle")).count();
    c.check(throttled > 0, "some calls were throttled");
    let flink_bad: Vec<_> = inv
        .coverage
        .iter()
        .filter(|r| r.scope == "flink" && r.status != CoverageStatus::Ok && r.status != CoverageStatus::RegionDisabled)
        .filter(|r| !(r.account_id == "300000000003" && r.region == "eu-west-1"))
        .map(|r| format!("{} {} {:?} {:?}", r.account_id, r.region, r.status, r.detail))
        .collect();
    c.check(flink_bad.is_empty(), format!("throttled calls were retried to success: {flink_bad:?}"));
    let counted: u64 = inv.run.api_calls.values().sum();
    c.eq(counted, emu.requests().len() as u64, "api_calls count every attempt, retries included");
    c.check(!inv.is_complete(), "the scan is incomplete");
    c.finish("");
}

/// `doctor` passes against a healthy fleet and names the fix when AssumeRole
/// is denied; with latency on every call, accounts × regions are scanned
/// concurrently (the scan takes far less than its calls laid end to end).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_and_concurrency() {
    let emu = Emulator::start(&fleet("integration.json"));
    let _env = own_env(&emu);
    let config = config("");
    let mut c = Checks::default();

    let steps = fleetscan::collect::doctor::doctor(&config, "20260101T000000Z", None).await;
    c.check(
        steps.last().map(|s| s.ok && s.detail.contains("assumed")).unwrap_or(false),
        format!("doctor picks a member account: {:?}", steps.last()),
    );
    let steps = fleetscan::collect::doctor::doctor(&config, "20260101T000000Z", Some("prod-payments")).await;
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    c.eq(names, vec!["caller-identity", "organizations", "assume-role"], "doctor steps");
    c.check(steps.iter().all(|s| s.ok), format!("doctor passes: {steps:#?}"));

    emu.set_faults(&serde_json::json!({"assume_role_denied": ["111111111111"]}));
    let steps = fleetscan::collect::doctor::doctor(&config, "20260101T000000Z", Some("111111111111")).await;
    let last = steps.last();
    c.eq(last.map(|s| s.name.as_str()), Some("assume-role"), "doctor reaches assume-role");
    c.check(
        last.map(|s| !s.ok && s.hint.as_deref().unwrap_or("").contains("trusts")).unwrap_or(false),
        format!("denied AssumeRole has a hint: {last:?}"),
    );

    let latency_ms = 100u64;
    emu.set_faults(&serde_json::json!({"latency_ms": latency_ms}));
    emu.clear_requests();
    let started = std::time::Instant::now();
    let (inv, _) = scan(&config).await;
    let elapsed = started.elapsed();
    let calls = emu.requests().len() as u64;
    let serial = std::time::Duration::from_millis(calls * latency_ms);
    c.check(inv.coverage.iter().all(|r| r.status == CoverageStatus::Ok), "latency scan complete");
    c.check(elapsed * 4 < serial, format!("scan took {elapsed:?} for {calls} calls of {latency_ms} ms (serial {serial:?})"));
    eprintln!("latency scan: {elapsed:?} for {calls} calls (serial would be {serial:?})");
    c.finish("");
}

/// In a wide organization the default policies' attachments are inferred,
/// not paged through, and the inference agrees with Organizations' own
/// listing for every policy and every entity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_policy_attachments_inferred_match_the_listing() {
    let emu = Emulator::start(&fleet("wide-org.json"));
    let _env = own_env(&emu);
    let config = config("");
    let mut c = Checks::default();

    let collector = Collector::from_env(&config, "20260101T000000Z").await.expect("collector");
    let view = collector.discover_org().await.expect("discover");
    let calls = collector.api_calls();
    let org = view.organization.as_ref().expect("organization read");
    c.eq(view.accounts.len(), 81, "accounts discovered");

    // Organizations' own answer, paged through with the SDK.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).region("us-east-1").load().await;
    let client = aws_sdk_organizations::Client::new(&sdk);
    for policy in &org.policies {
        let pages: Vec<_> = client
            .list_targets_for_policy()
            .policy_id(&policy.id)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("list targets");
        let listed: BTreeSet<String> = pages.iter().flat_map(|p| p.targets().iter().filter_map(|t| t.target_id().map(str::to_owned))).collect();
        let ours: BTreeSet<String> = policy.targets.iter().cloned().collect();
        c.eq(ours, listed, &format!("targets of {}", policy.name));
    }
    let full = org.policies.iter().find(|p| p.name == "FullAWSAccess");
    c.eq(full.map(|p| p.targets.len()), Some(1 + org.organizational_units.len() + 81 - 1), "FullAWSAccess everywhere but the allow-list account");

    let sandbox = view.accounts.iter().find(|a| a.name == "sandbox-01").expect("sandbox-01");
    let policy_name = |id: &fleetscan::inventory::InlineString| org.policies.iter().find(|p| p.id == *id).map(|p| p.name.clone()).unwrap_or_default();
    let at_account: Vec<String> = sandbox.scp_chain.last().map(|l| l.policy_ids.iter().map(policy_name).collect()).unwrap_or_default();
    c.eq(at_account, vec!["SandboxAllowList".to_string()], "sandbox-01 has only its allow-list at the account");
    c.check(
        view.accounts
            .iter()
            .all(|a| a.rcp_chain.iter().all(|l| l.policy_ids.iter().any(|id| policy_name(id) == "RCPFullAWSAccess"))),
        "RCPFullAWSAccess at every level of every account",
    );

    // 4 customer policies listed (one page each); the 3 entities that carry
    // another SCP asked; the defaults never paged through.
    c.eq(calls.get("organizations:ListTargetsForPolicy").copied(), Some(4), "ListTargetsForPolicy calls");
    c.eq(calls.get("organizations:ListPoliciesForTarget").copied(), Some(3), "ListPoliciesForTarget calls");
    let row = view.coverage.iter().find(|r| r.detail.as_deref().unwrap_or("").contains("inferred"));
    c.check(row.is_some(), format!("coverage says how FullAWSAccess's targets were learned: {:?}", view.coverage));
    c.finish("");
}
