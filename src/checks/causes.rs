//! Root causes: one SCP statement can deny six actions of four apps, and the
//! report should say "fix this statement", not list 24 symptoms. Findings
//! that one fix clears share a `cause_id`:
//!
//! * access findings: the deciding statement (the first Deny, else the
//!   first statement the engine names) at its attachment point — one SCP
//!   statement at one OU, one boundary, one key policy, one stream policy;
//!   a prod-vs-dev access difference goes to the statement that denies it;
//! * configuration findings: the flag on its app (check + app);
//! * `alarm-missing`: the same set of missing alarms in one account and region;
//! * `health-event-open`: the AWS Health event;
//! * anything else is its own cause.
//!
//! [`derive`] is the one function that decides a finding's cause, from the
//! finding's evidence and the access decision it reports on; a new check or
//! a new decision outcome extends it there.

use std::borrow::Cow;
use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::checks::catalog::CheckId;
use crate::findings::{AccessDecision, AccessOutcome, Cause, DecidingStatement, Finding, FindingStatus};
use crate::inventory::{Account, InlineString, Inventory};

/// What [`derive`] says about one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub kind: &'static str,
    /// Identifies the cause within its kind; equal keys are one cause.
    pub key: String,
    pub what: String,
    pub where_: String,
    /// The check's own fix text, or one written for this cause.
    pub fix: Cow<'static, str>,
    /// The action the finding says is blocked, if it is an access finding.
    pub action: Option<String>,
}

/// Access decisions by what an access finding names, built once.
#[derive(Default)]
pub struct Decisions<'a> {
    exact: HashMap<(&'a str, &'a str, &'a str, &'a str), &'a AccessDecision>,
    by_action: HashMap<(&'a str, String), Vec<&'a AccessDecision>>,
    /// Role ARN → name of its permissions boundary, to name a boundary
    /// that allows nothing (the engine names no statement then).
    boundaries: HashMap<&'a str, &'a str>,
}

impl<'a> Decisions<'a> {
    pub fn new(access: impl IntoIterator<Item = &'a AccessDecision>) -> Self {
        let mut exact = HashMap::new();
        let mut by_action: HashMap<(&str, String), Vec<&AccessDecision>> = HashMap::new();
        for d in access.into_iter().filter(|d| d.outcome != AccessOutcome::Allowed) {
            exact.insert((d.application_arn.as_str(), d.principal.as_str(), d.action.as_str(), d.resource.as_str()), d);
            by_action.entry((d.application_arn.as_str(), d.action.as_str().to_ascii_lowercase())).or_default().push(d);
        }
        Self { exact, by_action, boundaries: HashMap::new() }
    }

    /// Adds the boundary names of the inventory's roles.
    pub fn with_boundaries(self, inventory: &'a Inventory) -> Self {
        inventory.accounts.iter().fold(self, Self::with_boundaries_of)
    }

    /// Adds the boundary names of one account's roles (an app's execution
    /// role is in the app's account).
    pub fn with_boundaries_of(mut self, account: &'a Account) -> Self {
        for role in &account.roles {
            if let Some(policy) = role.permissions_boundary_arn.as_deref().and_then(|arn| account.managed_policy(arn)) {
                self.boundaries.insert(role.arn.as_str(), policy.name.as_str());
            }
        }
        self
    }

    fn exact(&self, app: &str, principal: &str, action: &str, resource: &str) -> Option<&'a AccessDecision> {
        self.exact.get(&(app, principal, action, resource)).copied()
    }

    fn for_action(&self, app: &str, action: &str) -> Option<&'a AccessDecision> {
        self.by_action.get(&(app, action.to_ascii_lowercase())).and_then(|v| v.first().copied())
    }
}

fn evidence<'f>(f: &'f Finding, label: &str) -> Option<&'f str> {
    f.evidence.iter().find(|e| e.label == label).and_then(|e| e.value.as_text())
}

/// The finding's cause. Pure: same finding and decisions, same cause.
pub fn derive(f: &Finding, decisions: &Decisions<'_>) -> Derived {
    use CheckId::*;
    let app = f.resource_arn.as_str();
    match f.check {
        ExecutionRoleAccessDenied | CmkServiceAccessDenied => {
            let named = (evidence(f, "principal"), evidence(f, "action"), evidence(f, "resource"));
            if let (Some(principal), Some(action), Some(resource)) = named {
                if let Some(statement) = decisions.exact(app, principal, action, resource).and_then(deciding) {
                    return from_statement(statement, Some(action), decisions);
                }
            }
            own(f)
        }
        AccessUndetermined => {
            // The same unread inputs make the same decisions unknown: one
            // grant (or one account entered) settles them all.
            let mut missing: Vec<&str> = f.evidence.iter().filter(|e| e.label == "missing input").filter_map(|e| e.value.as_text()).collect();
            missing.sort_unstable();
            let mut permissions: Vec<&str> = f.evidence.iter().filter(|e| e.label == "read with").filter_map(|e| e.value.as_text()).collect();
            permissions.sort_unstable();
            permissions.dedup();
            Derived {
                kind: "unread-input",
                key: missing.join("\u{0}"),
                what: match missing.as_slice() {
                    [one] => format!("Could not be read: {one}"),
                    [first, rest @ ..] => format!("Could not be read: {first} and {} more", rest.len()),
                    [] => f.title.clone(),
                },
                where_: format!("audit role permission {}", permissions.join(", ")),
                fix: Cow::Borrowed(f.check.doc().fix),
                action: evidence(f, "action").map(str::to_owned),
            }
        }
        DriftAccessDecision => {
            // Evidence label `<action> on <resource>`; the target app's denied
            // decision for that action names the statement that makes the difference.
            let action = f.evidence.first().and_then(|e| e.label.split(" on ").next()).unwrap_or("");
            match decisions.for_action(app, action).and_then(deciding) {
                Some(statement) => from_statement(statement, Some(action), decisions),
                None => own(f),
            }
        }
        DriftScp | DriftRcp => Derived {
            // The same difference at the same level (evidence names the
            // level and the policies, account ids normalised) is one
            // attachment, whichever paired account shows it.
            kind: "org-policy-attachment",
            key: format!("{}\u{0}{}", f.check.as_str(), f.evidence_text()),
            what: f.title.clone(),
            where_: f.evidence.iter().map(|e| e.label.as_str()).collect::<Vec<_>>().join("; "),
            fix: Cow::Borrowed(f.check.doc().fix),
            action: None,
        },
        CheckpointingDisabled | CheckpointIntervalOutOfRange | SnapshotsDisabled | RuntimeEndOfSupport => Derived {
            kind: "configuration",
            key: format!("{}\u{0}{app}", f.check.as_str()),
            what: f.title.clone(),
            where_: format!("{} in {} ({}) {}", short_arn(app), f.account_name, f.account_id, f.region),
            fix: Cow::Borrowed(f.check.doc().fix),
            action: None,
        },
        AlarmMissing => {
            let missing = evidence(f, "missing").unwrap_or(&f.subject);
            Derived {
                kind: "alarms",
                key: format!("{}\u{0}{}\u{0}{missing}", f.account_id, f.region),
                what: format!("No usable CloudWatch alarm on {missing}"),
                where_: format!("{} ({}) {}", f.account_name, f.account_id, f.region),
                fix: Cow::Borrowed(
                    "Create the alarms: each app's finding prints the put-metric-alarm command with a threshold from its own history.",
                ),
                action: None,
            }
        }
        HealthEventOpen => {
            let event = evidence(f, "event").unwrap_or(&f.subject);
            Derived {
                kind: "health-event",
                key: event.to_owned(),
                what: f.title.clone(),
                where_: event.to_owned(),
                fix: Cow::Borrowed(f.check.doc().fix),
                action: None,
            }
        }
        _ => own(f),
    }
}

/// A finding that shares its cause with no other.
fn own(f: &Finding) -> Derived {
    Derived {
        kind: "finding",
        key: f.finding_id.to_string(),
        what: f.title.clone(),
        where_: format!("{} in {} ({}) {}", short_arn(&f.resource_arn), f.account_name, f.account_id, f.region),
        fix: Cow::Borrowed(f.check.doc().fix),
        action: None,
    }
}

/// The statement that decided a denial: the first Deny, else the first named.
fn deciding(d: &AccessDecision) -> Option<&DecidingStatement> {
    d.deciding.iter().find(|s| s.effect == "Deny").or_else(|| d.deciding.first())
}

fn from_statement(s: &DecidingStatement, action: Option<&str>, decisions: &Decisions<'_>) -> Derived {
    let deny = s.effect == "Deny";
    let kind_label = match s.policy_kind.as_str() {
        "scp" => "SCP",
        "rcp" => "RCP",
        "boundary" => "Permissions boundary",
        "identity" => "Identity policies",
        "session" => "Session policy",
        "endpoint" => "VPC endpoint policy",
        "resource" => "Resource policy",
        other => other,
    };
    let mut name = match (s.policy_kind.as_str(), s.policy.as_str()) {
        ("resource", "") => resource_policy_name(&s.attached_at).to_owned(),
        ("boundary", "") => match decisions.boundaries.get(s.attached_at.as_str()) {
            Some(policy) => format!("Permissions boundary {policy}"),
            None => kind_label.to_owned(),
        },
        (_, "") => kind_label.to_owned(),
        ("resource", named) => capitalise(named),
        (_, named) => format!("{kind_label} {named}"),
    };
    if let Some(index) = s.statement_index {
        name.push_str(&format!(" statement #{index}"));
    }
    if let Some(sid) = s.sid.as_deref().filter(|sid| !sid.is_empty()) {
        name.push_str(&format!(" (Sid {sid})"));
    }
    let what = if deny { format!("{name} denies") } else { format!("{name} allows none of the actions") };
    let at = s.attached_at.as_str();
    let fix = match (s.policy_kind.as_str(), deny) {
        ("scp" | "rcp", true) => format!("Narrow {name} at {at} (its Action, Resource or a Condition that exempts these roles), or move the accounts from under it; every app below it is blocked."),
        ("scp" | "rcp", false) => format!("Attach a policy that allows these actions at {at}: every level from the root to the account needs an Allow."),
        ("boundary", true) => format!("Remove or narrow {name} on {at}."),
        ("boundary", false) => format!("Allow these actions in the permissions boundary of {at} (actions outside the boundary are denied even when identity policies allow them)."),
        ("identity", _) => format!("Grant these actions to {at} in its identity policies."),
        ("resource", true) => format!("Remove or narrow the denying statement of the {} of {at}.", s.policy),
        ("resource", false) if name == "Key policy" => format!("Grant these principals the actions in the key policy of {at} (or let the key policy delegate to IAM)."),
        ("resource", false) => format!("Allow these principals the actions in the {} of {at}.", s.policy),
        _ => format!("Change {name} at {at}."),
    };
    Derived {
        kind: if name.starts_with("Key policy") { "key-policy" } else { "policy-statement" },
        key: format!(
            "{}\u{0}{}\u{0}{at}\u{0}{}\u{0}{}\u{0}{}",
            s.policy_kind,
            s.policy,
            s.statement_index.map(|i| i.to_string()).unwrap_or_default(),
            s.sid.as_deref().unwrap_or(""),
            s.effect
        ),
        what,
        where_: at.to_owned(),
        fix: Cow::Owned(fix),
        action: action.map(str::to_owned),
    }
}

/// The policy a resource carries, named by its ARN (the engine leaves the
/// name empty when no statement of it matched).
fn resource_policy_name(arn: &str) -> &'static str {
    match arn.split(':').nth(2) {
        Some("kms") => "Key policy",
        Some("s3") => "Bucket policy",
        Some("kinesis") => "Stream policy",
        _ => "Resource policy",
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn short_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// `cause_id` = first 16 hex digits of SHA-256 over kind and key.
pub fn cause_id(kind: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0u8]);
    hasher.update(key.as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// The text at exactly its length (`format!` leaves spare capacity, and
/// causes are kept until the run ends).
fn exact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// A finding's cause, worked out while its app's access decisions are at
/// hand, so they need not be kept for grouping: the cause's id, the action
/// it blocks, and for a cause that came from a decision, its texts.
#[derive(Debug, Clone)]
pub struct CauseTag {
    id: InlineString,
    action: Option<InlineString>,
    derived: Option<Box<Derived>>,
}

/// Tags `findings` (one list: an app's, or drift's). A decision's texts are
/// kept once per cause in the list: they are the same for every finding
/// of that cause (its key names the statement and where it is attached).
pub fn tag_all(findings: &[Finding], decisions: &Decisions<'_>) -> Vec<CauseTag> {
    let mut kept: Vec<InlineString> = Vec::new();
    findings
        .iter()
        .map(|f| {
            let mut derived = derive(f, decisions);
            let id: InlineString = cause_id(derived.kind, &std::mem::take(&mut derived.key)).into();
            let action = derived.action.take().map(|a| InlineString::from(a.to_ascii_lowercase()));
            let from_decision =
                matches!(f.check, CheckId::ExecutionRoleAccessDenied | CheckId::CmkServiceAccessDenied | CheckId::DriftAccessDecision);
            let derived = (from_decision && !kept.contains(&id)).then(|| {
                kept.push(id.clone());
                Box::new(derived)
            });
            CauseTag { id, action, derived }
        })
        .collect()
}

/// Groups findings by cause; most severe causes first, then the ones with
/// the most open findings.
pub fn group(findings: &[Finding], access: &[AccessDecision]) -> Vec<Cause> {
    group_in(None, findings, access)
}

/// [`group`] naming boundaries from the inventory, when there is one.
pub fn group_in(inventory: Option<&Inventory>, findings: &[Finding], access: &[AccessDecision]) -> Vec<Cause> {
    let mut decisions = Decisions::new(access);
    if let Some(inventory) = inventory {
        decisions = decisions.with_boundaries(inventory);
    }
    group_tagged(findings.iter().zip(tag_all(findings, &decisions)).collect())
}

/// Groups tagged findings (in report order) by cause.
pub fn group_tagged(mut tagged: Vec<(&Finding, CauseTag)>) -> Vec<Cause> {
    // Sorted so a cause's findings sit together (stable: report order within).
    tagged.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let mut causes = Vec::with_capacity(tagged.chunk_by(|a, b| a.1.id == b.1.id).count());
    for group in tagged.chunk_by_mut(|a, b| a.1.id == b.1.id) {
        let first = group[0].0;
        // Texts from a decision, else worked out from the first finding
        // (no other cause needs a decision).
        let derived = match group.iter_mut().find_map(|(_, tag)| tag.derived.take()) {
            Some(derived) => *derived,
            None => derive(first, &Decisions::default()),
        };
        let members = || group.iter().map(|(f, _)| *f);
        let severity_any = members().map(|f| f.severity).max().unwrap_or(first.severity);
        let open = members().filter(|f| f.status == FindingStatus::Open);
        let severity_open = open.clone().map(|f| f.severity).max();
        let mut apps: Vec<&str> = members().map(|f| f.resource_arn.as_str()).filter(|arn| arn.contains(":application/")).collect();
        apps.sort_unstable();
        apps.dedup();
        let mut actions: Vec<(&str, &str)> = group.iter().filter_map(|(f, tag)| Some((f.resource_arn.as_str(), tag.action.as_deref()?))).collect();
        actions.sort_unstable();
        actions.dedup();
        causes.push(Cause {
            cause_id: group[0].1.id.clone(),
            kind: derived.kind.into(),
            severity: severity_open.unwrap_or(severity_any),
            what: exact(derived.what),
            where_: exact(derived.where_),
            apps: apps.len(),
            actions: actions.len(),
            fix: derived.fix,
            open: open.count(),
            finding_ids: members().map(|f| f.finding_id.clone()).collect(),
        });
    }
    causes.sort_by(|a, b| {
        (b.open > 0)
            .cmp(&(a.open > 0))
            .then(b.severity.cmp(&a.severity))
            .then(b.open.cmp(&a.open))
            .then(b.finding_ids.len().cmp(&a.finding_ids.len()))
            .then(a.what.cmp(&b.what))
            .then(a.cause_id.cmp(&b.cause_id))
    });
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, Fleet};
    use crate::evaluate::evaluate;

    #[test]
    fn cause_ids_are_stable_and_separate_kinds() {
        assert_eq!(cause_id("alarms", "k"), cause_id("alarms", "k"));
        assert_eq!(cause_id("alarms", "k").len(), 16);
        assert_ne!(cause_id("alarms", "k"), cause_id("configuration", "k"));
        assert_ne!(cause_id("ab", "c"), cause_id("a", "bc"));
    }

    fn statement(kind: &str, policy: &str, at: &str, index: Option<usize>, effect: &str) -> DecidingStatement {
        DecidingStatement {
            policy_kind: kind.into(),
            policy: policy.into(),
            attached_at: at.into(),
            statement_index: index,
            sid: None,
            effect: effect.into(),
            why: "differs per action".into(),
        }
    }

    #[test]
    fn statement_causes_name_the_policy_and_fix_by_kind() {
        let none = Decisions::new(&[]);
        let scp = from_statement(&statement("scp", "EuOnly", "Root/Prod (ou-1)", Some(0), "Deny"), Some("s3:GetObject"), &none);
        assert_eq!(scp.what, "SCP EuOnly statement #0 denies");
        assert_eq!(scp.where_, "Root/Prod (ou-1)");
        assert!(scp.fix.contains("Narrow SCP EuOnly statement #0 at Root/Prod (ou-1)"), "{}", scp.fix);
        let key = from_statement(&statement("resource", "", "arn:aws:kms:eu-west-1:1:key/k", None, ""), None, &none);
        assert_eq!(key.kind, "key-policy");
        assert_eq!(key.what, "Key policy allows none of the actions");
        // the why text (which names the action) never splits a cause
        let mut other = statement("scp", "EuOnly", "Root/Prod (ou-1)", Some(0), "Deny");
        other.why = "another action".into();
        assert_eq!(from_statement(&other, Some("kms:Decrypt"), &none).key, scp.key);
        // the same policy attached elsewhere is another cause
        assert_ne!(from_statement(&statement("scp", "EuOnly", "Root/Dev (ou-2)", Some(0), "Deny"), None, &none).key, scp.key);
        let mut decisions = Decisions::new(&[]);
        decisions.boundaries.insert("arn:aws:iam::1:role/app", "flink-boundary");
        let boundary = from_statement(&statement("boundary", "", "arn:aws:iam::1:role/app", None, ""), None, &decisions);
        assert_eq!(boundary.what, "Permissions boundary flink-boundary allows none of the actions");
    }

    /// Two apps in one account, both denied the same actions by one SCP
    /// statement, plus a config flag each: 2 + 1 + 1 causes.
    #[test]
    fn findings_of_one_statement_share_a_cause() {
        let scp =
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoLogs", "Effect": "Deny", "Action": "logs:*", "Resource": "*"}]});
        let inv = Fleet::new()
            .ou("ou-prod", "Prod", "r-root")
            .account("111111111111", "prod", "ou-prod")
            .scp("p-nologs", "NoLogs", scp, &["ou-prod"])
            .app("111111111111", "eu-west-1", "a", |a| a.snapshots_enabled = false)
            .app("111111111111", "eu-west-1", "b", |a| a.snapshots_enabled = false)
            .build();
        let eval = evaluate(&inv, &config_from(""));
        let denied: Vec<&Finding> = eval.findings.iter().filter(|f| f.check == CheckId::ExecutionRoleAccessDenied).collect();
        assert!(denied.len() >= 4, "{denied:#?}");
        let ids = eval.cause_ids();
        let scp_cause = ids[denied[0].finding_id.as_str()];
        assert!(denied.iter().all(|f| ids[f.finding_id.as_str()] == scp_cause), "one statement, one cause");
        let cause = eval.causes.iter().find(|c| c.cause_id == scp_cause).unwrap();
        assert_eq!(cause.what, "SCP NoLogs statement #0 (Sid NoLogs) denies");
        assert_eq!(cause.apps, 2);
        assert_eq!(cause.actions, denied.len());
        assert_eq!(cause.finding_ids.len(), denied.len());
        // snapshots-disabled: a flag on each app, so one cause per app
        let flags: std::collections::BTreeSet<&str> =
            eval.findings.iter().filter(|f| f.check == CheckId::SnapshotsDisabled).map(|f| ids[f.finding_id.as_str()]).collect();
        assert_eq!(flags.len(), 2);
        // every finding is under exactly one cause
        let listed: usize = eval.causes.iter().map(|c| c.finding_ids.len()).sum();
        assert_eq!(listed, eval.findings.len());
        assert_eq!(eval.causes[0].severity, crate::severity::Severity::High, "most severe first");
    }
}
