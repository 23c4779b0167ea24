//! Organizations discovery (always `us-east-1`, under `aws.org_concurrency`):
//! DescribeOrganization, the OU tree walked top-down (ListRoots,
//! ListOrganizationalUnitsForParent, ListAccountsForParent — so every account
//! gets its OU path and parent ids without a call per account), then SCPs and
//! RCPs by policy (ListPolicies + DescribePolicy + ListTargetsForPolicy once
//! per policy; the default policies' targets mostly inferred, see
//! [`default_policy`]) and each account's chains derived locally.

use std::collections::BTreeMap;

use futures::future::join_all;
use serde::Serialize;

use super::calls::{Calls, Loc, Pool};
use super::chains;
use super::coverage;
use super::default_policy;
use super::error::AwsError;
use super::session::AccountSession;
use super::unread;
use crate::inventory::{Account, CoverageRow, OrgPolicy, OrgPolicyKind, OrgUnit, Organization, PolicyDoc, Unread, GLOBAL_REGION};

/// Who is running the scan (STS GetCallerIdentity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// What discovery learned: the organization, every account with its OU path,
/// parent ids and policy chains, and the coverage of the discovery itself.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgView {
    /// `None` when the caller could not read the organization (then
    /// `accounts` holds just the caller's own account).
    pub organization: Option<Organization>,
    pub accounts: Vec<Account>,
    pub caller: CallerIdentity,
    /// Region of the credential chain; the default scan region.
    pub default_region: Option<String>,
    /// Policy types enabled at the root (chains of other types are empty).
    pub enabled_policy_types: Vec<OrgPolicyKind>,
    /// True for a tree-only view ([`discover_tree`]): SCPs, RCPs and the
    /// accounts' chains are still to be fetched (a scan does it alongside).
    pub policies_pending: bool,
    /// Rows for scope `organizations`.
    pub coverage: Vec<CoverageRow>,
}

impl OrgView {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The view of a caller whose organization cannot be read: its own
    /// account only.
    pub fn single_account(caller: CallerIdentity, default_region: Option<String>, coverage: Vec<CoverageRow>) -> Self {
        let account = skeleton(&caller.account, &caller.account, None, "ACTIVE", "", Vec::new(), false);
        Self {
            organization: None,
            accounts: vec![account],
            caller,
            default_region,
            enabled_policy_types: Vec::new(),
            policies_pending: false,
            coverage,
        }
    }
}

/// An account as discovery knows it, before plan and scan fill the rest.
pub(crate) fn skeleton(
    id: &str,
    name: &str,
    email: Option<String>,
    status: &str,
    ou_path: &str,
    parent_ids: Vec<String>,
    is_management: bool,
) -> Account {
    Account {
        email,
        status: status.to_owned(),
        ou_path: ou_path.to_owned(),
        parent_ids,
        is_management,
        ..Account::new(id, name)
    }
}

struct Walker<'a> {
    client: aws_sdk_organizations::Client,
    calls: &'a Calls,
    loc: Loc<'a>,
}

/// A parent in the walk: its id, name path and the ids above it.
#[derive(Debug, Clone)]
struct Parent {
    id: String,
    path: String,
    ancestors: Vec<String>,
}

#[derive(Default)]
struct Children {
    ous: Vec<(String, String)>,
    accounts: Vec<Account>,
    errors: Vec<AwsError>,
}

impl Walker<'_> {
    async fn ous_of(&self, parent: &str) -> Result<Vec<(String, String)>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Org,
                self.loc,
                "organizations:ListOrganizationalUnitsForParent",
                |token| self.client.list_organizational_units_for_parent().parent_id(parent).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        let ous = pages.iter().flat_map(|page| page.organizational_units());
        Ok(ous.filter_map(|ou| ou.id().map(|id| (id.to_owned(), ou.name().unwrap_or(id).to_owned()))).collect())
    }

    async fn accounts_of(&self, parent: &Parent, management_id: &str) -> Result<Vec<Account>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Org,
                self.loc,
                "organizations:ListAccountsForParent",
                |token| self.client.list_accounts_for_parent().parent_id(&parent.id).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        let mut parent_ids = parent.ancestors.clone();
        parent_ids.push(parent.id.clone());
        let mut out = Vec::new();
        for account in pages.iter().flat_map(|page| page.accounts()) {
            let Some(id) = account.id() else { continue };
            #[allow(deprecated)]
            let status = account
                .status()
                .map(|s| s.as_str().to_owned())
                .or_else(|| account.state().map(|s| s.as_str().to_owned()))
                .unwrap_or_else(|| "UNKNOWN".to_owned());
            out.push(skeleton(
                id,
                account.name().unwrap_or(id),
                account.email().map(str::to_owned),
                &status,
                &parent.path,
                parent_ids.clone(),
                id == management_id,
            ));
        }
        Ok(out)
    }

    async fn children(&self, parent: &Parent, management_id: &str) -> Children {
        let (ous, accounts) = futures::join!(self.ous_of(&parent.id), self.accounts_of(parent, management_id));
        let mut children = Children::default();
        match ous {
            Ok(ous) => children.ous = ous,
            Err(err) => children.errors.push(err),
        }
        match accounts {
            Ok(accounts) => children.accounts = accounts,
            Err(err) => children.errors.push(err),
        }
        children
    }

    /// Walks the tree level by level; each level's parents concurrently.
    async fn walk(&self, root: Parent, management_id: &str) -> (Vec<OrgUnit>, Vec<Account>, Vec<AwsError>) {
        let mut ous = Vec::new();
        let mut accounts = Vec::new();
        let mut errors = Vec::new();
        let mut frontier = vec![root];
        while !frontier.is_empty() {
            let results = join_all(frontier.iter().map(|p| self.children(p, management_id))).await;
            let mut next = Vec::new();
            for (parent, children) in frontier.iter().zip(results) {
                errors.extend(children.errors);
                accounts.extend(children.accounts);
                for (id, name) in children.ous {
                    let path = format!("{}/{}", parent.path, name);
                    let mut ancestors = parent.ancestors.clone();
                    ancestors.push(parent.id.clone());
                    ous.push(OrgUnit { id: id.clone(), name, parent_id: parent.id.clone(), path: path.clone() });
                    next.push(Parent { id, path, ancestors });
                }
            }
            frontier = next;
        }
        (ous, accounts, errors)
    }

    async fn describe(&self, id: &str) -> (PolicyDoc, Option<AwsError>) {
        let described = self
            .calls
            .call(Pool::Org, self.loc, "organizations:DescribePolicy", self.client.describe_policy().policy_id(id).send())
            .await;
        match described {
            Ok(out) => match out.policy().and_then(|p| p.content()) {
                Some(content) => (PolicyDoc::from_aws_text(content), None),
                None => (PolicyDoc { error: Some("DescribePolicy returned no content".to_owned()), ..Default::default() }, None),
            },
            Err(err) => (PolicyDoc { error: Some(format!("could not read: {err}")), ..Default::default() }, Some(err)),
        }
    }

    /// A policy with its document and (when `list_targets`) its targets, the
    /// failures, and whether the targets are complete.
    async fn policy(&self, summary: PolicySummary, kind: OrgPolicyKind, list_targets: bool) -> (OrgPolicy, Vec<AwsError>, bool) {
        let targets = async {
            if list_targets {
                self.targets(&summary.id).await
            } else {
                Ok(Vec::new())
            }
        };
        let ((document, describe_error), targets) = futures::join!(self.describe(&summary.id), targets);
        let mut errors: Vec<AwsError> = describe_error.into_iter().collect();
        let targets_complete = targets.is_ok();
        let (targets, targets_unread) = match targets {
            Ok(targets) => (targets, None),
            Err(err) => {
                let missing = unread::from_error(&err, self.loc.account);
                errors.push(err);
                (Vec::new(), Some(missing))
            }
        };
        let policy = OrgPolicy {
            id: summary.id,
            name: summary.name,
            kind,
            aws_managed: summary.aws_managed,
            document,
            targets,
            targets_unread,
        };
        (policy, errors, targets_complete)
    }

    async fn targets(&self, policy_id: &str) -> Result<Vec<String>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Org,
                self.loc,
                "organizations:ListTargetsForPolicy",
                |token| self.client.list_targets_for_policy().policy_id(policy_id).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        Ok(pages.iter().flat_map(|page| page.targets()).filter_map(|t| t.target_id().map(str::to_owned)).collect())
    }

    /// Ids of the policies of `kind` attached directly to `target`.
    async fn policies_for_target(&self, target: &str, kind: OrgPolicyKind) -> Result<Vec<String>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Org,
                self.loc,
                "organizations:ListPoliciesForTarget",
                |token| self.client.list_policies_for_target().target_id(target).filter(policy_type(kind)).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        Ok(pages.iter().flat_map(|page| page.policies()).filter_map(|p| p.id().map(str::to_owned)).collect())
    }

    /// Asks each of `ask` whether the default policy is attached there;
    /// `None` when any answer is missing.
    async fn ask_targets(&self, policy: &OrgPolicy, ask: Vec<String>) -> Option<Vec<String>> {
        let answers = join_all(ask.iter().map(|t| self.policies_for_target(t, policy.kind))).await;
        let mut attached = Vec::new();
        for (target, answer) in ask.into_iter().zip(answers) {
            if answer.ok()?.contains(&policy.id) {
                attached.push(target);
            }
        }
        Some(attached)
    }

    /// Fills the default policy's targets (see [`default_policy`]); the
    /// failures and a note on how they were learned, for the coverage row.
    async fn default_targets(
        &self,
        policy: &mut OrgPolicy,
        known: &[String],
        others: &[OrgPolicy],
        others_complete: bool,
    ) -> (Vec<AwsError>, String) {
        match default_policy::plan(policy.kind, known, others, others_complete) {
            default_policy::Attachments::Everywhere => {
                policy.targets = known.to_vec();
                return (Vec::new(), format!("{} on every root, OU and account (it cannot be detached)", policy.name));
            }
            default_policy::Attachments::Infer { mut certain, ask } => {
                let asked = ask.len();
                if let Some(mut attached) = self.ask_targets(policy, ask).await {
                    certain.append(&mut attached);
                    policy.targets = certain;
                    let note = format!("{} inferred (every entity keeps one SCP), {asked} entities with other SCPs asked", policy.name);
                    return (Vec::new(), note);
                }
            }
            default_policy::Attachments::List => {}
        }
        match self.targets(&policy.id).await {
            Ok(targets) => {
                policy.targets = targets;
                (Vec::new(), format!("{} targets listed", policy.name))
            }
            Err(err) => {
                policy.targets_unread = Some(unread::from_error(&err, self.loc.account));
                (vec![err], format!("{} targets unknown", policy.name))
            }
        }
    }

    async fn policies(&self, kind: OrgPolicyKind, known: &[String]) -> FetchedPolicies {
        let listed = self
            .calls
            .pages(
                Pool::Org,
                self.loc,
                "organizations:ListPolicies",
                |token| self.client.list_policies().filter(policy_type(kind)).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await;
        let pages = match listed {
            Ok(pages) => pages,
            Err(err) => {
                let unlisted = [(kind, unread::from_error(&err, self.loc.account))].into();
                return FetchedPolicies { errors: vec![err], unlisted, ..Default::default() };
            }
        };
        let summaries = pages.iter().flat_map(|page| page.policies()).filter_map(|p| {
            let id = p.id()?;
            Some(PolicySummary { id: id.to_owned(), name: p.name().unwrap_or(id).to_owned(), aws_managed: p.aws_managed() })
        });
        let (defaults, others): (Vec<_>, Vec<_>) = summaries.partition(|s| default_policy::is_default(kind, &s.name, s.aws_managed));
        let (defaults, others) = futures::join!(
            join_all(defaults.into_iter().map(|s| self.policy(s, kind, false))),
            join_all(others.into_iter().map(|s| self.policy(s, kind, true))),
        );
        let mut fetched = FetchedPolicies::default();
        let mut others_complete = true;
        for (policy, errors, targets_complete) in others {
            others_complete &= targets_complete;
            fetched.policies.push(policy);
            fetched.errors.extend(errors);
        }
        for (mut policy, errors, _) in defaults {
            fetched.errors.extend(errors);
            let (errors, note) = self.default_targets(&mut policy, known, &fetched.policies, others_complete).await;
            fetched.errors.extend(errors);
            fetched.notes.push(note);
            fetched.policies.push(policy);
        }
        fetched
    }
}

struct PolicySummary {
    id: String,
    name: String,
    aws_managed: bool,
}

fn policy_type(kind: OrgPolicyKind) -> aws_sdk_organizations::types::PolicyType {
    match kind {
        OrgPolicyKind::ServiceControlPolicy => aws_sdk_organizations::types::PolicyType::ServiceControlPolicy,
        OrgPolicyKind::ResourceControlPolicy => aws_sdk_organizations::types::PolicyType::ResourceControlPolicy,
    }
}

/// Discovers the organization with `session`'s (base) credentials. Never
/// fails: what could not be read becomes an `organizations` coverage row, and
/// a caller that cannot read the organization at all gets a single-account
/// view of its own account.
pub async fn discover(session: &AccountSession, calls: &Calls, caller: CallerIdentity, default_region: Option<String>) -> OrgView {
    let mut view = discover_tree(session, calls, caller, default_region).await;
    let fetched = fetch_policies(session, calls, &view).await;
    attach_policies(&mut view.organization, &mut view.accounts, &mut view.coverage, &view.enabled_policy_types, fetched);
    view.policies_pending = false;
    view
}

/// SCPs and RCPs of the enabled policy types, each fetched once, with the
/// calls' failures. Independent of the account scan, so a scan runs it
/// alongside (see [`attach_policies`]).
#[derive(Default)]
pub struct FetchedPolicies {
    pub policies: Vec<OrgPolicy>,
    pub errors: Vec<AwsError>,
    /// How the default policies' targets were learned, for the coverage row.
    pub notes: Vec<String>,
    /// Kinds whose policies could not be listed at all.
    pub unlisted: BTreeMap<OrgPolicyKind, Unread>,
}

pub async fn fetch_policies(session: &AccountSession, calls: &Calls, view: &OrgView) -> FetchedPolicies {
    let mut fetched = FetchedPolicies::default();
    let Some(org) = view.organization.as_ref() else {
        return fetched;
    };
    let known: Vec<String> = std::iter::once(org.root_id.clone())
        .chain(org.organizational_units.iter().map(|ou| ou.id.clone()))
        .chain(view.accounts.iter().map(|a| a.id.clone()))
        .collect();
    let loc = Loc { account: &org.management_account_id, region: GLOBAL_REGION };
    let walker = Walker { client: session.organizations(), calls, loc };
    let results = join_all(view.enabled_policy_types.iter().map(|kind| walker.policies(*kind, &known))).await;
    for mut of_kind in results {
        fetched.policies.append(&mut of_kind.policies);
        fetched.errors.append(&mut of_kind.errors);
        fetched.notes.append(&mut of_kind.notes);
        fetched.unlisted.append(&mut of_kind.unlisted);
    }
    fetched
}

/// Stores the policies in the organization, derives every account's SCP and
/// RCP chain (root → OUs → account) and records a coverage row for them.
pub fn attach_policies(
    organization: &mut Option<Organization>,
    accounts: &mut [Account],
    coverage: &mut Vec<CoverageRow>,
    enabled: &[OrgPolicyKind],
    fetched: FetchedPolicies,
) {
    let Some(org) = organization.as_mut() else { return };
    let root_name = org
        .organizational_units
        .iter()
        .find(|ou| ou.parent_id == org.root_id)
        .and_then(|ou| ou.path.split('/').next())
        .unwrap_or("Root")
        .to_owned();
    let unlisted: Vec<OrgPolicyKind> = fetched.unlisted.keys().copied().collect();
    chains::derive(accounts, &org.root_id, &root_name, &org.organizational_units, &fetched.policies, enabled, &unlisted);
    let kinds = enabled.iter().map(|k| k.short()).collect::<Vec<_>>().join("+");
    let detail = if kinds.is_empty() {
        "no SCP/RCP policy type enabled".to_owned()
    } else {
        let mut detail = format!("{} {kinds} policies with their targets", fetched.policies.len());
        for note in &fetched.notes {
            detail.push_str("; ");
            detail.push_str(note);
        }
        detail
    };
    let management_name = accounts.iter().find(|a| a.id == org.management_account_id).map(|a| a.name.clone()).unwrap_or_default();
    coverage.push(coverage::row(&org.management_account_id, &management_name, GLOBAL_REGION, "organizations", &fetched.errors, Some(detail)));
    org.policies = fetched.policies;
    org.policies_unread = fetched.unlisted;
}

/// The OU tree and every account with its OU path and parent ids; no
/// policies yet (chains empty until [`attach_policies`]).
pub async fn discover_tree(session: &AccountSession, calls: &Calls, caller: CallerIdentity, default_region: Option<String>) -> OrgView {
    let caller_account = caller.account.clone();
    let loc = Loc { account: &caller_account, region: GLOBAL_REGION };
    let walker = Walker { client: session.organizations(), calls, loc };

    let described = calls.call(Pool::Org, loc, "organizations:DescribeOrganization", walker.client.describe_organization().send()).await;
    let org = match described {
        Ok(out) => out.organization().cloned(),
        Err(err) => {
            let row = if err.is_code("AWSOrganizationsNotInUseException") {
                coverage::row(
                    &caller_account,
                    &caller_account,
                    GLOBAL_REGION,
                    "organizations",
                    &[],
                    Some("not in an organization: scanning the caller's account only".to_owned()),
                )
            } else {
                coverage::row(&caller_account, &caller_account, GLOBAL_REGION, "organizations", &[err], None)
            };
            return OrgView::single_account(caller, default_region, vec![row]);
        }
    };
    let org_id = org.as_ref().and_then(|o| o.id()).unwrap_or_default().to_owned();
    let management_id = org.as_ref().and_then(|o| o.master_account_id()).unwrap_or_default().to_owned();
    let org_arn = org.as_ref().and_then(|o| o.arn()).map(str::to_owned);

    let roots = calls.call(Pool::Org, loc, "organizations:ListRoots", walker.client.list_roots().send()).await;
    let root = match roots {
        Ok(out) => out.roots().first().cloned(),
        Err(err) => {
            let row = coverage::row(&management_id, "", GLOBAL_REGION, "organizations", &[err], None);
            return OrgView::single_account(caller, default_region, vec![row]);
        }
    };
    let Some(root) = root.filter(|r| r.id().is_some()) else {
        let err = AwsError::local("organizations:ListRoots", "NoRoot", "ListRoots returned no root");
        let row = coverage::row(&management_id, "", GLOBAL_REGION, "organizations", &[err], None);
        return OrgView::single_account(caller, default_region, vec![row]);
    };
    let root_id = root.id().unwrap_or_default().to_owned();
    let root_name = root.name().unwrap_or("Root").to_owned();
    let enabled: Vec<OrgPolicyKind> = root
        .policy_types()
        .iter()
        .filter(|t| t.status().map(|s| s.as_str() == "ENABLED").unwrap_or(false))
        .filter_map(|t| match t.r#type().map(|k| k.as_str()) {
            Some("SERVICE_CONTROL_POLICY") => Some(OrgPolicyKind::ServiceControlPolicy),
            Some("RESOURCE_CONTROL_POLICY") => Some(OrgPolicyKind::ResourceControlPolicy),
            _ => None,
        })
        .collect();

    let root_parent = Parent { id: root_id.clone(), path: root_name.clone(), ancestors: Vec::new() };
    let (ous, mut accounts, errors) = walker.walk(root_parent, &management_id).await;
    accounts.sort_by(|a, b| a.ou_path.cmp(&b.ou_path).then(a.name.cmp(&b.name)));

    let management_name = accounts.iter().find(|a| a.id == management_id).map(|a| a.name.clone()).unwrap_or_default();
    let ok_detail = format!("OU tree: {} accounts, {} OUs under {root_name}", accounts.len(), ous.len());
    let row = coverage::row(&management_id, &management_name, GLOBAL_REGION, "organizations", &errors, Some(ok_detail));
    OrgView {
        organization: Some(Organization {
            id: org_id,
            arn: org_arn,
            management_account_id: management_id,
            root_id,
            organizational_units: ous,
            policies: Vec::new(),
            policies_unread: Default::default(),
        }),
        accounts,
        caller,
        default_region,
        policies_pending: true,
        enabled_policy_types: enabled,
        coverage: vec![row],
    }
}

/// Account tags (ListTagsForResource), one call per scanned account.
pub async fn account_tags(session: &AccountSession, calls: &Calls, account_id: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let client = session.organizations();
    let loc = Loc { account: account_id, region: GLOBAL_REGION };
    let pages = calls
        .pages(
            Pool::Org,
            loc,
            "organizations:ListTagsForResource",
            |token| client.list_tags_for_resource().resource_id(account_id).set_next_token(token).send(),
            |page| page.next_token(),
        )
        .await?;
    Ok(pages.iter().flat_map(|page| page.tags()).map(|tag| (tag.key().to_owned(), tag.value().to_owned())).collect())
}
