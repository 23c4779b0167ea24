//! Executes a [`Plan`]: scanned accounts concurrently (as many in flight as
//! `aws.concurrency`, taken in any order), each account's regions
//! concurrently, all calls through the one bounded pool, so no account waits
//! for an unrelated slow one. Per account: AssumeRole (or base
//! credentials), then per region Flink + CloudWatch (metrics and alarms), then IAM and resource
//! policies for what the apps reference. Failures become coverage rows; the
//! scan itself never fails.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use futures::future::join_all;
use futures::stream::{self, StreamExt};

use super::coverage::CoverageLog;
use super::error::AwsError;
use super::metrics::{self, Window};
use super::ownership::{self, Scanned};
use super::resources::{self, Wanted};
use super::session::{self, AccountSession};
use super::{alarms, flink, health, iam, org, Collector};
use crate::inventory::{Account, CoverageRow, Inventory, RegionInventory, RunInfo, ScanDecision, GLOBAL_REGION, SCHEMA_VERSION};
use crate::plan::{Plan, PlanEntry};

/// Progress of a scan, for a progress bar or log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The scan starts: accounts to scan and account × region pairs.
    Started { accounts: usize, targets: usize },
    /// One account × region finished (`ok` = every scope of it succeeded).
    RegionDone { account_id: String, region: String, apps: usize, ok: bool },
    /// One account finished, IAM and resource policies included.
    AccountDone { account_id: String, account_name: String, apps: usize, ok: bool },
}

impl Collector {
    /// Scans every account the plan marks scanned and returns the inventory
    /// (all accounts of the organization, skipped ones with their reason).
    pub async fn scan<F>(&self, plan: &Plan, progress: F) -> Inventory
    where
        F: Fn(ProgressEvent) + Sync,
    {
        let started_at = Utc::now();
        let window = Window::ending_at(started_at, self.config.checks.metrics_lookback_hours);
        progress(ProgressEvent::Started { accounts: plan.scanned().count(), targets: plan.targets() });
        // A bounded number of accounts in flight (enough to keep every call
        // slot busy) keeps memory flat for thousands of accounts; unordered,
        // so no account waits for an unrelated slow one.
        let accounts_in_flight = (self.config.aws.concurrency / 4).max(8);
        let progress = &progress;
        let scans = stream::iter(plan.entries.iter().enumerate())
            .map(|(index, entry)| async move { (index, self.account(plan, entry, window, progress).await) })
            .buffer_unordered(accounts_in_flight)
            .collect::<Vec<(usize, AccountScan)>>();
        let policies = async {
            if plan.org.policies_pending {
                let session = self.base_session(&plan.org.caller.account);
                Some(org::fetch_policies(&session, &self.calls, &plan.org).await)
            } else {
                None
            }
        };
        let health = async {
            // The organizational view is read with the management (or
            // delegated-administrator) credentials, once.
            let caller = &plan.org.caller.account;
            let name = plan.org.account(caller).map(|a| a.name.clone()).unwrap_or_default();
            let mut log = CoverageLog::new(caller, &name);
            if plan.org.organization.is_none() {
                let why = "no organization could be read: AWS Health's organizational view does not apply".to_owned();
                log.skipped(GLOBAL_REGION, "health", None, why);
                return Some((None, log.into_rows()));
            }
            let session = self.base_session(caller);
            let view = match health::fetch(&session, &self.calls, &plan.regions, window.start).await {
                Ok(view) => {
                    log.scope(GLOBAL_REGION, "health", &[], Some(format!("{} Managed Flink events", view.events.len())));
                    Some(view)
                }
                Err(err) => {
                    // https://docs.aws.amazon.com/health/latest/APIReference/Welcome.html:
                    // SubscriptionRequiredException without Business, Enterprise On-Ramp or Enterprise Support.
                    let why = if err.is_code("SubscriptionRequiredException") {
                        format!("AWS Health organizational view not read: the account has no Business support or higher ({err})")
                    } else {
                        format!(
                            "AWS Health organizational view not read ({err}); health-event-open findings of last night are carried as not checked"
                        )
                    };
                    log.skipped(GLOBAL_REGION, "health", Some(&err), why);
                    None
                }
            };
            Some((view, log.into_rows()))
        };
        let (mut results, policies, health) = futures::join!(scans, policies, health);
        results.sort_by_key(|(index, _)| *index);

        // Coverage is one row per account × region × scope (115,000 at 5,000
        // accounts, 22 MiB): gathered in batches and moved once into a list
        // of its exact size, instead of growing one by doubling (which
        // reserved twice that and copied it).
        let mut row_batches = Vec::with_capacity(results.len() + 2);
        let mut accounts = Vec::with_capacity(plan.entries.len());
        let mut scanned = HashMap::new();
        for (_, scan) in results {
            if let Some(state) = scan.scanned {
                scanned.insert(scan.account.id.clone(), state);
            }
            accounts.push(scan.account);
            row_batches.push(scan.rows);
        }
        // Resources owned by another account than the app's, read with the
        // owner's session once every account is in.
        let org_accounts: HashMap<String, String> = plan.org.accounts.iter().map(|a| (a.id.clone(), a.name.clone())).collect();
        let enter = |id: String| -> futures::future::BoxFuture<'_, Result<AccountSession, AwsError>> {
            Box::pin(async move {
                match plan.entries.iter().find(|e| e.account_id == id) {
                    Some(entry) => self.enter(plan, entry).await,
                    None => Err(AwsError::local("sts:AssumeRole", "NotPlanned", format!("account {id} is not in the plan"))),
                }
            })
        };
        let resolution = ownership::resolve(&self.calls, &scanned, &org_accounts, &enter).await;
        drop(scanned);
        let positions: HashMap<String, usize> = accounts.iter().enumerate().map(|(i, a)| (a.id.clone(), i)).collect();
        for (holder, resource) in resolution.resources {
            if let Some(&i) = positions.get(&holder) {
                let held = &mut accounts[i].resources;
                if !held.iter().any(|r| r.kind == resource.kind && r.arn == resource.arn) {
                    held.push(resource);
                }
            }
        }
        row_batches.push(resolution.rows);
        let (health, health_rows) = health.unwrap_or_default();
        row_batches.push(health_rows);
        // + 1: the row attach_policies adds for the policy listing.
        let rows = plan.org.coverage.len() + row_batches.iter().map(Vec::len).sum::<usize>() + 1;
        let mut coverage = Vec::with_capacity(rows);
        coverage.extend(plan.org.coverage.iter().cloned());
        for batch in row_batches {
            coverage.extend(batch);
        }
        let mut organization = plan.org.organization.clone();
        if let Some(fetched) = policies {
            org::attach_policies(&mut organization, &mut accounts, &mut coverage, &plan.org.enabled_policy_types, fetched);
        }
        Inventory {
            schema_version: SCHEMA_VERSION,
            run: RunInfo {
                run_id: self.run_id.clone(),
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                started_at: Some(started_at),
                finished_at: Some(Utc::now()),
                caller_arn: Some(plan.org.caller.arn.clone()).filter(|a| !a.is_empty()),
                config_digest: Some(self.config.digest()),
                regions: plan.regions.clone(),
                metrics_window_start: Some(window.start),
                metrics_window_end: Some(window.end),
                api_calls: self.api_calls(),
                interrupted: self.calls.stop.reason(),
            },
            organization,
            accounts,
            coverage,
            health,
        }
    }

    async fn account<F>(&self, plan: &Plan, entry: &PlanEntry, window: Window, progress: &F) -> AccountScan
    where
        F: Fn(ProgressEvent) + Sync,
    {
        let mut account =
            plan.org.account(&entry.account_id).cloned().unwrap_or_else(|| {
                org::skeleton(&entry.account_id, &entry.name, None, &entry.status, &entry.ou_path, Vec::new(), entry.is_management)
            });
        account.scan = entry.decision.clone();
        if !entry.is_scanned() {
            return AccountScan { account, rows: Vec::new(), scanned: None };
        }
        let mut log = CoverageLog::new(&account.id, &account.name);
        let session = match &entry.decision {
            ScanDecision::AssumedRole { role_arn } => match self.enter(plan, entry).await {
                Ok(session) => {
                    log.scope(GLOBAL_REGION, "assume-role", &[], Some(format!("assumed {role_arn}")));
                    session
                }
                Err(err) => {
                    log.scope(GLOBAL_REGION, "assume-role", &[err], None);
                    progress(ProgressEvent::AccountDone { account_id: account.id.clone(), account_name: account.name.clone(), apps: 0, ok: false });
                    return AccountScan { account, rows: log.into_rows(), scanned: None };
                }
            },
            _ => self.base_session(&account.id),
        };

        let tags = async {
            if plan.org.organization.is_some() && self.config.accounts.tags {
                let base = self.base_session(&plan.org.caller.account);
                Some(org::account_tags(&base, &self.calls, &account.id).await)
            } else {
                None
            }
        };
        let regions = join_all(entry.regions.iter().map(|region| self.region(&session, &account, region, window, progress)));
        let (tags, regions) = futures::join!(tags, regions);
        match tags {
            Some(Ok(tags)) => {
                account.tags = tags;
                log.scope(GLOBAL_REGION, "organizations", &[], Some("account tags".to_owned()));
            }
            Some(Err(err)) => log.scope(GLOBAL_REGION, "organizations", &[err], None),
            None => {}
        }
        let mut key_ids = Vec::new();
        for (region, region_log, region_keys) in regions {
            log.absorb(region_log);
            key_ids.extend(region_keys.into_iter().map(|(app, key)| (region.region.to_string(), app, key)));
            account.regions.push(region);
        }

        let role_arns: BTreeSet<String> = account.regions.iter().flat_map(|r| &r.applications).filter_map(|a| a.execution_role_arn.clone()).collect();
        let wanted = wanted_resources(&account, &key_ids);
        let iam_work = async {
            if role_arns.is_empty() {
                None
            } else {
                Some(iam::collect(&session, &self.calls, &role_arns).await)
            }
        };
        let (iam_data, resource_data) = futures::join!(iam_work, resources::collect(&session, &self.calls, &wanted));
        if let Some(data) = iam_data {
            let detail = format!("{} roles, {} managed policies", data.roles.len(), data.managed_policies.len());
            log.scope(GLOBAL_REGION, "iam", &data.errors, Some(detail));
            account.roles = data.roles;
            account.managed_policies = data.managed_policies;
        }
        for ((region, scope), errors) in &resource_data.scopes {
            log.scope(region, scope, errors, None);
        }
        for (region, app_name, key_id) in &key_ids {
            let key_region = resources::key_region(region, key_id);
            if let Some(key_arn) = resource_data.key_arns.get(&(key_region, key_id.clone())) {
                if let Some(app) = account
                    .regions
                    .iter_mut()
                    .filter(|r| r.region == region)
                    .flat_map(|r| r.applications.iter_mut())
                    .find(|a| a.name == app_name)
                {
                    app.encryption.key_arn = Some(key_arn.clone());
                }
            }
        }
        account.resources = resource_data.resources;
        drop(session);
        let scanned = Scanned {
            name: account.name.clone(),
            foreign: resource_data.foreign,
            listed_buckets: resource_data.listed_buckets,
        };

        let rows = log.into_rows();
        let apps = account.regions.iter().map(|r| r.applications.len()).sum();
        progress(ProgressEvent::AccountDone {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            apps,
            ok: rows.iter().all(|r| r.is_complete()),
        });
        // Built from pages and pushes, the account holds about a third of its
        // memory as spare capacity; kept until the run ends, across thousands
        // of accounts. A clone is the same data at exact sizes.
        let compact = AccountScan { account: account.clone(), rows: rows.clone(), scanned: Some(scanned) };
        drop((account, rows));
        compact
    }

    /// One region: Flink apps, then their metrics. Returns the region, its
    /// coverage and the (app, key id) pairs of CMK apps.
    async fn region<F>(
        &self,
        session: &AccountSession,
        account: &Account,
        region: &str,
        window: Window,
        progress: &F,
    ) -> (RegionInventory, CoverageLog, Vec<(String, String)>)
    where
        F: Fn(ProgressEvent) + Sync,
    {
        let mut log = CoverageLog::new(&account.id, &account.name);
        let mut inventory = RegionInventory { region: region.into(), applications: Vec::new(), alarms: None };
        let mut key_ids = Vec::new();
        match flink::scan_region(session, &self.calls, region, window.start).await {
            Err(err) => log.scope(region, "flink", &[err], None),
            Ok(found) => {
                for (name, err) in &found.deleted {
                    log.skipped(region, &format!("flink:{name}"), Some(err), "deleted between ListApplications and DescribeApplication".to_owned());
                }
                for (name, err) in &found.failed {
                    log.scope(region, &format!("flink:{name}"), std::slice::from_ref(err), None);
                }
                for (name, cut) in &found.truncated {
                    log.truncated(region, &format!("flink:{name}"), cut.clone());
                }
                log.scope(region, "flink", &found.errors, Some(format!("{} applications", found.apps.len())));
                inventory.applications = found.apps;
                key_ids = found.key_ids;
                if !inventory.applications.is_empty() {
                    let wanted: Vec<metrics::AppMetricsWanted> = inventory
                        .applications
                        .iter()
                        .map(|a| metrics::AppMetricsWanted { name: a.name.to_string(), runtime: a.runtime.to_string() })
                        .collect();
                    let ((mut metrics, errors), alarms) =
                        futures::join!(metrics::fetch(session, &self.calls, region, &wanted, window), alarms::fetch(session, &self.calls, region));
                    log.scope(region, "cloudwatch", &errors, Some(format!("{} applications", wanted.len())));
                    match alarms {
                        Ok(alarms) => {
                            log.scope(region, "alarms", &[], Some(format!("{} Managed Flink alarms", alarms.len())));
                            inventory.alarms = Some(alarms);
                        }
                        Err(err) => log.scope(region, "alarms", &[err], None),
                    }
                    for app in &mut inventory.applications {
                        app.metrics = metrics.remove(app.name.as_str());
                    }
                }
            }
        }
        let ok = log.rows().iter().all(|r| r.is_complete());
        progress(ProgressEvent::RegionDone { account_id: account.id.clone(), region: region.to_owned(), apps: inventory.applications.len(), ok });
        (inventory, log, key_ids)
    }
}

impl Collector {
    /// A session in the account of `entry`: AssumeRole into its audit role,
    /// or the base credentials (the management account).
    async fn enter(&self, plan: &Plan, entry: &PlanEntry) -> Result<AccountSession, AwsError> {
        match &entry.decision {
            ScanDecision::AssumedRole { role_arn } => {
                let base = self.base_session(&plan.org.caller.account);
                session::assume_account(&base, &entry.account_id, role_arn, &self.assume).await
            }
            _ => Ok(self.base_session(&entry.account_id)),
        }
    }
}

/// One account's scan: its data, its coverage, and (when it was entered)
/// what the ownership pass needs of it.
struct AccountScan {
    account: Account,
    rows: Vec<CoverageRow>,
    scanned: Option<Scanned>,
}

/// Keys, code buckets and streams referenced by the account's apps.
fn wanted_resources(account: &Account, key_ids: &[(String, String, String)]) -> Wanted {
    let mut wanted = Wanted::default();
    for (region, _app, key_id) in key_ids {
        wanted.keys.insert((resources::key_region(region, key_id), key_id.clone()));
    }
    for region in &account.regions {
        for app in &region.applications {
            if let Some(code) = &app.code {
                wanted.buckets.insert((region.region.to_string(), code.bucket_arn.clone()));
            }
            wanted.streams.extend(app.stream_arns.iter().cloned());
        }
    }
    wanted
}
