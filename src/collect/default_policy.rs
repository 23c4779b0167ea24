//! Where the auto-attached default policies (`FullAWSAccess`,
//! `RCPFullAWSAccess`) are attached, learned without paging through their
//! targets: they are attached to every root, OU and account, so listing them
//! costs one Organizations call per 20 entities, i.e. it grows with accounts.
//!
//! Two documented rules make most of that listing redundant:
//! * `RCPFullAWSAccess` is attached to the root, every OU and every account
//!   when RCPs are enabled, and cannot be detached (Organizations user guide,
//!   "RCP evaluation").
//! * Every root, OU and account must keep at least one SCP attached
//!   (Organizations API reference, `DetachPolicy`). So an entity that no other
//!   SCP is attached to still has `FullAWSAccess`; only entities that also
//!   carry another SCP need asking (`ListPoliciesForTarget`), which grows with
//!   the customer policies' attachments, not with accounts.

use std::collections::HashSet;

use crate::inventory::{OrgPolicy, OrgPolicyKind};

/// Organizations pages hold at most this many items.
pub const ORG_PAGE_SIZE: usize = 20;

/// True for the AWS-managed policy that Organizations attaches everywhere
/// when the policy type is enabled.
pub fn is_default(kind: OrgPolicyKind, name: &str, aws_managed: bool) -> bool {
    aws_managed
        && match kind {
            OrgPolicyKind::ServiceControlPolicy => name == "FullAWSAccess",
            OrgPolicyKind::ResourceControlPolicy => name == "RCPFullAWSAccess",
        }
}

/// How to learn the default policy's targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachments {
    /// Attached to every known entity (`RCPFullAWSAccess` cannot be detached).
    Everywhere,
    /// Attached to `certain` for sure; each of `ask` carries another policy
    /// of the kind too, so only `ListPoliciesForTarget` can tell.
    Infer { certain: Vec<String>, ask: Vec<String> },
    /// Page through `ListTargetsForPolicy`: the other policies' targets are
    /// incomplete, or asking entity by entity would cost more pages.
    List,
}

/// Decides for the default policy of `kind` given every entity discovery
/// knows (`known`: root, OUs, accounts) and the other policies of that kind
/// with their targets (`others_complete` false when any of their target
/// listings failed).
pub fn plan(kind: OrgPolicyKind, known: &[String], others: &[OrgPolicy], others_complete: bool) -> Attachments {
    if kind == OrgPolicyKind::ResourceControlPolicy {
        return Attachments::Everywhere;
    }
    if !others_complete {
        return Attachments::List;
    }
    let with_other: HashSet<&str> = others.iter().filter(|p| p.kind == kind).flat_map(|p| p.targets.iter().map(String::as_str)).collect();
    let (ask, certain): (Vec<String>, Vec<String>) = known.iter().cloned().partition(|t| with_other.contains(t.as_str()));
    if ask.len() >= known.len().div_ceil(ORG_PAGE_SIZE) {
        return Attachments::List;
    }
    Attachments::Infer { certain, ask }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::PolicyDoc;

    fn scp(name: &str, targets: &[&str]) -> OrgPolicy {
        OrgPolicy {
            id: format!("p-{name}"),
            name: name.into(),
            kind: OrgPolicyKind::ServiceControlPolicy,
            aws_managed: false,
            document: PolicyDoc::default(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            targets_unread: None,
        }
    }

    fn entities(n: usize) -> Vec<String> {
        std::iter::once("r-root".to_string()).chain((1..n).map(|i| format!("{i:012}"))).collect()
    }

    #[test]
    fn only_the_aws_managed_default_of_each_kind_is_default() {
        assert!(is_default(OrgPolicyKind::ServiceControlPolicy, "FullAWSAccess", true));
        assert!(is_default(OrgPolicyKind::ResourceControlPolicy, "RCPFullAWSAccess", true));
        // a customer policy that borrows the name is an ordinary policy
        assert!(!is_default(OrgPolicyKind::ServiceControlPolicy, "FullAWSAccess", false));
        assert!(!is_default(OrgPolicyKind::ResourceControlPolicy, "FullAWSAccess", true));
    }

    #[test]
    fn rcp_default_is_everywhere_because_it_cannot_be_detached() {
        assert_eq!(plan(OrgPolicyKind::ResourceControlPolicy, &entities(100), &[], true), Attachments::Everywhere);
    }

    #[test]
    fn entities_without_another_scp_certainly_keep_full_aws_access() {
        let known = entities(100);
        let others = [scp("DenyLeave", &["r-root"]), scp("Guard", &["000000000007", "000000000009"])];
        let Attachments::Infer { certain, ask } = plan(OrgPolicyKind::ServiceControlPolicy, &known, &others, true) else {
            panic!("three entities to ask is cheaper than five pages")
        };
        assert_eq!(ask, vec!["r-root", "000000000007", "000000000009"]);
        assert_eq!(certain.len(), 97);
        assert!(!certain.contains(&"000000000007".to_string()));
    }

    #[test]
    fn lists_the_targets_when_asking_would_cost_more_pages() {
        let known = entities(100); // 5 pages of ListTargetsForPolicy
        let five: Vec<String> = known.iter().take(5).cloned().collect();
        let refs: Vec<&str> = five.iter().map(String::as_str).collect();
        assert_eq!(plan(OrgPolicyKind::ServiceControlPolicy, &known, &[scp("Wide", &refs)], true), Attachments::List);
        let four = &refs[..4];
        assert!(matches!(plan(OrgPolicyKind::ServiceControlPolicy, &known, &[scp("Narrow", four)], true), Attachments::Infer { .. }));
    }

    #[test]
    fn incomplete_targets_of_other_policies_mean_listing() {
        // without them an entity whose only SCP is the unread one would be
        // wrongly credited with FullAWSAccess
        assert_eq!(plan(OrgPolicyKind::ServiceControlPolicy, &entities(100), &[], false), Attachments::List);
    }
}
