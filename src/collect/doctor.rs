//! `fleetscan doctor`: caller identity, Organizations access, and one
//! AssumeRole into a chosen (or the first active member) account — each step
//! pass/fail with a one-line fix hint.

use serde::Serialize;

use super::calls::{Loc, Pool};
use super::error::{AwsError, ErrorKind};
use super::session::{self, AssumeSettings};
use super::Collector;
use crate::config::Config;
use crate::inventory::GLOBAL_REGION;

/// One doctor check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorStep {
    /// `credentials`, `caller-identity`, `organizations`, `assume-role`.
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// How to fix it, when it failed.
    pub hint: Option<String>,
}

fn pass(name: &str, detail: String) -> DoctorStep {
    DoctorStep { name: name.to_owned(), ok: true, detail, hint: None }
}

fn fail(name: &str, detail: String, hint: &str) -> DoctorStep {
    DoctorStep { name: name.to_owned(), ok: false, detail, hint: Some(hint.to_owned()) }
}

/// Builds a collector from the environment and runs the checks.
/// `account` is an account id or name to assume into; default the first
/// active account other than the caller's.
pub async fn doctor(config: &Config, run_id: &str, account: Option<&str>) -> Vec<DoctorStep> {
    match Collector::from_env(config, run_id).await {
        Ok(collector) => collector.doctor(account).await,
        Err(err) => vec![fail("credentials", err.to_string(), "configure the AWS credential chain, then rerun `fleetscan doctor`")],
    }
}

impl Collector {
    /// Runs the doctor checks with this collector's credentials.
    pub async fn doctor(&self, account: Option<&str>) -> Vec<DoctorStep> {
        let mut steps = Vec::new();
        let caller = match self.caller_identity().await {
            Ok(caller) => {
                let endpoint = self.base.endpoint_url().map(|u| format!(", endpoint override {u}")).unwrap_or_default();
                let region = self.default_region().unwrap_or_else(|| "none".to_owned());
                steps.push(pass("caller-identity", format!("{} (account {}, region {region}{endpoint})", caller.arn, caller.account)));
                caller
            }
            Err(err) => {
                steps.push(fail(
                    "caller-identity",
                    err.to_string(),
                    "credentials are missing, expired or invalid: check AWS_PROFILE / `aws sso login` / the access keys",
                ));
                return steps;
            }
        };

        let session = self.base_session(&caller.account);
        let client = session.organizations();
        let loc = Loc { account: &caller.account, region: GLOBAL_REGION };
        let org = self.calls.call(Pool::Org, loc, "organizations:DescribeOrganization", client.describe_organization().send()).await;
        let roots = match &org {
            Ok(_) => Some(self.calls.call(Pool::Org, loc, "organizations:ListRoots", client.list_roots().send()).await),
            Err(_) => None,
        };
        match (org, roots) {
            (Ok(out), Some(Ok(roots))) => {
                let org = out.organization();
                let root = roots.roots().first();
                let enabled: Vec<&str> = root
                    .map(|r| r.policy_types())
                    .unwrap_or_default()
                    .iter()
                    .filter(|t| t.status().map(|s| s.as_str() == "ENABLED").unwrap_or(false))
                    .filter_map(|t| t.r#type().map(|k| k.as_str()))
                    .collect();
                steps.push(pass(
                    "organizations",
                    format!(
                        "{} (management account {}), root {}, policy types enabled: {}",
                        org.and_then(|o| o.id()).unwrap_or("?"),
                        org.and_then(|o| o.master_account_id()).unwrap_or("?"),
                        root.and_then(|r| r.id()).unwrap_or("?"),
                        if enabled.is_empty() { "none".to_owned() } else { enabled.join(", ") }
                    ),
                ));
            }
            (Err(err), _) | (Ok(_), Some(Err(err))) => {
                let hint = if err.is_code("AWSOrganizationsNotInUseException") {
                    "the account is not in an organization: fleetscan will scan only this account"
                } else {
                    "run from the management account or a delegated administrator allowed organizations:Describe*/List*"
                };
                steps.push(fail("organizations", err.to_string(), hint));
                return steps;
            }
            (Ok(_), None) => {}
        }

        let target = match self.pick_account(&caller.account, account).await {
            Ok(Some(target)) => target,
            Ok(None) => {
                steps.push(pass("assume-role", "no member account other than the caller's to try".to_owned()));
                return steps;
            }
            Err(err) => {
                steps.push(fail("assume-role", err, "name an existing account id or name, or check organizations:ListAccounts"));
                return steps;
            }
        };
        let role_arn = session::role_arn(super::arn::partition_of(&caller.arn), &target, &self.config.aws.role_name);
        let quick = AssumeSettings { retry_budget: std::time::Duration::ZERO, ..self.assume.clone() };
        match session::assume_account(&session, &target, &role_arn, &quick).await {
            Ok(assumed) => {
                let sts = assumed.sts();
                let loc = Loc { account: &target, region: GLOBAL_REGION };
                match self.calls.call(Pool::Main, loc, "sts:GetCallerIdentity", sts.get_caller_identity().send()).await {
                    Ok(who) if who.account() == Some(target.as_str()) => {
                        steps.push(pass("assume-role", format!("assumed {role_arn} as {}", who.arn().unwrap_or("?"))))
                    }
                    Ok(who) => steps.push(fail(
                        "assume-role",
                        format!("assumed {role_arn} but the session belongs to account {}", who.account().unwrap_or("?")),
                        "check aws.role_name and the account id",
                    )),
                    Err(err) => steps.push(fail("assume-role", err.to_string(), "the assumed session cannot call STS; check the role's permissions")),
                }
            }
            Err(err) => steps.push(fail("assume-role", format!("{role_arn}: {err}"), &assume_hint(&err, &caller.arn))),
        }
        steps
    }

    /// The account to try AssumeRole into: `wanted` (id or name), else the
    /// first active account that is not the caller's.
    async fn pick_account(&self, caller_account: &str, wanted: Option<&str>) -> Result<Option<String>, String> {
        if let Some(id) = wanted.filter(|w| w.len() == 12 && w.chars().all(|c| c.is_ascii_digit())) {
            return Ok(Some(id.to_owned()));
        }
        let client = self.base_session(caller_account).organizations();
        let loc = Loc { account: caller_account, region: GLOBAL_REGION };
        let mut token = None;
        loop {
            let request = client.list_accounts().set_next_token(token);
            let page = self.calls.call(Pool::Org, loc, "organizations:ListAccounts", request.send()).await.map_err(|e| e.to_string())?;
            for account in page.accounts() {
                let (Some(id), name) = (account.id(), account.name().unwrap_or_default()) else { continue };
                #[allow(deprecated)]
                let active = account.status().map(|s| s.as_str() == "ACTIVE").unwrap_or(true);
                match wanted {
                    Some(w) if w == name => return Ok(Some(id.to_owned())),
                    None if active && id != caller_account => return Ok(Some(id.to_owned())),
                    _ => {}
                }
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return match wanted {
                    Some(w) => Err(format!("no account named `{w}` in the organization")),
                    None => Ok(None),
                };
            }
        }
    }
}

fn assume_hint(err: &AwsError, caller_arn: &str) -> String {
    match err.kind {
        ErrorKind::Denied => format!(
            "check that the role exists in the account, trusts {caller_arn} (and aws.external_id matches its sts:ExternalId condition), and that the caller may sts:AssumeRole it; a new role can take a minute to propagate"
        ),
        _ => "AssumeRole failed; rerun with -v for details".to_owned(),
    }
}
