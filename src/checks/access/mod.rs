//! Access analysis: may each execution role do what its application needs,
//! and may the Managed Flink service principals use the app's customer
//! managed key? Decided locally by the policy engine ([`crate::policy`]).
//!
//! Policy sets follow AWS:
//! * SCPs: the principal account's chain root → OUs → account, exactly the
//!   policies attached at each level; none for the management account
//!   ("SCPs don't affect users or roles in the management account",
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>).
//! * RCPs: the resource account's chain; none for resources in the
//!   management account ("RCPs don't affect resources in the management
//!   account", <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>)
//!   or outside the organization.
//! * identity: attached managed and inline policies; boundary; resource
//!   policy: the bucket, stream or key policy of the resource.
//!
//! A document that does not parse is never read as allow or deny: the
//! decisions that need it are `Indeterminate` and a finding names it.

pub mod docs;
pub mod requirements;

pub use docs::{DOC_CMK_SERVICE_ACCESS_DENIED, DOC_EXECUTION_ROLE_ACCESS_DENIED};

use std::sync::Arc;

use crate::checks::catalog::CheckId;
use crate::checks::sink::{Sink, Target};
use crate::checks::{Context, Index};
use crate::findings::{AccessDecision, AccessOutcome, DecidingStatement, Evidence};
use crate::inventory::{Account, InlineString, Inventory, OrgPolicyKind, PolicyDoc, PolicyLevel, ResourceKind, Role};
use crate::policy::{self, NamedPolicy, OrgLevel, PolicySet, Request};
use requirements::{bucket_arn, Need};

/// Service principals that use a customer managed key for durable state,
/// with the actions each needs (SPEC §7).
pub const CMK_NEEDS: [(&str, &[&str]); 2] = [
    ("kinesisanalytics.amazonaws.com", &["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]),
    ("infrastructure.kinesisanalytics.amazonaws.com", &["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"]),
];

/// Policies collected for one decision, plus the names of those that did not parse.
#[derive(Default)]
struct Assembled {
    set: PolicySet,
    unparsed: Vec<String>,
}

fn compile<'a>(index: &Index<'a>, doc: &'a PolicyDoc, name: &str, unparsed: &mut Vec<String>) -> Option<NamedPolicy> {
    match index.compile(doc) {
        Ok(p) => Some(NamedPolicy::new(name.to_owned(), p)),
        Err(err) => {
            unparsed.push(format!("{name}: {err}"));
            None
        }
    }
}

/// Where a level is, for people: `Root`, `Root/Workloads/Prod (ou-…)`, `account 1111… (name)`.
pub fn level_label(inv: &Inventory, account: &Account, level: &PolicyLevel) -> String {
    let ou_path = inv
        .organization
        .as_ref()
        .and_then(|o| o.organizational_units.iter().find(|u| u.id == level.target_id))
        .map(|u| u.path.as_str());
    describe_level(account, level, ou_path)
}

/// [`level_label`] with the OU looked up in the index (the hot path).
fn level_label_indexed(index: &Index<'_>, account: &Account, level: &PolicyLevel) -> String {
    describe_level(account, level, index.ou_path(&level.target_id))
}

fn describe_level(account: &Account, level: &PolicyLevel, ou_path: Option<&str>) -> String {
    if level.target_id == account.id {
        format!("account {} ({})", account.id, account.name)
    } else if level.target_id.starts_with("r-") {
        format!("Root ({})", level.target_id)
    } else {
        format!("{} ({})", ou_path.unwrap_or(&level.target_name), level.target_id)
    }
}

/// The SCP or RCP levels that apply to `account_id`, or `None` when none do.
fn org_levels<'a>(inv: &'a Inventory, index: &Index<'a>, account_id: &str, kind: OrgPolicyKind, unparsed: &mut Vec<String>) -> Option<Vec<OrgLevel>> {
    inv.organization.as_ref()?;
    let account = index.account(account_id)?;
    if account.is_management {
        return None;
    }
    let chain = match kind {
        OrgPolicyKind::ServiceControlPolicy => &account.scp_chain,
        OrgPolicyKind::ResourceControlPolicy => &account.rcp_chain,
    };
    if chain.is_empty() {
        return None;
    }
    Some(
        chain
            .iter()
            .map(|level| OrgLevel {
                target: Arc::from(level_label_indexed(index, account, level)),
                policies: level
                    .policy_ids
                    .iter()
                    .filter_map(|id| match index.org_policy(id) {
                        Some(p) => compile(index, &p.document, &p.name, unparsed),
                        None => {
                            unparsed.push(format!("{} {id}: attached but its document is not in the inventory", kind.short()));
                            None
                        }
                    })
                    .collect(),
            })
            .collect(),
    )
}

fn identity_and_boundary<'a>(index: &Index<'a>, account: &'a Account, role: &'a Role, out: &mut Assembled) {
    for arn in &role.attached_policy_arns {
        match account.managed_policy(arn) {
            Some(p) => out.set.identity.extend(compile(index, &p.document, &p.name, &mut out.unparsed)),
            None => out.unparsed.push(format!("{arn}: attached but its document is not in the inventory")),
        }
    }
    for inline in &role.inline_policies {
        out.set.identity.extend(compile(index, &inline.document, &format!("inline:{}", inline.name), &mut out.unparsed));
    }
    if let Some(arn) = &role.permissions_boundary_arn {
        match account.managed_policy(arn) {
            Some(p) => out.set.boundaries.extend(compile(index, &p.document, &p.name, &mut out.unparsed)),
            None => out.unparsed.push(format!("boundary {arn}: document is not in the inventory")),
        }
    }
}

/// The resource policy governing `resource` (bucket policy for objects).
fn resource_policy<'a>(index: &Index<'a>, resource: &str, unparsed: &mut Vec<String>) -> Option<NamedPolicy> {
    let candidates = [resource, bucket_arn(resource), resource.split("/consumer/").next().unwrap_or(resource)];
    let found = candidates.iter().find_map(|arn| index.resource(arn))?;
    let name = match found.kind {
        ResourceKind::KmsKey => "key policy",
        ResourceKind::S3Bucket => "bucket policy",
        ResourceKind::KinesisStream => "stream policy",
    };
    compile(index, found.policy.as_ref()?, name, unparsed)
}

fn in_org(ctx: &Context, account_id: &str) -> bool {
    ctx.inventory.organization.is_some() && ctx.index.account(account_id).is_some()
}

fn convert(decision: &policy::Decision, role_or_resource: &str, resource: &str) -> (AccessOutcome, Vec<InlineString>, Vec<DecidingStatement>) {
    let outcome = match decision.decision {
        policy::Outcome::Allowed => AccessOutcome::Allowed,
        policy::Outcome::ImplicitlyDenied => AccessOutcome::ImplicitlyDenied,
        policy::Outcome::ExplicitlyDenied => AccessOutcome::ExplicitlyDenied,
    };
    let blocked_by = decision.blocked_by.iter().map(|k| k.as_str().into()).collect();
    let deciding = decision
        .explanation
        .iter()
        .map(|s| {
            let kind = s.policy_type.as_str().to_owned();
            let attached_at = match (s.level.as_deref(), kind.as_str()) {
                (Some(level), _) => level.to_owned(),
                (None, "identity" | "boundary" | "session") => role_or_resource.to_owned(),
                (None, "resource") => resource.to_owned(),
                (None, _) => String::new(),
            };
            DecidingStatement {
                policy_kind: kind.into(),
                policy: s.policy.as_deref().unwrap_or("").to_owned(),
                attached_at,
                statement_index: s.statement_index,
                sid: s.sid.clone(),
                effect: s.effect.map(|e| e.to_string()).unwrap_or_default().into(),
                why: s.why.clone(),
            }
        })
        .collect();
    (outcome, blocked_by, deciding)
}

pub fn check(ctx: &Context, sink: &mut Sink) {
    execution_role(ctx, sink);
    customer_managed_key(ctx, sink);
}

fn base_context(req: Request, ctx: &Context, resource_account: &str) -> Request {
    let inv = ctx.inventory;
    let mut req = req
        .with_resource_account(resource_account)
        .with_context("aws:RequestedRegion", ctx.region())
        .with_context("aws:ResourceAccount", resource_account)
        .with_context("aws:SecureTransport", "true");
    if let Some(org) = &inv.organization {
        if in_org(ctx, resource_account) {
            req = req.with_context("aws:ResourceOrgID", org.id.as_str());
        }
    }
    req
}

fn execution_role(ctx: &Context, sink: &mut Sink) {
    let inv = ctx.inventory;
    let app = ctx.flink();
    let account = ctx.account();
    let target = Target { account, region: ctx.region(), resource: &app.arn };
    let Some(role_arn) = app.execution_role_arn.as_deref() else { return };
    let Some((role_account, role)) = ctx.index.role(role_arn) else {
        sink.emit_titled(
            CheckId::ExecutionRoleAccessDenied,
            target,
            "execution-role",
            "Execution role not in the inventory: access not analysed",
            format!("{} uses {role_arn}, which the scan did not collect (see coverage); its access could not be decided.", app.name),
            vec![Evidence::new("execution role", role_arn)],
        );
        return;
    };

    let mut base = Assembled::default();
    identity_and_boundary(ctx.index, role_account, role, &mut base);
    let scps = org_levels(inv, ctx.index, &role_account.id, OrgPolicyKind::ServiceControlPolicy, &mut base.unparsed);
    let principal_unparsed = base.unparsed.clone();
    let mut all_unparsed: Vec<String> = principal_unparsed.clone();

    for need in requirements::for_app(ctx) {
        let mut unparsed = principal_unparsed.clone();
        let rcps = org_levels(inv, ctx.index, &need.resource_account, OrgPolicyKind::ResourceControlPolicy, &mut unparsed);
        let resource = resource_policy(ctx.index, &need.resource, &mut unparsed);
        let set = PolicySet { identity: base.set.identity.clone(), boundaries: base.set.boundaries.clone(), scps: scps.clone(), rcps, resource, ..Default::default() };
        let mut req = Request::new(Some(role_arn), &need.action, &need.resource)
            .with_wildcard_only_action(need.wildcard_only)
            .with_context("aws:PrincipalArn", role_arn)
            .with_context("aws:PrincipalAccount", role_account.id.as_str())
            .with_context("aws:PrincipalIsAWSService", "false")
            .with_context("aws:PrincipalType", "AssumedRole");
        if let Some(org) = &inv.organization {
            req = req.with_context("aws:PrincipalOrgID", org.id.as_str());
            if !role_account.ou_path.is_empty() {
                let mut path = vec![org.id.clone()];
                path.extend(role_account.parent_ids.iter().cloned());
                req = req.with_context("aws:PrincipalOrgPaths", format!("{}/", path.join("/")));
            }
        }
        for (key, value) in &role.tags {
            req = req.with_context(&format!("aws:PrincipalTag/{key}"), value.as_str());
        }
        let req = base_context(req, ctx, &need.resource_account);
        let decision = policy::evaluate(&set, &req);
        let (mut outcome, blocked_by, deciding) = convert(&decision, role_arn, &need.resource);
        unparsed.sort();
        unparsed.dedup();
        if !unparsed.is_empty() {
            outcome = AccessOutcome::Indeterminate;
            all_unparsed.extend(unparsed.iter().cloned());
        }
        let record = AccessDecision {
            account_id: account.id.as_str().into(),
            region: ctx.region().into(),
            application: app.name.clone(),
            application_arn: app.arn.clone(),
            principal: role_arn.to_owned(),
            action: need.action.as_str().into(),
            resource: need.resource.clone(),
            source: need.source.clone(),
            outcome,
            blocked_by,
            deciding,
            unparsed,
        };
        if matches!(record.outcome, AccessOutcome::ImplicitlyDenied | AccessOutcome::ExplicitlyDenied) {
            emit_denied(sink, target, &record, &need, &format!("execution role {}", role.name), CheckId::ExecutionRoleAccessDenied);
        }
        sink.record_access(record);
    }
    report_unparsed(sink, target, all_unparsed, CheckId::ExecutionRoleAccessDenied);
}

fn emit_denied(sink: &mut Sink, target: Target<'_>, d: &AccessDecision, need: &Need, who: &str, check: CheckId) {
    // The role is fixed per app; the key check has two principals per action.
    let subject = match check {
        CheckId::CmkServiceAccessDenied => format!("{} {} {}", d.principal, d.action, d.resource),
        _ => format!("{} {}", d.action, d.resource),
    };
    let blockers = if d.blocked_by.is_empty() { "no policy allows it".to_owned() } else { format!("blocked by {}", d.blocked_by.join(", ")) };
    let first = d.deciding.iter().find(|s| s.effect == "Deny").or_else(|| d.deciding.first());
    let culprit = first.map(|s| format!(": {}", s.describe())).unwrap_or_default();
    let mut evidence = vec![
        Evidence::new("principal", d.principal.clone()),
        Evidence::new("action", d.action.clone()),
        Evidence::new("resource", d.resource.clone()),
        Evidence::new("decision", d.outcome.as_str()),
        Evidence::new("blocked by", d.blocked_by.join(", ")),
        Evidence::new("needed for", need.source.clone()),
    ];
    for s in &d.deciding {
        evidence.push(Evidence::new("deciding statement", s.describe()));
    }
    let short_resource = d.resource.rsplit(':').next().unwrap_or(&d.resource);
    let blocker = first
        .map(|s| {
            let kind = match s.policy_kind.as_str() {
                "scp" => "SCP",
                "rcp" => "RCP",
                "boundary" => "permissions boundary",
                "identity" => "identity policies",
                "resource" => "resource policy",
                "session" => "session policy",
                "endpoint" => "endpoint policy",
                other => other,
            };
            let verb = if s.effect == "Deny" { "denied by" } else { "not allowed by" };
            match s.policy.as_str() {
                "" => format!(" — {verb} {kind}"),
                // `key policy`, `stream policy`, `bucket policy` name themselves.
                named if named.ends_with("policy") => format!(" — {verb} {named}"),
                named => format!(" — {verb} {kind} {named}"),
            }
        })
        .unwrap_or_default();
    sink.emit_titled(
        check,
        target,
        &subject,
        format!("{who} cannot {} on {short_resource}{blocker}", d.action),
        format!("{who} cannot {} on {} ({}, {blockers}){culprit}", d.action, d.resource, d.outcome.as_str()),
        evidence,
    );
}

fn report_unparsed(sink: &mut Sink, target: Target<'_>, mut unparsed: Vec<String>, check: CheckId) {
    unparsed.sort();
    unparsed.dedup();
    for problem in unparsed {
        let name = problem.split(": ").next().unwrap_or(&problem).to_owned();
        sink.emit_titled(
            check,
            target,
            &format!("unparsed:{name}"),
            "A policy could not be read: access decisions that need it are indeterminate",
            format!("Policy {problem}. Decisions that depend on it are reported as Indeterminate, never as allowed or denied."),
            vec![Evidence::new("policy", problem.clone())],
        );
    }
}

fn customer_managed_key(ctx: &Context, sink: &mut Sink) {
    let inv = ctx.inventory;
    let app = ctx.flink();
    if !app.encryption.is_customer_managed() {
        return;
    }
    let account = ctx.account();
    let target = Target { account, region: ctx.region(), resource: &app.arn };
    let Some(key_arn) = app.encryption.key_arn.as_deref() else {
        sink.emit_titled(
            CheckId::CmkServiceAccessDenied,
            target,
            "key",
            "Customer managed key not identified: key policy not analysed",
            format!("{} is encrypted with a customer managed key whose ARN the scan could not resolve.", app.name),
            vec![],
        );
        return;
    };
    let key_account = requirements::owner_of(ctx.index, key_arn, &account.id);
    let mut unparsed = Vec::new();
    let key = ctx.index.resource(key_arn);
    let key_policy = match key.and_then(|k| k.policy.as_ref()) {
        Some(doc) => compile(ctx.index, doc, "key policy", &mut unparsed),
        None => {
            unparsed.push(format!("key policy of {key_arn}: not in the inventory (see coverage)"));
            None
        }
    };
    let rcps = org_levels(inv, ctx.index, &key_account, OrgPolicyKind::ResourceControlPolicy, &mut unparsed);
    let set = PolicySet { rcps, resource: key_policy, ..Default::default() };
    for (principal, actions) in CMK_NEEDS {
        for action in actions {
            let req = Request::new(Some(principal), action, key_arn)
                .with_context("aws:PrincipalIsAWSService", "true")
                .with_context("aws:PrincipalServiceName", principal)
                .with_context("aws:SourceArn", app.arn.as_str())
                .with_context("aws:SourceAccount", account.id.as_str())
                .with_context("kms:EncryptionContext:aws:kinesisanalytics:arn", app.arn.as_str())
                .with_context("kms:CallerAccount", account.id.as_str());
            let req = base_context(req, ctx, &key_account);
            let decision = policy::evaluate(&set, &req);
            let (mut outcome, blocked_by, deciding) = convert(&decision, principal, key_arn);
            if !unparsed.is_empty() {
                outcome = AccessOutcome::Indeterminate;
            }
            let record = AccessDecision {
                account_id: account.id.as_str().into(),
                region: ctx.region().into(),
                application: app.name.clone(),
                application_arn: app.arn.clone(),
                principal: principal.to_owned(),
                action: (*action).into(),
                resource: key_arn.to_owned(),
                source: "flink: durable application state encrypted with a customer managed key".to_owned(),
                outcome,
                blocked_by,
                deciding,
                unparsed: unparsed.clone(),
            };
            if matches!(record.outcome, AccessOutcome::ImplicitlyDenied | AccessOutcome::ExplicitlyDenied) {
                let need = Need { action: action.to_string(), resource: key_arn.to_owned(), resource_account: key_account.clone(), wildcard_only: false, source: record.source.clone() };
                emit_denied(sink, target, &record, &need, principal, CheckId::CmkServiceAccessDenied);
            }
            sink.record_access(record);
        }
    }
    report_unparsed(sink, target, unparsed, CheckId::CmkServiceAccessDenied);
}

#[cfg(test)]
mod tests;
