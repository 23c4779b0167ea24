//! Which required actions change their decision under a set of policy
//! changes: every app the changes can touch is decided before and after,
//! with the same access analysis a scan runs; the others cannot change and
//! are not decided again.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

use super::changes::{Applied, Touched};
use crate::checks::access::{self, requirements};
use crate::checks::{Context, Index, Sink};
use crate::config::Config;
use crate::findings::{AccessDecision, AccessOutcome, DecidingStatement};
use crate::inventory::{AppRef, Inventory};

/// One required action whose decision changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactRow {
    pub application_arn: String,
    pub application: String,
    pub account_id: String,
    pub account_name: String,
    pub ou_path: String,
    pub region: String,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub before: AccessOutcome,
    pub after: AccessOutcome,
    /// What decides it after the change (the deny, or the layer that does
    /// not allow; the grant when it becomes allowed).
    pub deciding: Vec<DecidingStatement>,
}

impl ImpactRow {
    /// The order of [`AccessDecision::sort_key`], so both lists read alike.
    fn sort_key(&self) -> [&str; 6] {
        [&self.account_id, &self.region, &self.application, &self.principal, &self.action, &self.resource]
    }
}

impl ImpactRow {
    /// Allowed (or unknown) before, denied after.
    pub fn loses(&self) -> bool {
        is_denied(self.after) && !is_denied(self.before)
    }

    /// Denied (or unknown) before, allowed after.
    pub fn gains(&self) -> bool {
        self.after == AccessOutcome::Allowed && self.before != AccessOutcome::Allowed
    }
}

fn is_denied(outcome: AccessOutcome) -> bool {
    matches!(outcome, AccessOutcome::ImplicitlyDenied | AccessOutcome::ExplicitlyDenied)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub apps_losing: usize,
    pub apps_gaining: usize,
    pub actions_losing: usize,
    pub actions_gaining: usize,
}

/// The answer of `fleetscan impact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub changes: Vec<ImpactRow>,
    pub summary: Summary,
    /// What was applied, one line per change.
    pub applied: Vec<String>,
    /// Apps decided again (the others cannot be affected).
    pub apps_evaluated: usize,
    pub apps_total: usize,
}

impl Impact {
    /// Exit 1 when a required action becomes denied.
    pub fn breaks_something(&self) -> bool {
        self.changes.iter().any(ImpactRow::loses)
    }
}

/// Whether the changes can touch `app`: its account is under a changed SCP
/// target, a resource it needs is owned by an account under a changed RCP
/// target, or its role uses a replaced managed policy.
pub fn can_touch(ctx: &Context, touched: &Touched) -> bool {
    let account = &ctx.account().id;
    if touched.scp_accounts.contains(account) {
        return true;
    }
    if !touched.managed_policy_arns.is_empty() {
        let uses = ctx.flink().execution_role_arn.as_deref().and_then(|arn| ctx.index.role(arn)).is_some_and(|(_, role)| {
            role.attached_policy_arns
                .iter()
                .chain(role.permissions_boundary_arn.iter())
                .any(|arn| touched.managed_policy_arns.contains(arn))
        });
        if uses {
            return true;
        }
    }
    if touched.rcp_accounts.is_empty() {
        return false;
    }
    if touched.rcp_accounts.contains(account) {
        return true;
    }
    let key_owner = ctx.flink().encryption.key_arn.as_deref().map(|k| requirements::owner_of(ctx.index, k, account));
    requirements::for_app(ctx)
        .iter()
        .map(|need| &need.resource_account)
        .chain(key_owner.iter())
        .any(|owner| touched.rcp_accounts.contains(owner))
}

/// Every access decision of one app.
fn decide(inventory: &Inventory, index: &Index<'_>, config: &Config, app: AppRef<'_>) -> Vec<AccessDecision> {
    let mut sink = Sink::new();
    access::check(&Context::new(inventory, index, config, app), &mut sink);
    sink.into_parts().1
}

/// The decisions that change between `before` and `applied`.
pub fn analyse(before: &Inventory, applied: &Applied, config: &Config) -> Impact {
    let index_before = Index::new(before);
    let index_after = Index::new(&applied.inventory);
    let apps: Vec<AppRef<'_>> = before.apps().collect();
    let apps_total = apps.len();
    let after_apps: BTreeMap<&str, AppRef<'_>> = applied.inventory.apps().map(|a| (a.app.arn.as_str(), a)).collect();
    let affected: Vec<(AppRef<'_>, AppRef<'_>)> = apps
        .iter()
        .filter(|app| can_touch(&Context::new(before, &index_before, config, **app), &applied.touched))
        .filter_map(|app| after_apps.get(app.app.arn.as_str()).map(|after| (*app, *after)))
        .collect();
    let mut rows: Vec<ImpactRow> = affected
        .par_iter()
        .flat_map_iter(|(app_before, app_after)| {
            let old = decide(before, &index_before, config, *app_before);
            let new = decide(&applied.inventory, &index_after, config, *app_after);
            compare(*app_before, old, new)
        })
        .collect();
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let summary = summarise(&rows);
    Impact {
        changes: rows,
        summary,
        applied: applied.described.clone(),
        apps_evaluated: affected.len(),
        apps_total,
    }
}

fn compare(app: AppRef<'_>, old: Vec<AccessDecision>, new: Vec<AccessDecision>) -> Vec<ImpactRow> {
    let key = |d: &AccessDecision| (d.principal.clone(), d.action.to_string(), d.resource.clone());
    let old: BTreeMap<_, AccessOutcome> = old.iter().map(|d| (key(d), d.outcome)).collect();
    new.into_iter()
        .filter_map(|d| {
            let before = *old.get(&key(&d))?;
            (before != d.outcome).then(|| ImpactRow {
                application_arn: app.app.arn.clone(),
                application: app.app.name.to_string(),
                account_id: app.account.id.clone(),
                account_name: app.account.name.clone(),
                ou_path: app.account.ou_path.clone(),
                region: app.region.to_owned(),
                principal: d.principal,
                action: d.action.to_string(),
                resource: d.resource,
                before,
                after: d.outcome,
                deciding: d.deciding,
            })
        })
        .collect()
}

fn summarise(rows: &[ImpactRow]) -> Summary {
    let apps = |f: fn(&ImpactRow) -> bool| rows.iter().filter(|r| f(r)).map(|r| r.application_arn.as_str()).collect::<BTreeSet<_>>().len();
    Summary {
        apps_losing: apps(ImpactRow::loses),
        apps_gaining: apps(ImpactRow::gains),
        actions_losing: rows.iter().filter(|r| r.loses()).count(),
        actions_gaining: rows.iter().filter(|r| r.gains()).count(),
    }
}
