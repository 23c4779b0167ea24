//! A synthetic AWS for benchmarks: an in-process HTTP client for the AWS SDK
//! for Rust that answers, after an injected latency and with an injected
//! throttling rate, every read fleetscan makes, for a synthetic Organization
//! described by a handful of parameters ([`FleetSpec`]).
//!
//! Nothing is stored per account or per application: every response is
//! generated from the parameters (account `i`, app `k`), so a 5,000-account,
//! 10,000-app fleet costs a few hundred kilobytes of memory here and the
//! benchmark measures fleetscan, not the fake.
//!
//! Wire protocols, as the SDK speaks them:
//!
//! | service (SigV4 scope) | protocol | operation from |
//! |---|---|---|
//! | organizations, kinesisanalytics, kms, kinesis | awsJson1_1 | `X-Amz-Target` |
//! | sts, iam | awsQuery (form body, XML response) | `Action=` |
//! | monitoring (CloudWatch), health | rpc-v2-cbor | `/service/…/operation/<Op>` |
//! | s3 | restXml (path-style or virtual-hosted) | `?policy` |
//!
//! Requests are attributed to an account by the access key in the SigV4
//! `Authorization` header: AssumeRole hands out `ASIA<12-digit account>SYNT`,
//! the management credentials are `AKIA<management account>MGMT`.
//!
//! Throttling answers with the error each service really sends
//! (`TooManyRequestsException`, `Throttling`, `ThrottlingException`,
//! `LimitExceededException`, S3 `503 SlowDown`), all of which the SDK's
//! retry classifier treats as throttling.
//!
//! Included by the benches and by `tests/synthetic_aws.rs` with `#[path]`.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::client::http::{http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

// ───────────────────────────────────────────────────────────── parameters

/// The synthetic Organization and the faults injected into every call.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Accounts including the management account (account 0, in the root).
    pub accounts: usize,
    /// OU tree: children per parent at each level below the root, e.g.
    /// `[5, 7, 7]` = 5 + 35 + 245 OUs. Member accounts live mostly in the
    /// leaf OUs, one in 25 in an inner OU.
    pub ou_fanout: Vec<usize>,
    /// Regions of the scan (apps live in the first `app_regions`).
    pub regions: Vec<String>,
    /// Flink applications in the whole organization (member accounts only).
    pub apps: usize,
    /// Apps are spread over this many of `regions` (the rest are empty).
    pub app_regions: usize,
    /// Customer SCPs / RCPs besides FullAWSAccess / RCPFullAWSAccess.
    pub scps: usize,
    pub rcps: usize,
    /// Snapshots per app (READY), operations per app.
    pub snapshots_per_app: usize,
    pub operations_per_app: usize,
    /// Every n-th app uses a customer managed KMS key (0 = none).
    pub cmk_every: usize,
    /// Every n-th app has a FAILED operation inside the last day (0 = none).
    pub failed_op_every: usize,
    /// Every n-th code bucket has no bucket policy (S3 answers 404).
    pub bucket_without_policy_every: usize,
    /// Injected before every response.
    pub latency: Duration,
    /// Probability that a call is answered with a throttling error.
    pub throttle_rate: f64,
    pub seed: u64,
}

/// The 17 regions enabled by default in a commercial-partition account
/// (fleetscan's own list, so the fleet and the scanner agree).
pub use fleetscan::collect::opt_in::DEFAULT_REGIONS;

impl FleetSpec {
    /// The Organization-scale benchmark: 5,000 accounts, 285 OUs three
    /// levels deep, 17 regions, 10,000 apps in 4 of them, 100 ms, 5 %.
    pub fn org_scale() -> Self {
        Self {
            accounts: 5_000,
            ou_fanout: vec![5, 7, 7],
            regions: DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect(),
            apps: 10_000,
            app_regions: 4,
            scps: 4,
            rcps: 2,
            snapshots_per_app: 3,
            operations_per_app: 3,
            cmk_every: 4,
            failed_op_every: 10,
            bucket_without_policy_every: 3,
            latency: Duration::from_millis(100),
            throttle_rate: 0.05,
            seed: 7,
        }
    }

    /// A tiny fleet without faults, for tests (FullAWSAccess has 23 targets:
    /// two pages).
    pub fn tiny() -> Self {
        Self {
            accounts: 14,
            ou_fanout: vec![2, 3],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            apps: 8,
            app_regions: 2,
            scps: 3,
            rcps: 1,
            snapshots_per_app: 3,
            operations_per_app: 3,
            cmk_every: 2,
            failed_op_every: 3,
            bucket_without_policy_every: 3,
            latency: Duration::ZERO,
            throttle_rate: 0.0,
            seed: 1,
        }
    }

    /// Overrides from `FLEETSCAN_BENCH_*` environment variables: ACCOUNTS,
    /// OU_FANOUT (e.g. `5,7,7`), REGIONS (a count of the default list or a
    /// comma list), APPS, APP_REGIONS, SCPS, RCPS, LATENCY_MS, THROTTLE
    /// (0..1), SEED.
    pub fn with_env_overrides(mut self) -> Self {
        fn var(name: &str) -> Option<String> {
            std::env::var(format!("FLEETSCAN_BENCH_{name}")).ok().filter(|v| !v.trim().is_empty())
        }
        fn num<T: std::str::FromStr>(name: &str) -> Option<T> {
            var(name).map(|v| v.trim().parse().unwrap_or_else(|_| panic!("FLEETSCAN_BENCH_{name}: not a number: {v}")))
        }
        if let Some(v) = num("ACCOUNTS") {
            self.accounts = v;
        }
        if let Some(v) = var("OU_FANOUT") {
            self.ou_fanout = v.split(',').map(|n| n.trim().parse().expect("FLEETSCAN_BENCH_OU_FANOUT: numbers")).collect();
        }
        if let Some(v) = var("REGIONS") {
            self.regions = match v.trim().parse::<usize>() {
                Ok(n) => DEFAULT_REGIONS.iter().take(n.clamp(1, DEFAULT_REGIONS.len())).map(|r| r.to_string()).collect(),
                Err(_) => v.split(',').map(|r| r.trim().to_string()).collect(),
            };
        }
        if let Some(v) = num("APPS") {
            self.apps = v;
        }
        if let Some(v) = num("APP_REGIONS") {
            self.app_regions = v;
        }
        if let Some(v) = num("SCPS") {
            self.scps = v;
        }
        if let Some(v) = num("RCPS") {
            self.rcps = v;
        }
        if let Some(v) = num::<u64>("LATENCY_MS") {
            self.latency = Duration::from_millis(v);
        }
        if let Some(v) = num("THROTTLE") {
            self.throttle_rate = v;
        }
        if let Some(v) = num("SEED") {
            self.seed = v;
        }
        self.app_regions = self.app_regions.clamp(1, self.regions.len());
        self.accounts = self.accounts.max(2);
        self
    }

    pub fn ou_count(&self) -> usize {
        let mut total = 0;
        let mut level = 1;
        for f in &self.ou_fanout {
            level *= f;
            total += level;
        }
        total
    }
}

// ───────────────────────────────────────────────────────────── counters

/// What the fake saw: every request (attempt) by `service:Operation`,
/// throttled answers, accounts, peak in-flight requests.
#[derive(Default)]
pub struct Stats {
    calls: Mutex<HashMap<String, u64>>,
    throttled: Mutex<HashMap<String, u64>>,
    per_account: Mutex<HashMap<u64, u64>>,
    total: AtomicU64,
    throttles: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default)]
pub struct StatsSnapshot {
    /// Requests received, throttled ones included, by `service:Operation`.
    pub calls: BTreeMap<String, u64>,
    /// Requests answered with a throttling error, by `service:Operation`.
    pub throttled: BTreeMap<String, u64>,
    pub total: u64,
    pub throttles: u64,
    /// Requests per account (by the credentials that signed them).
    pub per_account: BTreeMap<String, u64>,
    /// Most requests the fake was serving at once.
    pub max_in_flight: usize,
}

impl StatsSnapshot {
    /// Requests to one service (`organizations`, `iam`, ...).
    pub fn service_total(&self, service: &str) -> u64 {
        let prefix = format!("{service}:");
        self.calls.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| v).sum()
    }

    pub fn get(&self, key: &str) -> u64 {
        self.calls.get(key).copied().unwrap_or(0)
    }
}

// ───────────────────────────────────────────────────────────── the org model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Root,
    Ou(usize),
    Account(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyKind {
    Scp,
    Rcp,
}

#[derive(Debug)]
struct OrgPolicy {
    id: String,
    name: String,
    description: String,
    kind: PolicyKind,
    aws_managed: bool,
    content: String,
    /// `None` = attached to the root, every OU and every account.
    targets: Option<Vec<Target>>,
}

#[derive(Debug)]
struct Ou {
    id: String,
    name: String,
    /// Index into `ous` or `None` for the root.
    parent: Option<usize>,
    children: Vec<usize>,
    accounts: Vec<usize>,
    /// prod / dev / stage, from the second-level OU.
    env: &'static str,
}

const ORG_ID: &str = "o-synth4bench";
const ROOT_ID: &str = "r-synt";
const ACCOUNT_BASE: u64 = 100_000_000_000;
const APP_FAMILIES: [&str; 8] = ["orders", "payments", "clickstream", "fraud", "inventory", "search", "ledger", "alerts"];
const ENVS: [&str; 3] = ["prod", "dev", "stage"];
const RUNTIMES: [&str; 5] = ["FLINK-1_18", "FLINK-1_19", "FLINK-1_15", "FLINK-1_20", "FLINK-1_13"];

/// The synthetic AWS: the model, the faults and the counters.
pub struct SyntheticAws {
    pub spec: FleetSpec,
    ous: Vec<Ou>,
    root_children: Vec<usize>,
    root_accounts: Vec<usize>,
    /// Parent of each account: `None` = root.
    account_parent: Vec<Option<usize>>,
    policies: Vec<OrgPolicy>,
    epoch: i64,
    rng: AtomicU64,
    stats: Stats,
}

impl fmt::Debug for SyntheticAws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyntheticAws").field("spec", &self.spec).finish_non_exhaustive()
    }
}

pub fn account_id(index: usize) -> String {
    format!("{:012}", ACCOUNT_BASE + index as u64)
}

fn account_index(id: &str) -> Option<usize> {
    let n: u64 = id.parse().ok()?;
    n.checked_sub(ACCOUNT_BASE).map(|i| i as usize)
}

impl SyntheticAws {
    pub fn new(spec: FleetSpec) -> Arc<Self> {
        let mut ous: Vec<Ou> = Vec::new();
        let mut root_children = Vec::new();
        // Breadth-first: level by level.
        let mut frontier: Vec<Option<usize>> = vec![None];
        for (depth, &fanout) in spec.ou_fanout.iter().enumerate() {
            let mut next = Vec::new();
            for parent in frontier {
                for c in 0..fanout {
                    let idx = ous.len();
                    let env = match (depth, parent) {
                        (1, _) => ENVS[c % ENVS.len()],
                        (0, _) => "mixed",
                        (_, Some(p)) => ous[p].env,
                        (_, None) => "mixed",
                    };
                    let name = match depth {
                        0 => format!("Division-{}", idx + 1),
                        1 => format!("{}-{}", capitalise(env), idx + 1),
                        _ => format!("Team-{}", idx + 1),
                    };
                    ous.push(Ou { id: format!("ou-synt-{:08}", idx + 1), name, parent, children: Vec::new(), accounts: Vec::new(), env });
                    match parent {
                        Some(p) => ous[p].children.push(idx),
                        None => root_children.push(idx),
                    }
                    next.push(Some(idx));
                }
            }
            frontier = next;
        }
        let leaves: Vec<usize> = (0..ous.len()).filter(|&i| ous[i].children.is_empty()).collect();
        let inner: Vec<usize> = (0..ous.len()).filter(|&i| !ous[i].children.is_empty()).collect();
        let mut account_parent = vec![None; spec.accounts];
        let mut root_accounts = vec![0];
        for (a, slot) in account_parent.iter_mut().enumerate().skip(1) {
            let parent = if leaves.is_empty() {
                None
            } else if a % 25 == 0 && !inner.is_empty() {
                Some(inner[(a / 25) % inner.len()])
            } else {
                Some(leaves[a % leaves.len()])
            };
            *slot = parent;
            match parent {
                Some(p) => ous[p].accounts.push(a),
                None => root_accounts.push(a),
            }
        }
        let policies = build_policies(&spec, &ous, &leaves);
        let epoch = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Arc::new(Self {
            rng: AtomicU64::new(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            spec,
            ous,
            root_children,
            root_accounts,
            account_parent,
            policies,
            epoch,
            stats: Stats::default(),
        })
    }

    /// The SDK HTTP client answering from this fake.
    pub fn http_client(self: &Arc<Self>) -> SharedHttpClient {
        let connector = SharedHttpConnector::new(Connector(self.clone()));
        http_client_fn(move |_settings, _components| connector.clone())
    }

    /// Access key / secret of the management account's caller.
    pub fn management_keys(&self) -> (String, String) {
        (format!("AKIA{}MGMT", account_id(0)), "synthetic-secret".to_owned())
    }

    pub fn management_account(&self) -> String {
        account_id(0)
    }

    pub fn ou_count(&self) -> usize {
        self.ous.len()
    }

    /// Organizations policies (SCPs + RCPs, the FullAWSAccess ones included).
    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// Number of apps the fleet holds (member accounts only).
    pub fn app_count(&self) -> usize {
        if self.spec.accounts < 2 {
            0
        } else {
            self.spec.apps
        }
    }

    /// Account × region pairs holding at least one app.
    pub fn app_region_pairs(&self) -> usize {
        let mut set = std::collections::HashSet::new();
        for k in 0..self.app_count() {
            let (a, r) = self.app_home(k);
            set.insert((a, r));
        }
        set.len()
    }

    pub fn stats(&self) -> StatsSnapshot {
        let calls = self.stats.calls.lock().unwrap().iter().map(|(k, v)| (k.clone(), *v)).collect();
        let throttled = self.stats.throttled.lock().unwrap().iter().map(|(k, v)| (k.clone(), *v)).collect();
        let per_account = self.stats.per_account.lock().unwrap().iter().map(|(k, v)| (format!("{k:012}"), *v)).collect();
        StatsSnapshot {
            calls,
            throttled,
            total: self.stats.total.load(Ordering::Relaxed),
            throttles: self.stats.throttles.load(Ordering::Relaxed),
            per_account,
            max_in_flight: self.stats.max_in_flight.load(Ordering::Relaxed),
        }
    }

    // ── apps: app k lives in member account 1 + k % (N-1), slot k / (N-1)

    fn members(&self) -> usize {
        self.spec.accounts.saturating_sub(1).max(1)
    }

    fn app_home(&self, k: usize) -> (usize, usize) {
        let m = self.members();
        let account = 1 + k % m;
        let slot = k / m;
        let region = (account + slot) % self.spec.app_regions.max(1);
        (account, region)
    }

    fn region_index(&self, region: &str) -> Option<usize> {
        self.spec.regions.iter().position(|r| r == region)
    }

    /// Apps of one account × region, by index.
    fn apps_in(&self, account: usize, region: &str) -> Vec<usize> {
        let Some(r) = self.region_index(region) else { return Vec::new() };
        if account == 0 || account >= self.spec.accounts {
            return Vec::new();
        }
        let m = self.members();
        let mut out = Vec::new();
        let mut slot = 0;
        loop {
            let k = slot * m + (account - 1);
            if k >= self.app_count() {
                break;
            }
            if (account + slot) % self.spec.app_regions.max(1) == r {
                out.push(k);
            }
            slot += 1;
        }
        out
    }

    fn env_of(&self, account: usize) -> &'static str {
        match self.account_parent.get(account).copied().flatten() {
            Some(ou) => self.ous[ou].env,
            None => "mgmt",
        }
    }

    fn app_name(&self, k: usize) -> String {
        let (a, _) = self.app_home(k);
        format!("{}-{k:05}-{}", APP_FAMILIES[k % APP_FAMILIES.len()], self.env_of(a))
    }

    /// The app index from its name, if it is one of ours in that account × region.
    fn app_by_name(&self, account: usize, region: &str, name: &str) -> Option<usize> {
        let k: usize = name.split('-').nth(1)?.parse().ok()?;
        if k >= self.app_count() {
            return None;
        }
        let (a, r) = self.app_home(k);
        (a == account && self.spec.regions.get(r).map(String::as_str) == Some(region) && self.app_name(k) == name).then_some(k)
    }

    fn app_by_arn(&self, arn: &str) -> Option<(usize, usize)> {
        // arn:aws:kinesisanalytics:<region>:<account>:application/<name>
        let mut parts = arn.splitn(6, ':');
        let (_, _, _, region, account, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let name = rest.strip_prefix("application/")?;
        let a = account_index(account)?;
        self.app_by_name(a, region, name).map(|k| (a, k))
    }

    fn has_cmk(&self, k: usize) -> bool {
        self.spec.cmk_every > 0 && k % self.spec.cmk_every == 1 % self.spec.cmk_every.max(1)
    }

    fn key_uuid(&self, k: usize) -> String {
        let (a, _) = self.app_home(k);
        format!("{:08x}-5eed-4abc-8def-{}", k, account_id(a))
    }

    fn key_arn(&self, k: usize) -> String {
        let (a, r) = self.app_home(k);
        format!("arn:aws:kms:{}:{}:key/{}", self.spec.regions[r], account_id(a), self.key_uuid(k))
    }

    fn role_name(&self, k: usize) -> String {
        format!("flink-{}", self.app_name(k))
    }

    fn code_bucket(&self, account: usize, region: &str) -> String {
        format!("flink-code-{}-{region}", account_id(account))
    }

    fn has_failed_op(&self, k: usize) -> bool {
        self.spec.failed_op_every > 0 && k % self.spec.failed_op_every == 0
    }

    // ── serving

    fn next_random(&self) -> f64 {
        // splitmix64 over a shared counter: cheap, lock-free, seeded.
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    async fn serve(self: Arc<Self>, request: HttpRequest) -> HttpResponse {
        let req = Req::parse(&request);
        let key = format!("{}:{}", req.service, req.operation);
        let account = req.account();
        let throttle = self.spec.throttle_rate > 0.0 && self.next_random() < self.spec.throttle_rate;
        {
            let mut calls = self.stats.calls.lock().unwrap();
            *calls.entry(key.clone()).or_insert(0) += 1;
        }
        if let Some(a) = account {
            *self.stats.per_account.lock().unwrap().entry(ACCOUNT_BASE + a as u64).or_insert(0) += 1;
        }
        self.stats.total.fetch_add(1, Ordering::Relaxed);
        let now_in = self.stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.stats.max_in_flight.fetch_max(now_in, Ordering::Relaxed);
        if !self.spec.latency.is_zero() {
            tokio::time::sleep(self.spec.latency).await;
        }
        let resp = if throttle {
            self.stats.throttles.fetch_add(1, Ordering::Relaxed);
            *self.stats.throttled.lock().unwrap().entry(key).or_insert(0) += 1;
            throttle_error(&req)
        } else {
            self.respond(&req)
        };
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        resp.into_http()
    }

    fn respond(&self, req: &Req) -> Resp {
        let result = match req.service.as_str() {
            "organizations" => self.organizations(req),
            "sts" => self.sts(req),
            "iam" => self.iam(req),
            "kinesisanalytics" => self.flink(req),
            "cloudwatch" => self.cloudwatch(req),
            "kms" => self.kms(req),
            "s3" => self.s3(req),
            "kinesis" => self.kinesis(req),
            "health" => self.health(req),
            _ => Err(Fault::new(400, "UnknownOperationException", format!("synthetic AWS does not serve {}", req.service))),
        };
        result.unwrap_or_else(|fault| fault.into_resp(req))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn build_policies(spec: &FleetSpec, ous: &[Ou], leaves: &[usize]) -> Vec<OrgPolicy> {
    let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let mut out = vec![
        OrgPolicy {
            id: "p-FullAWSAccess".into(),
            name: "FullAWSAccess".into(),
            description: "Allows access to every operation".into(),
            kind: PolicyKind::Scp,
            aws_managed: true,
            content: allow_all.into(),
            targets: None,
        },
        OrgPolicy {
            id: "p-RCPFullAWSAccess".into(),
            name: "RCPFullAWSAccess".into(),
            description: "Allows access to every operation".into(),
            kind: PolicyKind::Rcp,
            aws_managed: true,
            content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into(),
            targets: None,
        },
    ];
    let regions: Vec<&str> = spec.regions.iter().map(String::as_str).collect();
    let scp_templates: Vec<(&str, String)> = vec![
        ("deny-leave-org", r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":["organizations:LeaveOrganization","account:CloseAccount"],"Resource":"*"}]}"#.into()),
        ("region-guardrail", json!({"Version":"2012-10-17","Statement":[{"Sid":"DenyOtherRegions","Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*","support:*","cloudfront:*","route53:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":regions}}}]}).to_string()),
        ("protect-kms", r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoKeyDeletion","Effect":"Deny","Action":["kms:ScheduleKeyDeletion","kms:DisableKey"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}"#.into()),
        ("dev-no-prod-data", r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyProdStreams","Effect":"Deny","Action":["kinesis:GetRecords","kinesis:GetShardIterator","kinesis:SubscribeToShard"],"Resource":"arn:aws:kinesis:*:*:stream/prod-*"}]}"#.into()),
        ("deny-public-s3", r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoPublicBuckets","Effect":"Deny","Action":["s3:PutBucketPublicAccessBlock","s3:DeletePublicAccessBlock"],"Resource":"*"}]}"#.into()),
    ];
    let rcp_templates: Vec<(&str, String)> = vec![
        ("rcp-org-only", json!({"Version":"2012-10-17","Statement":[{"Sid":"EnforceOrgIdentities","Effect":"Deny","Principal":"*","Action":["s3:*","kms:*","sts:AssumeRole"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":ORG_ID},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}).to_string()),
        ("rcp-secure-transport", r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnforceTLS","Effect":"Deny","Principal":"*","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#.into()),
    ];
    let inner: Vec<usize> = (0..ous.len()).filter(|i| !ous[*i].children.is_empty()).collect();
    for i in 0..spec.scps {
        let (name, content) = &scp_templates[i % scp_templates.len()];
        // Attach: the first to the root, then to OUs of decreasing breadth, and a few accounts.
        let targets = match i % 4 {
            0 => vec![Target::Root],
            1 => inner.iter().step_by(2).map(|&o| Target::Ou(o)).collect(),
            2 => leaves.iter().skip(i).step_by(5).map(|&o| Target::Ou(o)).collect(),
            _ => (1..spec.accounts).skip(i).step_by(97).map(Target::Account).collect(),
        };
        out.push(OrgPolicy {
            id: format!("p-scp{:05}", i + 1),
            name: if i < scp_templates.len() { name.to_string() } else { format!("{name}-{}", i + 1) },
            description: format!("synthetic SCP {}", i + 1),
            kind: PolicyKind::Scp,
            aws_managed: false,
            content: content.clone(),
            targets: Some(targets),
        });
    }
    for i in 0..spec.rcps {
        let (name, content) = &rcp_templates[i % rcp_templates.len()];
        let targets = match i % 2 {
            0 => vec![Target::Root],
            _ => inner.iter().take(3).map(|&o| Target::Ou(o)).collect(),
        };
        out.push(OrgPolicy {
            id: format!("p-rcp{:05}", i + 1),
            name: if i < rcp_templates.len() { name.to_string() } else { format!("{name}-{}", i + 1) },
            description: format!("synthetic RCP {}", i + 1),
            kind: PolicyKind::Rcp,
            aws_managed: false,
            content: content.clone(),
            targets: Some(targets),
        });
    }
    out
}

// ───────────────────────────────────────────────────────────── the connector

#[derive(Debug)]
struct Connector(Arc<SyntheticAws>);

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let aws = self.0.clone();
        HttpConnectorFuture::new(async move { Ok(aws.serve(request).await) })
    }
}

/// One parsed request.
#[derive(Debug)]
struct Req {
    /// Normalised: organizations, sts, iam, kinesisanalytics, cloudwatch, kms, s3, kinesis.
    service: String,
    operation: String,
    region: String,
    access_key: String,
    method: String,
    host: String,
    path: String,
    query: String,
    body: Vec<u8>,
    request_id: String,
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

impl Req {
    fn parse(request: &HttpRequest) -> Self {
        let headers = request.headers();
        let auth = headers.get("authorization").unwrap_or_default();
        // AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/iam/aws4_request, ...
        let cred = auth.split("Credential=").nth(1).and_then(|c| c.split([',', ' ']).next()).unwrap_or_default();
        let mut scope = cred.split('/');
        let access_key = scope.next().unwrap_or_default().to_owned();
        let _date = scope.next();
        let region = scope.next().unwrap_or("us-east-1").to_owned();
        let signing = scope.next().unwrap_or_default().to_owned();
        let target = headers.get("x-amz-target").unwrap_or_default().to_owned();
        let uri = request.uri().to_owned();
        let (host, path_query) = split_uri(&uri);
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (path_query.to_owned(), String::new()),
        };
        let body = request.body().bytes().map(<[u8]>::to_vec).unwrap_or_default();
        let service = match signing.as_str() {
            "monitoring" => "cloudwatch".to_owned(),
            "" => guess_service(&target, &path, host),
            other => other.to_owned(),
        };
        let operation = if !target.is_empty() {
            target.rsplit('.').next().unwrap_or_default().to_owned()
        } else if let Some(op) = path.split("/operation/").nth(1) {
            op.trim_matches('/').to_owned()
        } else if service == "s3" {
            if query.split('&').any(|p| p == "policy" || p.starts_with("policy=")) {
                "GetBucketPolicy".to_owned()
            } else if path.trim_matches('/').is_empty() && request.method().eq_ignore_ascii_case("GET") && !host.starts_with("flink-code-") {
                "ListBuckets".to_owned()
            } else {
                format!("{}Object", capitalise(&request.method().to_ascii_lowercase()))
            }
        } else {
            form_value(&body, "Action").or_else(|| form_value(query.as_bytes(), "Action")).unwrap_or_else(|| "Unknown".into())
        };
        let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
        Self {
            service,
            operation,
            region,
            access_key,
            method: request.method().to_owned(),
            host: host.to_owned(),
            path,
            query,
            body,
            request_id: format!("5e7a{n:08x}-0000-4000-8000-{n:012x}"),
        }
    }

    /// Account index from the signing access key.
    fn account(&self) -> Option<usize> {
        let k = &self.access_key;
        if k.len() >= 16 && k.is_char_boundary(16) {
            account_index(&k[4..16])
        } else {
            None
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn form(&self, key: &str) -> Option<String> {
        form_value(&self.body, key)
    }
}

fn split_uri(uri: &str) -> (&str, &str) {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
    match rest.find('/') {
        Some(i) if uri.contains("://") => (&rest[..i], &rest[i..]),
        None if uri.contains("://") => (rest, "/"),
        _ => ("", uri),
    }
}

fn guess_service(target: &str, path: &str, host: &str) -> String {
    let s = if target.starts_with("AWSOrganizations") {
        "organizations"
    } else if target.starts_with("KinesisAnalytics") {
        "kinesisanalytics"
    } else if target.starts_with("TrentService") {
        "kms"
    } else if target.starts_with("Kinesis_") {
        "kinesis"
    } else if path.contains("GraniteServiceVersion20100801") {
        "cloudwatch"
    } else if host.starts_with("iam.") {
        "iam"
    } else if host.starts_with("sts.") {
        "sts"
    } else {
        "s3"
    };
    s.to_owned()
}

fn form_value(body: &[u8], key: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

// ───────────────────────────────────────────────────────────── responses

struct Resp {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(req: &Req, value: Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/x-amz-json-1.1".into()), ("x-amzn-requestid", req.request_id.clone())],
            body: serde_json::to_vec(&value).expect("json"),
        }
    }

    /// awsQuery success: `<{Op}Response><{Op}Result>inner</…><ResponseMetadata>`.
    fn query(req: &Req, namespace: &str, inner: &str) -> Self {
        let op = &req.operation;
        let body = format!(
            "<{op}Response xmlns=\"{namespace}\"><{op}Result>{inner}</{op}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
            req.request_id
        );
        Self {
            status: 200,
            headers: vec![("content-type", "text/xml".into()), ("x-amzn-requestid", req.request_id.clone())],
            body: body.into_bytes(),
        }
    }

    fn cbor(req: &Req, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type", "application/cbor".into()),
                ("smithy-protocol", "rpc-v2-cbor".into()),
                ("x-amzn-requestid", req.request_id.clone()),
            ],
            body,
        }
    }

    fn into_http(self) -> HttpResponse {
        let mut resp = HttpResponse::new(StatusCode::try_from(self.status).expect("status"), SdkBody::from(self.body));
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

/// An error answer, rendered in the protocol of the request.
#[derive(Debug)]
struct Fault {
    status: u16,
    code: String,
    message: String,
}

impl Fault {
    fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into() }
    }

    fn not_found(code: &str, what: impl fmt::Display) -> Self {
        Self::new(if code == "NoSuchEntity" || code.starts_with("NoSuch") { 404 } else { 400 }, code, format!("{what} not found"))
    }

    fn into_resp(self, req: &Req) -> Resp {
        match req.service.as_str() {
            "sts" | "iam" => {
                let kind = if self.status >= 500 { "Receiver" } else { "Sender" };
                let ns = if req.service == "sts" { STS_NS } else { IAM_NS };
                let body = format!(
                    "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                    xml(&self.code),
                    xml(&self.message),
                    req.request_id
                );
                Resp {
                    status: self.status,
                    headers: vec![("content-type", "text/xml".into()), ("x-amzn-requestid", req.request_id.clone())],
                    body: body.into_bytes(),
                }
            }
            "cloudwatch" => {
                let mut enc = aws_smithy_cbor::Encoder::new(Vec::new());
                enc.begin_map();
                enc.str("__type").str(&format!("com.amazonaws.cloudwatch#{}", self.code));
                enc.str("message").str(&self.message);
                enc.end();
                let kind = if self.status >= 500 { "Receiver" } else { "Sender" };
                Resp {
                    status: self.status,
                    headers: vec![
                        ("content-type", "application/cbor".into()),
                        ("smithy-protocol", "rpc-v2-cbor".into()),
                        ("x-amzn-query-error", format!("{};{kind}", self.code)),
                        ("x-amzn-requestid", req.request_id.clone()),
                    ],
                    body: enc.into_writer(),
                }
            }
            "s3" => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId><HostId>synthetic</HostId></Error>",
                    xml(&self.code),
                    xml(&self.message),
                    req.request_id
                );
                Resp {
                    status: self.status,
                    headers: vec![
                        ("content-type", "application/xml".into()),
                        ("x-amz-request-id", req.request_id.clone()),
                        ("x-amz-id-2", "synthetic".into()),
                    ],
                    body: body.into_bytes(),
                }
            }
            _ => Resp {
                status: self.status,
                headers: vec![
                    ("content-type", "application/x-amz-json-1.1".into()),
                    ("x-amzn-errortype", self.code.clone()),
                    ("x-amzn-requestid", req.request_id.clone()),
                ],
                body: serde_json::to_vec(&json!({"__type": self.code, "message": self.message})).expect("json"),
            },
        }
    }
}

/// The throttling error each service really sends.
fn throttle_error(req: &Req) -> Resp {
    let fault = match req.service.as_str() {
        "organizations" => Fault::new(
            400,
            "TooManyRequestsException",
            "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
        ),
        "sts" | "iam" | "cloudwatch" => Fault::new(400, "Throttling", "Rate exceeded"),
        "kinesis" => Fault::new(400, "LimitExceededException", "Rate exceeded for stream"),
        "s3" => Fault::new(503, "SlowDown", "Please reduce your request rate."),
        _ => Fault::new(400, "ThrottlingException", "Rate exceeded"),
    };
    fault.into_resp(req)
}

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// IAM's URL encoding of policy documents (RFC 3986 unreserved kept).
const IAM_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, IAM_ENCODE).to_string()
}

fn iso(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// Howard Hinnant's days → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A page of `items` from the `NextToken` (an offset) and a page size.
fn page<T: Clone>(items: &[T], token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start = token.and_then(|t| t.strip_prefix("synt-")).and_then(|t| t.parse::<usize>().ok()).unwrap_or(0).min(items.len());
    let end = (start + size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| format!("synt-{end}"));
    (items[start..end].to_vec(), next)
}

fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let (Some(t), Some(obj)) = (token, v.as_object_mut()) {
        obj.insert("NextToken".into(), Value::String(t));
    }
    v
}

// ───────────────────────────────────────────────────────────── Organizations

const ORG_MAX: usize = 20;

impl SyntheticAws {
    fn account_json(&self, a: usize) -> Value {
        let id = account_id(a);
        let name = if a == 0 { "management".to_owned() } else { format!("acct-{a:05}-{}", self.env_of(a)) };
        json!({
            "Id": id,
            "Arn": format!("arn:aws:organizations::{}:account/{ORG_ID}/{id}", account_id(0)),
            "Email": format!("aws+{a}@example.com"),
            "Name": name,
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": if a == 0 { "INVITED" } else { "CREATED" },
            "JoinedTimestamp": (self.epoch - 86_400 * 400 + a as i64 * 60) as f64,
        })
    }

    fn ou_json(&self, o: usize) -> Value {
        let ou = &self.ous[o];
        json!({"Id": ou.id, "Arn": format!("arn:aws:organizations::{}:ou/{ORG_ID}/{}", account_id(0), ou.id), "Name": ou.name})
    }

    fn parent_of(&self, id: &str) -> Result<Option<usize>, Fault> {
        if id == ROOT_ID {
            return Ok(None);
        }
        id.strip_prefix("ou-synt-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n >= 1 && *n <= self.ous.len())
            .map(|n| Some(n - 1))
            .ok_or_else(|| Fault::new(400, "ParentNotFoundException", format!("parent {id} not found")))
    }

    fn policy_summary(&self, p: &OrgPolicy) -> Value {
        json!({
            "Id": p.id,
            "Arn": if p.aws_managed {
                format!("arn:aws:organizations::aws:policy/{}/{}", policy_type_path(p.kind), p.id)
            } else {
                format!("arn:aws:organizations::{}:policy/{ORG_ID}/{}/{}", account_id(0), policy_type_path(p.kind), p.id)
            },
            "Name": p.name,
            "Description": p.description,
            "Type": policy_type(p.kind),
            "AwsManaged": p.aws_managed,
        })
    }

    fn target_json(&self, t: Target) -> Value {
        match t {
            Target::Root => {
                json!({"TargetId": ROOT_ID, "Arn": format!("arn:aws:organizations::{}:root/{ORG_ID}/{ROOT_ID}", account_id(0)), "Name": "Root", "Type": "ROOT"})
            }
            Target::Ou(o) => {
                let ou = &self.ous[o];
                json!({"TargetId": ou.id, "Arn": format!("arn:aws:organizations::{}:ou/{ORG_ID}/{}", account_id(0), ou.id), "Name": ou.name, "Type": "ORGANIZATIONAL_UNIT"})
            }
            Target::Account(a) => {
                let acct = self.account_json(a);
                json!({"TargetId": acct["Id"], "Arn": acct["Arn"], "Name": acct["Name"], "Type": "ACCOUNT"})
            }
        }
    }

    /// A page of the policies of `kind` (attached to `target`, when given).
    fn policy_page(&self, kind: PolicyKind, target: Option<Target>, token: Option<&str>, size: usize) -> Value {
        let attached = |p: &OrgPolicy| match (target, &p.targets) {
            (Some(target), Some(targets)) => targets.contains(&target),
            _ => true,
        };
        let matching: Vec<usize> = (0..self.policies.len()).filter(|&i| self.policies[i].kind == kind && attached(&self.policies[i])).collect();
        let (items, next) = page(&matching, token, size);
        with_token(json!({"Policies": items.iter().map(|&i| self.policy_summary(&self.policies[i])).collect::<Vec<_>>()}), next)
    }

    fn target_of(&self, id: &str) -> Result<Target, Fault> {
        if let Some(a) = account_index(id).filter(|a| *a < self.spec.accounts) {
            return Ok(Target::Account(a));
        }
        match self.parent_of(id) {
            Ok(None) => Ok(Target::Root),
            Ok(Some(o)) => Ok(Target::Ou(o)),
            Err(_) => Err(Fault::new(400, "TargetNotFoundException", format!("target {id} not found"))),
        }
    }

    fn all_targets(&self) -> Vec<Target> {
        let mut t = Vec::with_capacity(1 + self.ous.len() + self.spec.accounts);
        t.push(Target::Root);
        t.extend((0..self.ous.len()).map(Target::Ou));
        t.extend((0..self.spec.accounts).map(Target::Account));
        t
    }

    fn organizations(&self, req: &Req) -> Result<Resp, Fault> {
        let input = req.json();
        let token = input["NextToken"].as_str();
        let size = match input["MaxResults"].as_u64() {
            Some(n) if n as usize > ORG_MAX || n == 0 => {
                return Err(Fault::new(400, "InvalidInputException", format!("MaxResults {n} is outside 1..=20")))
            }
            Some(n) => n as usize,
            None => ORG_MAX,
        };
        let mgmt = account_id(0);
        let out = match req.operation.as_str() {
            "DescribeOrganization" => json!({"Organization": {
                "Id": ORG_ID,
                "Arn": format!("arn:aws:organizations::{mgmt}:organization/{ORG_ID}"),
                "FeatureSet": "ALL",
                "MasterAccountArn": format!("arn:aws:organizations::{mgmt}:account/{ORG_ID}/{mgmt}"),
                "MasterAccountId": mgmt,
                "MasterAccountEmail": "aws+0@example.com",
                "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
            }}),
            "ListRoots" => json!({"Roots": [{
                "Id": ROOT_ID,
                "Arn": format!("arn:aws:organizations::{mgmt}:root/{ORG_ID}/{ROOT_ID}"),
                "Name": "Root",
                "PolicyTypes": [
                    {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
                    {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"},
                ],
            }]}),
            "ListOrganizationalUnitsForParent" => {
                let parent = self.parent_of(input["ParentId"].as_str().unwrap_or_default())?;
                let children = match parent {
                    None => &self.root_children,
                    Some(p) => &self.ous[p].children,
                };
                let (items, next) = page(children, token, size);
                with_token(json!({"OrganizationalUnits": items.iter().map(|&o| self.ou_json(o)).collect::<Vec<_>>()}), next)
            }
            "ListAccountsForParent" => {
                let parent = self.parent_of(input["ParentId"].as_str().unwrap_or_default())?;
                let accounts = match parent {
                    None => &self.root_accounts,
                    Some(p) => &self.ous[p].accounts,
                };
                let (items, next) = page(accounts, token, size);
                with_token(json!({"Accounts": items.iter().map(|&a| self.account_json(a)).collect::<Vec<_>>()}), next)
            }
            "ListAccounts" => {
                let all: Vec<usize> = (0..self.spec.accounts).collect();
                let (items, next) = page(&all, token, size);
                with_token(json!({"Accounts": items.iter().map(|&a| self.account_json(a)).collect::<Vec<_>>()}), next)
            }
            "ListPolicies" => self.policy_page(policy_filter(&input)?, None, token, size),
            "ListPoliciesForTarget" => {
                let target = self.target_of(input["TargetId"].as_str().unwrap_or_default())?;
                self.policy_page(policy_filter(&input)?, Some(target), token, size)
            }
            "DescribePolicy" => {
                let p = self.policy(input["PolicyId"].as_str())?;
                json!({"Policy": {"PolicySummary": self.policy_summary(p), "Content": p.content}})
            }
            "ListTargetsForPolicy" => {
                let p = self.policy(input["PolicyId"].as_str())?;
                let all;
                let targets = match &p.targets {
                    Some(t) => t.as_slice(),
                    None => {
                        all = self.all_targets();
                        all.as_slice()
                    }
                };
                let (items, next) = page(targets, token, size);
                with_token(json!({"Targets": items.iter().map(|&t| self.target_json(t)).collect::<Vec<_>>()}), next)
            }
            "ListTagsForResource" => {
                let id = input["ResourceId"].as_str().unwrap_or_default();
                let tags = match account_index(id) {
                    Some(a) if a < self.spec.accounts => {
                        json!([{"Key": "env", "Value": self.env_of(a)}, {"Key": "cost-center", "Value": format!("cc-{}", a % 40)}, {"Key": "owner", "Value": format!("team-{}", a % 60)}])
                    }
                    _ if id == ROOT_ID || id.starts_with("ou-") || id.starts_with("p-") => json!([]),
                    _ => return Err(Fault::new(400, "TargetNotFoundException", format!("{id} not found"))),
                };
                json!({"Tags": tags})
            }
            "DescribeAccount" => {
                let a = account_index(input["AccountId"].as_str().unwrap_or_default())
                    .filter(|a| *a < self.spec.accounts)
                    .ok_or_else(|| Fault::new(400, "AccountNotFoundException", "account not found"))?;
                json!({"Account": self.account_json(a)})
            }
            "ListParents" => {
                let id = input["ChildId"].as_str().unwrap_or_default();
                let parent = if let Some(a) = account_index(id).filter(|a| *a < self.spec.accounts) {
                    self.account_parent[a]
                } else {
                    self.parent_of(id)?.and_then(|o| self.ous[o].parent)
                };
                let p = match parent {
                    None => json!({"Id": ROOT_ID, "Type": "ROOT"}),
                    Some(o) => json!({"Id": self.ous[o].id, "Type": "ORGANIZATIONAL_UNIT"}),
                };
                json!({"Parents": [p]})
            }
            other => return Err(Fault::new(400, "UnknownOperationException", format!("organizations:{other} is not synthesised"))),
        };
        Ok(Resp::json(req, out))
    }

    fn policy(&self, id: Option<&str>) -> Result<&OrgPolicy, Fault> {
        let id = id.unwrap_or_default();
        self.policies
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| Fault::new(400, "PolicyNotFoundException", format!("policy {id} not found")))
    }
}

fn policy_filter(input: &Value) -> Result<PolicyKind, Fault> {
    match input["Filter"].as_str() {
        Some("SERVICE_CONTROL_POLICY") => Ok(PolicyKind::Scp),
        Some("RESOURCE_CONTROL_POLICY") => Ok(PolicyKind::Rcp),
        other => Err(Fault::new(400, "InvalidInputException", format!("unsupported Filter {other:?}"))),
    }
}

fn policy_type(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Scp => "SERVICE_CONTROL_POLICY",
        PolicyKind::Rcp => "RESOURCE_CONTROL_POLICY",
    }
}

fn policy_type_path(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Scp => "service_control_policy",
        PolicyKind::Rcp => "resource_control_policy",
    }
}

// ───────────────────────────────────────────────────────────── STS

impl SyntheticAws {
    fn sts(&self, req: &Req) -> Result<Resp, Fault> {
        match req.operation.as_str() {
            "AssumeRole" => {
                let role_arn = req.form("RoleArn").unwrap_or_default();
                let session = req.form("RoleSessionName").unwrap_or_else(|| "session".into());
                let duration: i64 = req.form("DurationSeconds").and_then(|d| d.parse().ok()).unwrap_or(3600);
                // arn:aws:iam::<account>:role/<name>
                let mut parts = role_arn.split(':');
                let account = parts.nth(4).unwrap_or_default().to_owned();
                let role = parts.next().and_then(|r| r.strip_prefix("role/")).unwrap_or_default().to_owned();
                let Some(a) = account_index(&account).filter(|a| *a < self.spec.accounts) else {
                    return Err(Fault::new(403, "AccessDenied", format!("not authorized to perform sts:AssumeRole on {role_arn}")));
                };
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
                let inner = format!(
                    "<Credentials><AccessKeyId>ASIA{id}SYNT</AccessKeyId><SecretAccessKey>synthetic-secret-{a}</SecretAccessKey><SessionToken>synthetic-token-{a}</SessionToken><Expiration>{exp}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASYNTH{a:08}:{session}</AssumedRoleId><Arn>arn:aws:sts::{id}:assumed-role/{role}/{session}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
                    id = account_id(a),
                    exp = iso(now + duration),
                    session = xml(&session),
                    role = xml(&role),
                );
                Ok(Resp::query(req, STS_NS, &inner))
            }
            "GetCallerIdentity" => {
                let a = req.account().unwrap_or(0);
                let id = account_id(a);
                let (arn, user) = if req.access_key.starts_with("ASIA") {
                    (format!("arn:aws:sts::{id}:assumed-role/FleetscanAudit/fleetscan"), format!("AROASYNTH{a:08}:fleetscan"))
                } else {
                    (format!("arn:aws:iam::{id}:user/fleetscan-bench"), "AIDASYNTHBENCH".to_owned())
                };
                Ok(Resp::query(req, STS_NS, &format!("<UserId>{user}</UserId><Account>{id}</Account><Arn>{arn}</Arn>")))
            }
            other => Err(Fault::new(400, "InvalidAction", format!("sts:{other} is not synthesised"))),
        }
    }
}

// ───────────────────────────────────────────────────────────── IAM

const AWS_MANAGED_POLICY: &str = "arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess";

impl SyntheticAws {
    fn role_app(&self, account: usize, role_name: &str) -> Option<usize> {
        let name = role_name.strip_prefix("flink-")?;
        let k: usize = name.split('-').nth(1)?.parse().ok()?;
        if k >= self.app_count() || self.app_home(k).0 != account || self.app_name(k) != name {
            return None;
        }
        Some(k)
    }

    fn iam(&self, req: &Req) -> Result<Resp, Fault> {
        let a = req.account().unwrap_or(0);
        let id = account_id(a);
        let created = iso(self.epoch - 86_400 * 200);
        let inner = match req.operation.as_str() {
            "GetRole" => {
                let name = req.form("RoleName").unwrap_or_default();
                let k = self
                    .role_app(a, &name)
                    .ok_or_else(|| Fault::not_found("NoSuchEntity", format!("The role with name {name} cannot be found.")))?;
                let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":id}}}]});
                let boundary = if k % 2 == 0 {
                    format!("<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>arn:aws:iam::{id}:policy/flink-boundary</PermissionsBoundaryArn></PermissionsBoundary>")
                } else {
                    String::new()
                };
                format!(
                    "<Role><Path>/service-role/</Path><AssumeRolePolicyDocument>{trust}</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration><RoleId>AROASYNTH{k:011}</RoleId><RoleName>{name}</RoleName><Arn>arn:aws:iam::{id}:role/service-role/{name}</Arn><CreateDate>{created}</CreateDate>{boundary}<Tags><member><Key>app</Key><Value>{app}</Value></member></Tags><RoleLastUsed><LastUsedDate>{used}</LastUsedDate><Region>{region}</Region></RoleLastUsed></Role>",
                    trust = url_encode(&trust.to_string()),
                    name = xml(&name),
                    app = xml(&self.app_name(k)),
                    used = iso(self.epoch - 3600),
                    region = self.spec.regions[self.app_home(k).1],
                )
            }
            "ListAttachedRolePolicies" => {
                let name = req.form("RoleName").unwrap_or_default();
                self.role_app(a, &name)
                    .ok_or_else(|| Fault::not_found("NoSuchEntity", format!("The role with name {name} cannot be found.")))?;
                format!(
                    "<IsTruncated>false</IsTruncated><AttachedPolicies><member><PolicyArn>arn:aws:iam::{id}:policy/flink-common</PolicyArn><PolicyName>flink-common</PolicyName></member><member><PolicyArn>{AWS_MANAGED_POLICY}</PolicyArn><PolicyName>AmazonKinesisReadOnlyAccess</PolicyName></member></AttachedPolicies>"
                )
            }
            "ListRolePolicies" => {
                let name = req.form("RoleName").unwrap_or_default();
                self.role_app(a, &name)
                    .ok_or_else(|| Fault::not_found("NoSuchEntity", format!("The role with name {name} cannot be found.")))?;
                "<PolicyNames><member>app-access</member></PolicyNames><IsTruncated>false</IsTruncated>".to_owned()
            }
            "GetRolePolicy" => {
                let name = req.form("RoleName").unwrap_or_default();
                let policy = req.form("PolicyName").unwrap_or_default();
                let k = self
                    .role_app(a, &name)
                    .ok_or_else(|| Fault::not_found("NoSuchEntity", format!("The role with name {name} cannot be found.")))?;
                if policy != "app-access" {
                    return Err(Fault::not_found("NoSuchEntity", format!("The role policy with name {policy} cannot be found.")));
                }
                let doc = self.inline_policy(k);
                format!("<RoleName>{}</RoleName><PolicyName>app-access</PolicyName><PolicyDocument>{}</PolicyDocument>", xml(&name), url_encode(&doc))
            }
            "GetPolicy" => {
                let arn = req.form("PolicyArn").unwrap_or_default();
                let (name, _) = self.managed_policy(a, &arn)?;
                format!(
                    "<Policy><PolicyName>{name}</PolicyName><DefaultVersionId>v3</DefaultVersionId><PolicyId>ANPASYNTH{h:011}</PolicyId><Path>/</Path><Arn>{arn}</Arn><AttachmentCount>{count}</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>{created}</CreateDate><UpdateDate>{created}</UpdateDate></Policy>",
                    h = name.len(),
                    arn = xml(&arn),
                    count = 1 + a % 7,
                )
            }
            "GetPolicyVersion" => {
                let arn = req.form("PolicyArn").unwrap_or_default();
                let version = req.form("VersionId").unwrap_or_default();
                let (_, doc) = self.managed_policy(a, &arn)?;
                if version != "v3" {
                    return Err(Fault::not_found("NoSuchEntity", format!("Policy {arn} version {version} does not exist.")));
                }
                format!(
                    "<PolicyVersion><Document>{}</Document><VersionId>v3</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>{created}</CreateDate></PolicyVersion>",
                    url_encode(&doc)
                )
            }
            other => return Err(Fault::new(400, "InvalidAction", format!("iam:{other} is not synthesised"))),
        };
        Ok(Resp::query(req, IAM_NS, &inner))
    }

    fn inline_policy(&self, k: usize) -> String {
        let (a, r) = self.app_home(k);
        let (id, region) = (account_id(a), &self.spec.regions[r]);
        let name = self.app_name(k);
        let mut statements = vec![
            json!({"Sid":"ReadCode","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":format!("arn:aws:s3:::{}/*", self.code_bucket(a, region))}),
            json!({"Sid":"Logs","Effect":"Allow","Action":["logs:PutLogEvents","logs:DescribeLogStreams","logs:DescribeLogGroups"],"Resource":format!("arn:aws:logs:{region}:{id}:log-group:/aws/kinesis-analytics/{name}:*")}),
            json!({"Sid":"Streams","Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:ListShards","kinesis:SubscribeToShard","kinesis:PutRecord","kinesis:PutRecords"],"Resource":[format!("arn:aws:kinesis:{region}:{id}:stream/{name}-in"),format!("arn:aws:kinesis:{region}:{id}:stream/events-{region}")]}),
        ];
        if self.has_cmk(k) {
            statements.push(
                json!({"Sid":"Key","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey","kms:DescribeKey"],"Resource":self.key_arn(k)}),
            );
        }
        if k % 13 == 0 {
            // Some roles miss a permission: a realistic finding.
            statements.push(json!({"Sid":"NoMetrics","Effect":"Deny","Action":"cloudwatch:PutMetricData","Resource":"*"}));
        }
        json!({"Version":"2012-10-17","Statement":statements}).to_string()
    }

    /// (name, document) of a managed policy visible from account `a`.
    fn managed_policy(&self, a: usize, arn: &str) -> Result<(String, String), Fault> {
        let id = account_id(a);
        if arn == AWS_MANAGED_POLICY {
            return Ok(("AmazonKinesisReadOnlyAccess".into(), r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:Get*","kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}"#.into()));
        }
        if arn == format!("arn:aws:iam::{id}:policy/flink-common") {
            return Ok(("flink-common".into(), json!({"Version":"2012-10-17","Statement":[{"Sid":"Metrics","Effect":"Allow","Action":"cloudwatch:PutMetricData","Resource":"*"},{"Sid":"Vpc","Effect":"Allow","Action":["ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DeleteNetworkInterface","ec2:DescribeVpcs","ec2:DescribeSubnets","ec2:DescribeSecurityGroups","ec2:DescribeDhcpOptions","ec2:CreateNetworkInterfacePermission"],"Resource":"*"}]}).to_string()));
        }
        if arn == format!("arn:aws:iam::{id}:policy/flink-boundary") {
            return Ok(("flink-boundary".into(), r#"{"Version":"2012-10-17","Statement":[{"Sid":"Boundary","Effect":"Allow","Action":["s3:*","logs:*","kinesis:*","kms:*","cloudwatch:*","ec2:*"],"Resource":"*"},{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#.into()));
        }
        Err(Fault::not_found("NoSuchEntity", format!("Policy {arn} does not exist or is not attachable.")))
    }
}

// ───────────────────────────────────────────────────────────── Managed Flink

const FLINK_PAGE: usize = 50;

impl SyntheticAws {
    fn app_status(&self, k: usize) -> &'static str {
        match k % 23 {
            5 => "READY",
            11 => "FORCE_STOPPING",
            17 => "ROLLED_BACK",
            _ => "RUNNING",
        }
    }

    fn app_arn(&self, k: usize) -> String {
        let (a, r) = self.app_home(k);
        format!("arn:aws:kinesisanalytics:{}:{}:application/{}", self.spec.regions[r], account_id(a), self.app_name(k))
    }

    fn app_detail(&self, k: usize) -> Value {
        let (a, r) = self.app_home(k);
        let (id, region) = (account_id(a), self.spec.regions[r].as_str());
        let name = self.app_name(k);
        let runtime = RUNTIMES[k % RUNTIMES.len()];
        let checkpoint = match k % 9 {
            0 => json!({"ConfigurationType":"DEFAULT","CheckpointingEnabled":true,"CheckpointInterval":60000,"MinPauseBetweenCheckpoints":5000}),
            3 => json!({"ConfigurationType":"CUSTOM","CheckpointingEnabled":false,"CheckpointInterval":60000,"MinPauseBetweenCheckpoints":5000}),
            6 => json!({"ConfigurationType":"CUSTOM","CheckpointingEnabled":true,"CheckpointInterval":600000,"MinPauseBetweenCheckpoints":1000}),
            _ => {
                json!({"ConfigurationType":"CUSTOM","CheckpointingEnabled":true,"CheckpointInterval":30000 + (k % 5) * 15000,"MinPauseBetweenCheckpoints":5000})
            }
        };
        let mut conf = json!({
            "ApplicationCodeConfigurationDescription": {
                "CodeContentType": "ZIPFILE",
                "CodeContentDescription": {
                    "CodeMD5": format!("{:032x}", k as u128 * 0x9E37_79B9),
                    "CodeSize": 48_000_000 + k as i64,
                    "S3ApplicationCodeLocationDescription": {
                        "BucketARN": format!("arn:aws:s3:::{}", self.code_bucket(a, region)),
                        "FileKey": format!("{name}/app-1.{}.jar", k % 10),
                        "ObjectVersion": format!("v{:016x}", k),
                    }
                }
            },
            "RunConfigurationDescription": {
                "ApplicationRestoreConfigurationDescription": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
                "FlinkRunConfigurationDescription": {"AllowNonRestoredState": false}
            },
            "FlinkApplicationConfigurationDescription": {
                "CheckpointConfigurationDescription": checkpoint,
                "MonitoringConfigurationDescription": {"ConfigurationType": "CUSTOM", "MetricsLevel": "APPLICATION", "LogLevel": "INFO"},
                "ParallelismConfigurationDescription": {"ConfigurationType": "CUSTOM", "Parallelism": 2 + k % 6, "ParallelismPerKPU": 1, "CurrentParallelism": 2 + k % 6, "AutoScalingEnabled": k % 2 == 0},
                "JobPlanDescription": format!("{{\"jid\":\"{k:032x}\",\"name\":\"{name}\",\"nodes\":[]}}")
            },
            "EnvironmentPropertyDescriptions": {"PropertyGroupDescriptions": [
                {"PropertyGroupId": "FlinkApplicationProperties", "PropertyMap": {
                    "input.stream.arn": format!("arn:aws:kinesis:{region}:{id}:stream/{name}-in"),
                    "output.stream.arn": format!("arn:aws:kinesis:{region}:{id}:stream/events-{region}"),
                    "parallelism.hint": (2 + k % 6).to_string(),
                }},
                {"PropertyGroupId": "ConsumerConfigProperties", "PropertyMap": {"flink.stream.initpos": "LATEST", "aws.region": region}}
            ]},
            "ApplicationSnapshotConfigurationDescription": {"SnapshotsEnabled": k % 11 != 4},
            "ApplicationSystemRollbackConfigurationDescription": {"RollbackEnabled": k % 3 == 0},
        });
        let obj = conf.as_object_mut().expect("object");
        if k % 3 == 1 {
            obj.insert(
                "VpcConfigurationDescriptions".into(),
                json!([{
                    "VpcConfigurationId": "1.1",
                    "VpcId": format!("vpc-{:017x}", a),
                    "SubnetIds": [format!("subnet-{:017x}", a * 3), format!("subnet-{:017x}", a * 3 + 1)],
                    "SecurityGroupIds": [format!("sg-{:017x}", a)],
                }]),
            );
        }
        if self.has_cmk(k) {
            let key_id = if k % 8 == 5 { format!("alias/flink-{name}") } else { self.key_arn(k) };
            obj.insert("ApplicationEncryptionConfigurationDescription".into(), json!({"KeyId": key_id, "KeyType": "CUSTOMER_MANAGED_KEY"}));
        } else {
            obj.insert("ApplicationEncryptionConfigurationDescription".into(), json!({"KeyType": "AWS_OWNED_KEY"}));
        }
        json!({
            "ApplicationARN": self.app_arn(k),
            "ApplicationDescription": format!("{} stream processor", APP_FAMILIES[k % APP_FAMILIES.len()]),
            "ApplicationName": name,
            "RuntimeEnvironment": runtime,
            "ServiceExecutionRole": format!("arn:aws:iam::{id}:role/service-role/{}", self.role_name(k)),
            "ApplicationStatus": self.app_status(k),
            "ApplicationVersionId": 3 + (k % 20) as i64,
            "CreateTimestamp": (self.epoch - 86_400 * 120) as f64 + 0.25,
            "LastUpdateTimestamp": (self.epoch - 43_200) as f64 + 0.5,
            "ApplicationConfigurationDescription": conf,
            "CloudWatchLoggingOptionDescriptions": [{
                "CloudWatchLoggingOptionId": "1.1",
                "LogStreamARN": format!("arn:aws:logs:{region}:{id}:log-group:/aws/kinesis-analytics/{name}:log-stream:kinesis-analytics-log-stream"),
            }],
            "ApplicationMaintenanceConfigurationDescription": {"ApplicationMaintenanceWindowStartTime": "06:00", "ApplicationMaintenanceWindowEndTime": "14:00"},
            "ApplicationVersionUpdatedFrom": 2 + (k % 20) as i64,
            "ApplicationVersionCreateTimestamp": (self.epoch - 43_200) as f64,
            "ConditionalToken": format!("{:016x}", k * 7919),
            "ApplicationMode": "STREAMING",
        })
    }

    fn operations(&self, k: usize) -> Vec<Value> {
        let n = self.spec.operations_per_app;
        (0..n)
            .map(|i| {
                let failed = i == 0 && self.has_failed_op(k);
                // Newest first: 2 h, 1 day + 2 h, 2 days + 2 h, ...
                let start = self.epoch - 7_200 - 86_400 * i as i64;
                json!({
                    "Operation": if i + 1 == n { "StartApplication" } else { "UpdateApplication" },
                    "OperationId": format!("op{k:06}{i:02}"),
                    "StartTime": start as f64,
                    "EndTime": (start + 95) as f64,
                    "OperationStatus": if failed { "FAILED" } else { "SUCCESSFUL" },
                })
            })
            .collect()
    }

    fn flink(&self, req: &Req) -> Result<Resp, Fault> {
        let a = req.account().unwrap_or(0);
        let input = req.json();
        let token = input["NextToken"].as_str();
        let limit = match input["Limit"].as_u64() {
            Some(n) if n == 0 || n as usize > FLINK_PAGE => {
                return Err(Fault::new(400, "InvalidArgumentException", format!("Limit {n} is outside 1..=50")))
            }
            Some(n) => n as usize,
            None => FLINK_PAGE,
        };
        let app = |field: &str| -> Result<usize, Fault> {
            let name = input[field].as_str().unwrap_or_default();
            self.app_by_name(a, &req.region, name)
                .ok_or_else(|| Fault::new(400, "ResourceNotFoundException", format!("Application {name} is not found.")))
        };
        let out = match req.operation.as_str() {
            "ListApplications" => {
                let apps = self.apps_in(a, &req.region);
                let (items, next) = page(&apps, token, limit);
                let summaries: Vec<Value> = items
                    .iter()
                    .map(|&k| {
                        json!({
                            "ApplicationName": self.app_name(k),
                            "ApplicationARN": self.app_arn(k),
                            "ApplicationStatus": self.app_status(k),
                            "ApplicationVersionId": 3 + (k % 20) as i64,
                            "RuntimeEnvironment": RUNTIMES[k % RUNTIMES.len()],
                            "ApplicationMode": "STREAMING",
                        })
                    })
                    .collect();
                with_token(json!({"ApplicationSummaries": summaries}), next)
            }
            "DescribeApplication" => json!({"ApplicationDetail": self.app_detail(app("ApplicationName")?)}),
            "ListApplicationSnapshots" => {
                let k = app("ApplicationName")?;
                let stale = k % 7 == 2;
                let snaps: Vec<Value> = (0..self.spec.snapshots_per_app)
                    .map(|i| {
                        let age = if stale { 86_400 * (10 + i as i64) } else { 3_600 * (6 + 24 * i as i64) };
                        json!({
                            "SnapshotName": format!("{}-snap-{i}", self.app_name(k)),
                            "SnapshotStatus": "READY",
                            "ApplicationVersionId": 3 + (k % 20) as i64,
                            "SnapshotCreationTimestamp": (self.epoch - age) as f64,
                            "RuntimeEnvironment": RUNTIMES[k % RUNTIMES.len()],
                        })
                    })
                    .collect();
                let (items, next) = page(&snaps, token, limit);
                with_token(json!({"SnapshotSummaries": items}), next)
            }
            "ListApplicationOperations" => {
                let k = app("ApplicationName")?;
                let ops = self.operations(k);
                let (items, next) = page(&ops, token, limit);
                with_token(json!({"ApplicationOperationInfoList": items}), next)
            }
            "DescribeApplicationOperation" => {
                let k = app("ApplicationName")?;
                let op_id = input["OperationId"].as_str().unwrap_or_default();
                let op = self
                    .operations(k)
                    .into_iter()
                    .find(|o| o["OperationId"] == op_id)
                    .ok_or_else(|| Fault::new(400, "ResourceNotFoundException", format!("Operation {op_id} is not found.")))?;
                let mut detail = json!({
                    "Operation": op["Operation"],
                    "StartTime": op["StartTime"],
                    "EndTime": op["EndTime"],
                    "OperationStatus": op["OperationStatus"],
                    "ApplicationVersionChangeDetails": {"ApplicationVersionUpdatedFrom": 2 + (k % 20) as i64, "ApplicationVersionUpdatedTo": 3 + (k % 20) as i64},
                });
                if op["OperationStatus"] == "FAILED" {
                    detail["OperationFailureDetails"] = json!({
                        "RollbackOperationId": format!("op{k:06}rb"),
                        "ErrorInfo": {"ErrorString": "org.apache.flink.runtime.checkpoint.CheckpointException: Could not complete snapshot 42 for operator Source: kinesis (1/4). Failure reason: Checkpoint was declined (AccessDeniedException: kms:GenerateDataKey)"},
                    });
                }
                json!({"ApplicationOperationInfoDetails": detail})
            }
            "ListTagsForResource" => {
                let arn = input["ResourceARN"].as_str().unwrap_or_default();
                let (_, k) = self.app_by_arn(arn).ok_or_else(|| Fault::new(400, "ResourceNotFoundException", format!("{arn} is not found.")))?;
                json!({"Tags": [
                    {"Key": "team", "Value": format!("team-{}", k % 60)},
                    {"Key": "service", "Value": APP_FAMILIES[k % APP_FAMILIES.len()]},
                    {"Key": "env", "Value": self.env_of(self.app_home(k).0)},
                ]})
            }
            other => return Err(Fault::new(400, "UnknownOperationException", format!("kinesisanalytics:{other} is not synthesised"))),
        };
        Ok(Resp::json(req, out))
    }
}

// ───────────────────────────────────────────────────────────── CloudWatch

impl SyntheticAws {
    fn cloudwatch(&self, req: &Req) -> Result<Resp, Fault> {
        if req.operation == "DescribeAlarms" {
            return self.describe_alarms(req);
        }
        if req.operation != "GetMetricData" {
            return Err(Fault::new(400, "InvalidAction", format!("cloudwatch:{} is not synthesised", req.operation)));
        }
        let a = req.account().unwrap_or(0);
        let input = cbor::decode(&req.body).map_err(|e| Fault::new(400, "SerializationException", e))?;
        let queries = input.get("MetricDataQueries").and_then(cbor::Value::as_array).unwrap_or(&[]);
        if queries.len() > 500 {
            return Err(Fault::new(400, "InvalidParameterValue", "The collection MetricDataQueries must not have a size greater than 500."));
        }
        let start = input.get("StartTime").and_then(cbor::Value::as_f64).unwrap_or((self.epoch - 86_400) as f64) as i64;
        let end = input.get("EndTime").and_then(cbor::Value::as_f64).unwrap_or(self.epoch as f64) as i64;
        let mut enc = aws_smithy_cbor::Encoder::new(Vec::new());
        enc.begin_map();
        enc.str("MetricDataResults");
        enc.array(queries.len());
        for q in queries {
            let id = q.get("Id").and_then(cbor::Value::as_str).unwrap_or_default();
            let stat = q.get("MetricStat");
            let metric = stat.and_then(|s| s.get("Metric"));
            let name = metric.and_then(|m| m.get("MetricName")).and_then(cbor::Value::as_str).unwrap_or_default();
            let period = stat.and_then(|s| s.get("Period")).and_then(cbor::Value::as_f64).unwrap_or(300.0).max(60.0) as i64;
            let app = metric
                .and_then(|m| m.get("Dimensions"))
                .and_then(cbor::Value::as_array)
                .and_then(|dims| dims.iter().find(|d| d.get("Name").and_then(cbor::Value::as_str) == Some("Application")))
                .and_then(|d| d.get("Value"))
                .and_then(cbor::Value::as_str)
                .and_then(|n| self.app_by_name(a, &req.region, n));
            enc.begin_map();
            enc.str("Id").str(id);
            enc.str("Label").str(name);
            let mut points: Vec<(i64, f64)> = Vec::new();
            if let Some(k) = app {
                // Newest first, at most 288 points (one day at 5 minutes).
                let mut t = end - end.rem_euclid(period) - period;
                while t >= start && points.len() < 288 {
                    points.push((t, metric_value(name, k, (end - t) / period)));
                    t -= period;
                }
            }
            enc.str("Timestamps");
            enc.array(points.len());
            for (t, _) in &points {
                enc.timestamp(&aws_smithy_types::DateTime::from_secs(*t));
            }
            enc.str("Values");
            enc.array(points.len());
            for (_, v) in &points {
                enc.double(*v);
            }
            enc.str("StatusCode").str("Complete");
            enc.end();
        }
        enc.str("Messages");
        enc.array(0);
        enc.end();
        Ok(Resp::cbor(req, enc.into_writer()))
    }
}

impl SyntheticAws {
    /// Metric alarms of one account × region, pages of `MaxRecords` (the
    /// token is the index of the next alarm): app k has all three alarms when
    /// `k % 3 == 0`, a checkpoint-duration alarm with its actions disabled
    /// when `k % 3 == 1`, none otherwise.
    fn describe_alarms(&self, req: &Req) -> Result<Resp, Fault> {
        let a = req.account().unwrap_or(0);
        let input = cbor::decode(&req.body).map_err(|e| Fault::new(400, "SerializationException", e))?;
        let limit = input.get("MaxRecords").and_then(cbor::Value::as_f64).unwrap_or(50.0) as usize;
        if !(1..=100).contains(&limit) {
            return Err(Fault::new(400, "ValidationError", "MaxRecords must be between 1 and 100"));
        }
        let start = match input.get("NextToken").and_then(cbor::Value::as_str) {
            Some(token) => token.parse::<usize>().map_err(|_| Fault::new(400, "InvalidNextToken", "invalid NextToken"))?,
            None => 0,
        };
        let mut alarms: Vec<(usize, &'static str, bool)> = Vec::new();
        for k in self.apps_in(a, &req.region) {
            match k % 3 {
                0 => alarms.extend(["numberOfFailedCheckpoints", "lastCheckpointDuration", "fullRestarts"].map(|m| (k, m, true))),
                1 => alarms.push((k, "lastCheckpointDuration", false)),
                _ => {}
            }
        }
        let page: Vec<_> = alarms.iter().skip(start).take(limit).collect();
        let id = account_id(a);
        let mut enc = aws_smithy_cbor::Encoder::new(Vec::new());
        enc.begin_map();
        enc.str("MetricAlarms");
        enc.array(page.len());
        for (k, metric, enabled) in &page {
            let name = format!("{}-{metric}", self.app_name(*k));
            enc.begin_map();
            enc.str("AlarmName").str(&name);
            enc.str("AlarmArn").str(&format!("arn:aws:cloudwatch:{}:{id}:alarm:{name}", req.region));
            enc.str("ActionsEnabled").boolean(*enabled);
            enc.str("AlarmActions");
            enc.array(1);
            enc.str(&format!("arn:aws:sns:{}:{id}:oncall", req.region));
            enc.str("StateValue").str("OK");
            enc.str("MetricName").str(metric);
            enc.str("Namespace").str("AWS/KinesisAnalytics");
            enc.str("Dimensions");
            enc.array(1);
            enc.begin_map();
            enc.str("Name").str("Application");
            enc.str("Value").str(&self.app_name(*k));
            enc.end();
            enc.str("Statistic").str("Maximum");
            enc.str("Period").integer(300);
            enc.str("EvaluationPeriods").integer(1);
            enc.str("Threshold").double(0.0);
            enc.str("ComparisonOperator").str("GreaterThanThreshold");
            enc.end();
        }
        enc.str("CompositeAlarms");
        enc.array(0);
        if start + page.len() < alarms.len() {
            enc.str("NextToken").str(&(start + page.len()).to_string());
        }
        enc.end();
        Ok(Resp::cbor(req, enc.into_writer()))
    }
}

impl SyntheticAws {
    /// AWS Health's organizational view (rpc-v2-cbor): a quiet Organization,
    /// no Managed Flink event; the calls cost what they cost in AWS.
    fn health(&self, req: &Req) -> Result<Resp, Fault> {
        let list = match req.operation.as_str() {
            "DescribeEventsForOrganization" => "events",
            "DescribeAffectedAccountsForOrganization" => "affectedAccounts",
            "DescribeAffectedEntitiesForOrganization" => "entities",
            other => return Err(Fault::new(400, "UnknownOperationException", format!("health:{other} is not synthesised"))),
        };
        let mut enc = aws_smithy_cbor::Encoder::new(Vec::new());
        enc.begin_map();
        enc.str(list);
        enc.array(0);
        enc.end();
        Ok(Resp::cbor(req, enc.into_writer()))
    }
}

/// A point of `metric` for app `k`, `age` periods before the window end.
fn metric_value(metric: &str, k: usize, age: i64) -> f64 {
    match metric {
        // Cumulative: every 10th app keeps failing (the count rises over time).
        "numberOfFailedCheckpoints" => {
            if k % 10 == 0 {
                (300 - age.min(300)) as f64 / 12.0
            } else {
                (k % 3) as f64
            }
        }
        "lastCheckpointDuration" => 800.0 + (k % 50) as f64 * 40.0 + (age % 7) as f64 * 25.0 + if k % 17 == 0 { 45_000.0 } else { 0.0 },
        "lastCheckpointSize" => 5.0e7 + (k % 100) as f64 * 1.0e6,
        "downtime" if k % 23 == 17 => 60_000.0,
        "fullRestarts" => (k % 4) as f64,
        _ => 0.0,
    }
}

// ───────────────────────────────────────────────────────────── KMS, S3, Kinesis

impl SyntheticAws {
    /// The app whose key `key_id` names (uuid, key ARN, alias name or alias ARN).
    fn key_app(&self, account: usize, region: &str, key_id: &str) -> Option<usize> {
        let tail = key_id.rsplit(":key/").next().unwrap_or(key_id);
        if let Some(alias) = key_id.split("alias/").nth(1).filter(|_| key_id.contains("alias/")) {
            let name = alias.strip_prefix("flink-")?;
            let k = self.app_by_name(account, region, name)?;
            return self.has_cmk(k).then_some(k);
        }
        let k = usize::from_str_radix(tail.split('-').next()?, 16).ok()?;
        (k < self.app_count()
            && self.has_cmk(k)
            && self.key_uuid(k) == tail
            && self.app_home(k).0 == account
            && self.spec.regions[self.app_home(k).1] == region)
            .then_some(k)
    }

    fn kms(&self, req: &Req) -> Result<Resp, Fault> {
        let a = req.account().unwrap_or(0);
        let input = req.json();
        let key_id = input["KeyId"].as_str().unwrap_or_default();
        let k = self
            .key_app(a, &req.region, key_id)
            .ok_or_else(|| Fault::new(400, "NotFoundException", format!("Key '{key_id}' does not exist")))?;
        let id = account_id(a);
        let out = match req.operation.as_str() {
            "DescribeKey" => json!({"KeyMetadata": {
                "AWSAccountId": id,
                "KeyId": self.key_uuid(k),
                "Arn": self.key_arn(k),
                "CreationDate": (self.epoch - 86_400 * 90) as f64,
                "Enabled": true,
                "Description": format!("state key of {}", self.app_name(k)),
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyState": "Enabled",
                "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER",
                "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                "MultiRegion": false,
            }}),
            "GetKeyPolicy" => {
                let name = input["PolicyName"].as_str().unwrap_or("default");
                if name != "default" {
                    return Err(Fault::new(400, "NotFoundException", format!("policy {name} does not exist")));
                }
                let mut statements = vec![
                    json!({"Sid":"EnableRoot","Effect":"Allow","Principal":{"AWS":format!("arn:aws:iam::{id}:root")},"Action":"kms:*","Resource":"*"}),
                ];
                // Every other CMK forgets the infrastructure principal: a realistic finding.
                if k % 8 != 1 {
                    statements.push(json!({"Sid":"ManagedFlink","Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey","kms:GenerateDataKeyWithoutPlaintext","kms:DescribeKey","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":id}}}));
                } else {
                    statements.push(json!({"Sid":"ManagedFlink","Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey","kms:DescribeKey"],"Resource":"*"}));
                }
                json!({"Policy": json!({"Version":"2012-10-17","Id":"key-default-1","Statement":statements}).to_string(), "PolicyName": "default"})
            }
            other => return Err(Fault::new(400, "UnsupportedOperationException", format!("kms:{other} is not synthesised"))),
        };
        Ok(Resp::json(req, out))
    }

    fn s3(&self, req: &Req) -> Result<Resp, Fault> {
        if req.operation == "ListBuckets" {
            return Ok(self.list_buckets(req));
        }
        if req.operation != "GetBucketPolicy" {
            return Err(Fault::new(400, "NotImplemented", format!("s3:{} is not synthesised", req.operation)));
        }
        // Path-style `/bucket?policy` or virtual-hosted `bucket.s3.<region>.amazonaws.com/?policy`.
        let bucket = match req.path.trim_matches('/') {
            "" => req.host.split(".s3").next().unwrap_or_default().to_owned(),
            p => p.split('/').next().unwrap_or_default().to_owned(),
        };
        // flink-code-<account>-<region>
        let rest = bucket.strip_prefix("flink-code-").unwrap_or_default();
        let (acct, region) = rest.split_once('-').unwrap_or(("", ""));
        let known = account_index(acct).is_some_and(|a| a < self.spec.accounts && !self.apps_in(a, region).is_empty());
        if !known {
            return Err(Fault::new(404, "NoSuchBucket", format!("The specified bucket {bucket} does not exist")));
        }
        let a = account_index(acct).unwrap_or(0);
        let region_idx = self.region_index(region).unwrap_or(0);
        if self.spec.bucket_without_policy_every > 0 && (a + region_idx) % self.spec.bucket_without_policy_every == 0 {
            return Err(Fault::new(404, "NoSuchBucketPolicy", "The bucket policy does not exist"));
        }
        let policy = json!({"Version":"2012-10-17","Statement":[
            {"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":[format!("arn:aws:s3:::{bucket}"),format!("arn:aws:s3:::{bucket}/*")],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
            {"Sid":"OrgRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":format!("arn:aws:s3:::{bucket}/*"),"Condition":{"StringEquals":{"aws:PrincipalOrgID":ORG_ID}}}
        ]});
        Ok(Resp {
            status: 200,
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-amz-request-id", req.request_id.clone()),
                ("x-amz-id-2", "synthetic".into()),
            ],
            body: policy.to_string().into_bytes(),
        })
    }

    /// The caller's code buckets, one per region where it has apps (one
    /// page: an account holds far fewer than ListBuckets' 10,000 a page).
    fn list_buckets(&self, req: &Req) -> Resp {
        let a = req.account().unwrap_or(0);
        let mut buckets = String::new();
        for region in &self.spec.regions {
            if !self.apps_in(a, region).is_empty() {
                buckets.push_str(&format!(
                    "<Bucket><Name>{}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate><BucketRegion>{region}</BucketRegion></Bucket>",
                    self.code_bucket(a, region)
                ));
            }
        }
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>{}</ID></Owner><Buckets>{buckets}</Buckets></ListAllMyBucketsResult>",
            account_id(a)
        );
        Resp {
            status: 200,
            headers: vec![
                ("content-type", "application/xml".into()),
                ("x-amz-request-id", req.request_id.clone()),
                ("x-amz-id-2", "synthetic".into()),
            ],
            body: body.into_bytes(),
        }
    }

    fn kinesis(&self, req: &Req) -> Result<Resp, Fault> {
        if req.operation != "GetResourcePolicy" {
            return Err(Fault::new(400, "UnknownOperationException", format!("kinesis:{} is not synthesised", req.operation)));
        }
        let a = req.account().unwrap_or(0);
        let input = req.json();
        let arn = input["ResourceARN"].as_str().unwrap_or_default();
        // arn:aws:kinesis:<region>:<account>:stream/<name>
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (region, account, stream) = match parts.as_slice() {
            [_, _, _, region, account, rest] => (*region, *account, rest.strip_prefix("stream/").unwrap_or_default()),
            _ => return Err(Fault::new(400, "InvalidArgumentException", format!("{arn} is not a stream ARN"))),
        };
        let exists = account_index(account) == Some(a)
            && (stream == format!("events-{region}") && !self.apps_in(a, region).is_empty()
                || stream.strip_suffix("-in").and_then(|n| self.app_by_name(a, region, n)).is_some());
        if !exists {
            return Err(Fault::new(400, "ResourceNotFoundException", format!("Stream {stream} under account {account} not found.")));
        }
        // Streams without a resource policy answer an empty document.
        let policy = if stream.starts_with("events-") {
            json!({"Version":"2012-10-17","Statement":[{"Sid":"OrgConsumers","Effect":"Allow","Principal":"*","Action":["kinesis:DescribeStreamSummary","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:ListShards"],"Resource":arn,"Condition":{"StringEquals":{"aws:PrincipalOrgID":ORG_ID}}}]}).to_string()
        } else {
            "{}".to_owned()
        };
        Ok(Resp::json(req, json!({"Policy": policy})))
    }
}

// ───────────────────────────────────────────────────────────── CBOR decoding

/// Just enough CBOR to read the SDK's GetMetricData request (definite and
/// indefinite lengths, tags, floats).
mod cbor {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Int(i128),
        Bytes(Vec<u8>),
        Text(String),
        Array(Vec<Value>),
        Map(Vec<(Value, Value)>),
        Tag(u64, Box<Value>),
        Bool(bool),
        Null,
        Float(f64),
    }

    impl Value {
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
                Value::Tag(_, inner) => inner.get(key),
                _ => None,
            }
        }

        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::Text(s) => Some(s),
                _ => None,
            }
        }

        pub fn as_array(&self) -> Option<&[Value]> {
            match self {
                Value::Array(a) => Some(a),
                _ => None,
            }
        }

        pub fn as_f64(&self) -> Option<f64> {
            match self {
                Value::Int(i) => Some(*i as f64),
                Value::Float(f) => Some(*f),
                Value::Tag(_, inner) => inner.as_f64(),
                _ => None,
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Value, String> {
        let mut pos = 0;
        let v = item(bytes, &mut pos)?;
        Ok(v)
    }

    fn byte(b: &[u8], pos: &mut usize) -> Result<u8, String> {
        let v = *b.get(*pos).ok_or("truncated CBOR")?;
        *pos += 1;
        Ok(v)
    }

    fn uint(b: &[u8], pos: &mut usize, info: u8) -> Result<Option<u64>, String> {
        let n = match info {
            0..=23 => info as u64,
            24 => byte(b, pos)? as u64,
            25 => u64::from_be_bytes(pad(take(b, pos, 2)?)),
            26 => u64::from_be_bytes(pad(take(b, pos, 4)?)),
            27 => u64::from_be_bytes(pad(take(b, pos, 8)?)),
            31 => return Ok(None),
            _ => return Err(format!("bad CBOR additional info {info}")),
        };
        Ok(Some(n))
    }

    fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
        let s = b.get(*pos..*pos + n).ok_or("truncated CBOR")?;
        *pos += n;
        Ok(s)
    }

    fn pad(s: &[u8]) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[8 - s.len()..].copy_from_slice(s);
        out
    }

    fn is_break(b: &[u8], pos: usize) -> bool {
        b.get(pos) == Some(&0xff)
    }

    fn item(b: &[u8], pos: &mut usize) -> Result<Value, String> {
        let first = byte(b, pos)?;
        let (major, info) = (first >> 5, first & 0x1f);
        Ok(match major {
            0 => Value::Int(uint(b, pos, info)?.ok_or("indefinite int")? as i128),
            1 => Value::Int(-1 - uint(b, pos, info)?.ok_or("indefinite int")? as i128),
            2 | 3 => {
                let mut data = Vec::new();
                match uint(b, pos, info)? {
                    Some(n) => data.extend_from_slice(take(b, pos, n as usize)?),
                    None => {
                        while !is_break(b, *pos) {
                            let first = byte(b, pos)?;
                            let n = uint(b, pos, first & 0x1f)?.ok_or("nested indefinite string")?;
                            data.extend_from_slice(take(b, pos, n as usize)?);
                        }
                        *pos += 1;
                    }
                }
                if major == 2 {
                    Value::Bytes(data)
                } else {
                    Value::Text(String::from_utf8(data).map_err(|e| e.to_string())?)
                }
            }
            4 => {
                let mut items = Vec::new();
                match uint(b, pos, info)? {
                    Some(n) => {
                        for _ in 0..n {
                            items.push(item(b, pos)?);
                        }
                    }
                    None => {
                        while !is_break(b, *pos) {
                            items.push(item(b, pos)?);
                        }
                        *pos += 1;
                    }
                }
                Value::Array(items)
            }
            5 => {
                let mut entries = Vec::new();
                match uint(b, pos, info)? {
                    Some(n) => {
                        for _ in 0..n {
                            let k = item(b, pos)?;
                            entries.push((k, item(b, pos)?));
                        }
                    }
                    None => {
                        while !is_break(b, *pos) {
                            let k = item(b, pos)?;
                            entries.push((k, item(b, pos)?));
                        }
                        *pos += 1;
                    }
                }
                Value::Map(entries)
            }
            6 => {
                let tag = uint(b, pos, info)?.ok_or("indefinite tag")?;
                Value::Tag(tag, Box::new(item(b, pos)?))
            }
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 | 23 => Value::Null,
                25 => Value::Float(half(u16::from_be_bytes([byte(b, pos)?, byte(b, pos)?]))),
                26 => Value::Float(f32::from_be_bytes(take(b, pos, 4)?.try_into().unwrap()) as f64),
                27 => Value::Float(f64::from_be_bytes(take(b, pos, 8)?.try_into().unwrap())),
                _ => return Err(format!("unsupported CBOR simple value {info}")),
            },
        })
    }

    fn half(h: u16) -> f64 {
        let exp = (h >> 10) & 0x1f;
        let mant = (h & 0x3ff) as f64;
        let v = match exp {
            0 => mant * 2f64.powi(-24),
            31 => {
                if mant == 0.0 {
                    f64::INFINITY
                } else {
                    f64::NAN
                }
            }
            e => (1.0 + mant / 1024.0) * 2f64.powi(e as i32 - 15),
        };
        if h & 0x8000 != 0 {
            -v
        } else {
            v
        }
    }
}
