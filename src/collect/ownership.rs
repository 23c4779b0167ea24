//! Resources that an app names and another account owns (a central
//! artifacts bucket, a shared stream or key): found after every account is
//! scanned, each read once with its owner's session, so its policy is the
//! owner's answer and its decision uses the owner's RCPs.
//!
//! Owners: the account an ARN names (keys, streams); for buckets, whose ARN
//! names none, the account whose `ListBuckets` lists it. Each scanned
//! account lists its buckets at most once per run: during its own scan when
//! its apps name buckets, here only when a named bucket is still unplaced.
//! Sessions are not kept from the scan (thousands of them would hold their
//! memory to the end of the run): an account is entered again, one
//! `AssumeRole`, only when it owns such a resource or must list its buckets.
//! A resource whose owner is outside the organization, was not scanned, or
//! lists no such bucket is kept as unread, with a `skipped` coverage row in
//! the account whose app names it: its decisions are `Unknown`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::future::{join_all, BoxFuture};

use super::arn;
use super::calls::Calls;
use super::coverage::CoverageLog;
use super::error::AwsError;
use super::resources::{self, Foreign, ResourceData};
use super::session::AccountSession;
use crate::inventory::{CoverageRow, ResourceKind, ResourcePolicy, Unread};

/// What one scanned account hands over: what its apps name that it does
/// not own, and its bucket list when it read one.
pub struct Scanned {
    pub name: String,
    pub foreign: Vec<Foreign>,
    pub listed_buckets: Option<BTreeSet<String>>,
}

/// Resources to add, each under the account that holds it in the
/// inventory (the owner, or the naming account when unread), and coverage.
#[derive(Default)]
pub struct Resolution {
    pub resources: Vec<(String, ResourcePolicy)>,
    pub rows: Vec<CoverageRow>,
}

/// Why a resource could not be read with its owner's session.
fn not_read(foreign: &Foreign, owner: Option<&str>, org_accounts: &HashMap<String, String>) -> (&'static str, String) {
    let what = format!("{} {}", resources::scope_of(foreign.kind), foreign.arn);
    match owner {
        None => ("OwnerUnknown", format!("{what}: no scanned account of the organization lists this bucket, so its policy could not be read")),
        Some(owner) => match org_accounts.get(owner) {
            Some(name) => {
                ("OwnerNotScanned", format!("{what} is owned by account {owner} ({name}), which this run did not enter: its policy was not read"))
            }
            None => ("OutsideOrganization", format!("{what} is owned by account {owner}, outside the organization: its policy cannot be read")),
        },
    }
}

fn read_operation(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KmsKey => "kms:GetKeyPolicy",
        ResourceKind::S3Bucket => "s3:GetBucketPolicy",
        ResourceKind::KinesisStream => "kinesis:GetResourcePolicy",
    }
}

/// Enters a scanned account again (`None` when it cannot be entered now).
pub type Enter<'a> = &'a (dyn Fn(String) -> BoxFuture<'a, Result<AccountSession, AwsError>> + Sync);

/// Resolves and reads every foreign resource of `scanned` (keyed by account
/// id). `org_accounts`: every account of the organization, id → name.
pub async fn resolve(calls: &Calls, scanned: &HashMap<String, Scanned>, org_accounts: &HashMap<String, String>, enter: Enter<'_>) -> Resolution {
    // Each foreign resource once, with the first account that names it.
    let mut wanted: BTreeMap<(ResourceKind, String), (String, Foreign)> = BTreeMap::new();
    for (account, state) in scanned {
        for foreign in &state.foreign {
            wanted.entry((foreign.kind, foreign.arn.clone())).or_insert_with(|| (account.clone(), foreign.clone()));
        }
    }
    let mut resolution = Resolution::default();
    if wanted.is_empty() {
        return resolution;
    }

    let mut bucket_owner: HashMap<String, String> = HashMap::new();
    for (account, state) in scanned {
        for name in state.listed_buckets.iter().flatten() {
            bucket_owner.insert(name.clone(), account.clone());
        }
    }
    let unplaced = wanted
        .values()
        .any(|(_, f)| f.kind == ResourceKind::S3Bucket && arn::bucket_name(&f.arn).is_none_or(|b| !bucket_owner.contains_key(b)));
    let mut sessions: HashMap<String, AccountSession> = HashMap::new();
    if unplaced {
        let unlisted: Vec<&String> = scanned.iter().filter(|(_, s)| s.listed_buckets.is_none()).map(|(id, _)| id).collect();
        let entered = join_all(unlisted.iter().map(|id| enter((*id).clone()))).await;
        let listings = join_all(unlisted.iter().zip(&entered).map(|(_, session)| async move {
            match session {
                Ok(session) => resources::list_buckets(session, calls).await,
                Err(err) => Err(err.clone()),
            }
        }))
        .await;
        for ((id, listing), session) in unlisted.into_iter().zip(listings).zip(entered) {
            if let Ok(session) = session {
                sessions.insert(id.clone(), session);
            }
            let mut log = CoverageLog::new(id, &scanned[id].name);
            match listing {
                Ok(names) => {
                    for name in names {
                        bucket_owner.insert(name, id.clone());
                    }
                    log.scope(
                        crate::inventory::GLOBAL_REGION,
                        "s3",
                        &[],
                        Some("buckets listed to find the owner of a bucket another account's app names".to_owned()),
                    );
                }
                Err(err) => log.scope(crate::inventory::GLOBAL_REGION, "s3", &[err], None),
            }
            resolution.rows.extend(log.into_rows());
        }
    }

    let mut reads = Vec::new();
    for (requester, foreign) in wanted.into_values() {
        let owner = match foreign.kind {
            ResourceKind::S3Bucket => arn::bucket_name(&foreign.arn).and_then(|b| bucket_owner.get(b)).cloned(),
            _ => foreign.owner.clone(),
        };
        match owner.as_deref().filter(|o| scanned.contains_key(*o)) {
            Some(owner) => reads.push((owner.to_owned(), foreign)),
            None => {
                let (code, detail) = not_read(&foreign, owner.as_deref(), org_accounts);
                let why = Unread {
                    operation: read_operation(foreign.kind).to_owned(),
                    account_id: owner.clone().unwrap_or_default(),
                    error_code: code.to_owned(),
                    request_id: None,
                };
                let name = scanned.get(&requester).map(|s| s.name.as_str()).unwrap_or_default();
                let mut log = CoverageLog::new(&requester, name);
                let err = AwsError::local(read_operation(foreign.kind), code, detail.clone());
                log.skipped(&foreign.region, resources::scope_of(foreign.kind), Some(&err), detail);
                resolution.rows.extend(log.into_rows());
                let resource =
                    resources::unread_resource(foreign.kind, &foreign.arn, owner.as_deref().unwrap_or_default(), Some(&foreign.region), why);
                resolution.resources.push((requester, resource));
            }
        }
    }

    // The owners not entered yet, each once.
    let to_enter: BTreeSet<&String> = reads.iter().map(|(owner, _)| owner).filter(|o| !sessions.contains_key(*o)).collect();
    let entered = join_all(to_enter.iter().map(|id| enter((*id).clone()))).await;
    let mut not_entered: HashMap<String, AwsError> = HashMap::new();
    for (id, session) in to_enter.into_iter().zip(entered) {
        match session {
            Ok(session) => {
                sessions.insert(id.clone(), session);
            }
            Err(err) => {
                not_entered.insert(id.clone(), err);
            }
        }
    }
    let outcomes = join_all(reads.iter().map(|(owner, foreign)| {
        let session = sessions.get(owner);
        let failed = not_entered.get(owner).cloned();
        async move {
            let Some(session) = session else {
                return Err(
                    failed.unwrap_or_else(|| AwsError::local("sts:AssumeRole", "NotEntered", format!("account {owner} could not be entered again")))
                );
            };
            match foreign.kind {
                ResourceKind::KmsKey => resources::kms_key(session, calls, &foreign.region, &foreign.arn).await,
                ResourceKind::S3Bucket => resources::bucket_policy(session, calls, &foreign.region, &foreign.arn).await,
                ResourceKind::KinesisStream => resources::stream_policy(session, calls, &foreign.arn).await,
            }
        }
    }))
    .await;
    let mut by_owner: BTreeMap<String, ResourceData> = BTreeMap::new();
    for ((owner, foreign), outcome) in reads.iter().zip(outcomes) {
        let data = by_owner.entry(owner.clone()).or_default();
        resources::record(&foreign.region, foreign.kind, &foreign.arn, owner, outcome, data);
    }
    for (owner, data) in by_owner {
        let mut log = CoverageLog::new(&owner, &scanned[&owner].name);
        for ((region, scope), errors) in &data.scopes {
            log.scope(region, scope, errors, Some("resources another account's apps use, read with this account's session".to_owned()));
        }
        resolution.rows.extend(log.into_rows());
        resolution.resources.extend(data.resources.into_iter().map(|r| (owner.clone(), r)));
    }
    resolution
}
