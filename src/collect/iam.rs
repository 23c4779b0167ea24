//! IAM, once per account (IAM is global): for each distinct execution role
//! GetRole (trust policy, boundary, tags), ListAttachedRolePolicies,
//! ListRolePolicies + GetRolePolicy; then each distinct managed policy
//! (attached or boundary, customer or AWS managed) once: GetPolicy +
//! GetPolicyVersion of the default version.

use std::collections::BTreeSet;

use aws_types::request_id::RequestId;
use futures::future::join_all;

use super::arn;
use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::session::AccountSession;
use crate::inventory::{InlinePolicy, ManagedPolicy, PolicyDoc, Role, GLOBAL_REGION};

/// What IAM collection produced for one account.
#[derive(Debug, Default)]
pub struct IamData {
    pub roles: Vec<Role>,
    pub managed_policies: Vec<ManagedPolicy>,
    pub errors: Vec<AwsError>,
}

struct Reader<'a> {
    client: aws_sdk_iam::Client,
    calls: &'a Calls,
    loc: Loc<'a>,
}

/// Reads the given roles (ARNs in this account) and their managed policies.
pub async fn collect(session: &AccountSession, calls: &Calls, role_arns: &BTreeSet<String>) -> IamData {
    let reader = Reader { client: session.iam(), calls, loc: Loc { account: &session.account_id, region: GLOBAL_REGION } };
    let mut data = IamData::default();
    let results = join_all(role_arns.iter().map(|arn| reader.role(arn, &session.account_id))).await;
    for result in results {
        match result {
            Ok((role, errors)) => {
                data.roles.push(role);
                data.errors.extend(errors);
            }
            Err(err) => data.errors.push(err),
        }
    }
    let policy_arns: BTreeSet<String> = data
        .roles
        .iter()
        .flat_map(|r| r.attached_policy_arns.iter().cloned().chain(r.permissions_boundary_arn.clone()))
        .collect();
    for result in join_all(policy_arns.iter().map(|arn| reader.managed_policy(arn))).await {
        match result {
            Ok((policy, malformed)) => {
                data.managed_policies.push(policy);
                data.errors.extend(malformed);
            }
            Err(err) => data.errors.push(err),
        }
    }
    data
}

impl Reader<'_> {
    async fn role(&self, role_arn: &str, account_id: &str) -> Result<(Role, Vec<AwsError>), AwsError> {
        let parsed = arn::parse(role_arn);
        if parsed.as_ref().map(|a| a.account) != Some(account_id) {
            return Err(AwsError::local("iam:GetRole", "ForeignRole", format!("execution role {role_arn} is not in account {account_id}; not read")));
        }
        let name = arn::role_name(role_arn).ok_or_else(|| AwsError::local("iam:GetRole", "BadRoleArn", format!("`{role_arn}` is not a role ARN")))?;
        let out = self.calls.call(Pool::Main, self.loc, "iam:GetRole", self.client.get_role().role_name(name).send()).await?;
        let role = out
            .role()
            .ok_or_else(|| AwsError::local("iam:GetRole", "MissingRole", format!("GetRole returned no role for {name}")))?;
        let mut result = Role {
            arn: role.arn().to_owned(),
            name: role.role_name().to_owned(),
            path: role.path().to_owned(),
            trust_policy: role.assume_role_policy_document().map(PolicyDoc::from_aws_text).unwrap_or_default(),
            permissions_boundary_arn: role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_owned),
            attached_policy_arns: Vec::new(),
            inline_policies: Vec::new(),
            tags: role.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
        };
        let mut errors = Vec::new();
        errors.extend(AwsError::malformed_policy("iam:GetRole", &format!("trust policy of {role_arn}"), &result.trust_policy, out.request_id()));
        let (attached, inline) = futures::join!(self.attached(name), self.inline(name));
        match attached {
            Ok(arns) => result.attached_policy_arns = arns,
            Err(err) => errors.push(err),
        }
        match inline {
            Ok((policies, errs)) => {
                result.inline_policies = policies;
                errors.extend(errs);
            }
            Err(err) => errors.push(err),
        }
        Ok((result, errors))
    }

    async fn attached(&self, role_name: &str) -> Result<Vec<String>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Main,
                self.loc,
                "iam:ListAttachedRolePolicies",
                |marker| self.client.list_attached_role_policies().role_name(role_name).set_marker(marker).send(),
                |page| page.marker().filter(|_| page.is_truncated()),
            )
            .await?;
        let mut arns: Vec<String> =
            pages.iter().flat_map(|page| page.attached_policies()).filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
        arns.sort();
        Ok(arns)
    }

    async fn inline(&self, role_name: &str) -> Result<(Vec<InlinePolicy>, Vec<AwsError>), AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Main,
                self.loc,
                "iam:ListRolePolicies",
                |marker| self.client.list_role_policies().role_name(role_name).set_marker(marker).send(),
                |page| page.marker().filter(|_| page.is_truncated()),
            )
            .await?;
        let mut names: Vec<String> = pages.iter().flat_map(|page| page.policy_names()).cloned().collect();
        names.sort();
        let fetched = join_all(names.iter().map(|policy| {
            let request = self.client.get_role_policy().role_name(role_name).policy_name(policy);
            self.calls.call(Pool::Main, self.loc, "iam:GetRolePolicy", request.send())
        }))
        .await;
        let mut policies = Vec::new();
        let mut errors = Vec::new();
        for (name, result) in names.into_iter().zip(fetched) {
            match result {
                Ok(out) => {
                    let document = PolicyDoc::from_aws_text(out.policy_document());
                    let what = format!("inline policy {name} of role {role_name}");
                    errors.extend(AwsError::malformed_policy("iam:GetRolePolicy", &what, &document, out.request_id()));
                    policies.push(InlinePolicy { name, document });
                }
                Err(err) => errors.push(err),
            }
        }
        Ok((policies, errors))
    }

    /// The policy and, when its document does not parse, the error saying so.
    async fn managed_policy(&self, policy_arn: &str) -> Result<(ManagedPolicy, Option<AwsError>), AwsError> {
        let out = self.calls.call(Pool::Main, self.loc, "iam:GetPolicy", self.client.get_policy().policy_arn(policy_arn).send()).await?;
        let policy = out.policy();
        let name = policy
            .and_then(|p| p.policy_name())
            .map(str::to_owned)
            .unwrap_or_else(|| policy_arn.rsplit('/').next().unwrap_or(policy_arn).to_owned());
        let version = policy.and_then(|p| p.default_version_id()).map(str::to_owned);
        let (document, request_id) = match &version {
            Some(version_id) => {
                let request = self.client.get_policy_version().policy_arn(policy_arn).version_id(version_id);
                let out = self.calls.call(Pool::Main, self.loc, "iam:GetPolicyVersion", request.send()).await?;
                let document = match out.policy_version().and_then(|v| v.document()) {
                    Some(text) => PolicyDoc::from_aws_text(text),
                    None => PolicyDoc { error: Some("GetPolicyVersion returned no document".to_owned()), ..Default::default() },
                };
                (document, out.request_id().map(str::to_owned))
            }
            None => (
                PolicyDoc { error: Some("GetPolicy returned no default version".to_owned()), ..Default::default() },
                out.request_id().map(str::to_owned),
            ),
        };
        let malformed = AwsError::malformed_policy("iam:GetPolicyVersion", &format!("managed policy {policy_arn}"), &document, request_id.as_deref());
        Ok((ManagedPolicy { arn: policy_arn.to_owned(), name, default_version_id: version, document }, malformed))
    }
}
