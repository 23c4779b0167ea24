//! Policy changes applied to a snapshot's Organization: attach a new SCP or
//! RCP, detach one, or replace the document of an organization policy or a
//! customer managed IAM policy. Applied in order to a copy; any bad change is
//! an error and nothing is applied.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::inventory::{Inventory, OrgPolicy, OrgPolicyKind, PolicyDoc};
use crate::policy::Policy;

/// One requested change, as the command line gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `--attach FILE --to TARGET [--type scp|rcp]`
    Attach { file: PathBuf, target: String, kind: OrgPolicyKind },
    /// `--detach NAME --from TARGET`
    Detach { policy: String, target: String },
    /// `--replace NAME --with FILE`
    Replace { policy: String, file: PathBuf },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangeError {
    #[error("{target}: no root, OU or account of the snapshot's organization has this id, OU path or account name")]
    UnknownTarget { target: String },
    #[error("{policy}: no organization policy has this name or id, and no customer managed IAM policy has this ARN")]
    UnknownPolicy { policy: String },
    #[error("{policy} is not attached to {target}")]
    NotAttached { policy: String, target: String },
    #[error("{file}: {problem}")]
    BadDocument { file: String, problem: String },
    #[error("AWS would refuse this: {0}")]
    Refused(String),
    #[error("the snapshot has no organization: there is nothing to attach to or detach from")]
    NoOrganization,
}

/// What a set of changes touches, so only the apps it can affect are
/// decided again.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Touched {
    /// Accounts under a target whose SCPs changed (the principal side).
    pub scp_accounts: BTreeSet<String>,
    /// Accounts under a target whose RCPs changed (the resource side).
    pub rcp_accounts: BTreeSet<String>,
    /// Customer managed IAM policies whose document changed.
    pub managed_policy_arns: BTreeSet<String>,
}

/// The changed copy of the inventory, what the changes touch, and one line
/// per change for people.
pub struct Applied {
    pub inventory: Inventory,
    pub touched: Touched,
    pub described: Vec<String>,
}

/// Applies `changes` in order to a copy of `inventory`.
pub fn apply(inventory: &Inventory, changes: &[Change]) -> Result<Applied, ChangeError> {
    let mut inv = inventory.clone();
    let mut touched = Touched::default();
    let mut described = Vec::new();
    for (n, change) in changes.iter().enumerate() {
        let line = match change {
            Change::Attach { file, target, kind } => attach(&mut inv, n, file, target, *kind, &mut touched)?,
            Change::Detach { policy, target } => detach(&mut inv, policy, target, &mut touched)?,
            Change::Replace { policy, file } => replace(&mut inv, policy, file, &mut touched)?,
        };
        described.push(line);
    }
    Ok(Applied { inventory: inv, touched, described })
}

/// A target as the user names it → (its id, a label).
fn resolve_target(inv: &Inventory, target: &str) -> Result<(String, String), ChangeError> {
    let org = inv.organization.as_ref().ok_or(ChangeError::NoOrganization)?;
    let root_name = org
        .organizational_units
        .iter()
        .find(|u| u.parent_id == org.root_id)
        .and_then(|u| u.path.split('/').next())
        .unwrap_or("Root");
    if target == org.root_id || target == root_name {
        return Ok((org.root_id.clone(), format!("{root_name} ({})", org.root_id)));
    }
    if let Some(ou) = org.organizational_units.iter().find(|u| u.id == target || u.path == target) {
        return Ok((ou.id.clone(), format!("{} ({})", ou.path, ou.id)));
    }
    if let Some(account) = inv.account_by_id_or_name(target) {
        return Ok((account.id.clone(), format!("account {} ({})", account.id, account.name)));
    }
    Err(ChangeError::UnknownTarget { target: target.to_owned() })
}

/// Accounts at or below `target_id`.
fn accounts_under(inv: &Inventory, target_id: &str) -> Vec<String> {
    inv.accounts
        .iter()
        .filter(|a| a.id == target_id || a.parent_ids.iter().any(|p| p == target_id))
        .map(|a| a.id.clone())
        .collect()
}

fn read_document(file: &Path) -> Result<PolicyDoc, ChangeError> {
    let bad = |problem: String| ChangeError::BadDocument { file: file.display().to_string(), problem };
    let text = std::fs::read_to_string(file).map_err(|e| bad(format!("cannot read: {e}")))?;
    Policy::parse_str(&text).map_err(|e| bad(format!("not a valid IAM policy: {e}")))?;
    let doc = PolicyDoc::from_aws_text(&text);
    match &doc.error {
        Some(problem) => Err(bad(problem.clone())),
        None => Ok(doc),
    }
}

fn touch(touched: &mut Touched, kind: OrgPolicyKind, accounts: Vec<String>) {
    match kind {
        OrgPolicyKind::ServiceControlPolicy => touched.scp_accounts.extend(accounts),
        OrgPolicyKind::ResourceControlPolicy => touched.rcp_accounts.extend(accounts),
    }
}

fn chain_of(account: &mut crate::inventory::Account, kind: OrgPolicyKind) -> &mut Vec<crate::inventory::PolicyLevel> {
    match kind {
        OrgPolicyKind::ServiceControlPolicy => &mut account.scp_chain,
        OrgPolicyKind::ResourceControlPolicy => &mut account.rcp_chain,
    }
}

fn attach(inv: &mut Inventory, n: usize, file: &Path, target: &str, kind: OrgPolicyKind, touched: &mut Touched) -> Result<String, ChangeError> {
    let (target_id, label) = resolve_target(inv, target)?;
    let document = read_document(file)?;
    let accounts = accounts_under(inv, &target_id);
    // An empty chain everywhere means the policy type is not enabled.
    let enabled = inv.accounts.iter().any(|a| match kind {
        OrgPolicyKind::ServiceControlPolicy => !a.scp_chain.is_empty(),
        OrgPolicyKind::ResourceControlPolicy => !a.rcp_chain.is_empty(),
    });
    if !enabled {
        return Err(ChangeError::Refused(format!("{}s are not enabled in this organization (no account has a chain of them)", kind.short())));
    }
    let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| format!("impact-{n}"));
    let id = format!("p-impact{n}");
    for account in inv.accounts.iter_mut().filter(|a| accounts.contains(&a.id)) {
        for level in chain_of(account, kind).iter_mut().filter(|l| l.target_id == target_id) {
            level.policy_ids.push(id.as_str().into());
        }
    }
    let org = inv.organization.as_mut().ok_or(ChangeError::NoOrganization)?;
    org.policies.push(OrgPolicy {
        id,
        name: name.clone(),
        kind,
        aws_managed: false,
        document,
        targets: vec![target_id],
        targets_unread: None,
    });
    touch(touched, kind, accounts);
    Ok(format!("attach {} {name} ({}) to {label}", kind.short(), file.display()))
}

fn find_org_policy<'a>(inv: &'a Inventory, key: &str) -> Option<&'a OrgPolicy> {
    let org = inv.organization.as_ref()?;
    org.policies.iter().find(|p| p.id == key).or_else(|| org.policies.iter().find(|p| p.name == key))
}

fn detach(inv: &mut Inventory, key: &str, target: &str, touched: &mut Touched) -> Result<String, ChangeError> {
    let (target_id, label) = resolve_target(inv, target)?;
    let policy = find_org_policy(inv, key).ok_or_else(|| ChangeError::UnknownPolicy { policy: key.to_owned() })?;
    let (id, name, kind) = (policy.id.clone(), policy.name.clone(), policy.kind);
    let attached_here = policy.targets.contains(&target_id);
    if !attached_here {
        return Err(ChangeError::NotAttached { policy: name, target: label });
    }
    // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html:
    // RCPFullAWSAccess cannot be detached.
    if kind == OrgPolicyKind::ResourceControlPolicy && policy.aws_managed {
        return Err(ChangeError::Refused(format!("{name} cannot be detached (AWS keeps it attached to every root, OU and account)")));
    }
    // Every root, OU and account must keep at least one SCP
    // (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_attach.html).
    let org = inv.organization.as_ref().ok_or(ChangeError::NoOrganization)?;
    let scps_left = org
        .policies
        .iter()
        .filter(|p| p.kind == OrgPolicyKind::ServiceControlPolicy && p.id != id && p.targets.contains(&target_id))
        .count();
    if kind == OrgPolicyKind::ServiceControlPolicy && scps_left == 0 {
        return Err(ChangeError::Refused(format!(
            "{name} is the last SCP attached to {label}; every root, OU and account must keep at least one SCP"
        )));
    }
    let accounts = accounts_under(inv, &target_id);
    for account in inv.accounts.iter_mut().filter(|a| accounts.contains(&a.id)) {
        for level in chain_of(account, kind).iter_mut().filter(|l| l.target_id == target_id) {
            level.policy_ids.retain(|p| *p != id);
        }
    }
    if let Some(policy) = inv.organization.as_mut().and_then(|o| o.policies.iter_mut().find(|p| p.id == id)) {
        policy.targets.retain(|t| *t != target_id);
    }
    touch(touched, kind, accounts);
    Ok(format!("detach {} {name} ({id}) from {label}", kind.short()))
}

fn replace(inv: &mut Inventory, key: &str, file: &Path, touched: &mut Touched) -> Result<String, ChangeError> {
    if let Some(policy) = find_org_policy(inv, key) {
        let (id, name, kind) = (policy.id.clone(), policy.name.clone(), policy.kind);
        if policy.aws_managed {
            return Err(ChangeError::Refused(format!("{name} is managed by AWS and cannot be edited")));
        }
        let document = read_document(file)?;
        let accounts: Vec<String> = match policy.targets_unread {
            // Where it is attached is unknown: every account may be under it.
            Some(_) => inv.accounts.iter().map(|a| a.id.clone()).collect(),
            None => policy.targets.clone().iter().flat_map(|t| accounts_under(inv, t)).collect(),
        };
        if let Some(policy) = inv.organization.as_mut().and_then(|o| o.policies.iter_mut().find(|p| p.id == id)) {
            policy.document = document;
        }
        touch(touched, kind, accounts);
        return Ok(format!("replace the document of {} {name} ({id}) with {}", kind.short(), file.display()));
    }
    if key.starts_with("arn:aws:iam::aws:policy/") {
        return Err(ChangeError::Refused(format!("{key} is an AWS managed policy and cannot be edited")));
    }
    let holders = inv.accounts.iter().filter(|a| a.managed_policies.iter().any(|p| p.arn == key)).count();
    if holders == 0 {
        return Err(ChangeError::UnknownPolicy { policy: key.to_owned() });
    }
    let document = read_document(file)?;
    for policy in inv.accounts.iter_mut().flat_map(|a| a.managed_policies.iter_mut()).filter(|p| p.arn == key) {
        policy.document = document.clone();
    }
    touched.managed_policy_arns.insert(key.to_owned());
    Ok(format!("replace the default version of {key} with {}", file.display()))
}
