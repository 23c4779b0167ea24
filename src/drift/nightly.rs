//! Night over night: what changed between two runs. `fleetscan diff OLD NEW`
//! evaluates both snapshots with the same config and compares findings by
//! `finding_id`, and compares the inventories (apps added or removed,
//! configuration changes, policy documents changed, semantically). A finding
//! gone tonight is resolved only where tonight read its scope completely
//! ([`ReadScopes`]); elsewhere it is carried as not checked.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::checks::catalog::CheckId;
use crate::config::Config;
use crate::drift::policy_diff::diff_docs;
use crate::drift::read_scope::ReadScopes;
use crate::evaluate::evaluate;
use crate::findings::{Finding, FindingStatus, NotChecked, RunDelta, SeenFinding};
use crate::inventory::{Account, FlinkApp, Inventory, PolicyDoc};

/// The previous run's findings, as the comparison needs them.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub run_id: Option<&'a str>,
    /// Its findings, whole.
    pub findings: &'a [Finding],
    /// Its findings found again tonight, when read by id and status only.
    pub seen: &'a [SeenFinding],
    /// Findings the previous run could not check, carried from the run
    /// before it: still open as far as anyone knows.
    pub not_checked: &'a [NotChecked],
}

/// Findings of this run compared with the previous run's findings. A
/// finding open before and gone now is *resolved* only when `read` says its
/// scope was read completely tonight; otherwise it is *not checked*, with
/// its last known data.
pub fn run_delta(previous: Previous<'_>, current: &[Finding], read: &ReadScopes<'_>) -> RunDelta {
    fn open(fs: &[Finding]) -> BTreeSet<&str> {
        fs.iter().filter(|f| f.status == FindingStatus::Open).map(|f| f.finding_id.as_str()).collect()
    }
    let all_now: BTreeSet<&str> = current.iter().map(|f| f.finding_id.as_str()).collect();
    let seen_open = || previous.seen.iter().filter(|s| s.status == FindingStatus::Open).map(|s| s.finding_id.as_str());
    let all_before: BTreeSet<&str> = previous
        .findings
        .iter()
        .map(|f| f.finding_id.as_str())
        .chain(previous.seen.iter().map(|s| s.finding_id.as_str()))
        .collect();
    // Open before: open in the previous run, or carried as not checked
    // (unless the previous run saw it again, which wins).
    let carried: Vec<&NotChecked> = previous.not_checked.iter().filter(|n| !all_before.contains(n.finding.finding_id.as_str())).collect();
    let mut was_open = open(previous.findings);
    was_open.extend(seen_open());
    was_open.extend(carried.iter().map(|n| n.finding.finding_id.as_str()));
    let is_open = open(current);
    let mut delta = RunDelta { previous_run_id: previous.run_id.map(str::to_owned), ..Default::default() };
    for f in current.iter().filter(|f| f.status == FindingStatus::Open) {
        if !was_open.contains(f.finding_id.as_str()) {
            delta.new.push(f.finding_id.to_string());
        }
    }
    delta.still_open = is_open.intersection(&was_open).count();
    let before = previous
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
        .map(|f| (f, previous.run_id.map(str::to_owned)))
        .chain(carried.iter().map(|n| (&n.finding, n.last_seen_run_id.clone())));
    // Tonight's undetermined decisions: an access finding of last night
    // whose decision could not be made tonight is not checked, whatever
    // the coverage of the app's own account says (the missing input may
    // live in another account).
    let undetermined: Vec<&Finding> = current.iter().filter(|f| f.check == CheckId::AccessUndetermined).collect();
    let undecided = |f: &Finding| match f.check {
        CheckId::ExecutionRoleAccessDenied | CheckId::CmkServiceAccessDenied => {
            undetermined.iter().any(|u| u.resource_arn == f.resource_arn && u.subject.ends_with(f.subject.as_str()))
        }
        CheckId::DriftAccessDecision => undetermined.iter().any(|u| u.resource_arn == f.resource_arn),
        _ => false,
    };
    // Seen again tonight (that is how they were read): open before and
    // hidden now is "now suppressed"; nothing else to say of them.
    for id in seen_open() {
        if all_now.contains(id) && !is_open.contains(id) {
            delta.now_suppressed.push(id.to_owned());
        }
    }
    for (f, last_seen_run_id) in before {
        if all_now.contains(f.finding_id.as_str()) {
            if !is_open.contains(f.finding_id.as_str()) {
                delta.now_suppressed.push(f.finding_id.to_string());
            }
            continue;
        }
        let why = if undecided(f) {
            Some("its access decision could not be made tonight (see access-undetermined)".to_owned())
        } else {
            read.why_not_read(f)
        };
        match why {
            None => delta.resolved.push(f.clone()),
            Some(not_checked_because) => delta.not_checked.push(NotChecked { finding: f.clone(), not_checked_because, last_seen_run_id }),
        }
    }
    delta
}

/// The previous run, as the report writer finds it: its `findings.json`
/// (already evaluated) or its `snapshot.json` (evaluated here with the
/// current config, so changes of config do not show up as changes of the fleet).
pub enum PreviousRun<'a> {
    Findings(Previous<'a>),
    Snapshot(&'a Inventory),
}

/// The delta a run (`inventory`, evaluated into `current`) reports against
/// its previous run.
pub fn since_previous(previous: PreviousRun<'_>, inventory: &Inventory, current: &[Finding], config: &Config) -> RunDelta {
    let read = ReadScopes::of(inventory, config);
    match previous {
        PreviousRun::Findings(previous) => run_delta(previous, current, &read),
        PreviousRun::Snapshot(inv) => {
            let old = evaluate(inv, config);
            let previous = Previous { run_id: Some(&inv.run.run_id), findings: &old.findings, seen: &[], not_checked: &[] };
            run_delta(previous, current, &read)
        }
    }
}

/// One change in the inventory between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryChange {
    /// `account-added`, `account-removed`, `app-added`, `app-removed`,
    /// `app-changed`, `policy-added`, `policy-removed`, `policy-changed`,
    /// `policy-attachment-changed`, `role-changed`.
    pub kind: String,
    pub account_id: String,
    pub region: String,
    /// The app, role or policy concerned.
    pub subject: String,
    pub before: String,
    pub after: String,
    pub detail: String,
}

/// `fleetscan diff OLD NEW`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    pub old_run_id: String,
    pub new_run_id: String,
    pub findings: RunDelta,
    /// Full text of the findings that are new.
    pub new_findings: Vec<Finding>,
    pub changes: Vec<InventoryChange>,
}

pub fn diff_snapshots(old: &Inventory, new: &Inventory, config: &Config) -> SnapshotDiff {
    let (eval_old, eval_new) = rayon::join(|| evaluate(old, config), || evaluate(new, config));
    let previous = Previous { run_id: Some(&old.run.run_id), findings: &eval_old.findings, seen: &[], not_checked: &[] };
    let findings = run_delta(previous, &eval_new.findings, &ReadScopes::of(new, config));
    let new_ids: BTreeSet<&str> = findings.new.iter().map(String::as_str).collect();
    let new_findings = eval_new.findings.iter().filter(|f| new_ids.contains(f.finding_id.as_str())).cloned().collect();
    SnapshotDiff {
        old_run_id: old.run.run_id.clone(),
        new_run_id: new.run.run_id.clone(),
        findings,
        new_findings,
        changes: inventory_changes(old, new),
    }
}

fn change(
    kind: &str,
    account: &str,
    region: &str,
    subject: &str,
    before: impl Into<String>,
    after: impl Into<String>,
    detail: impl Into<String>,
) -> InventoryChange {
    InventoryChange {
        kind: kind.to_owned(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        subject: subject.to_owned(),
        before: before.into(),
        after: after.into(),
        detail: detail.into(),
    }
}

fn doc_change(out: &mut Vec<InventoryChange>, account: &str, subject: &str, a: &PolicyDoc, b: &PolicyDoc) {
    let delta = diff_docs(a, b);
    if !delta.is_same() {
        out.push(change("policy-changed", account, "global", subject, "", "", delta.lines().join("; ")));
    }
}

/// Everything that changed in the fleet, ignoring run metadata, metrics,
/// snapshots and operations (those are reported through findings).
pub fn inventory_changes(old: &Inventory, new: &Inventory) -> Vec<InventoryChange> {
    let mut out = Vec::new();
    // Organization policies: documents and attachments.
    fn org_policies(inv: &Inventory) -> BTreeMap<String, &crate::inventory::OrgPolicy> {
        inv.organization
            .as_ref()
            .map(|o| o.policies.iter().map(|p| (p.id.clone(), p)).collect::<BTreeMap<_, _>>())
            .unwrap_or_default()
    }
    let (po, pn) = (org_policies(old), org_policies(new));
    for (id, p) in &po {
        let label = format!("{} {} ({id})", p.kind.short(), p.name);
        match pn.get(id) {
            None => out.push(change("policy-removed", "", "global", &label, "present", "absent", "")),
            Some(q) => {
                doc_change(&mut out, "", &label, &p.document, &q.document);
                let (a, b): (BTreeSet<_>, BTreeSet<_>) = (p.targets.iter().collect(), q.targets.iter().collect());
                if a != b {
                    let fmt = |s: &BTreeSet<&String>| s.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
                    out.push(change("policy-attachment-changed", "", "global", &label, fmt(&a), fmt(&b), ""));
                }
            }
        }
    }
    for (id, p) in &pn {
        if !po.contains_key(id) {
            out.push(change("policy-added", "", "global", &format!("{} {} ({id})", p.kind.short(), p.name), "absent", "present", ""));
        }
    }
    // Accounts.
    for a in &old.accounts {
        match new.account(&a.id) {
            None => out.push(change("account-removed", &a.id, "global", &a.name, "present", "absent", "")),
            Some(b) => account_changes(&mut out, a, b),
        }
    }
    for b in &new.accounts {
        if old.account(&b.id).is_none() {
            out.push(change("account-added", &b.id, "global", &b.name, "absent", "present", b.ou_path.clone()));
        }
    }
    out
}

fn account_changes(out: &mut Vec<InventoryChange>, a: &Account, b: &Account) {
    if a.ou_path != b.ou_path {
        out.push(change("account-moved", &a.id, "global", &a.name, a.ou_path.clone(), b.ou_path.clone(), ""));
    }
    // Managed policies (by ARN).
    for p in &a.managed_policies {
        match b.managed_policy(&p.arn) {
            Some(q) => doc_change(out, &a.id, &format!("managed policy {}", p.arn), &p.document, &q.document),
            None => out.push(change("policy-removed", &a.id, "global", &format!("managed policy {}", p.arn), "present", "absent", "")),
        }
    }
    for q in &b.managed_policies {
        if a.managed_policy(&q.arn).is_none() {
            out.push(change("policy-added", &a.id, "global", &format!("managed policy {}", q.arn), "absent", "present", ""));
        }
    }
    // Roles.
    for r in &a.roles {
        let Some(s) = b.role(&r.arn) else {
            out.push(change("role-removed", &a.id, "global", &r.arn, "present", "absent", ""));
            continue;
        };
        doc_change(out, &a.id, &format!("trust policy of {}", r.arn), &r.trust_policy, &s.trust_policy);
        if r.permissions_boundary_arn != s.permissions_boundary_arn {
            let show = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".to_owned());
            out.push(change(
                "role-changed",
                &a.id,
                "global",
                &r.arn,
                format!("boundary {}", show(&r.permissions_boundary_arn)),
                format!("boundary {}", show(&s.permissions_boundary_arn)),
                "",
            ));
        }
        let (x, y): (BTreeSet<_>, BTreeSet<_>) = (r.attached_policy_arns.iter().collect(), s.attached_policy_arns.iter().collect());
        if x != y {
            let fmt = |s: &BTreeSet<&String>| s.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
            out.push(change("role-changed", &a.id, "global", &r.arn, format!("attached {}", fmt(&x)), format!("attached {}", fmt(&y)), ""));
        }
        for p in &r.inline_policies {
            match s.inline_policies.iter().find(|q| q.name == p.name) {
                Some(q) => doc_change(out, &a.id, &format!("inline policy {} of {}", p.name, r.arn), &p.document, &q.document),
                None => {
                    out.push(change("policy-removed", &a.id, "global", &format!("inline policy {} of {}", p.name, r.arn), "present", "absent", ""))
                }
            }
        }
        for q in &s.inline_policies {
            if !r.inline_policies.iter().any(|p| p.name == q.name) {
                out.push(change("policy-added", &a.id, "global", &format!("inline policy {} of {}", q.name, r.arn), "absent", "present", ""));
            }
        }
    }
    for s in &b.roles {
        if a.role(&s.arn).is_none() {
            out.push(change("role-added", &a.id, "global", &s.arn, "absent", "present", ""));
        }
    }
    // Resource policies.
    for r in &a.resources {
        let Some(s) = b.resource(&r.arn) else { continue };
        match (&r.policy, &s.policy) {
            (Some(p), Some(q)) => doc_change(out, &a.id, &format!("resource policy of {}", r.arn), p, q),
            (Some(_), None) => out.push(change("policy-removed", &a.id, "global", &format!("resource policy of {}", r.arn), "present", "absent", "")),
            (None, Some(_)) => out.push(change("policy-added", &a.id, "global", &format!("resource policy of {}", r.arn), "absent", "present", "")),
            (None, None) => {}
        }
    }
    // Applications.
    let apps = |acc: &Account| -> BTreeMap<String, (String, FlinkApp)> {
        acc.regions
            .iter()
            .flat_map(|r| r.applications.iter().map(move |app| (app.arn.clone(), (r.region.to_string(), app.clone()))))
            .collect()
    };
    let (xa, xb) = (apps(a), apps(b));
    for (arn, (region, app)) in &xa {
        match xb.get(arn) {
            None => out.push(change("app-removed", &a.id, region, &app.name, "present", "absent", arn.clone())),
            Some((_, new_app)) => {
                for (field, before, after) in
                    app_fields(app).into_iter().zip(app_fields(new_app)).filter(|(x, y)| x.1 != y.1).map(|(x, y)| (x.0, x.1, y.1))
                {
                    out.push(change("app-changed", &a.id, region, &app.name, before, after, field));
                }
            }
        }
    }
    for (arn, (region, app)) in &xb {
        if !xa.contains_key(arn) {
            out.push(change("app-added", &a.id, region, &app.name, "absent", "present", format!("{arn} ({})", app.runtime)));
        }
    }
}

/// The configuration fields compared between runs (not metrics or history).
fn app_fields(app: &FlinkApp) -> Vec<(&'static str, String)> {
    let e = app.checkpoint.effective;
    vec![
        ("status", app.status.to_string()),
        ("runtime", app.runtime.to_string()),
        ("version", app.version_id.map(|v| v.to_string()).unwrap_or_default()),
        ("execution role", app.execution_role_arn.clone().unwrap_or_default()),
        (
            "checkpointing",
            format!("enabled={} interval={} ms min_pause={} ms ({})", e.enabled, e.interval_ms, e.min_pause_ms, app.checkpoint.configuration_type),
        ),
        ("snapshots enabled", app.snapshots_enabled.to_string()),
        ("encryption", format!("{} {}", app.encryption.key_type, app.encryption.key_arn.clone().unwrap_or_default()).trim().to_owned()),
        (
            "vpc",
            app.vpc
                .as_ref()
                .map(|v| {
                    format!("{} subnets={} sgs={}", v.vpc_id.clone().unwrap_or_default(), v.subnet_ids.join(","), v.security_group_ids.join(","))
                })
                .unwrap_or_default(),
        ),
        (
            "code",
            app.code
                .as_ref()
                .map(|c| format!("{} {}", c.object_arn(), c.object_version.clone().unwrap_or_default()).trim().to_owned())
                .unwrap_or_default(),
        ),
        ("streams", app.stream_arns.join(", ")),
        (
            "parallelism",
            app.parallelism
                .as_ref()
                .map(|p| format!("{:?}/{:?} autoscaling={:?}", p.parallelism, p.parallelism_per_kpu, p.auto_scaling_enabled))
                .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{allow_all, Fleet};
    use crate::config::Config;
    use serde_json::json;

    fn fleet() -> Fleet {
        Fleet::new()
            .account("111111111111", "prod", "Root")
            .scp("p-region", "RegionLock", json!({"Version": "2012-10-17", "Statement": [{"Sid": "Lock", "Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}), &["r-root"])
            .app("111111111111", "eu-west-1", "orders", |_| {})
    }

    #[test]
    fn diff_reports_exactly_the_edited_policy_and_the_added_app() {
        let old = fleet().build();
        let mut new = fleet()
            .app("111111111111", "eu-west-1", "billing", |a| a.runtime = "FLINK-1_13".into())
            .edit(|inv| {
                let org = inv.organization.as_mut().unwrap();
                let p = org.policies.iter_mut().find(|p| p.id == "p-region").unwrap();
                p.document = PolicyDoc::from_json(json!({"Version": "2012-10-17", "Statement": [{"Sid": "Lock", "Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]}));
            })
            .build();
        new.run.run_id = "20261126T190000Z".into();
        // formatting-only and order-only changes elsewhere must not count
        let role = &mut new.accounts[0].roles[0];
        role.inline_policies[0].document =
            PolicyDoc::from_json(json!({"Statement": [{"Resource": "*", "Action": "*", "Effect": "Allow"}], "Version": "2012-10-17"}));
        let _ = allow_all();

        let diff = diff_snapshots(&old, &new, &Config::default());
        let kinds: Vec<(&str, &str)> = diff.changes.iter().map(|c| (c.kind.as_str(), c.subject.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                ("policy-changed", "SCP RegionLock (p-region)"),
                ("role-added", "arn:aws:iam::111111111111:role/billing-role"),
                ("app-added", "billing")
            ]
        );
        assert!(diff.changes[0].detail.contains("Lock"), "{}", diff.changes[0].detail);
        // the new app runs an unsupported runtime: exactly that finding is new
        assert_eq!(diff.new_findings.len(), 1);
        assert_eq!(diff.new_findings[0].check, crate::checks::CheckId::RuntimeEndOfSupport);
        assert!(diff.findings.resolved.is_empty());
    }

    fn f(id: &str, account: &str, status: FindingStatus) -> Finding {
        Finding {
            finding_id: id.into(),
            check: crate::checks::CheckId::SnapshotStale,
            severity: crate::severity::Severity::Low,
            status,
            account_id: account.into(),
            account_name: "a".into(),
            ou_path: "Root".into(),
            region: "eu-west-1".into(),
            resource_arn: "x".into(),
            subject: "s".into(),
            title: "t".into(),
            detail: "d".into(),
            evidence: vec![],
            suppression: None,
            expired_suppression: None,
        }
    }

    /// Tonight: prod read completely in eu-west-1, dev not entered.
    fn tonight() -> Inventory {
        use crate::inventory::{CoverageRow, CoverageStatus};
        let mut inv = Fleet::new().account("111111111111", "prod", "Root").account("222222222222", "dev", "Root").build();
        inv.run.regions = vec!["eu-west-1".into()];
        let row = |account: &str, region: &str, scope: &str, status| CoverageRow {
            account_id: account.into(),
            account_name: "a".into(),
            region: region.into(),
            scope: scope.into(),
            status,
            error_code: (status == CoverageStatus::Denied).then(|| "AccessDenied".into()),
            request_id: None,
            detail: None,
            at: chrono::Utc::now(),
        };
        inv.coverage = vec![
            row("111111111111", "global", "assume-role", CoverageStatus::Ok),
            row("111111111111", "eu-west-1", "flink", CoverageStatus::Ok),
            row("222222222222", "global", "assume-role", CoverageStatus::Denied),
        ];
        inv
    }

    /// Last night a, b, c open; tonight b open, c suppressed, d new.
    fn two_nights() -> (Vec<Finding>, Vec<Finding>) {
        const PROD: &str = "111111111111";
        let prev = vec![f("a", PROD, FindingStatus::Open), f("b", PROD, FindingStatus::Open), f("c", PROD, FindingStatus::Open)];
        let now = vec![f("b", PROD, FindingStatus::Open), f("c", PROD, FindingStatus::Suppressed), f("d", PROD, FindingStatus::Open)];
        (prev, now)
    }

    #[test]
    fn findings_read_by_id_and_status_count_as_whole_ones_do() {
        // As `fleetscan scan` reads last night: whole only what is gone tonight.
        let (prev, now) = two_nights();
        let (inv, config) = (tonight(), Config::default());
        let whole = run_delta(Previous { run_id: Some("r1"), findings: &prev, seen: &[], not_checked: &[] }, &now, &ReadScopes::of(&inv, &config));
        let seen: Vec<SeenFinding> = prev[1..].iter().map(|p| SeenFinding { finding_id: p.finding_id.clone(), status: p.status }).collect();
        let split =
            run_delta(Previous { run_id: Some("r1"), findings: &prev[..1], seen: &seen, not_checked: &[] }, &now, &ReadScopes::of(&inv, &config));
        assert_eq!(split, whole);
        assert_eq!((split.new, split.still_open, split.now_suppressed), (vec!["d".to_owned()], 1, vec!["c".to_owned()]));
    }

    #[test]
    fn delta_splits_new_resolved_still_open_and_suppressed() {
        let (prev, now) = two_nights();
        let (inv, config) = (tonight(), Config::default());
        let d = run_delta(Previous { run_id: Some("r1"), findings: &prev, seen: &[], not_checked: &[] }, &now, &ReadScopes::of(&inv, &config));
        assert_eq!(d.new, vec!["d"]);
        assert_eq!(d.resolved.iter().map(|f| f.finding_id.as_str()).collect::<Vec<_>>(), vec!["a"]);
        assert!(d.not_checked.is_empty());
        assert_eq!(d.still_open, 1);
        assert_eq!(d.now_suppressed, vec!["c"]);
    }

    #[test]
    fn findings_of_an_account_not_entered_are_not_checked_then_carried() {
        const PROD: &str = "111111111111";
        const DEV: &str = "222222222222";
        let (inv, config) = (tonight(), Config::default());
        let read = ReadScopes::of(&inv, &config);
        let night1 = vec![f("p", PROD, FindingStatus::Open), f("d1", DEV, FindingStatus::Open), f("d2", DEV, FindingStatus::Open)];
        // night 2: dev was not entered, so its findings are absent
        let night2 = vec![f("p", PROD, FindingStatus::Open)];
        let d = run_delta(Previous { run_id: Some("night1"), findings: &night1, seen: &[], not_checked: &[] }, &night2, &read);
        assert!(d.resolved.is_empty(), "nothing resolved: {:?}", d.resolved);
        assert_eq!(d.not_checked.iter().map(|n| n.finding.finding_id.as_str()).collect::<Vec<_>>(), vec!["d1", "d2"]);
        assert!(d.not_checked[0].not_checked_because.contains("assume-role denied (AccessDenied)"), "{}", d.not_checked[0].not_checked_because);
        assert_eq!(d.not_checked[0].last_seen_run_id.as_deref(), Some("night1"));
        assert_eq!(d.not_checked[0].finding, night1[1], "carried with last night's data");
        assert_eq!((d.new.len(), d.still_open), (0, 1));

        // night 3, dev still not entered: carried again, still from night 1
        let d3 = run_delta(Previous { run_id: Some("night2"), findings: &night2, seen: &[], not_checked: &d.not_checked }, &night2, &read);
        assert_eq!(d3.not_checked.len(), 2);
        assert_eq!(d3.not_checked[0].last_seen_run_id.as_deref(), Some("night1"));

        // night 3, dev entered again (everything read): d1 is seen again — still open, not new —
        // and d2 is gone — resolved now that its scope was read
        let mut full = inv.clone();
        full.coverage.retain(|r| r.account_id != DEV);
        full.coverage.push(crate::inventory::CoverageRow { account_id: DEV.into(), ..full.coverage[0].clone() });
        full.coverage.push(crate::inventory::CoverageRow { account_id: DEV.into(), ..full.coverage[1].clone() });
        let night3 = vec![f("p", PROD, FindingStatus::Open), f("d1", DEV, FindingStatus::Open)];
        let d4 = run_delta(
            Previous { run_id: Some("night2"), findings: &night2, seen: &[], not_checked: &d.not_checked },
            &night3,
            &ReadScopes::of(&full, &config),
        );
        assert!(d4.new.is_empty(), "a finding seen again after a night not checked is not new: {:?}", d4.new);
        assert_eq!(d4.still_open, 2);
        assert_eq!(d4.resolved.iter().map(|f| f.finding_id.as_str()).collect::<Vec<_>>(), vec!["d2"]);
        assert!(d4.not_checked.is_empty());
    }

    #[test]
    fn a_denial_whose_decision_is_undetermined_tonight_is_not_checked_not_resolved() {
        let finding = |check: CheckId, subject: &str| crate::findings::Finding {
            finding_id: format!("{check}-{subject}").into(),
            check,
            severity: crate::severity::Severity::High,
            status: FindingStatus::Open,
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            ou_path: "Root".into(),
            region: "eu-west-1".into(),
            resource_arn: "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/a".into(),
            subject: subject.into(),
            title: "t".into(),
            detail: "d".into(),
            evidence: vec![],
            suppression: None,
            expired_suppression: None,
        };
        let inv = crate::checks::testkit::Fleet::new().account("111111111111", "prod", "Root").build();
        let config = Config::default();
        let last_night = vec![finding(CheckId::ExecutionRoleAccessDenied, "s3:GetObject arn:aws:s3:::code/a.jar")];
        let tonight = vec![finding(CheckId::AccessUndetermined, "arn:aws:iam::111111111111:role/r s3:GetObject arn:aws:s3:::code/a.jar")];
        let d =
            run_delta(Previous { run_id: Some("n1"), findings: &last_night, seen: &[], not_checked: &[] }, &tonight, &ReadScopes::of(&inv, &config));
        assert!(d.resolved.is_empty(), "{d:?}");
        assert_eq!(d.not_checked.len(), 1);
        assert!(d.not_checked[0].not_checked_because.contains("access-undetermined"));
    }
}
