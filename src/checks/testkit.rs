//! Test fixtures: declare a fleet in a few lines.
//!
//! ```ignore
//! let inv = Fleet::new()
//!     .ou("ou-work", "Workloads", "r-root")
//!     .ou("ou-prod", "Prod", "ou-work")
//!     .scp("p-deny", "DenyOutsideEU", json!({...}), &["ou-prod"])
//!     .account("111111111111", "prod-orders", "ou-prod")
//!     .app("111111111111", "eu-west-1", "orders-prod", |app| app.runtime = "FLINK-1_13".into())
//!     .build();
//! ```
//!
//! Defaults are a healthy fleet: an organization with root `r-root` and
//! management account `999999999999`, `FullAWSAccess` / `RCPFullAWSAccess`
//! attached to the root and to every account and OU declared, apps running
//! FLINK-1_20 with default checkpointing, snapshots on with a READY snapshot
//! from an hour before the run, an execution role allowed everything its app
//! needs, and a run that finished at 2026-11-25T19:00:00Z.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::config::{Config, FileConfig, Overrides};
use crate::inventory::*;

pub const MGMT: &str = "999999999999";
pub const ORG_ID: &str = "o-test12345";

pub fn run_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0).single().unwrap_or_default()
}

pub fn config_from(toml: &str) -> Config {
    let file = FileConfig::parse(toml).unwrap_or_else(|e| panic!("bad test config: {e}"));
    Config::resolve(file, Overrides::default()).unwrap_or_else(|e| panic!("bad test config: {e}"))
}

pub fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

pub fn app_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:kinesisanalytics:{region}:{account}:application/{name}")
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// A healthy app with everything set: the role `<name>-role` in the same
/// account (added by [`Fleet::app`] unless the account already has it).
pub fn flink_app(account: &str, region: &str, name: &str) -> FlinkApp {
    let now = run_end();
    FlinkApp {
        name: name.into(),
        arn: app_arn(account, region, name),
        status: "RUNNING".into(),
        runtime: "FLINK-1_20".into(),
        version_id: Some(3),
        execution_role_arn: Some(role_arn(account, &format!("{name}-role"))),
        checkpoint: CheckpointConfig::from_api("DEFAULT", None, None, None),
        snapshots_enabled: true,
        snapshots: vec![Snapshot {
            name: format!("{name}-snap").into(),
            status: "READY".into(),
            created_at: Some(now - Duration::hours(1)),
            application_version_id: Some(3),
            runtime: Some("FLINK-1_20".into()),
        }],
        encryption: Encryption { key_type: "AWS_OWNED_KEY".into(), key_arn: None },
        code: Some(CodeLocation {
            bucket_arn: format!("arn:aws:s3:::code-{account}"),
            file_key: format!("{name}.jar"),
            object_version: None,
        }),
        log_stream_arns: vec![format!(
            "arn:aws:logs:{region}:{account}:log-group:/aws/kinesis-analytics/{name}:log-stream:kinesis-analytics-log-stream"
        )],
        metrics: Some(CheckpointMetrics {
            window_start: Some(now - Duration::hours(24)),
            window_end: Some(now),
            period_secs: 300,
            series: BTreeMap::new(),
        }),
        ..Default::default()
    }
}

/// Adds a metric series to an app, points 5 minutes apart ending at the run end.
pub fn set_metric(app: &mut FlinkApp, metric: &str, values: &[f64]) {
    let end = run_end();
    let n = values.len() as i64;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| MetricPoint { at: end - Duration::minutes((n - 1 - i as i64) * 5), value: *v })
        .collect();
    app.metrics
        .get_or_insert_with(|| CheckpointMetrics { period_secs: 300, ..Default::default() })
        .set_points(metric, points);
}

#[derive(Debug, Clone)]
pub struct Fleet {
    inv: Inventory,
    /// Declared parent of each account (an OU id or `r-root`).
    parents: BTreeMap<String, String>,
}

impl Default for Fleet {
    fn default() -> Self {
        Self::new()
    }
}

impl Fleet {
    pub fn new() -> Self {
        let end = run_end();
        let inv = Inventory {
            schema_version: SCHEMA_VERSION,
            run: RunInfo {
                run_id: "20261125T190000Z".to_owned(),
                tool_version: "test".to_owned(),
                started_at: Some(end - Duration::minutes(10)),
                finished_at: Some(end),
                regions: vec!["eu-west-1".to_owned()],
                metrics_window_start: Some(end - Duration::hours(24)),
                metrics_window_end: Some(end),
                ..Default::default()
            },
            organization: Some(Organization {
                id: ORG_ID.to_owned(),
                arn: None,
                management_account_id: MGMT.to_owned(),
                root_id: "r-root".to_owned(),
                organizational_units: Vec::new(),
                policies: vec![
                    OrgPolicy {
                        id: "p-FullAWSAccess".to_owned(),
                        name: "FullAWSAccess".to_owned(),
                        kind: OrgPolicyKind::ServiceControlPolicy,
                        aws_managed: true,
                        document: PolicyDoc::from_json(allow_all()),
                        targets: vec!["r-root".to_owned()],
                        targets_unread: None,
                    },
                    OrgPolicy {
                        id: "p-RCPFullAWSAccess".to_owned(),
                        name: "RCPFullAWSAccess".to_owned(),
                        kind: OrgPolicyKind::ResourceControlPolicy,
                        aws_managed: true,
                        document: PolicyDoc::from_json(
                            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
                        ),
                        targets: vec!["r-root".to_owned()],
                        targets_unread: None,
                    },
                ],
                policies_unread: Default::default(),
            }),
            accounts: Vec::new(),
            coverage: Vec::new(),
            health: None,
        };
        Self { inv, parents: BTreeMap::new() }
    }

    fn org(&mut self) -> &mut Organization {
        self.inv.organization.as_mut().expect("test fleet has an organization")
    }

    fn attach_full_access(&mut self, target: &str) {
        for policy in &mut self.org().policies {
            if policy.aws_managed {
                policy.targets.push(target.to_owned());
            }
        }
    }

    /// An OU under `parent` (`r-root` or another OU id).
    pub fn ou(mut self, id: &str, name: &str, parent: &str) -> Self {
        let parent_path = if parent == "r-root" {
            "Root".to_owned()
        } else {
            self.org().organizational_units.iter().find(|o| o.id == parent).map(|o| o.path.clone()).unwrap_or_default()
        };
        self.org().organizational_units.push(OrgUnit {
            id: id.to_owned(),
            name: name.to_owned(),
            parent_id: parent.to_owned(),
            path: format!("{parent_path}/{name}"),
        });
        self.attach_full_access(id);
        self
    }

    fn org_policy(mut self, kind: OrgPolicyKind, id: &str, name: &str, doc: Value, targets: &[&str]) -> Self {
        self.org().policies.push(OrgPolicy {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            aws_managed: false,
            document: PolicyDoc::from_json(doc),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            targets_unread: None,
        });
        self
    }

    pub fn scp(self, id: &str, name: &str, doc: Value, targets: &[&str]) -> Self {
        self.org_policy(OrgPolicyKind::ServiceControlPolicy, id, name, doc, targets)
    }

    pub fn rcp(self, id: &str, name: &str, doc: Value, targets: &[&str]) -> Self {
        self.org_policy(OrgPolicyKind::ResourceControlPolicy, id, name, doc, targets)
    }

    /// Removes an attachment (e.g. `FullAWSAccess` from an OU).
    #[allow(dead_code)]
    pub fn detach(mut self, policy_id: &str, target: &str) -> Self {
        for policy in &mut self.org().policies {
            if policy.id == policy_id {
                policy.targets.retain(|t| t != target);
            }
        }
        self
    }

    /// An account under `parent` (`Root`/`r-root` or an OU id).
    pub fn account(mut self, id: &str, name: &str, parent: &str) -> Self {
        let parent = if parent == "Root" { "r-root" } else { parent };
        self.parents.insert(id.to_owned(), parent.to_owned());
        self.attach_full_access(id);
        self.inv.accounts.push(Account {
            is_management: id == MGMT,
            scan: ScanDecision::AssumedRole { role_arn: role_arn(id, "audit") },
            ..Account::new(id, name)
        });
        self
    }

    fn account_mut(&mut self, id: &str) -> &mut Account {
        self.inv.accounts.iter_mut().find(|a| a.id == id).unwrap_or_else(|| panic!("declare account {id} first"))
    }

    /// Adds an app (a healthy default that `edit` may change). Unless the
    /// account already has the app's role, a role allowed `*` is added.
    pub fn app(mut self, account: &str, region: &str, name: &str, edit: impl FnOnce(&mut FlinkApp)) -> Self {
        let mut app = flink_app(account, region, name);
        edit(&mut app);
        let acct = self.account_mut(account);
        if let Some(role) = app.execution_role_arn.clone() {
            if acct.role(&role).is_none() {
                let role_name = role.rsplit('/').next().unwrap_or_default().to_owned();
                acct.roles.push(Role {
                    arn: role.clone(),
                    name: role_name,
                    path: "/".to_owned(),
                    trust_policy: PolicyDoc::from_json(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "kinesisanalytics.amazonaws.com"}, "Action": "sts:AssumeRole"}]})),
                    inline_policies: vec![InlinePolicy { name: "app-access".to_owned(), document: PolicyDoc::from_json(allow_all()) }],
                    ..Default::default()
                });
            }
        }
        match acct.regions.iter_mut().find(|r| r.region == region) {
            Some(r) => r.applications.push(app),
            None => acct.regions.push(RegionInventory { region: region.into(), applications: vec![app], alarms: None }),
        }
        self
    }

    /// Changes an existing role of `account`.
    pub fn role(mut self, account: &str, role_name: &str, edit: impl FnOnce(&mut Role)) -> Self {
        let arn = role_arn(account, role_name);
        let acct = self.account_mut(account);
        match acct.roles.iter_mut().find(|r| r.arn == arn) {
            Some(role) => edit(role),
            None => {
                let mut role = Role { arn, name: role_name.to_owned(), path: "/".to_owned(), ..Default::default() };
                edit(&mut role);
                acct.roles.push(role);
            }
        }
        self
    }

    pub fn managed_policy(mut self, account: &str, arn: &str, name: &str, doc: Value) -> Self {
        self.account_mut(account).managed_policies.push(ManagedPolicy {
            arn: arn.to_owned(),
            name: name.to_owned(),
            default_version_id: Some("v1".to_owned()),
            document: PolicyDoc::from_json(doc),
        });
        self
    }

    pub fn resource(mut self, account: &str, kind: ResourceKind, arn: &str, region: Option<&str>, policy: Option<Value>) -> Self {
        self.account_mut(account).resources.push(ResourcePolicy {
            arn: arn.to_owned(),
            kind,
            account_id: account.to_owned(),
            region: region.map(str::to_owned),
            policy: policy.map(PolicyDoc::from_json),
            key_manager: (kind == ResourceKind::KmsKey).then(|| "CUSTOMER".to_owned()),
            unread: None,
        });
        self
    }

    pub fn edit(mut self, edit: impl FnOnce(&mut Inventory)) -> Self {
        edit(&mut self.inv);
        self
    }

    /// Fills OU paths, parent ids and SCP/RCP chains from the declarations.
    /// Code buckets and streams the apps name that no `resource` call
    /// added are recorded as collect records them when they have no policy:
    /// read, in the app's account (or the stream ARN's), without a policy.
    fn record_unlisted_resources(&mut self) {
        let mut wanted = Vec::new();
        for account in &self.inv.accounts {
            for app in account.regions.iter().flat_map(|r| &r.applications) {
                if let Some(code) = &app.code {
                    wanted.push((account.id.clone(), ResourceKind::S3Bucket, code.bucket_arn.clone()));
                }
                for stream in &app.stream_arns {
                    let owner = stream.split(':').nth(4).filter(|a| self.inv.account(a).is_some()).unwrap_or(&account.id).to_owned();
                    wanted.push((owner, ResourceKind::KinesisStream, stream.clone()));
                }
            }
        }
        for (owner, kind, arn) in wanted {
            let known = self.inv.accounts.iter().any(|a| a.resources.iter().any(|r| r.arn == arn));
            if !known {
                self.account_mut(&owner).resources.push(ResourcePolicy {
                    arn,
                    kind,
                    account_id: owner.clone(),
                    region: None,
                    policy: None,
                    key_manager: None,
                    unread: None,
                });
            }
        }
    }

    pub fn build(mut self) -> Inventory {
        self.record_unlisted_resources();
        let org = self.inv.organization.clone().expect("org");
        for account in &mut self.inv.accounts {
            let parent = self.parents.get(&account.id).cloned().unwrap_or_else(|| "r-root".to_owned());
            let mut chain_ids = Vec::new();
            let mut cursor = parent.clone();
            while cursor != "r-root" {
                chain_ids.push(cursor.clone());
                cursor = org
                    .organizational_units
                    .iter()
                    .find(|o| o.id == cursor)
                    .map(|o| o.parent_id.clone())
                    .unwrap_or_else(|| "r-root".to_owned());
            }
            chain_ids.push("r-root".to_owned());
            chain_ids.reverse();
            account.parent_ids = chain_ids.clone();
            account.ou_path = if parent == "r-root" {
                "Root".to_owned()
            } else {
                org.organizational_units.iter().find(|o| o.id == parent).map(|o| o.path.clone()).unwrap_or_default()
            };
            let level = |target: &str, kind: OrgPolicyKind| PolicyLevel {
                target_id: target.into(),
                target_name: if target == "r-root" {
                    "Root".into()
                } else if target == account.id {
                    account.name.as_str().into()
                } else {
                    org.organizational_units.iter().find(|o| o.id == target).map(|o| o.name.as_str()).unwrap_or_default().into()
                },
                policy_ids: org
                    .policies
                    .iter()
                    .filter(|p| p.kind == kind && p.targets.iter().any(|t| t == target))
                    .map(|p| p.id.as_str().into())
                    .collect(),
                maybe_policy_ids: Vec::new(),
                unlisted: false,
            };
            let mut targets = chain_ids.clone();
            targets.push(account.id.clone());
            account.scp_chain = targets.iter().map(|t| level(t, OrgPolicyKind::ServiceControlPolicy)).collect();
            account.rcp_chain = targets.iter().map(|t| level(t, OrgPolicyKind::ResourceControlPolicy)).collect();
            if account.id == MGMT {
                account.scan = ScanDecision::BaseCredentials;
            }
        }
        self.inv
    }
}
