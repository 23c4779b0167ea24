//! collect: the only code that talks to AWS. It reads, never writes.
//!
//! The interface the CLI uses:
//!
//! ```text
//! let collector = Collector::from_env(&config, &run_id).await?;  // standard chain, AWS_ENDPOINT_URL
//! let org = collector.discover_org().await?;                     // caller + org tree + SCP/RCP chains
//! let plan = plan::build(&config, &org);                         // pure
//! let inventory = collector.scan(&plan, |event| ...).await;      // never fails: failures are coverage rows
//! let steps = collector.doctor(None).await;                      // `fleetscan doctor`
//! ```
//!
//! Every AWS call runs under one bounded pool (`aws.concurrency` calls in
//! flight; Organizations under `aws.org_concurrency`), is counted per
//! `service:Operation` into `RunInfo::api_calls`, and runs inside a tracing
//! span naming account, region and operation.

pub mod alarms;
pub mod arn;
pub mod calls;
pub mod chains;
pub mod coverage;
pub mod default_policy;
pub mod doctor;
pub mod error;
pub mod flink;
pub mod flink_detail;
pub mod health;
pub mod iam;
pub mod metrics;
pub mod opt_in;
pub mod org;
pub mod ownership;
pub mod resources;
mod scan;
pub mod session;
pub mod unread;

use std::collections::BTreeMap;

use aws_config::SdkConfig;

pub use calls::StopHandle;
pub use doctor::DoctorStep;
pub use error::{AwsError, ErrorKind};
pub use org::{CallerIdentity, OrgView};
pub use scan::ProgressEvent;

use crate::config::Config;
use calls::{Calls, Loc, Pool};
use session::{AccountSession, AssumeSettings};

/// Why a collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "no AWS credentials found: set AWS_PROFILE (and `aws sso login`), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an instance/task role"
    )]
    NoCredentials,
    #[error("cannot identify the caller (sts:GetCallerIdentity): {0}\nCheck the AWS credentials (environment, AWS_PROFILE, SSO login, instance role); `fleetscan doctor` tests the setup step by step.")]
    CallerIdentity(AwsError),
}

/// One run's connection to AWS: base configuration, call pool and counters.
#[derive(Debug, Clone)]
pub struct Collector {
    config: Config,
    run_id: String,
    base: SdkConfig,
    calls: Calls,
    assume: AssumeSettings,
}

impl Collector {
    /// Loads credentials, region and endpoint from the standard chain
    /// (`AWS_ENDPOINT_URL` routes every service) and applies `aws.*` settings.
    pub async fn from_env(config: &Config, run_id: &str) -> Result<Self, CollectError> {
        Self::from_env_with_http_client(config, run_id, None).await
    }

    /// [`Collector::from_env`] with every AWS request sent through
    /// `http_client` (benchmarks and tests plug a synthetic AWS in here).
    pub async fn from_env_with_http_client(
        config: &Config,
        run_id: &str,
        http_client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    ) -> Result<Self, CollectError> {
        let base = session::load_base_with(&config.aws, http_client).await;
        if base.credentials_provider().is_none() {
            return Err(CollectError::NoCredentials);
        }
        if let Some(url) = base.endpoint_url() {
            tracing::info!(endpoint = url, "AWS endpoint override in effect for every service");
        }
        Ok(Self {
            config: config.clone(),
            run_id: run_id.to_owned(),
            base,
            calls: Calls::new(config.aws.concurrency, config.aws.org_concurrency),
            assume: AssumeSettings::from_config(&config.aws, run_id),
        })
    }

    /// The region of the credential chain, if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// AWS calls made so far, keyed `service:Operation`.
    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        self.calls.stats.snapshot()
    }

    /// A handle that stops this collector's scan early (Ctrl-C,
    /// `--max-duration`); the scan then returns what it has, with
    /// `RunInfo::interrupted` set and `Interrupted` coverage rows.
    pub fn stop_handle(&self) -> StopHandle {
        self.calls.stop.clone()
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub(crate) fn base_session(&self, account_id: &str) -> AccountSession {
        AccountSession::new(account_id, self.base.clone(), &self.calls)
    }

    /// STS GetCallerIdentity with the base credentials.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        let sts = self.base_session("caller").sts();
        let loc = Loc { account: "caller", region: crate::inventory::GLOBAL_REGION };
        let out = self.calls.call(Pool::Main, loc, "sts:GetCallerIdentity", sts.get_caller_identity().send()).await?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// Identifies the caller, then reads the organization: OU tree, accounts
    /// with OU paths and parent ids, SCPs/RCPs and each account's chains.
    /// Fails only when the caller cannot be identified (no usable
    /// credentials); an unreadable organization yields a single-account view
    /// of the caller's account plus an `organizations` coverage row.
    pub async fn discover_org(&self) -> Result<OrgView, CollectError> {
        let caller = self.caller_identity().await.map_err(CollectError::CallerIdentity)?;
        let session = self.base_session(&caller.account);
        Ok(org::discover(&session, &self.calls, caller, self.default_region()).await)
    }

    /// Like [`Collector::discover_org`] without the SCPs and RCPs: the OU
    /// tree and accounts, enough to plan. [`Collector::scan`] then fetches
    /// the policies alongside the accounts, so a large Organization's policy
    /// pages do not delay the scan.
    pub async fn discover_tree(&self) -> Result<OrgView, CollectError> {
        let caller = self.caller_identity().await.map_err(CollectError::CallerIdentity)?;
        let session = self.base_session(&caller.account);
        Ok(org::discover_tree(&session, &self.calls, caller, self.default_region()).await)
    }
}
