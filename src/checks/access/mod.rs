//! Access analysis: may each execution role do what its application needs,
//! and may the Managed Flink service principals use the app's customer
//! managed key? Decided locally by the policy engine ([`crate::policy`]).
//!
//! Policy sets follow AWS:
//! * SCPs: the principal account's chain root → OUs → account, exactly the
//!   policies attached at each level; none for the management account
//!   ("SCPs don't affect users or roles in the management account",
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>).
//! * RCPs: the chain of the account that owns the resource; none for
//!   resources in the management account ("RCPs don't affect resources in
//!   the management account",
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>),
//!   for AWS managed KMS keys (KeyManager `AWS`: "Resource control policies
//!   in your organization do not apply to AWS managed keys",
//!   <https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html>),
//!   or outside the organization; the engine
//!   skips services RCPs do not govern ([`crate::policy::scope`]).
//! * identity: attached managed and inline policies; boundary; resource
//!   policy: the bucket, stream or key policy, as read by its owner.
//!
//! An input that could not be read (a policy document, the targets of an
//! SCP, a bucket policy in an account the run could not enter) is never
//! taken as allow or deny: the decision is made at both extremes
//! ([`inputs`]) and is `Unknown` when they differ, reported by
//! `access-undetermined` with the missing input and the permission that
//! reads it, never as a denial.

pub mod docs;
pub mod inputs;
pub mod requirements;

pub use docs::{DOC_ACCESS_UNDETERMINED, DOC_CMK_SERVICE_ACCESS_DENIED, DOC_EXECUTION_ROLE_ACCESS_DENIED};

use crate::checks::catalog::CheckId;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::{AccessDecision, AccessOutcome, DecidingStatement, Evidence, MissingInput};
use crate::inventory::{InlineString, OrgPolicyKind, ResourceKind};
use crate::policy::{self, Request};
use inputs::Bounds;
use requirements::Need;

/// Service principals that use a customer managed key for durable state,
/// with the actions each needs (SPEC §7).
pub const CMK_NEEDS: [(&str, &[&str]); 2] = [
    ("kinesisanalytics.amazonaws.com", &["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]),
    ("infrastructure.kinesisanalytics.amazonaws.com", &["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"]),
];

/// RCPs do not apply to AWS managed keys (module documentation).
fn aws_managed_key(ctx: &Context, arn: &str) -> bool {
    ctx.index.resource(arn).is_some_and(|r| r.kind == ResourceKind::KmsKey && r.key_manager.as_deref() == Some("AWS"))
}

fn in_org(ctx: &Context, account_id: &str) -> bool {
    ctx.inventory.organization.is_some() && ctx.index.account(account_id).is_some()
}

/// Decides `req` from `bounds`: once when every input was read, else from
/// both completions.
fn decide(bounds: &Bounds, req: &Request) -> policy::Decision {
    if bounds.is_complete() {
        policy::evaluate(&bounds.low, req)
    } else {
        policy::evaluate_bounds(&bounds.low, &bounds.high, req)
    }
}

/// What was decided for one need, before it is recorded.
struct Verdict {
    outcome: AccessOutcome,
    blocked_by: Vec<InlineString>,
    deciding: Vec<DecidingStatement>,
    missing: Vec<MissingInput>,
}

impl Verdict {
    /// Nothing could be decided: every input in `missing` is needed.
    fn unknown(missing: Vec<MissingInput>) -> Self {
        Self { outcome: AccessOutcome::Unknown, blocked_by: Vec::new(), deciding: Vec::new(), missing }
    }

    /// The engine's decision in the findings' vocabulary, with the missing
    /// inputs an `Unknown` depends on.
    fn of(decision: &policy::Decision, role_or_resource: &str, resource: &str, bounds: &Bounds) -> Self {
        let (outcome, blocked_by, deciding) = convert(decision, role_or_resource, resource);
        let missing = if outcome == AccessOutcome::Unknown { relevant(bounds.missing.clone(), &deciding) } else { Vec::new() };
        Self { outcome, blocked_by, deciding, missing }
    }
}

/// The record of one need of the app in `ctx`.
fn record(ctx: &Context, principal: &str, need: &Need, verdict: Verdict) -> AccessDecision {
    let app = ctx.flink();
    AccessDecision {
        account_id: ctx.account().id.as_str().into(),
        region: ctx.region().into(),
        application: app.name.clone(),
        application_arn: app.arn.clone(),
        principal: principal.to_owned(),
        action: need.action.as_str().into(),
        resource: need.resource.clone(),
        source: need.source.clone(),
        outcome: verdict.outcome,
        blocked_by: verdict.blocked_by,
        deciding: verdict.deciding,
        missing: verdict.missing,
    }
}

/// The finding a record calls for (`denied_check` when it is denied,
/// `access-undetermined` when unknown), then the record itself.
fn report(sink: &mut Sink, target: Target<'_>, record: AccessDecision, need: &Need, who: &str, denied_check: CheckId) {
    match record.outcome {
        AccessOutcome::ImplicitlyDenied | AccessOutcome::ExplicitlyDenied => emit_denied(sink, target, &record, need, who, denied_check),
        AccessOutcome::Unknown => emit_undetermined(sink, target, &record, who),
        AccessOutcome::Allowed => {}
    }
    sink.record_access(record);
}

fn convert(decision: &policy::Decision, role_or_resource: &str, resource: &str) -> (AccessOutcome, Vec<InlineString>, Vec<DecidingStatement>) {
    let outcome = match decision.decision {
        policy::Outcome::Allowed => AccessOutcome::Allowed,
        policy::Outcome::ImplicitlyDenied => AccessOutcome::ImplicitlyDenied,
        policy::Outcome::ExplicitlyDenied => AccessOutcome::ExplicitlyDenied,
        policy::Outcome::Unknown => AccessOutcome::Unknown,
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
        // Nothing about this role was read: every need is undetermined.
        let missing = MissingInput {
            what: format!("execution role {role_arn}"),
            account_id: account.id.clone(),
            error_code: "NotCollected".to_owned(),
            request_id: None,
            permission: "iam:GetRole".to_owned(),
            policy: None,
        };
        let who = format!("execution role {role_arn}");
        for need in requirements::for_app(ctx) {
            let record = record(ctx, role_arn, &need, Verdict::unknown(vec![missing.clone()]));
            report(sink, target, record, &need, &who, CheckId::ExecutionRoleAccessDenied);
        }
        return;
    };

    let who = format!("execution role {}", role.name);
    let mut principal = Bounds::default();
    inputs::principal(ctx.index, role_account, role, &mut principal);
    inputs::org_levels(inv, ctx.index, &role_account.id, OrgPolicyKind::ServiceControlPolicy, &mut principal);

    for need in requirements::for_app(ctx) {
        let mut bounds = principal.clone();
        if !aws_managed_key(ctx, &need.resource) {
            inputs::org_levels(inv, ctx.index, &need.resource_account, OrgPolicyKind::ResourceControlPolicy, &mut bounds);
        }
        inputs::resource(ctx.index, &need.resource, &need.resource_account, &mut bounds);
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
        let verdict = Verdict::of(&decide(&bounds, &req), role_arn, &need.resource, &bounds);
        report(sink, target, record(ctx, role_arn, &need, verdict), &need, &who, CheckId::ExecutionRoleAccessDenied);
    }
}

/// The missing inputs an Unknown decision depends on: every unread
/// document, and of the policies whose attachment is unknown those with a
/// statement that may decide it (in the explanation of the Unknown).
fn relevant(missing: Vec<MissingInput>, deciding: &[DecidingStatement]) -> Vec<MissingInput> {
    let named: Vec<MissingInput> =
        missing.iter().filter(|m| m.policy.as_deref().is_none_or(|p| deciding.iter().any(|s| s.policy == p))).cloned().collect();
    if named.is_empty() {
        missing
    } else {
        named
    }
}

/// `access-undetermined`: which input is missing and how to grant its read.
fn emit_undetermined(sink: &mut Sink, target: Target<'_>, d: &AccessDecision, who: &str) {
    let subject = format!("{} {} {}", d.principal, d.action, d.resource);
    let short_resource = d.resource.rsplit(':').next().unwrap_or(&d.resource);
    let first = d.missing.first().map(|m| format!(" — {} could not be read", m.what)).unwrap_or_default();
    let inputs: Vec<String> = d.missing.iter().map(MissingInput::describe).collect();
    let mut permissions: Vec<&str> = d.missing.iter().map(|m| m.permission.as_str()).collect();
    permissions.sort_unstable();
    permissions.dedup();
    let mut evidence = vec![
        Evidence::new("principal", d.principal.clone()),
        Evidence::new("action", d.action.clone()),
        Evidence::new("resource", d.resource.clone()),
        Evidence::new("decision", d.outcome.as_str()),
        Evidence::new("needed for", d.source.clone()),
    ];
    for m in &d.missing {
        evidence.push(Evidence::new("missing input", m.describe()));
        evidence.push(Evidence::new("read with", m.permission.clone()));
    }
    for s in d.deciding.iter().filter(|s| s.effect == "Deny") {
        evidence.push(Evidence::new("deny that may apply", s.describe()));
    }
    sink.emit_titled(
        CheckId::AccessUndetermined,
        target,
        &subject,
        format!("Cannot tell whether {who} may {} on {short_resource}{first}", d.action),
        format!(
            "Whether {who} may {} on {} depends on input(s) the scan could not read: {}. Grant the audit role {} (the \
             statements in config/iam/) and scan again; until then no allow or deny is reported for it.",
            d.action,
            d.resource,
            inputs.join("; "),
            permissions.join(", "),
        ),
        evidence,
    );
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

fn customer_managed_key(ctx: &Context, sink: &mut Sink) {
    let inv = ctx.inventory;
    let app = ctx.flink();
    if !app.encryption.is_customer_managed() {
        return;
    }
    let account = ctx.account();
    let target = Target { account, region: ctx.region(), resource: &app.arn };
    let key_arn = app.encryption.key_arn.as_deref().unwrap_or("");
    let key_account = requirements::owner_of(ctx.index, key_arn, &account.id);
    let mut bounds = Bounds::default();
    let key = ctx.index.resource(key_arn);
    if key_arn.is_empty() || key.is_none() {
        bounds.missing.push(MissingInput {
            what: format!(
                "key policy of {}",
                if key_arn.is_empty() { "the application's customer managed key (its ARN was not resolved)" } else { key_arn }
            ),
            account_id: key_account.clone(),
            error_code: "NotCollected".to_owned(),
            request_id: None,
            permission: "kms:DescribeKey, kms:GetKeyPolicy".to_owned(),
            policy: None,
        });
    } else {
        inputs::resource(ctx.index, key_arn, &key_account, &mut bounds);
    }
    if !aws_managed_key(ctx, key_arn) {
        inputs::org_levels(inv, ctx.index, &key_account, OrgPolicyKind::ResourceControlPolicy, &mut bounds);
    }
    for (principal, actions) in CMK_NEEDS {
        for action in actions {
            let need = Need {
                action: action.to_string(),
                resource: key_arn.to_owned(),
                resource_account: key_account.clone(),
                wildcard_only: false,
                source: "flink: durable application state encrypted with a customer managed key".to_owned(),
            };
            if key.is_none() {
                let record = record(ctx, principal, &need, Verdict::unknown(bounds.missing.clone()));
                report(sink, target, record, &need, principal, CheckId::CmkServiceAccessDenied);
                continue;
            }
            let req = Request::new(Some(principal), action, key_arn)
                .with_context("aws:PrincipalIsAWSService", "true")
                .with_context("aws:PrincipalServiceName", principal)
                .with_context("aws:SourceArn", app.arn.as_str())
                .with_context("aws:SourceAccount", account.id.as_str())
                .with_context("kms:EncryptionContext:aws:kinesisanalytics:arn", app.arn.as_str())
                .with_context("kms:CallerAccount", account.id.as_str());
            let req = base_context(req, ctx, &key_account);
            let verdict = Verdict::of(&decide(&bounds, &req), principal, key_arn, &bounds);
            report(sink, target, record(ctx, principal, &need, verdict), &need, principal, CheckId::CmkServiceAccessDenied);
        }
    }
}

#[cfg(test)]
mod tests;
