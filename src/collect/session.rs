//! SDK setup: the base configuration from the standard credential chain, one
//! session per account (base credentials for the caller's own account, an
//! assumed role for every other), and per-service client construction.
//!
//! `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by
//! `aws-config` for every service; S3 then switches to path-style addressing.

use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::calls::{CallCounter, Calls, Loc, Pool};
use super::error::{AwsError, ErrorKind};
use crate::config::AwsConfig;
use crate::inventory::GLOBAL_REGION;

/// Region used for global services (Organizations, IAM) and as a last resort.
pub const HOME_REGION: &str = "us-east-1";

/// Credentials are refreshed when they have less than this left (at most;
/// short sessions use a third of their lifetime, see [`refresh_margin`]).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Name of the retry partition every client of a run shares.
pub const RETRY_PARTITION: &str = "fleetscan";

/// The retry partition of every client: one partition, with an *unlimited*
/// retry quota.
///
/// The SDK's standard retry mode keeps a token bucket per partition
/// (aws-smithy-runtime `client/retries/token_bucket.rs`: 500 tokens, 5 per
/// retried throttling error, 5–14 per other retryable error, one back per
/// first-attempt success). Under sustained throttling (30% of calls at 32 in
/// flight) the bucket drains and the strategy then answers "not enough retry
/// quota" (`strategy/standard.rs`, `should_attempt_retry`): a retryable error
/// becomes a failure after a single attempt and data is lost. The quota
/// exists to stop retry storms; fleetscan bounds those itself — at most
/// `aws.concurrency` calls in flight, each retried at most `aws.max_attempts`
/// times with exponential backoff and jitter — so the quota is switched off.
pub fn retry_partition() -> RetryPartition {
    RetryPartition::custom(RETRY_PARTITION).token_bucket(TokenBucket::unlimited()).build()
}

/// Per-attempt timeout: a third of the operation timeout (at least one
/// second), so one hung attempt leaves room for retries within the
/// operation's budget.
pub fn attempt_timeout(operation_timeout: Duration) -> Duration {
    (operation_timeout / 3).max(Duration::from_secs(1)).min(operation_timeout)
}

/// Loads the base configuration: standard chain, retries with exponential
/// backoff and jitter (`aws.max_attempts`), connect, read, per-attempt and
/// per-operation timeouts (so a hung endpoint cannot hang the run), and an
/// identity cache that refreshes credentials five minutes early.
pub async fn load_base(aws: &AwsConfig) -> SdkConfig {
    load_base_with(aws, None).await
}

/// [`load_base`], sending every request through `http_client` when given
/// (the Organization-scale benchmark plugs its synthetic AWS in here).
pub async fn load_base_with(aws: &AwsConfig, http_client: Option<SharedHttpClient>) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(aws.max_attempts)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20));
    let operation = Duration::from_secs(aws.operation_timeout_secs);
    let attempt = attempt_timeout(operation);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(aws.connect_timeout_secs).min(attempt))
        .read_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = http_client {
        loader = loader.http_client(client);
    }
    loader
        .retry_config(retry)
        .timeout_config(timeouts)
        .identity_cache(
            IdentityCache::lazy()
                .buffer_time(REFRESH_BEFORE_EXPIRY)
                // AssumeRole refreshes may be retried through throttling.
                .load_timeout(Duration::from_secs(aws.operation_timeout_secs))
                // One partition per assumed account (default 64 would churn
                // in large organizations; the providers cache anyway).
                .max_partitions(100_000)
                .build(),
        )
        .load()
        .await
}

/// A valid RoleSessionName (`[\w+=,.@-]{2,64}`) naming the run.
pub fn session_name(run_id: &str) -> String {
    let mut name: String = format!("fleetscan-{run_id}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
        .collect();
    name.truncate(64);
    name
}

/// `arn:<partition>:iam::<account>:role/<name>`.
pub fn role_arn(partition: &str, account_id: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role/{role_name}")
}

/// The credentials of one account and the clients built from them.
#[derive(Debug, Clone)]
pub struct AccountSession {
    pub account_id: String,
    config: SdkConfig,
    calls: Calls,
    retry_partition: RetryPartition,
}

impl AccountSession {
    /// A session using `config`'s credentials as they are.
    pub fn new(account_id: &str, config: SdkConfig, calls: &Calls) -> Self {
        Self { account_id: account_id.to_owned(), config, calls: calls.clone(), retry_partition: retry_partition() }
    }

    fn region(&self, region: &str) -> Region {
        if region == GLOBAL_REGION {
            Region::new(HOME_REGION)
        } else {
            Region::new(region.to_owned())
        }
    }

    fn counter(&self, service: &'static str) -> CallCounter {
        CallCounter::new(service, &self.calls.stats)
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(self.region(HOME_REGION))
            .interceptor(self.counter("organizations"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let region = self.config.region().cloned().unwrap_or_else(|| Region::new(HOME_REGION));
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(region)
            .interceptor(self.counter("sts"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .region(self.region(HOME_REGION))
            .interceptor(self.counter("iam"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn flink(&self, region: &str) -> aws_sdk_kinesisanalyticsv2::Client {
        let conf = aws_sdk_kinesisanalyticsv2::config::Builder::from(&self.config)
            .region(self.region(region))
            .interceptor(self.counter("kinesisanalytics"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_kinesisanalyticsv2::Client::from_conf(conf)
    }

    pub fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.config)
            .region(self.region(region))
            .interceptor(self.counter("cloudwatch"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    /// AWS Health through its global endpoint (us-east-1), where the
    /// organizational view is served
    /// (<https://docs.aws.amazon.com/health/latest/ug/health-api.html>).
    pub fn health(&self) -> aws_sdk_health::Client {
        let conf = aws_sdk_health::config::Builder::from(&self.config)
            .region(Region::new("us-east-1"))
            .interceptor(self.counter("health"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_health::Client::from_conf(conf)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.config)
            .region(self.region(region))
            .interceptor(self.counter("kms"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    pub fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        let conf = aws_sdk_kinesis::config::Builder::from(&self.config)
            .region(self.region(region))
            .interceptor(self.counter("kinesis"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_kinesis::Client::from_conf(conf)
    }

    /// S3 client; path-style when an endpoint URL is configured (emulators).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(self.region(region))
            .force_path_style(self.config.endpoint_url().is_some())
            .interceptor(self.counter("s3"))
            .retry_partition(self.retry_partition.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

/// What AssumeRole needs besides the target account. `Debug` leaves the
/// external id out.
#[derive(Clone)]
pub struct AssumeSettings {
    pub role_name: String,
    pub external_id: Option<String>,
    pub duration_secs: i32,
    pub session_name: String,
    /// How long AccessDenied is retried (role propagation).
    pub retry_budget: Duration,
}

impl std::fmt::Debug for AssumeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeSettings")
            .field("role_name", &self.role_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "** redacted **"))
            .field("duration_secs", &self.duration_secs)
            .field("session_name", &self.session_name)
            .field("retry_budget", &self.retry_budget)
            .finish()
    }
}

impl AssumeSettings {
    pub fn from_config(aws: &AwsConfig, run_id: &str) -> Self {
        Self {
            role_name: aws.role_name.clone(),
            external_id: aws.external_id.clone(),
            duration_secs: i32::try_from(aws.session_duration_secs).unwrap_or(3600),
            session_name: session_name(run_id),
            retry_budget: Duration::from_secs(aws.assume_role_retry_secs),
        }
    }
}

/// Assumed-role credentials and when they were obtained (their lifetime
/// decides the refresh margin).
#[derive(Debug, Clone)]
struct Issued {
    credentials: Credentials,
    at: SystemTime,
}

impl Issued {
    fn now(credentials: Credentials) -> Self {
        Self { credentials, at: SystemTime::now() }
    }
}

/// Credentials provider for an assumed role: hands out the cached
/// credentials and calls AssumeRole again once they are within their
/// [`refresh_margin`] of expiring. It is the only cache of these
/// credentials (the SDK's identity cache is off for assumed sessions, so
/// every attempt asks it, and the margin is its alone).
#[derive(Debug)]
struct AssumedRoleProvider {
    sts: aws_sdk_sts::Client,
    calls: Calls,
    account_id: String,
    role_arn: String,
    settings: AssumeSettings,
    current: tokio::sync::Mutex<Issued>,
}

impl AssumedRoleProvider {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let mut current = self.current.lock().await;
        if !needs_refresh(current.credentials.expiry(), current.at, SystemTime::now()) {
            return Ok(current.credentials.clone());
        }
        tracing::debug!(account = %self.account_id, role = %self.role_arn, "refreshing assumed-role credentials before they expire");
        let fresh = assume_once(&self.sts, &self.calls, Pool::Unpooled, &self.account_id, &self.role_arn, &self.settings)
            .await
            .map_err(CredentialsError::provider_error)?;
        *current = Issued::now(fresh.clone());
        Ok(fresh)
    }
}

impl ProvideCredentials for AssumedRoleProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// How long before expiry credentials valid for `lifetime` are refreshed:
/// [`REFRESH_BEFORE_EXPIRY`], or a third of the lifetime when that is less
/// (a 15-minute session refreshes with 5 minutes left, a 6-second one with
/// 2), so short sessions are not re-assumed on every call.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 3).min(REFRESH_BEFORE_EXPIRY)
}

/// Whether credentials obtained at `issued` and expiring at `expiry` should
/// be refreshed at `now`.
pub fn needs_refresh(expiry: Option<SystemTime>, issued: SystemTime, now: SystemTime) -> bool {
    match expiry {
        None => false,
        Some(expiry) => {
            let lifetime = expiry.duration_since(issued).unwrap_or_default();
            expiry.duration_since(now).map(|left| left <= refresh_margin(lifetime)).unwrap_or(true)
        }
    }
}

async fn assume_once(
    sts: &aws_sdk_sts::Client,
    calls: &Calls,
    pool: Pool,
    account_id: &str,
    role_arn: &str,
    settings: &AssumeSettings,
) -> Result<Credentials, AwsError> {
    let request = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(&settings.session_name)
        .duration_seconds(settings.duration_secs)
        .set_external_id(settings.external_id.clone());
    let loc = Loc { account: account_id, region: GLOBAL_REGION };
    let output = calls.call(pool, loc, "sts:AssumeRole", request.send()).await?;
    let creds = output
        .credentials()
        .ok_or_else(|| AwsError::local("sts:AssumeRole", "MissingCredentials", "AssumeRole returned no credentials"))?;
    let expiry = SystemTime::try_from(*creds.expiration()).ok();
    Ok(Credentials::new(creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token().to_owned()), expiry, "fleetscan-assume-role"))
}

/// Assumes `role_arn` with the base session's STS client, retrying
/// AccessDenied within `settings.retry_budget`, and returns a session whose
/// credentials refresh themselves before expiry.
pub async fn assume_account(base: &AccountSession, account_id: &str, role_arn: &str, settings: &AssumeSettings) -> Result<AccountSession, AwsError> {
    let sts = base.sts();
    let started = tokio::time::Instant::now();
    // Short first waits so a small budget (tests) still retries a few times.
    let mut delay = (settings.retry_budget / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
    let first = loop {
        match assume_once(&sts, &base.calls, Pool::Main, account_id, role_arn, settings).await {
            Ok(creds) => break Issued::now(creds),
            Err(err) if err.kind == ErrorKind::Denied && started.elapsed() + delay <= settings.retry_budget => {
                tracing::info!(account = account_id, role = role_arn, "AssumeRole denied; retrying in {:?} (role may be propagating)", delay);
                // A stop ends the wait; the next attempt then fails as Interrupted.
                base.calls.stop.sleep_unless_stopped(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(err) => return Err(err),
        }
    };
    let provider = AssumedRoleProvider {
        sts,
        calls: base.calls.clone(),
        account_id: account_id.to_owned(),
        role_arn: role_arn.to_owned(),
        settings: settings.clone(),
        current: tokio::sync::Mutex::new(first),
    };
    let config = base
        .config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .identity_cache(IdentityCache::no_cache())
        .build();
    Ok(AccountSession::new(account_id, config, &base.calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_name_is_valid_and_names_the_run() {
        assert_eq!(session_name("20261125T190918Z"), "fleetscan-20261125T190918Z");
        assert_eq!(session_name("a b/c"), "fleetscan-a-b-c");
        assert!(session_name(&"x".repeat(100)).len() <= 64);
    }

    #[test]
    fn refresh_when_close_to_expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let secs = Duration::from_secs;
        // One-hour session: refreshed in its last five minutes.
        let hour = Some(t0 + secs(3600));
        assert!(!needs_refresh(None, t0, t0));
        assert!(!needs_refresh(hour, t0, t0));
        assert!(!needs_refresh(hour, t0, t0 + secs(3299)));
        assert!(needs_refresh(hour, t0, t0 + secs(3300)));
        assert!(needs_refresh(hour, t0, t0 + secs(3700)));
        // Already expired when obtained (clock skew): refresh.
        assert!(needs_refresh(Some(t0 - secs(60)), t0, t0));
    }

    #[test]
    fn short_sessions_refresh_in_their_last_third_not_on_every_call() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ms = Duration::from_millis;
        assert_eq!(refresh_margin(Duration::from_secs(900)), Duration::from_secs(300));
        assert_eq!(refresh_margin(Duration::from_secs(3600)), REFRESH_BEFORE_EXPIRY);
        assert_eq!(refresh_margin(Duration::from_secs(6)), Duration::from_secs(2));
        // A 6-second session is reused for its first 4 seconds.
        let expiry = Some(t0 + Duration::from_secs(6));
        assert!(!needs_refresh(expiry, t0, t0));
        assert!(!needs_refresh(expiry, t0, t0 + ms(3900)));
        assert!(needs_refresh(expiry, t0, t0 + ms(4000)));
        // 15-minute session (the STS minimum).
        let expiry = Some(t0 + Duration::from_secs(900));
        assert!(!needs_refresh(expiry, t0, t0 + Duration::from_secs(599)));
        assert!(needs_refresh(expiry, t0, t0 + Duration::from_secs(600)));
    }

    #[test]
    fn attempt_timeout_leaves_room_for_retries() {
        let secs = Duration::from_secs;
        assert_eq!(attempt_timeout(secs(120)), secs(40));
        assert_eq!(attempt_timeout(secs(2)), secs(1));
        assert_eq!(attempt_timeout(secs(1)), secs(1));
    }

    #[test]
    fn debug_redacts_the_external_id() {
        let settings = AssumeSettings {
            role_name: "Audit".into(),
            external_id: Some("s3cr3t".into()),
            duration_secs: 3600,
            session_name: "fleetscan-x".into(),
            retry_budget: Duration::ZERO,
        };
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }

    #[test]
    fn role_arn_format() {
        assert_eq!(role_arn("aws", "111122223333", "Audit"), "arn:aws:iam::111122223333:role/Audit");
    }
}
