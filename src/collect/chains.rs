//! Pure derivation of each account's SCP and RCP chain (root → OUs →
//! account, with the policy ids attached at each level) from the policies'
//! targets, so no per-account Organizations call is needed.

use std::collections::{BTreeMap, HashMap};

use crate::inventory::{Account, InlineString, OrgPolicy, OrgPolicyKind, OrgUnit, PolicyLevel};

/// Fills `scp_chain` / `rcp_chain` of every account. A kind not in
/// `enabled` leaves that chain empty (no policy of that kind applies). A
/// policy whose targets are unknown may be attached at every level; a kind
/// in `unlisted` (its policies could not be listed) may have unknown
/// policies at every level.
pub fn derive(
    accounts: &mut [Account],
    root_id: &str,
    root_name: &str,
    ous: &[OrgUnit],
    policies: &[OrgPolicy],
    enabled: &[OrgPolicyKind],
    unlisted: &[OrgPolicyKind],
) {
    let names: HashMap<&str, &str> = ous.iter().map(|ou| (ou.id.as_str(), ou.name.as_str())).chain(std::iter::once((root_id, root_name))).collect();
    for kind in [OrgPolicyKind::ServiceControlPolicy, OrgPolicyKind::ResourceControlPolicy] {
        let attached = attachments(policies, kind);
        let unknown = Unknown {
            maybe: policies.iter().filter(|p| p.kind == kind && p.targets_unread.is_some()).map(|p| p.id.as_str().into()).collect(),
            unlisted: unlisted.contains(&kind),
        };
        for account in accounts.iter_mut() {
            let chain = if enabled.contains(&kind) { chain_for(account, &names, &attached, &unknown) } else { Vec::new() };
            match kind {
                OrgPolicyKind::ServiceControlPolicy => account.scp_chain = chain,
                OrgPolicyKind::ResourceControlPolicy => account.rcp_chain = chain,
            }
        }
    }
}

/// Target id → ids of the policies of `kind` attached there, sorted.
fn attachments(policies: &[OrgPolicy], kind: OrgPolicyKind) -> BTreeMap<&str, Vec<String>> {
    let mut map: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for policy in policies.iter().filter(|p| p.kind == kind) {
        for target in &policy.targets {
            map.entry(target.as_str()).or_default().push(policy.id.clone());
        }
    }
    for ids in map.values_mut() {
        ids.sort();
        ids.dedup();
    }
    map
}

/// What is not known about every level of one kind.
struct Unknown {
    maybe: Vec<InlineString>,
    unlisted: bool,
}

fn chain_for(account: &Account, names: &HashMap<&str, &str>, attached: &BTreeMap<&str, Vec<String>>, unknown: &Unknown) -> Vec<PolicyLevel> {
    account
        .parent_ids
        .iter()
        .map(|id| (id.as_str(), names.get(id.as_str()).copied().unwrap_or(id.as_str())))
        .chain(std::iter::once((account.id.as_str(), account.name.as_str())))
        .map(|(id, name)| PolicyLevel {
            target_id: id.into(),
            target_name: name.into(),
            policy_ids: attached.get(id).map(|ids| ids.iter().map(|i| i.as_str().into()).collect()).unwrap_or_default(),
            maybe_policy_ids: unknown.maybe.clone(),
            unlisted: unknown.unlisted,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{PolicyDoc, ScanDecision};

    pub(crate) fn account(id: &str, name: &str, parents: &[&str]) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
            email: None,
            status: "ACTIVE".into(),
            ou_path: String::new(),
            parent_ids: parents.iter().map(|p| p.to_string()).collect(),
            tags: Default::default(),
            is_management: false,
            scan: ScanDecision::Skipped { reason: "test".into() },
            scp_chain: vec![],
            rcp_chain: vec![],
            roles: vec![],
            managed_policies: vec![],
            resources: vec![],
            regions: vec![],
        }
    }

    fn policy(id: &str, kind: OrgPolicyKind, targets: &[&str]) -> OrgPolicy {
        OrgPolicy {
            id: id.into(),
            name: id.into(),
            kind,
            aws_managed: false,
            document: PolicyDoc::default(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            targets_unread: None,
        }
    }

    #[test]
    fn chain_runs_root_to_account_with_ids_per_level() {
        let ous = vec![
            OrgUnit { id: "ou-a".into(), name: "Workloads".into(), parent_id: "r-1".into(), path: "Root/Workloads".into() },
            OrgUnit { id: "ou-b".into(), name: "Prod".into(), parent_id: "ou-a".into(), path: "Root/Workloads/Prod".into() },
        ];
        let policies = vec![
            policy("p-FullAWSAccess", OrgPolicyKind::ServiceControlPolicy, &["r-1", "ou-a", "ou-b", "111"]),
            policy("p-deny", OrgPolicyKind::ServiceControlPolicy, &["ou-b"]),
            policy("p-RCPFullAWSAccess", OrgPolicyKind::ResourceControlPolicy, &["r-1", "ou-a", "ou-b", "111"]),
        ];
        let mut accounts = vec![account("111", "prod", &["r-1", "ou-a", "ou-b"])];
        derive(&mut accounts, "r-1", "Root", &ous, &policies, &[OrgPolicyKind::ServiceControlPolicy, OrgPolicyKind::ResourceControlPolicy], &[]);
        let scp = &accounts[0].scp_chain;
        assert_eq!(scp.iter().map(|l| l.target_id.as_str()).collect::<Vec<_>>(), ["r-1", "ou-a", "ou-b", "111"]);
        assert_eq!(scp.iter().map(|l| l.target_name.as_str()).collect::<Vec<_>>(), ["Root", "Workloads", "Prod", "prod"]);
        assert_eq!(scp[2].policy_ids, ["p-FullAWSAccess", "p-deny"]);
        assert_eq!(accounts[0].rcp_chain[3].policy_ids, ["p-RCPFullAWSAccess"]);
    }

    #[test]
    fn a_policy_with_unknown_targets_may_be_anywhere_and_an_unlisted_kind_is_flagged() {
        let mut unknown = policy("p-deny", OrgPolicyKind::ServiceControlPolicy, &[]);
        unknown.targets_unread = Some(crate::inventory::Unread {
            operation: "organizations:ListTargetsForPolicy".into(),
            account_id: "000".into(),
            error_code: "AccessDeniedException".into(),
            request_id: None,
        });
        let policies = vec![policy("p-full", OrgPolicyKind::ServiceControlPolicy, &["r-1", "333"]), unknown];
        let mut accounts = vec![account("333", "x", &["r-1"])];
        let both = [OrgPolicyKind::ServiceControlPolicy, OrgPolicyKind::ResourceControlPolicy];
        derive(&mut accounts, "r-1", "Root", &[], &policies, &both, &[OrgPolicyKind::ResourceControlPolicy]);
        let scp = &accounts[0].scp_chain;
        assert!(scp.iter().all(|l| l.policy_ids == ["p-full"] && l.maybe_policy_ids == ["p-deny"] && !l.unlisted && !l.is_complete()));
        assert!(accounts[0].rcp_chain.iter().all(|l| l.unlisted && l.policy_ids.is_empty() && !l.is_complete()));
    }

    #[test]
    fn disabled_kind_leaves_chain_empty_and_unattached_level_is_empty() {
        let policies = vec![policy("p-1", OrgPolicyKind::ServiceControlPolicy, &["r-1"])];
        let mut accounts = vec![account("222", "dev", &["r-1"])];
        derive(&mut accounts, "r-1", "Root", &[], &policies, &[OrgPolicyKind::ServiceControlPolicy], &[]);
        assert!(accounts[0].rcp_chain.is_empty());
        assert_eq!(accounts[0].scp_chain.len(), 2);
        assert!(accounts[0].scp_chain[1].policy_ids.is_empty());
    }
}
