//! Prod-versus-dev: for each `[[compare]]` pair, pair the applications and
//! report every difference as [`DriftRow`]s and `drift-*` findings (one
//! finding per dimension and app pair, its evidence listing the rows).

use std::collections::BTreeMap;

use crate::checks::catalog::CheckId;
use crate::checks::sink::{Sink, Target};
use crate::config::Comparison;
use crate::drift::normalize::Normalizer;
use crate::drift::policy_diff::{diff_docs, PolicyDelta};
use crate::findings::{AccessDecision, AccessOutcome, DriftRow, Evidence};
use crate::inventory::{Account, AppRef, Inventory, OrgPolicyKind, PolicyDoc, PolicyLevel, Role, GLOBAL_REGION};

/// What one comparison produced.
#[derive(Debug, Default)]
pub struct PairOutcome {
    pub rows: Vec<DriftRow>,
    pub sink: Sink,
    pub notes: Vec<String>,
}

/// Compares one `[[compare]]` pair. `access` holds every access decision of
/// the run (drift-access-decision compares the paired apps' decisions).
pub fn compare_pair(inv: &Inventory, cmp: &Comparison, access: &[AccessDecision]) -> PairOutcome {
    let mut out = PairOutcome::default();
    let (Some(base), Some(target)) = (inv.account_by_id_or_name(&cmp.baseline), inv.account_by_id_or_name(&cmp.target)) else {
        for (side, key) in [("baseline", &cmp.baseline), ("target", &cmp.target)] {
            if inv.account_by_id_or_name(key).is_none() {
                out.notes.push(format!("compare `{}`: {side} account `{key}` is not in the inventory", cmp.name));
            }
        }
        return out;
    };
    let account_norm_b = Normalizer::new().account(&base.id, &base.name);
    let account_norm_t = Normalizer::new().account(&target.id, &target.name);
    let mut pair = Pair { inv, cmp, base, target, out: &mut out };

    pair.org_chain(OrgPolicyKind::ServiceControlPolicy, &account_norm_b, &account_norm_t);
    pair.org_chain(OrgPolicyKind::ResourceControlPolicy, &account_norm_b, &account_norm_t);

    let (pairs, only_base, only_target) = pair_apps(inv, cmp, base, target);
    for app in only_base {
        pair.row_only(&app.app.name, "application", &app.app.name, "present", "absent", "no app in the target pairs with it");
    }
    for app in only_target {
        pair.row_only(&app.app.name, "application", &app.app.name, "absent", "present", "no app in the baseline pairs with it");
    }
    for (b, t) in pairs {
        let nb = account_norm_b.clone().app(&b.app.name);
        let nt = account_norm_t.clone().app(&t.app.name);
        pair.app_pair(b, t, &nb, &nt, access);
    }
    out
}

struct Pair<'a, 'o> {
    inv: &'a Inventory,
    cmp: &'a Comparison,
    base: &'a Account,
    target: &'a Account,
    out: &'o mut PairOutcome,
}

/// Rows of one dimension for one app pair, turned into one finding.
struct Group {
    check: CheckId,
    rows: Vec<DriftRow>,
}

impl<'a, 'o> Pair<'a, 'o> {
    fn row(&self, application: &str, dimension: &str, subject: &str, baseline: &str, target: &str, explanation: &str) -> DriftRow {
        DriftRow {
            comparison: self.cmp.name.clone(),
            baseline_account_id: self.base.id.clone(),
            target_account_id: self.target.id.clone(),
            application: application.to_owned(),
            dimension: dimension.to_owned(),
            subject: subject.to_owned(),
            baseline: baseline.to_owned(),
            target: target.to_owned(),
            explanation: explanation.to_owned(),
        }
    }

    fn row_only(&mut self, application: &str, dimension: &str, subject: &str, baseline: &str, target: &str, explanation: &str) {
        let row = self.row(application, dimension, subject, baseline, target, explanation);
        self.out.rows.push(row);
    }

    /// Emits the rows and one finding for them.
    fn flush(&mut self, group: Group, region: &str, resource: &str, subject: &str) {
        if group.rows.is_empty() {
            return;
        }
        let evidence: Vec<Evidence> = group
            .rows
            .iter()
            .take(20)
            .map(|r| {
                Evidence::new(
                    r.subject.clone(),
                    format!(
                        "{} → {}{}",
                        r.baseline,
                        r.target,
                        if r.explanation.is_empty() { String::new() } else { format!(" ({})", r.explanation) }
                    ),
                )
            })
            .collect();
        let detail = format!(
            "{} difference(s) between {} ({}) and {} ({}) in compare `{}`.",
            group.rows.len(),
            self.base.name,
            self.base.id,
            self.target.name,
            self.target.id,
            self.cmp.name
        );
        let title = match group.rows.as_slice() {
            [only] => format!("{}: {}", group.check.title(), only.subject),
            [first, rest @ ..] => format!("{}: {} (+{} more)", group.check.title(), first.subject, rest.len()),
            [] => group.check.title().to_owned(),
        };
        self.out
            .sink
            .emit_titled(group.check, Target { account: self.target, region, resource }, subject, title, detail, evidence);
        self.out.rows.extend(group.rows);
    }

    // -- SCP / RCP chains ------------------------------------------------------

    fn level_label(&self, account: &Account, level: &PolicyLevel) -> String {
        crate::labels::level_label(self.inv, account, level)
    }

    fn org_chain(&mut self, kind: OrgPolicyKind, nb: &Normalizer, nt: &Normalizer) {
        let (dimension, check) = match kind {
            OrgPolicyKind::ServiceControlPolicy => ("scp", CheckId::DriftScp),
            OrgPolicyKind::ResourceControlPolicy => ("rcp", CheckId::DriftRcp),
        };
        let chain = |a: &'a Account| -> Option<&'a [PolicyLevel]> {
            // SCPs and RCPs do not affect the management account (AWS Organizations user guide).
            if a.is_management {
                None
            } else {
                Some(match kind {
                    OrgPolicyKind::ServiceControlPolicy => &a.scp_chain,
                    OrgPolicyKind::ResourceControlPolicy => &a.rcp_chain,
                })
            }
        };
        let mut group = Group { check, rows: Vec::new() };
        let unknown = |c: Option<&[PolicyLevel]>| c.is_some_and(|levels| levels.iter().any(|l| !l.is_complete()));
        if unknown(chain(self.base)) || unknown(chain(self.target)) {
            // Which policies are attached where is not known on one side:
            // say so, and compare nothing (a row, not a finding).
            let state = |c: Option<&[PolicyLevel]>| if unknown(c) { "unknown (attachments could not be read)" } else { "known" };
            let (b, t) = (state(chain(self.base)), state(chain(self.target)));
            let why = "the policies attached on one side could not be read (see coverage and access-undetermined): no difference is reported";
            self.row_only("", dimension, "all levels", b, t, why);
            return;
        }
        match (chain(self.base), chain(self.target)) {
            (Some(b), Some(t)) => {
                for (label, lb, lt) in align_levels(b, t) {
                    let lb_label = lb.map(|l| self.level_label(self.base, l)).unwrap_or_else(|| "-".to_owned());
                    let lt_label = lt.map(|l| self.level_label(self.target, l)).unwrap_or_else(|| "-".to_owned());
                    let policies = |l: Option<&PolicyLevel>| -> BTreeMap<String, &'a PolicyDoc> {
                        l.map(|l| l.policy_ids.iter().filter_map(|id| self.inv.org_policy(id)).map(|p| (p.name.clone(), &p.document)).collect())
                            .unwrap_or_default()
                    };
                    let mut pb = policies(lb);
                    let mut pt = policies(lt);
                    // A level that exists on one side only (deeper OU nesting)
                    // changes nothing when it holds only the AWS-managed
                    // allow-all policy: do not report it as a difference.
                    if lb.is_none() || lt.is_none() {
                        pb.retain(|name, _| !is_full_access(name));
                        pt.retain(|name, _| !is_full_access(name));
                    }
                    let where_ = format!("{label}: {lb_label} ↔ {lt_label}");
                    for (name, doc) in &pb {
                        match pt.get(name) {
                            None => group.rows.push(self.row(
                                "",
                                dimension,
                                &format!("{where_}: {name}"),
                                "attached",
                                "not attached",
                                &statement_summary(doc),
                            )),
                            Some(other) => {
                                let delta = normalized_diff(nb, nt, doc, other);
                                if !delta.is_same() {
                                    group.rows.push(self.row(
                                        "",
                                        dimension,
                                        &format!("{where_}: {name}"),
                                        "attached",
                                        "attached, differs",
                                        &delta.lines().join("; "),
                                    ));
                                }
                            }
                        }
                    }
                    for (name, doc) in &pt {
                        if !pb.contains_key(name) {
                            group.rows.push(self.row(
                                "",
                                dimension,
                                &format!("{where_}: {name}"),
                                "not attached",
                                "attached",
                                &statement_summary(doc),
                            ));
                        }
                    }
                }
            }
            (None, None) => {}
            (b, t) => {
                let state = |c: Option<&[PolicyLevel]>| if c.is_some() { "apply" } else { "do not apply (management account)" };
                group.rows.push(self.row(
                    "",
                    dimension,
                    "all levels",
                    state(b),
                    state(t),
                    "AWS Organizations policies do not affect the management account",
                ));
            }
        }
        self.flush(group, GLOBAL_REGION, &self.target.id.clone(), &format!("compare:{}", self.cmp.name));
    }

    // -- one app pair ----------------------------------------------------------

    fn app_pair(&mut self, b: AppRef<'a>, t: AppRef<'a>, nb: &Normalizer, nt: &Normalizer, access: &[AccessDecision]) {
        let label = if b.app.name == t.app.name { t.app.name.to_string() } else { format!("{} ↔ {}", b.app.name, t.app.name) };
        let region = t.region;
        let resource = t.app.arn.clone();
        let subject = format!("compare:{}:{}", self.cmp.name, b.app.name);

        // effective checkpoint settings
        let (eb, et) = (b.app.checkpoint.effective, t.app.checkpoint.effective);
        let mut group = Group { check: CheckId::DriftCheckpointConfig, rows: Vec::new() };
        let why = |a: &crate::inventory::FlinkApp| format!("ConfigurationType {}", a.checkpoint.configuration_type);
        for (field, vb, vt) in [
            ("checkpointing enabled", eb.enabled.to_string(), et.enabled.to_string()),
            ("checkpoint interval ms", eb.interval_ms.to_string(), et.interval_ms.to_string()),
            ("min pause ms", eb.min_pause_ms.to_string(), et.min_pause_ms.to_string()),
        ] {
            if vb != vt {
                group.rows.push(self.row(
                    &label,
                    "checkpoint-config",
                    field,
                    &vb,
                    &vt,
                    &format!("effective values; baseline {}, target {}", why(b.app), why(t.app)),
                ));
            }
        }
        self.flush(group, region, &resource, &subject);

        if b.app.runtime != t.app.runtime {
            let group = Group {
                check: CheckId::DriftRuntime,
                rows: vec![self.row(&label, "runtime", "RuntimeEnvironment", &b.app.runtime, &t.app.runtime, "")],
            };
            self.flush(group, region, &resource, &subject);
        }
        if b.app.snapshots_enabled != t.app.snapshots_enabled {
            let group = Group {
                check: CheckId::DriftSnapshotConfig,
                rows: vec![self.row(
                    &label,
                    "snapshot-config",
                    "snapshots enabled",
                    &b.app.snapshots_enabled.to_string(),
                    &t.app.snapshots_enabled.to_string(),
                    "",
                )],
            };
            self.flush(group, region, &resource, &subject);
        }

        // execution roles
        let role_b = b.app.execution_role_arn.as_deref().and_then(|arn| self.find_role(arn));
        let role_t = t.app.execution_role_arn.as_deref().and_then(|arn| self.find_role(arn));
        match (role_b, role_t) {
            (Some((ab, rb)), Some((at, rt))) => self.roles(&label, region, &resource, &subject, (ab, rb), (at, rt), nb, nt),
            _ => {
                let show = |a: &AppRef, r: Option<(&Account, &Role)>| match (&a.app.execution_role_arn, r) {
                    (None, _) => "no execution role".to_owned(),
                    (Some(arn), None) => format!("{arn} (not in the inventory)"),
                    (Some(arn), Some(_)) => arn.clone(),
                };
                self.out.notes.push(format!(
                    "compare `{}` {label}: execution roles not comparable: baseline {}, target {}",
                    self.cmp.name,
                    show(&b, role_b),
                    show(&t, role_t)
                ));
            }
        }

        // resource policies
        let mut group = Group { check: CheckId::DriftResourcePolicy, rows: Vec::new() };
        let mut resources = Vec::new();
        if b.app.encryption.is_customer_managed() || t.app.encryption.is_customer_managed() {
            resources.push(("KMS key", b.app.encryption.key_arn.clone(), t.app.encryption.key_arn.clone()));
        }
        resources.push(("code bucket", b.app.code.as_ref().map(|c| c.bucket_arn.clone()), t.app.code.as_ref().map(|c| c.bucket_arn.clone())));
        let mut streams_t: Vec<String> = t.app.stream_arns.clone();
        for sb in &b.app.stream_arns {
            let key = nb.text(sb);
            let partner = streams_t.iter().position(|st| nt.text(st) == key);
            resources.push(("stream", Some(sb.clone()), partner.map(|i| streams_t.remove(i))));
        }
        for st in streams_t {
            resources.push(("stream", None, Some(st)));
        }
        for (what, rb, rt) in resources {
            let doc_of = |arn: &Option<String>| arn.as_deref().and_then(|a| self.find_resource(a)).and_then(|r| r.policy.as_ref());
            let subject_name = format!("{what} {}", rt.as_deref().or(rb.as_deref()).map(|a| nt.text(&nb.text(a))).unwrap_or_default());
            match (&rb, &rt) {
                (Some(_), None) | (None, Some(_)) => {
                    group.rows.push(self.row(
                        &label,
                        "resource-policy",
                        &subject_name,
                        rb.as_deref().unwrap_or("none"),
                        rt.as_deref().unwrap_or("none"),
                        "resource on one side only",
                    ));
                }
                (None, None) => {}
                (Some(_), Some(_)) => match (doc_of(&rb), doc_of(&rt)) {
                    (None, None) => {}
                    (Some(_), None) => group.rows.push(self.row(&label, "resource-policy", &subject_name, "policy", "no policy", "")),
                    (None, Some(_)) => group.rows.push(self.row(&label, "resource-policy", &subject_name, "no policy", "policy", "")),
                    (Some(db), Some(dt)) => {
                        let delta = normalized_diff(nb, nt, db, dt);
                        if !delta.is_same() {
                            group.rows.push(self.row(
                                &label,
                                "resource-policy",
                                &subject_name,
                                "policy",
                                "policy, differs",
                                &delta.lines().join("; "),
                            ));
                        }
                    }
                },
            }
        }
        self.flush(group, region, &resource, &subject);

        // access decisions
        let mut by_key: BTreeMap<(String, String, String), &AccessDecision> = BTreeMap::new();
        for d in access.iter().filter(|d| d.application_arn == t.app.arn) {
            by_key.insert((nt.text(&d.principal), d.action.as_str().to_ascii_lowercase(), nt.text(&d.resource)), d);
        }
        for db in access.iter().filter(|d| d.application_arn == b.app.arn) {
            let key = (nb.text(&db.principal), db.action.as_str().to_ascii_lowercase(), nb.text(&db.resource));
            let Some(dt) = by_key.get(&key) else { continue };
            // No drift rests on a decision that could not be made: an
            // Unknown side is reported by access-undetermined instead.
            if db.outcome == dt.outcome || db.outcome == AccessOutcome::Unknown || dt.outcome == AccessOutcome::Unknown {
                continue;
            }
            let side = |d: &AccessDecision| {
                let who = d.deciding.iter().map(|s| s.describe()).collect::<Vec<_>>().join("; ");
                if who.is_empty() {
                    d.outcome.as_str().to_owned()
                } else {
                    format!("{} by {who}", d.outcome.as_str())
                }
            };
            let subj = format!("{} on {}", db.action, key.2);
            let explanation = format!("baseline: {}; target: {}", side(db), side(dt));
            let row = self.row(&label, "access-decision", &subj, db.outcome.as_str(), dt.outcome.as_str(), &explanation);
            let group = Group { check: CheckId::DriftAccessDecision, rows: vec![row] };
            self.flush(group, region, &resource, &format!("{subject}:{}:{}", db.action, key.2));
        }
    }

    fn roles(
        &mut self,
        label: &str,
        region: &str,
        resource: &str,
        subject: &str,
        (ab, rb): (&'a Account, &'a Role),
        (at, rt): (&'a Account, &'a Role),
        nb: &Normalizer,
        nt: &Normalizer,
    ) {
        // trust policy
        let delta = normalized_diff(nb, nt, &rb.trust_policy, &rt.trust_policy);
        if !delta.is_same() {
            let group = Group {
                check: CheckId::DriftTrustPolicy,
                rows: vec![self.row(
                    label,
                    "trust-policy",
                    &format!("trust policy of {}", nt.text(&rt.arn)),
                    "policy",
                    "policy, differs",
                    &delta.lines().join("; "),
                )],
            };
            self.flush(group, region, resource, subject);
        }
        // permissions boundary
        let mut group = Group { check: CheckId::DriftPermissionBoundary, rows: Vec::new() };
        match (&rb.permissions_boundary_arn, &rt.permissions_boundary_arn) {
            (None, None) => {}
            (Some(pb), None) => {
                group
                    .rows
                    .push(self.row(label, "permission-boundary", "permissions boundary", pb, "none", "the target role has no boundary"))
            }
            (None, Some(pt)) => {
                group
                    .rows
                    .push(self.row(label, "permission-boundary", "permissions boundary", "none", pt, "only the target role is bounded"))
            }
            (Some(pb), Some(pt)) => {
                let db = ab.managed_policy(pb).map(|p| &p.document);
                let dt = at.managed_policy(pt).map(|p| &p.document);
                match (db, dt) {
                    (Some(db), Some(dt)) => {
                        let delta = normalized_diff(nb, nt, db, dt);
                        if !delta.is_same() {
                            group.rows.push(self.row(
                                label,
                                "permission-boundary",
                                &format!("boundary {}", nt.text(pt)),
                                pb,
                                pt,
                                &delta.lines().join("; "),
                            ));
                        }
                    }
                    _ if nb.text(pb) != nt.text(pt) => group.rows.push(self.row(
                        label,
                        "permission-boundary",
                        "permissions boundary",
                        pb,
                        pt,
                        "boundary documents not in the inventory",
                    )),
                    _ => {}
                }
            }
        }
        self.flush(group, region, resource, subject);
        // identity policies: attached by normalised ARN, inline by name
        let mut group = Group { check: CheckId::DriftIdentityPolicy, rows: Vec::new() };
        let identity = |acct: &'a Account, role: &'a Role, n: &Normalizer| -> BTreeMap<String, (String, Option<&'a PolicyDoc>)> {
            let mut m = BTreeMap::new();
            for arn in &role.attached_policy_arns {
                m.insert(format!("managed {}", n.text(arn)), (arn.clone(), acct.managed_policy(arn).map(|p| &p.document)));
            }
            for inline in &role.inline_policies {
                m.insert(format!("inline {}", n.text(&inline.name)), (inline.name.clone(), Some(&inline.document)));
            }
            m
        };
        let ib = identity(ab, rb, nb);
        let it = identity(at, rt, nt);
        for (key, (name_b, doc_b)) in &ib {
            match it.get(key) {
                None => group.rows.push(self.row(label, "identity-policy", key, name_b, "absent", "policy only on the baseline role")),
                Some((name_t, doc_t)) => {
                    if let (Some(db), Some(dt)) = (doc_b, doc_t) {
                        let delta = normalized_diff(nb, nt, db, dt);
                        if !delta.is_same() {
                            group.rows.push(self.row(label, "identity-policy", key, name_b, name_t, &delta.lines().join("; ")));
                        }
                    }
                }
            }
        }
        for (key, (name_t, _)) in &it {
            if !ib.contains_key(key) {
                group.rows.push(self.row(label, "identity-policy", key, "absent", name_t, "policy only on the target role"));
            }
        }
        self.flush(group, region, resource, subject);
    }

    fn find_role(&self, arn: &str) -> Option<(&'a Account, &'a Role)> {
        self.inv.accounts.iter().find_map(|a| a.role(arn).map(|r| (a, r)))
    }

    fn find_resource(&self, arn: &str) -> Option<&'a crate::inventory::ResourcePolicy> {
        self.inv.accounts.iter().find_map(|a| a.resource(arn))
    }
}

/// The allow-all policies AWS attaches by default.
fn is_full_access(name: &str) -> bool {
    name == "FullAWSAccess" || name == "RCPFullAWSAccess"
}

fn normalized_diff(nb: &Normalizer, nt: &Normalizer, a: &PolicyDoc, b: &PolicyDoc) -> PolicyDelta {
    let norm = |n: &Normalizer, d: &PolicyDoc| match d.value() {
        Some(json) => PolicyDoc::from_json(n.json(&json)),
        None => PolicyDoc { json: None, raw: d.raw.as_ref().map(|r| n.text(r)), error: d.error.clone() },
    };
    diff_docs(&norm(nb, a), &norm(nt, b))
}

fn statement_summary(doc: &PolicyDoc) -> String {
    match doc.value() {
        Some(json) => {
            let n = json.get("Statement").map(|s| if s.is_array() { s.as_array().map_or(0, Vec::len) } else { 1 }).unwrap_or(0);
            let sids: Vec<String> = json
                .get("Statement")
                .and_then(|s| s.as_array())
                .map(|a| a.iter().filter_map(|s| s.get("Sid").and_then(|v| v.as_str()).map(str::to_owned)).collect())
                .unwrap_or_default();
            if sids.is_empty() {
                format!("{n} statement(s)")
            } else {
                format!("{n} statement(s): {}", sids.join(", "))
            }
        }
        None => format!("document does not parse: {}", doc.error.as_deref().unwrap_or("unknown error")),
    }
}

/// Aligns two chains: root with root, OU levels by depth, account with account.
fn align_levels<'x>(b: &'x [PolicyLevel], t: &'x [PolicyLevel]) -> Vec<(String, Option<&'x PolicyLevel>, Option<&'x PolicyLevel>)> {
    let mut out = Vec::new();
    if b.is_empty() && t.is_empty() {
        return out;
    }
    out.push(("root".to_owned(), b.first(), t.first()));
    let ous_b = if b.len() >= 2 { &b[1..b.len() - 1] } else { &[][..] };
    let ous_t = if t.len() >= 2 { &t[1..t.len() - 1] } else { &[][..] };
    for depth in 0..ous_b.len().max(ous_t.len()) {
        out.push((format!("OU depth {}", depth + 1), ous_b.get(depth), ous_t.get(depth)));
    }
    if b.len() >= 2 || t.len() >= 2 {
        out.push(("account".to_owned(), if b.len() >= 2 { b.last() } else { None }, if t.len() >= 2 { t.last() } else { None }));
    }
    out
}

/// Pairs the apps of the two accounts: by the `key` capture (or first group)
/// of `app_pattern`, else by name; apps whose key repeats are paired by region.
fn pair_apps<'a>(
    inv: &'a Inventory,
    cmp: &Comparison,
    base: &'a Account,
    target: &'a Account,
) -> (Vec<(AppRef<'a>, AppRef<'a>)>, Vec<AppRef<'a>>, Vec<AppRef<'a>>) {
    let key_of = |name: &str| -> Option<String> {
        match &cmp.app_pattern {
            None => Some(name.to_owned()),
            Some(re) => re.captures(name).and_then(|c| c.name("key").or_else(|| c.get(1))).map(|m| m.as_str().to_owned()),
        }
    };
    let apps_of = |account: &'a Account| -> Vec<AppRef<'a>> { inv.apps().filter(|a| a.account.id == account.id).collect() };
    let mut targets: Vec<Option<AppRef<'a>>> = apps_of(target).into_iter().map(Some).collect();
    let mut pairs = Vec::new();
    let mut only_base = Vec::new();
    for b in apps_of(base) {
        let Some(key) = key_of(&b.app.name) else {
            only_base.push(b);
            continue;
        };
        let candidates: Vec<usize> = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.as_ref().is_some_and(|t| key_of(&t.app.name).as_deref() == Some(key.as_str())))
            .map(|(i, _)| i)
            .collect();
        let pick = candidates
            .iter()
            .copied()
            .find(|&i| targets[i].as_ref().is_some_and(|t| t.region == b.region))
            .or_else(|| candidates.first().copied());
        match pick.and_then(|i| targets[i].take()) {
            Some(t) => pairs.push((b, t)),
            None => only_base.push(b),
        }
    }
    let only_target = targets.into_iter().flatten().collect();
    (pairs, only_base, only_target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, Fleet};

    #[test]
    fn apps_pair_by_key_capture_and_levels_align_by_depth() {
        let inv = Fleet::new()
            .ou("ou-w", "Workloads", "r-root")
            .ou("ou-dev", "Dev", "ou-w")
            .ou("ou-prod", "Prod", "ou-w")
            .ou("ou-pci", "PCI", "ou-prod")
            .account("111111111111", "dev-orders", "ou-dev")
            .account("222222222222", "prod-orders", "ou-pci")
            .app("111111111111", "eu-west-1", "orders-dev", |_| {})
            .app("111111111111", "eu-west-1", "billing-dev", |_| {})
            .app("222222222222", "eu-west-1", "orders-prod", |_| {})
            .build();
        let config = config_from(
            "[[compare]]\nname = \"orders\"\nbaseline = \"dev-orders\"\ntarget = \"222222222222\"\napp_pattern = \"^(?P<key>.+?)-(dev|prod)$\"\n",
        );
        let (pairs, only_b, only_t) = pair_apps(&inv, &config.compare[0], inv.account("111111111111").unwrap(), inv.account("222222222222").unwrap());
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0.app.name.as_str(), pairs[0].1.app.name.as_str()), ("orders-dev", "orders-prod"));
        assert_eq!(only_b.len(), 1);
        assert!(only_t.is_empty());
        let b = &inv.account("111111111111").unwrap().scp_chain;
        let t = &inv.account("222222222222").unwrap().scp_chain;
        let labels: Vec<_> = align_levels(b, t)
            .into_iter()
            .map(|(l, lb, lt)| (l, lb.map(|x| x.target_id.to_string()), lt.map(|x| x.target_id.to_string())))
            .collect();
        assert_eq!(labels[1], ("OU depth 1".to_owned(), Some("ou-w".to_owned()), Some("ou-w".to_owned())));
        assert_eq!(labels[2], ("OU depth 2".to_owned(), Some("ou-dev".to_owned()), Some("ou-prod".to_owned())));
        assert_eq!(labels[3], ("OU depth 3".to_owned(), None, Some("ou-pci".to_owned())));
        assert_eq!(labels[4].0, "account");
    }
}

#[cfg(test)]
mod prod_vs_dev {
    use serde_json::{json, Value};

    use crate::checks::testkit::{config_from, Fleet};
    use crate::checks::CheckId;
    use crate::evaluate::evaluate;
    use crate::findings::DriftRow;
    use crate::inventory::{CheckpointConfig, Encryption, PropertyGroup, ResourceKind};

    const DEV: &str = "111111111111";
    const PROD: &str = "222222222222";

    fn key(account: &str) -> String {
        format!("arn:aws:kms:eu-west-1:{account}:key/0000aaaa-1111-2222-3333-444455556666")
    }

    fn key_policy(account: &str, with_service: bool) -> Value {
        let mut statements = vec![
            json!({"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"}),
        ];
        if with_service {
            statements.push(json!({"Sid": "FlinkService", "Effect": "Allow",
                "Principal": {"Service": ["kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"]},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"],
                "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": account}}}));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn boundary(narrow: bool) -> Value {
        let actions = if narrow { json!(["logs:*", "cloudwatch:*", "s3:*", "kms:*"]) } else { json!("*") };
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Ceiling", "Effect": "Allow", "Action": actions, "Resource": "*"}]})
    }

    fn app_in(account: &'static str, name: &'static str, checkpointing: bool) -> impl FnOnce(&mut crate::inventory::FlinkApp) {
        move |a| {
            a.encryption = Encryption { key_type: "CUSTOMER_MANAGED_KEY".into(), key_arn: Some(key(account)) };
            a.stream_arns = vec![format!("arn:aws:kinesis:eu-west-1:{account}:stream/orders-in")];
            a.property_groups = vec![PropertyGroup {
                id: "FlinkApplicationProperties".into(),
                properties: [("input.stream".into(), "orders-in".into())].into(),
            }];
            if !checkpointing {
                a.checkpoint = CheckpointConfig::from_api("CUSTOM", Some(false), Some(60_000), Some(5_000));
            }
            let _ = name;
        }
    }

    fn fleet() -> crate::inventory::Inventory {
        let boundary_arn = |account: &str| format!("arn:aws:iam::{account}:policy/FlinkBoundary");
        Fleet::new()
            .ou("ou-work", "Workloads", "r-root")
            .ou("ou-dev", "Dev", "ou-work")
            .ou("ou-prod", "Prod", "ou-work")
            .ou("ou-pci", "PCI", "ou-prod")
            .scp(
                "p-codelock",
                "RestrictCodeBuckets",
                json!({"Version": "2012-10-17", "Statement": [
                    {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Sid": "DenyCodeReadsOutsideVpce", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                     "Resource": "arn:aws:s3:::code-*/*", "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1234"}}}]}),
                &["ou-pci"],
            )
            .account(DEV, "dev-orders", "ou-dev")
            .account(PROD, "prod-orders", "ou-pci")
            .managed_policy(DEV, &boundary_arn(DEV), "FlinkBoundary", boundary(false))
            .managed_policy(PROD, &boundary_arn(PROD), "FlinkBoundary", boundary(true))
            .resource(DEV, ResourceKind::KmsKey, &key(DEV), Some("eu-west-1"), Some(key_policy(DEV, true)))
            .resource(PROD, ResourceKind::KmsKey, &key(PROD), Some("eu-west-1"), Some(key_policy(PROD, false)))
            .app(DEV, "eu-west-1", "orders-dev", app_in(DEV, "orders-dev", true))
            .app(PROD, "eu-west-1", "orders-prod", app_in(PROD, "orders-prod", false))
            .role(DEV, "orders-dev-role", |r| r.permissions_boundary_arn = Some(boundary_arn(DEV)))
            .role(PROD, "orders-prod-role", |r| r.permissions_boundary_arn = Some(boundary_arn(PROD)))
            .build()
    }

    fn config() -> crate::config::Config {
        config_from(
            "[[compare]]\nname = \"orders\"\nbaseline = \"dev-orders\"\ntarget = \"prod-orders\"\napp_pattern = \"^(?P<key>.+?)-(dev|prod)$\"\n",
        )
    }

    fn rows<'a>(drift: &'a [DriftRow], dimension: &str) -> Vec<&'a DriftRow> {
        drift.iter().filter(|r| r.dimension == dimension).collect()
    }

    #[test]
    fn every_difference_is_named_and_nothing_else() {
        let eval = evaluate(&fleet(), &config());
        let drift = &eval.drift;

        // SCP attached to the nested prod OU: found at OU depth 3, with its path.
        let scp = rows(drift, "scp");
        let codelock = scp.iter().find(|r| r.subject.contains("RestrictCodeBuckets")).expect("SCP difference");
        assert!(codelock.subject.contains("OU depth 3"), "{codelock:?}");
        assert!(codelock.subject.contains("Root/Workloads/Prod/PCI (ou-pci)"), "{codelock:?}");
        assert_eq!((codelock.baseline.as_str(), codelock.target.as_str()), ("not attached", "attached"));
        assert!(codelock.explanation.contains("DenyCodeReadsOutsideVpce"));
        assert!(scp.iter().all(|r| !r.subject.contains("OU depth 1")), "Workloads is common: {scp:#?}");

        // narrower boundary: a semantic statement change, not a text diff
        let pb = rows(drift, "permission-boundary");
        assert_eq!(pb.len(), 1, "{pb:#?}");
        assert!(pb[0].explanation.contains("Ceiling"), "{:?}", pb[0]);

        // checkpointing disabled in prod
        let cp = rows(drift, "checkpoint-config");
        assert_eq!(cp.len(), 1, "{cp:#?}");
        assert_eq!((cp[0].subject.as_str(), cp[0].baseline.as_str(), cp[0].target.as_str()), ("checkpointing enabled", "true", "false"));

        // key policy without the service principals
        let rp = rows(drift, "resource-policy");
        assert_eq!(rp.len(), 1, "{rp:#?}");
        assert!(rp[0].subject.starts_with("KMS key"));
        assert!(rp[0].explanation.contains("FlinkService"), "{:?}", rp[0]);

        // no noise: names/ids are normalised, identical things do not show
        for dim in ["identity-policy", "trust-policy", "runtime", "snapshot-config", "rcp", "application"] {
            assert!(rows(drift, dim).is_empty(), "{dim}: {:#?}", rows(drift, dim));
        }

        // access decisions that differ, each naming the statement that makes the difference
        let access = rows(drift, "access-decision");
        let get = access.iter().find(|r| r.subject.starts_with("s3:GetObject on")).expect("s3:GetObject differs");
        assert_eq!((get.baseline.as_str(), get.target.as_str()), ("Allowed", "ExplicitlyDenied"));
        assert!(
            get.explanation
                .contains("RestrictCodeBuckets statement #1 (Sid DenyCodeReadsOutsideVpce) attached at Root/Workloads/Prod/PCI (ou-pci)"),
            "{}",
            get.explanation
        );
        let kinesis = access.iter().find(|r| r.subject.starts_with("kinesis:GetRecords")).expect("boundary blocks kinesis in prod");
        assert!(kinesis.explanation.contains("FlinkBoundary"), "{}", kinesis.explanation);
        let kms = access.iter().filter(|r| r.subject.starts_with("kms:")).count();
        assert_eq!(kms, 6, "both service principals × their actions: {access:#?}");

        // and the findings
        let checks: std::collections::BTreeSet<CheckId> = eval.findings.iter().map(|f| f.check).collect();
        for c in [
            CheckId::DriftScp,
            CheckId::DriftPermissionBoundary,
            CheckId::DriftCheckpointConfig,
            CheckId::DriftResourcePolicy,
            CheckId::DriftAccessDecision,
            CheckId::CheckpointingDisabled,
            CheckId::CmkServiceAccessDenied,
            CheckId::ExecutionRoleAccessDenied,
        ] {
            assert!(checks.contains(&c), "{c} missing: {checks:?}");
        }
        for c in [CheckId::DriftIdentityPolicy, CheckId::DriftTrustPolicy, CheckId::DriftRuntime, CheckId::DriftSnapshotConfig, CheckId::DriftRcp] {
            assert!(!checks.contains(&c), "{c} is noise");
        }
        // the prod denial names the exact policy, statement and OU
        let denied = eval
            .findings
            .iter()
            .find(|f| f.check == CheckId::ExecutionRoleAccessDenied && f.account_id == PROD && f.subject.starts_with("s3:GetObject "))
            .unwrap();
        assert!(
            denied
                .detail
                .contains("SCP RestrictCodeBuckets statement #1 (Sid DenyCodeReadsOutsideVpce) attached at Root/Workloads/Prod/PCI (ou-pci)"),
            "{}",
            denied.detail
        );
        // dev is fine
        let access_checks = [CheckId::ExecutionRoleAccessDenied, CheckId::CmkServiceAccessDenied, CheckId::AccessUndetermined];
        assert!(eval.findings.iter().all(|f| f.account_id != DEV || !access_checks.contains(&f.check)), "dev has no denied action");
        assert!(eval.access_not_allowed > 0);
        assert!(eval.access_allowed > 0);
    }
}
