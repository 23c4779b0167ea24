//! The decision: which policies apply, how they combine, what blocks.
//!
//! See the module documentation in `mod.rs` for the evaluation order and
//! the AWS pages it follows.

use std::sync::Arc;

use super::condition::CondOutcome;
use super::document::{Effect, Policy, ResourceBlock, ResourceItem, Statement};
use super::explain::{DecidingStatement, Decision, Outcome, PolicyKind};
use super::matcher::{split_arn, ArnPattern, Glob};
use super::principal::{block_match, PrincipalMatch, RequestPrincipal};
use super::request::Request;
use super::scope;

/// A compiled policy with the display name or id explanations use.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    /// Display name or id (`AmazonS3ReadOnlyAccess`, `p-abc123`, `inline:app`).
    pub name: Arc<str>,
    /// The compiled document.
    pub policy: Arc<Policy>,
}

impl NamedPolicy {
    /// Name a compiled policy.
    pub fn new(name: impl Into<Arc<str>>, policy: impl Into<Arc<Policy>>) -> NamedPolicy {
        NamedPolicy { name: name.into(), policy: policy.into() }
    }
}

/// The policies attached at one level of the organization (root, an OU,
/// or the account).
#[derive(Debug, Clone)]
pub struct OrgLevel {
    /// The target id (`r-abcd`, `ou-abcd-1234`, `111111111111`).
    pub target: Arc<str>,
    /// Exactly the policies attached there; an empty list allows nothing.
    pub policies: Vec<NamedPolicy>,
}

/// Every policy that governs one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Identity-based policies of the principal (managed and inline).
    pub identity: Vec<NamedPolicy>,
    /// Permissions boundaries (normally zero or one).
    pub boundaries: Vec<NamedPolicy>,
    /// The session policy, for role / federated-user sessions.
    pub session: Option<NamedPolicy>,
    /// SCP levels root → account of the *principal's* account; `None` when
    /// no Organizations policy applies.
    pub scps: Option<Vec<OrgLevel>>,
    /// RCP levels root → account of the *resource's* account; `None` when
    /// no RCP applies. The engine never adds `RCPFullAWSAccess` itself.
    pub rcps: Option<Vec<OrgLevel>>,
    /// The resource-based policy (bucket policy, key policy, role trust
    /// policy, stream policy).
    pub resource: Option<NamedPolicy>,
    /// VPC endpoint policies on the request's path.
    pub endpoints: Vec<NamedPolicy>,
}

/// Why a statement matched: indexes into its elements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchInfo {
    pub(crate) action_idx: Option<usize>,
    pub(crate) resource_idx: Option<usize>,
    pub(crate) principal: PrincipalMatch,
    pub(crate) principal_idx: Option<usize>,
    /// The first condition that could not be evaluated (Deny statements only).
    pub(crate) unevaluable: Option<usize>,
    /// Deny+NotPrincipal in a resource policy applied to a principal that
    /// has a permissions boundary.
    pub(crate) np_boundary_rule: bool,
}

/// A statement that matched the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'a> {
    pub(crate) kind: PolicyKind,
    pub(crate) level: Option<&'a Arc<str>>,
    pub(crate) policy: &'a NamedPolicy,
    pub(crate) stmt: &'a Statement,
    pub(crate) info: MatchInfo,
}

/// Per-request values computed once.
struct Prepared<'r> {
    req: &'r Request,
    parts: Option<[&'r str; 6]>,
}

fn action_match(s: &Statement, req: &Request) -> Option<Option<usize>> {
    let hit = s.action.globs.iter().position(|g| g.matches(&req.action, true));
    match (s.action.negated, hit) {
        (false, Some(i)) => Some(Some(i)),
        (false, None) => None,
        (true, None) => Some(None),
        (true, Some(_)) => None,
    }
}

fn item_glob_tokens(item: &ResourceItem, req: &Request) -> Option<ArnPattern> {
    match item {
        ResourceItem::Plain(p) => Some(p.clone()),
        ResourceItem::Templated(t) => {
            let g = t.resolve_glob(&req.context, false)?;
            Some(ArnPattern { whole: g, parts: None })
        }
    }
}

fn item_matches(item: &ResourceItem, p: &Prepared) -> bool {
    match item {
        ResourceItem::Plain(a) => a.matches(&p.req.resource, p.parts.as_ref()),
        ResourceItem::Templated(t) => t.resolve_glob(&p.req.context, false).is_some_and(|g: Glob| g.matches(&p.req.resource, false)),
    }
}

/// `Some(index of the matching entry)` when the resource element applies.
fn resource_match(block: Option<&ResourceBlock>, effect: Effect, p: &Prepared) -> Option<Option<usize>> {
    let Some(b) = block else { return Some(None) };
    let req = p.req;
    if req.wildcard_only_action {
        // Only `"Resource": "*"` names an action without resource-level permissions.
        let star = b.patterns.iter().position(|x| x == "*");
        return match (b.negated, star) {
            (false, Some(i)) => Some(Some(i)),
            (false, None) => None,
            (true, None) => Some(None),
            (true, Some(_)) => None,
        };
    }
    if req.resource_is_pattern {
        let r = &req.resource;
        let test =
            |f: &dyn Fn(&ArnPattern) -> bool| -> Option<usize> { b.items.iter().position(|it| item_glob_tokens(it, req).is_some_and(|a| f(&a))) };
        let overlaps = |a: &ArnPattern| a.intersects_pattern(r);
        let covers = |a: &ArnPattern| a.covers_pattern(r);
        return match (effect, b.negated) {
            (Effect::Allow, false) => test(&overlaps).map(Some),
            (Effect::Deny, false) => test(&covers).map(Some),
            (Effect::Allow, true) => match test(&covers) {
                Some(_) => None,
                None => Some(None),
            },
            (Effect::Deny, true) => match test(&overlaps) {
                Some(_) => None,
                None => Some(None),
            },
        };
    }
    let hit = b.items.iter().position(|it| item_matches(it, p));
    match (b.negated, hit) {
        (false, Some(i)) => Some(Some(i)),
        (false, None) => None,
        (true, None) => Some(None),
        (true, Some(_)) => None,
    }
}

/// Does statement `s` apply to the request? `principal_mode` says how the
/// principal element is used for this policy kind.
fn statement_match(s: &Statement, p: &Prepared, principal_mode: PrincipalMode) -> Option<MatchInfo> {
    let action_idx = action_match(s, p.req)?;
    let resource_idx = resource_match(s.resource.as_ref(), s.effect, p)?;
    let mut info = MatchInfo {
        action_idx,
        resource_idx,
        principal: PrincipalMatch::Exact,
        principal_idx: None,
        unevaluable: None,
        np_boundary_rule: false,
    };
    match principal_mode {
        PrincipalMode::Ignore => {}
        PrincipalMode::Optional | PrincipalMode::Required { .. } => match &s.principal {
            None => {
                if matches!(principal_mode, PrincipalMode::Required { .. }) {
                    // A resource-based statement without a principal names no one.
                    return None;
                }
            }
            Some(b) => {
                // AWS: "The NotPrincipal element with a Deny effect will always
                // deny any IAM principal that has a permissions boundary policy
                // attached, regardless of the values specified in the
                // NotPrincipal element."
                // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
                if let PrincipalMode::Required { has_boundary: true } = principal_mode {
                    if b.negated && s.effect == Effect::Deny && p.req.principal.is_iam() {
                        info.np_boundary_rule = true;
                    }
                }
                if !info.np_boundary_rule {
                    let (m, idx) = block_match(b, &p.req.principal);
                    if m == PrincipalMatch::None {
                        return None;
                    }
                    info.principal = m;
                    info.principal_idx = idx;
                }
            }
        },
    }
    for (i, c) in s.conditions.iter().enumerate() {
        match c.evaluate(&p.req.context) {
            CondOutcome::True => {}
            CondOutcome::False => return None,
            CondOutcome::Unevaluable => {
                // Fail closed: never grant; a Deny is assumed to apply.
                if s.effect == Effect::Allow {
                    return None;
                }
                if info.unevaluable.is_none() {
                    info.unevaluable = Some(i);
                }
            }
        }
    }
    Some(info)
}

#[derive(Debug, Clone, Copy)]
enum PrincipalMode {
    /// Identity policies, boundaries, session policies, SCPs.
    Ignore,
    /// RCPs and VPC endpoint policies: `Principal` is normally `"*"`;
    /// honoured when present, all principals when absent.
    Optional,
    /// Resource-based policies: a statement without a principal names no one.
    Required { has_boundary: bool },
}

/// Result of one policy layer.
#[derive(Debug, Default, Clone, Copy)]
struct Layer {
    allow: bool,
    deny: bool,
}

/// SCPs or RCPs root → account: denied where any level denies, allowed only
/// where every level allows; with the levels that allowed nothing.
fn org_layer<'a>(
    kind: PolicyKind,
    levels: &'a [OrgLevel],
    p: &Prepared,
    mode: PrincipalMode,
    hits: &mut Vec<Hit<'a>>,
) -> (Option<Layer>, Vec<&'a Arc<str>>) {
    let mut total = Layer { allow: true, deny: false };
    let mut failed_levels = Vec::new();
    for lv in levels {
        let l = scan(kind, Some(&lv.target), &lv.policies, p, mode, hits);
        total.deny |= l.deny;
        if !l.allow {
            total.allow = false;
            failed_levels.push(&lv.target);
        }
    }
    (Some(total), failed_levels)
}

fn scan<'a>(
    kind: PolicyKind,
    level: Option<&'a Arc<str>>,
    policies: &'a [NamedPolicy],
    p: &Prepared,
    mode: PrincipalMode,
    hits: &mut Vec<Hit<'a>>,
) -> Layer {
    let mut l = Layer::default();
    for np in policies {
        for s in &np.policy.statements {
            if let Some(info) = statement_match(s, p, mode) {
                match s.effect {
                    Effect::Allow => l.allow = true,
                    Effect::Deny => l.deny = true,
                }
                hits.push(Hit { kind, level, policy: np, stmt: s, info });
            }
        }
    }
    l
}

/// AWS-managed resources that no customer policy can grant write access to.
fn service_rule_denial(req: &Request, service: &str) -> Option<&'static str> {
    let name = req.action.split_once(':').map(|(_, a)| a.to_ascii_lowercase()).unwrap_or_default();
    let read_only = ["get", "list", "generate", "simulate"].iter().any(|p| name.starts_with(p));
    let r = &req.resource;
    match service {
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
        "iam" if r.starts_with("arn:aws:iam::aws:policy/") && !read_only => Some("AWS managed policies can't be changed by customers"),
        // Roles under /aws-reserved/ (IAM Identity Center) are managed by AWS.
        // https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html
        "iam" if r.contains(":role/aws-reserved/") && !read_only => Some("roles under /aws-reserved/ are managed by AWS"),
        // Service-linked roles' permissions are managed by the service.
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
        "iam"
            if r.contains(":role/aws-service-role/")
                && matches!(
                    name.as_str(),
                    "attachrolepolicy"
                        | "detachrolepolicy"
                        | "putrolepolicy"
                        | "deleterolepolicy"
                        | "putrolepermissionsboundary"
                        | "deleterolepermissionsboundary"
                        | "updateassumerolepolicy"
                ) =>
        {
            Some("the permissions of a service-linked role are managed by its service")
        }
        // https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html
        "kms" if r.contains(":alias/aws/") && matches!(name.as_str(), "createalias" | "deletealias" | "updatealias") => {
            Some("aliases beginning with alias/aws/ are reserved for AWS managed keys")
        }
        _ => None,
    }
}

/// Evaluate `req` against `set`.
///
/// Never panics and never grants on a condition it cannot evaluate. See the
/// module documentation for the exact order of evaluation.
pub fn evaluate(set: &PolicySet, req: &Request) -> Decision {
    let prepared = Prepared { req, parts: split_arn(&req.resource) };
    let p = &prepared;
    let service = req.service();

    // AWS: "No permissions are required to perform this operation. If an
    // administrator attaches a policy to your identity that explicitly denies
    // access to the sts:GetCallerIdentity action, you can still perform this
    // operation." https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    if req.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        return Decision {
            decision: Outcome::Allowed,
            blocked_by: Vec::new(),
            explanation: vec![DecidingStatement::rule(PolicyKind::Identity, "sts:GetCallerIdentity needs no permission and cannot be denied")],
        };
    }

    let iam = req.principal.is_iam();
    let mut hits: Vec<Hit> = Vec::with_capacity(16);

    // Identity-side policies govern IAM principals only.
    let identity = if iam { scan(PolicyKind::Identity, None, &set.identity, p, PrincipalMode::Ignore, &mut hits) } else { Layer::default() };
    let boundary =
        (iam && !set.boundaries.is_empty()).then(|| scan(PolicyKind::Boundary, None, &set.boundaries, p, PrincipalMode::Ignore, &mut hits));
    let session = match (&set.session, iam) {
        (Some(sp), true) => Some(scan(PolicyKind::Session, None, std::slice::from_ref(sp), p, PrincipalMode::Ignore, &mut hits)),
        _ => None,
    };
    // SCPs apply to IAM principals of member accounts, not to anonymous
    // callers, service principals or service-linked roles; RCPs only to the
    // services AWS lists (see [`scope`]).
    let mut scope_notes: Vec<(PolicyKind, String)> = Vec::new();
    let (scp, scp_failed_levels) = match (&set.scps, iam) {
        (Some(levels), true) => match scope::scp_exemption(&req.principal) {
            None => org_layer(PolicyKind::Scp, levels, p, PrincipalMode::Ignore, &mut hits),
            Some(note) => {
                scope_notes.push((PolicyKind::Scp, note));
                (None, Vec::new())
            }
        },
        _ => (None, Vec::new()),
    };
    let (rcp, rcp_failed_levels) = match &set.rcps {
        Some(levels) => match scope::rcp_exemption(&service, &req.principal) {
            None => org_layer(PolicyKind::Rcp, levels, p, PrincipalMode::Optional, &mut hits),
            Some(note) => {
                scope_notes.push((PolicyKind::Rcp, note));
                (None, Vec::new())
            }
        },
        None => (None, Vec::new()),
    };
    let has_boundary = boundary.is_some();
    let resource_start = hits.len();
    if let Some(rp) = &set.resource {
        scan(PolicyKind::Resource, None, std::slice::from_ref(rp), p, PrincipalMode::Required { has_boundary }, &mut hits);
    }
    let resource_end = hits.len();
    let endpoint = (!set.endpoints.is_empty()).then(|| scan(PolicyKind::Endpoint, None, &set.endpoints, p, PrincipalMode::Optional, &mut hits));

    // Strongest principal match among the resource policy's Allow statements.
    let res_hits = &hits[resource_start..resource_end];
    let res_allow = res_hits
        .iter()
        .filter(|h| h.stmt.effect == Effect::Allow)
        .map(|h| h.info.principal)
        .max()
        .unwrap_or(PrincipalMatch::None);
    let res_grants = res_allow >= PrincipalMatch::Session;

    let principal_account = req.principal.account();
    let same_account = principal_account.is_some() && principal_account == req.resource_account();

    // A resource-based policy that names the role *session* grants what
    // the session policy does not: "Permissions in resource-based policies
    // that specify the ARN of the session are not limited by the session
    // policy" (within one account; across accounts the identity side, which
    // the session policy limits, must allow too).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
    let session_named = same_account
        && matches!(req.principal, RequestPrincipal::AssumedRole { .. } | RequestPrincipal::FederatedUser { .. })
        && res_allow == PrincipalMatch::Exact;
    // Core grant: identity-based and resource-based policies.
    let mut core_blockers: Vec<PolicyKind> = Vec::new();
    let core_ok = if session.is_some_and(|s| (!s.allow && !session_named) || s.deny) {
        core_blockers.push(PolicyKind::Session);
        false
    } else {
        match &req.principal {
            RequestPrincipal::Service(_) | RequestPrincipal::Anonymous | RequestPrincipal::Other { account: None, .. } => {
                // Only a resource-based policy can grant a service principal
                // or an anonymous caller.
                let ok = res_allow == PrincipalMatch::Exact;
                if !ok {
                    core_blockers.push(PolicyKind::Resource);
                }
                ok
            }
            _ if same_account => {
                // KMS key policies and role trust policies must grant, or
                // delegate to the account, before identity policies count.
                // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
                // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html (trust policy)
                // Every KMS key has a key policy: when none is supplied for a
                // key ARN, nothing is delegated to the account.
                let strict = match service.as_str() {
                    "kms" => set.resource.is_some() || req.resource.contains(":key/"),
                    "sts" => set.resource.is_some(),
                    _ => false,
                };
                let trusted = !strict || res_hits.iter().any(|h| h.stmt.effect == Effect::Allow && h.info.principal == PrincipalMatch::Account);
                let ok = res_grants || (trusted && identity.allow);
                if !ok {
                    if !identity.allow {
                        core_blockers.push(PolicyKind::Identity);
                    }
                    if set.resource.is_some() && (!trusted || !identity.allow) {
                        core_blockers.push(PolicyKind::Resource);
                    }
                }
                ok
            }
            _ => {
                // Cross-account: both sides must allow.
                // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
                let ok = res_allow >= PrincipalMatch::Account && identity.allow;
                if !identity.allow {
                    core_blockers.push(PolicyKind::Identity);
                }
                if res_allow < PrincipalMatch::Account {
                    core_blockers.push(PolicyKind::Resource);
                }
                ok
            }
        }
    };

    // Permissions boundary. Within one account, a resource-based policy that
    // names the IAM user or the role *session* (not the role) — or everyone —
    // is not limited by an implicit deny in the boundary.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    let boundary_ok = match boundary {
        None => true,
        Some(b) if b.allow => true,
        Some(_) => {
            same_account
                && res_hits.iter().any(|h| {
                    if h.stmt.effect != Effect::Allow {
                        return false;
                    }
                    let wildcard = match (h.info.principal_idx, &h.stmt.principal) {
                        (Some(i), Some(pb)) => pb.entries.get(i).is_some_and(|(_, v)| v == "*"),
                        (None, Some(pb)) => pb.negated,
                        _ => false,
                    };
                    wildcard
                        || (h.info.principal == PrincipalMatch::Exact
                            && matches!(
                                req.principal,
                                RequestPrincipal::User { .. } | RequestPrincipal::AssumedRole { .. } | RequestPrincipal::FederatedUser { .. }
                            ))
                })
        }
    };
    let scp_ok = scp.is_none_or(|l| l.allow);
    let rcp_ok = rcp.is_none_or(|l| l.allow);
    let endpoint_ok = endpoint.is_none_or(|l| l.allow);
    let rule = service_rule_denial(req, &service);

    let explicit = hits.iter().any(|h| h.stmt.effect == Effect::Deny);
    let allowed = !explicit && core_ok && boundary_ok && scp_ok && rcp_ok && endpoint_ok && rule.is_none();
    let decision = if explicit {
        Outcome::ExplicitlyDenied
    } else if allowed {
        Outcome::Allowed
    } else {
        Outcome::ImplicitlyDenied
    };

    // blocked_by: every layer that denies, explicitly or by not allowing.
    let mut blocked = [false; PolicyKind::COUNT];
    for h in &hits {
        if h.stmt.effect == Effect::Deny {
            blocked[h.kind as usize] = true;
        }
    }
    if !scp_ok {
        blocked[PolicyKind::Scp as usize] = true;
    }
    if !rcp_ok {
        blocked[PolicyKind::Rcp as usize] = true;
    }
    if !endpoint_ok {
        blocked[PolicyKind::Endpoint as usize] = true;
    }
    if !boundary_ok {
        blocked[PolicyKind::Boundary as usize] = true;
    }
    if rule.is_some() {
        blocked[PolicyKind::Resource as usize] = true;
    }
    if !core_ok {
        for k in &core_blockers {
            blocked[*k as usize] = true;
        }
    }
    let blocked_by: Vec<PolicyKind> = PolicyKind::ALL.iter().copied().filter(|k| blocked[*k as usize]).collect();

    // Explanation: deny statements when explicitly denied; the granting
    // statements when allowed; plus one line per layer that allowed nothing.
    let mut explanation = Vec::new();
    match decision {
        Outcome::ExplicitlyDenied => {
            for h in hits.iter().filter(|h| h.stmt.effect == Effect::Deny) {
                explanation.push(DecidingStatement::from_hit(h, req));
            }
        }
        Outcome::Allowed => {
            for h in hits.iter().filter(|h| h.stmt.effect == Effect::Allow) {
                explanation.push(DecidingStatement::from_hit(h, req));
            }
        }
        Outcome::ImplicitlyDenied | Outcome::Unknown => {}
    }
    if decision != Outcome::Allowed {
        let deny_kinds: Vec<PolicyKind> = hits.iter().filter(|h| h.stmt.effect == Effect::Deny).map(|h| h.kind).collect();
        for k in &blocked_by {
            if deny_kinds.contains(k) {
                continue;
            }
            match k {
                PolicyKind::Scp => {
                    for lv in &scp_failed_levels {
                        explanation.push(DecidingStatement::gap(*k, Some(lv), req, "no SCP attached at this level allows it"));
                    }
                }
                PolicyKind::Rcp => {
                    for lv in &rcp_failed_levels {
                        explanation.push(DecidingStatement::gap(*k, Some(lv), req, "no RCP attached at this level allows it"));
                    }
                }
                PolicyKind::Resource if rule.is_some() => {
                    explanation.push(DecidingStatement::rule(*k, rule.unwrap_or_default()));
                }
                PolicyKind::Resource => {
                    let why = match (&set.resource, &req.principal) {
                        (None, _) if service == "kms" && same_account && identity.allow => {
                            "no key policy was supplied for this KMS key, so nothing delegates access to the account's IAM policies"
                        }
                        (None, _) => "no resource-based policy grants access (required for cross-account, anonymous and service-principal requests)",
                        (Some(_), _) if matches!(service.as_str(), "kms" | "sts") && same_account && identity.allow => {
                            "the key/trust policy neither allows this principal nor delegates the action to the account"
                        }
                        _ => "no statement of the resource-based policy allows this principal",
                    };
                    explanation.push(DecidingStatement::gap(*k, None, req, why));
                }
                PolicyKind::Boundary => explanation.push(DecidingStatement::gap(*k, None, req, "no statement of the permissions boundary allows it")),
                PolicyKind::Identity => explanation.push(DecidingStatement::gap(*k, None, req, "no identity-based policy allows it")),
                PolicyKind::Session => explanation.push(DecidingStatement::gap(*k, None, req, "the session policy does not allow it")),
                PolicyKind::Endpoint => explanation.push(DecidingStatement::gap(*k, None, req, "no VPC endpoint policy statement allows it")),
            }
        }
    }
    for (kind, note) in scope_notes {
        explanation.push(DecidingStatement::rule(kind, &note));
    }
    Decision { decision, blocked_by, explanation }
}

/// Decides a request whose inputs are only partly known, from its two
/// extreme completions: `restrictive` (every missing input taken as the
/// policy that allows the least: an unreadable document denies everything,
/// a policy whose attachment is unknown contributes only its `Deny`
/// statements) and `permissive` (the opposite). IAM evaluation is monotone
/// in each policy — an added `Allow` never denies, an added `Deny` never
/// allows — so every real completion decides between the two: when they
/// agree, that is the decision; otherwise it is [`Outcome::Unknown`].
pub fn evaluate_bounds(restrictive: &PolicySet, permissive: &PolicySet, req: &Request) -> Decision {
    let low = evaluate(restrictive, req);
    let high = evaluate(permissive, req);
    match (low.decision, high.decision) {
        // The permissive completion names only real denials (no invented
        // Deny); the restrictive one only real grants (no invented Allow).
        (a, b) if a == b && a == Outcome::Allowed => low,
        (a, b) if a == b => high,
        // Unknown: the real statements that may decide it — Denies that
        // apply at the restrictive end, Allows that grant at the permissive.
        (_, high_decision) => {
            let real = |s: &DecidingStatement| s.policy.is_some() && !s.policy.as_deref().is_some_and(is_completion);
            let mut explanation: Vec<DecidingStatement> = low.explanation.into_iter().filter(|s| s.effect == Some(Effect::Deny) && real(s)).collect();
            if high_decision == Outcome::Allowed {
                explanation.extend(high.explanation.into_iter().filter(|s| s.effect == Some(Effect::Allow) && real(s)));
            }
            Decision { decision: Outcome::Unknown, blocked_by: Vec::new(), explanation }
        }
    }
}

/// Name prefix of the policies that stand in for missing inputs in the
/// completions of [`evaluate_bounds`] (so explanations can leave them out).
pub const COMPLETION_PREFIX: &str = "(unread) ";

fn is_completion(name: &str) -> bool {
    name.starts_with(COMPLETION_PREFIX)
}
