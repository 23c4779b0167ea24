//! The policies of one decision, gathered from the inventory as two
//! completions (see [`crate::policy::evaluate_bounds`]): `low` takes every
//! input that could not be read at its most restrictive (a document that
//! cannot be read denies everything; a policy whose attachment is unknown
//! brings only its `Deny` statements; a level whose policies could not be
//! listed gets a deny-all), `high` at its most permissive. With nothing
//! missing the two are the same set, and only `low` is evaluated.

use std::sync::{Arc, OnceLock};

use crate::checks::Index;
use crate::findings::MissingInput;
use crate::inventory::{Account, Inventory, OrgPolicyKind, PolicyDoc, PolicyLevel, ResourceKind, ResourcePolicy, Role, Unread};
use crate::labels::describe_level;
use crate::policy::{Effect, NamedPolicy, OrgLevel, Policy, PolicySet, COMPLETION_PREFIX};

/// The two completions and what is missing.
#[derive(Clone, Default)]
pub struct Bounds {
    pub low: PolicySet,
    pub high: PolicySet,
    pub missing: Vec<MissingInput>,
}

impl Bounds {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    fn miss(&mut self, input: MissingInput) {
        if !self.missing.iter().any(|m| m.what == input.what) {
            self.missing.push(input);
        }
    }
}

fn completion(effect: &str, principal: bool) -> Arc<Policy> {
    let principal = if principal { r#""Principal": "*", "# } else { "" };
    let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "{effect}", {principal}"Action": "*", "Resource": "*"}}]}}"#);
    // A constant document: it parses (tested below).
    Arc::new(Policy::parse_str(&text).unwrap_or(Policy { version: None, id: None, statements: Vec::new() }))
}

/// Allow-all and deny-all, without and with `"Principal": "*"` (for
/// resource-based policies, where a statement must name a principal).
fn stand_ins(resource: bool) -> &'static (Arc<Policy>, Arc<Policy>) {
    static PLAIN: OnceLock<(Arc<Policy>, Arc<Policy>)> = OnceLock::new();
    static RESOURCE: OnceLock<(Arc<Policy>, Arc<Policy>)> = OnceLock::new();
    let cell = if resource { &RESOURCE } else { &PLAIN };
    cell.get_or_init(|| (completion("Allow", resource), completion("Deny", resource)))
}

/// The stand-ins for an input that could not be read: (low, high).
fn unread_pair(name: &str, resource: bool) -> (NamedPolicy, NamedPolicy) {
    let (allow, deny) = stand_ins(resource);
    let name = format!("{COMPLETION_PREFIX}{name}");
    (NamedPolicy::new(name.clone(), deny.clone()), NamedPolicy::new(name, allow.clone()))
}

fn from_unread(what: String, unread: &Unread) -> MissingInput {
    MissingInput {
        what,
        account_id: unread.account_id.clone(),
        error_code: unread.error_code.clone(),
        request_id: unread.request_id.clone(),
        permission: unread.operation.clone(),
        policy: None,
    }
}

fn not_usable(what: String, account_id: &str, doc: Option<&PolicyDoc>, permission: &str) -> MissingInput {
    let error_code = match doc {
        Some(d) if d.raw.is_some() => "MalformedPolicyDocument",
        Some(_) => "PolicyNotRead",
        None => "NotCollected",
    };
    MissingInput {
        what,
        account_id: account_id.to_owned(),
        error_code: error_code.to_owned(),
        request_id: None,
        permission: permission.to_owned(),
        policy: None,
    }
}

/// One identity-side policy (identity or boundary) into both completions.
fn identity_side(
    index: &Index<'_>,
    doc: Option<&PolicyDoc>,
    name: &str,
    what: String,
    account_id: &str,
    permission: &str,
    out: &mut Bounds,
    boundary: bool,
) {
    let compiled = doc.map(|d| index.compile(d));
    let (low, high) = match compiled {
        Some(Ok(policy)) => {
            let named = NamedPolicy::new(name.to_owned(), policy);
            (named.clone(), named)
        }
        Some(Err(err)) => {
            out.miss(not_usable(format!("{what}: {err}"), account_id, doc, permission));
            unread_pair(name, false)
        }
        None => {
            out.miss(not_usable(format!("{what}: not in the inventory (see coverage)"), account_id, None, permission));
            unread_pair(name, false)
        }
    };
    let (lo, hi) = if boundary { (&mut out.low.boundaries, &mut out.high.boundaries) } else { (&mut out.low.identity, &mut out.high.identity) };
    lo.push(low);
    hi.push(high);
}

/// The execution role's identity policies and permissions boundary.
pub fn principal(index: &Index<'_>, account: &Account, role: &Role, out: &mut Bounds) {
    for arn in &role.attached_policy_arns {
        let found = account.managed_policy(arn);
        let name = found.map(|p| p.name.as_str()).unwrap_or(arn.as_str());
        identity_side(index, found.map(|p| &p.document), name, format!("identity policy {arn}"), &account.id, "iam:GetPolicyVersion", out, false);
    }
    for inline in &role.inline_policies {
        let name = format!("inline:{}", inline.name);
        identity_side(
            index,
            Some(&inline.document),
            &name,
            format!("inline policy {} of {}", inline.name, role.arn),
            &account.id,
            "iam:GetRolePolicy",
            out,
            false,
        );
    }
    if let Some(arn) = &role.permissions_boundary_arn {
        let found = account.managed_policy(arn);
        let name = found.map(|p| p.name.as_str()).unwrap_or(arn.as_str());
        identity_side(index, found.map(|p| &p.document), name, format!("permissions boundary {arn}"), &account.id, "iam:GetPolicyVersion", out, true);
    }
}

/// The SCP or RCP levels that apply to `account_id` (none for the
/// management account or an account outside the organization), into both
/// completions.
pub fn org_levels(inv: &Inventory, index: &Index<'_>, account_id: &str, kind: OrgPolicyKind, out: &mut Bounds) {
    let (low, high) = levels(inv, index, account_id, kind, out);
    match kind {
        OrgPolicyKind::ServiceControlPolicy => {
            out.low.scps = low;
            out.high.scps = high;
        }
        OrgPolicyKind::ResourceControlPolicy => {
            out.low.rcps = low;
            out.high.rcps = high;
        }
    }
}

type Levels = Option<Vec<OrgLevel>>;

fn levels(inv: &Inventory, index: &Index<'_>, account_id: &str, kind: OrgPolicyKind, out: &mut Bounds) -> (Levels, Levels) {
    let Some(org) = inv.organization.as_ref() else { return (None, None) };
    let Some(account) = index.account(account_id) else { return (None, None) };
    if account.is_management {
        return (None, None);
    }
    let chain = match kind {
        OrgPolicyKind::ServiceControlPolicy => &account.scp_chain,
        OrgPolicyKind::ResourceControlPolicy => &account.rcp_chain,
    };
    if chain.is_empty() {
        return (None, None);
    }
    let management = org.management_account_id.as_str();
    let mut low = Vec::with_capacity(chain.len());
    let mut high = Vec::with_capacity(chain.len());
    for level in chain {
        let target: Arc<str> = Arc::from(describe_level(account, level, index.ou_path(&level.target_id)));
        let (lo, hi) = level_policies(index, kind, level, &target, management, out);
        low.push(OrgLevel { target: target.clone(), policies: lo });
        high.push(OrgLevel { target, policies: hi });
    }
    (Some(low), Some(high))
}

fn level_policies(
    index: &Index<'_>,
    kind: OrgPolicyKind,
    level: &PolicyLevel,
    target: &str,
    management: &str,
    out: &mut Bounds,
) -> (Vec<NamedPolicy>, Vec<NamedPolicy>) {
    let short = kind.short();
    let mut low = Vec::with_capacity(level.policy_ids.len());
    let mut high = Vec::with_capacity(level.policy_ids.len());
    for id in &level.policy_ids {
        let found = index.org_policy(id);
        match found.map(|p| (p, index.compile(&p.document))) {
            Some((p, Ok(policy))) => {
                let named = NamedPolicy::new(p.name.clone(), policy);
                low.push(named.clone());
                high.push(named);
            }
            Some((p, Err(err))) => {
                out.miss(not_usable(
                    format!("{short} {} ({id}) attached at {target}: {err}", p.name),
                    management,
                    Some(&p.document),
                    "organizations:DescribePolicy",
                ));
                let (lo, hi) = unread_pair(&p.name, false);
                low.push(lo);
                high.push(hi);
            }
            None => {
                out.miss(not_usable(
                    format!("{short} {id} attached at {target}: not in the inventory"),
                    management,
                    None,
                    "organizations:DescribePolicy",
                ));
                let (lo, hi) = unread_pair(id, false);
                low.push(lo);
                high.push(hi);
            }
        }
    }
    for id in &level.maybe_policy_ids {
        let Some(p) = index.org_policy(id) else { continue };
        let what = format!("targets of {short} {} ({id})", p.name);
        let mut input = match p.targets_unread.as_ref() {
            Some(unread) => from_unread(what, unread),
            None => not_usable(what, management, None, "organizations:ListTargetsForPolicy"),
        };
        input.policy = Some(p.name.clone());
        out.miss(input);
        match (index.compile_half(&p.document, Effect::Deny), index.compile_half(&p.document, Effect::Allow)) {
            (Ok(deny), Ok(allow)) => {
                low.push(NamedPolicy::new(p.name.clone(), deny));
                high.push(NamedPolicy::new(p.name.clone(), allow));
            }
            _ => {
                let (lo, hi) = unread_pair(&p.name, false);
                low.push(lo);
                high.push(hi);
            }
        }
    }
    if level.unlisted {
        let what = format!("{short}s of the organization (they could not be listed)");
        let unread = index.unlisted(kind);
        match unread {
            Some(unread) => out.miss(from_unread(what, unread)),
            None => out.miss(not_usable(what, management, None, "organizations:ListPolicies")),
        }
        let (lo, hi) = unread_pair(&format!("unlisted {short}s"), false);
        low.push(lo);
        high.push(hi);
    }
    (low, high)
}

/// The resource policy that governs `resource` (the bucket's for an
/// object), into both completions. A resource of a kind whose policy the
/// scan reads but that is not in the inventory, or whose read failed, is
/// missing; other resources (log groups, `*`) have no policy here.
pub fn resource(index: &Index<'_>, resource: &str, owner: &str, out: &mut Bounds) {
    let bucket = crate::checks::access::requirements::bucket_arn(resource);
    let stream = resource.split("/consumer/").next().unwrap_or(resource);
    let candidates = [resource, bucket, stream];
    let found = candidates.iter().find_map(|arn| index.resource(arn));
    let Some(found) = found else {
        if let Some(kind) = collected_kind(resource) {
            let what = format!("{} of {}", policy_name(kind), candidates[if kind == ResourceKind::S3Bucket { 1 } else { 0 }]);
            out.miss(MissingInput {
                what,
                account_id: owner.to_owned(),
                error_code: "NotCollected".to_owned(),
                request_id: None,
                permission: read_permission(kind).to_owned(),
                policy: None,
            });
            let (lo, hi) = unread_pair(policy_name(kind), true);
            out.low.resource = Some(lo);
            out.high.resource = Some(hi);
        }
        return;
    };
    resource_policy(index, found, out);
}

fn resource_policy(index: &Index<'_>, found: &ResourcePolicy, out: &mut Bounds) {
    let name = policy_name(found.kind);
    if let Some(unread) = &found.unread {
        out.miss(from_unread(format!("{name} of {}", found.arn), unread));
        let (lo, hi) = unread_pair(name, true);
        out.low.resource = Some(lo);
        out.high.resource = Some(hi);
        return;
    }
    let Some(doc) = found.policy.as_ref() else {
        out.low.resource = None;
        out.high.resource = None;
        return;
    };
    match index.compile(doc) {
        Ok(policy) => {
            let named = NamedPolicy::new(name, policy);
            out.low.resource = Some(named.clone());
            out.high.resource = Some(named);
        }
        Err(err) => {
            out.miss(not_usable(format!("{name} of {}: {err}", found.arn), &found.account_id, Some(doc), read_permission(found.kind)));
            let (lo, hi) = unread_pair(name, true);
            out.low.resource = Some(lo);
            out.high.resource = Some(hi);
        }
    }
}

/// The kinds of resource whose policy collect reads, by ARN.
pub fn collected_kind(arn: &str) -> Option<ResourceKind> {
    if arn.starts_with("arn:aws:s3:::") || arn.contains(":s3:::") {
        Some(ResourceKind::S3Bucket)
    } else if arn.contains(":kms:") && arn.contains(":key/") {
        Some(ResourceKind::KmsKey)
    } else if arn.contains(":kinesis:") && arn.contains(":stream/") {
        Some(ResourceKind::KinesisStream)
    } else {
        None
    }
}

pub fn policy_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KmsKey => "key policy",
        ResourceKind::S3Bucket => "bucket policy",
        ResourceKind::KinesisStream => "stream policy",
    }
}

pub fn read_permission(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KmsKey => "kms:GetKeyPolicy",
        ResourceKind::S3Bucket => "s3:GetBucketPolicy",
        ResourceKind::KinesisStream => "kinesis:GetResourcePolicy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_parse_and_name_themselves() {
        for resource in [false, true] {
            let (allow, deny) = stand_ins(resource);
            assert_eq!(allow.statements.len(), 1);
            assert_eq!(deny.statements.len(), 1);
            assert_eq!(allow.statements[0].effect, Effect::Allow);
            assert_eq!(deny.statements[0].effect, Effect::Deny);
            assert_eq!(deny.statements[0].principal.is_some(), resource);
        }
        let (low, high) = unread_pair("p", false);
        assert!(low.name.starts_with(COMPLETION_PREFIX) && high.name.starts_with(COMPLETION_PREFIX));
    }

    #[test]
    fn resource_kinds_by_arn() {
        assert_eq!(collected_kind("arn:aws:s3:::b/k.jar"), Some(ResourceKind::S3Bucket));
        assert_eq!(collected_kind("arn:aws:kms:eu-west-1:111111111111:key/k"), Some(ResourceKind::KmsKey));
        assert_eq!(collected_kind("arn:aws:kinesis:eu-west-1:111111111111:stream/s"), Some(ResourceKind::KinesisStream));
        assert_eq!(collected_kind("arn:aws:logs:eu-west-1:111111111111:log-group:g:log-stream:s"), None);
        assert_eq!(collected_kind("*"), None);
    }
}
