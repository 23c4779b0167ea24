//! Call accounting and the bounded pool of in-flight AWS calls.
//!
//! Every client carries a [`CallCounter`] interceptor that counts each HTTP
//! attempt under `service:Operation` (IAM-style service prefix). Every call
//! site goes through [`Calls::call`], which takes a permit from the shared
//! pool (`aws.concurrency`, or `aws.org_concurrency` for Organizations),
//! wraps the call in a tracing span (account, region, operation) and maps the
//! SDK error into an [`AwsError`].

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

use super::error::AwsError;

/// Counts of HTTP requests sent, keyed `service:Operation`.
#[derive(Debug, Default, Clone)]
pub struct CallStats {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallStats {
    pub fn record(&self, key: String) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key).or_insert(0) += 1;
        }
    }

    /// A copy of the counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// SDK interceptor counting each attempt (retries included) of every
/// operation of one client.
#[derive(Debug, Clone)]
pub struct CallCounter {
    service: &'static str,
    stats: CallStats,
}

impl CallCounter {
    pub fn new(service: &'static str, stats: &CallStats) -> Self {
        Self { service, stats: stats.clone() }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "fleetscan-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_else(|| "Unknown".to_owned());
        self.stats.record(format!("{}:{}", self.service, operation));
        Ok(())
    }
}

/// Where a call goes, for spans and error mapping.
#[derive(Debug, Clone, Copy)]
pub struct Loc<'a> {
    pub account: &'a str,
    /// A region name, or `global` for IAM, Organizations and STS.
    pub region: &'a str,
}

/// Which pool a call draws its permit from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// `aws.concurrency`: everything per account.
    Main,
    /// `aws.org_concurrency`: Organizations calls (throttled hard by AWS).
    Org,
    /// No permit: credential refreshes, which run *inside* a call that
    /// already holds one (taking another could deadlock a full pool).
    Unpooled,
}

/// How long calls already in flight when a stop arrives may still finish
/// (a hung or slowly retried call is abandoned after this and recorded as
/// `Interrupted`, so a stop never waits for the operation timeout).
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// Stops a running scan early (interrupt, time budget): every AWS call not
/// yet sent fails fast with code `Interrupted`, calls in flight get
/// [`STOP_GRACE`] to finish and are then abandoned (also `Interrupted`), so
/// the scan winds down promptly and still returns an inventory, with
/// coverage rows saying what was cut.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<Option<String>>>);

impl Default for StopHandle {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(None)))
    }
}

impl StopHandle {
    /// Requests the stop; the first reason given is kept.
    pub fn stop(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.0.send_if_modified(|slot| {
            if slot.is_some() {
                return false;
            }
            *slot = Some(reason);
            true
        });
    }

    /// Why the scan was stopped, if it was.
    pub fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// Resolves once the scan is stopped (at once if it already is).
    pub async fn stopped(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so `wait_for` only ends when stopped.
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// Sleeps for `duration`, or less if the scan is stopped meanwhile.
    pub async fn sleep_unless_stopped(&self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.stopped() => {}
        }
    }
}

/// The shared limiter and counters of one run.
#[derive(Debug, Clone)]
pub struct Calls {
    main: Arc<Semaphore>,
    org: Arc<Semaphore>,
    pub stats: CallStats,
    pub stop: StopHandle,
}

impl Calls {
    pub fn new(concurrency: usize, org_concurrency: usize) -> Self {
        Self {
            main: Arc::new(Semaphore::new(concurrency.max(1))),
            org: Arc::new(Semaphore::new(org_concurrency.max(1))),
            stats: CallStats::default(),
            stop: StopHandle::default(),
        }
    }

    /// Runs one AWS call (`fut` is the un-polled `send()` future) under a
    /// pool permit, inside a span, mapping its error. `operation` is
    /// `service:Operation`.
    pub async fn call<T, E, F>(&self, pool: Pool, loc: Loc<'_>, operation: &'static str, fut: F) -> Result<T, AwsError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let semaphore = match pool {
            Pool::Main => Some(&self.main),
            Pool::Org => Some(&self.org),
            Pool::Unpooled => None,
        };
        let span = tracing::debug_span!("aws", account = loc.account, region = loc.region, op = operation);
        let _permit = match semaphore {
            Some(semaphore) => Some(semaphore.acquire().await),
            None => None,
        };
        if let Some(reason) = self.stop.reason() {
            return Err(AwsError::local(operation, crate::inventory::INTERRUPTED_CODE, format!("not sent: scan stopped ({reason})")));
        }
        let abandon = async {
            self.stop.stopped().await;
            tokio::time::sleep(STOP_GRACE).await;
        };
        let result = tokio::select! {
            result = fut.instrument(span.clone()) => result,
            () = abandon => {
                let reason = self.stop.reason().unwrap_or_default();
                span.in_scope(|| tracing::debug!("in-flight call abandoned: scan stopped"));
                return Err(AwsError::local(
                    operation,
                    crate::inventory::INTERRUPTED_CODE,
                    format!("abandoned in flight: scan stopped ({reason})"),
                ));
            }
        };
        result.map_err(|err| {
            let mapped = AwsError::from_sdk(operation, &err, loc.region);
            span.in_scope(|| tracing::debug!(error = %mapped, "call failed"));
            mapped
        })
    }

    /// Every page of a paginated list, each page one [`Calls::call`].
    /// `send` sends the request for the page after `token` (`None`: the
    /// first); `next` reads the token of the page after this one, if any.
    /// A list that never ends (a token repeated or empty, more than
    /// [`PAGE_LIMIT`] pages) fails with a clear error instead of looping.
    pub async fn pages<T, E, F, Fut>(
        &self,
        pool: Pool,
        loc: Loc<'_>,
        operation: &'static str,
        send: F,
        next: fn(&T) -> Option<&str>,
    ) -> Result<Vec<T>, AwsError>
    where
        T: RequestId,
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let paged = self.pages_up_to(pool, loc, operation, PAGE_LIMIT, send, next).await?;
        if paged.truncated {
            let request_id = paged.pages.last().and_then(|p| p.request_id()).map(str::to_owned);
            return Err(pagination_error(operation, PAGE_LIMIT_CODE, format!("more than {PAGE_LIMIT} pages; stopped"), request_id));
        }
        Ok(paged.pages)
    }

    /// At most `max_pages` pages of a paginated list; `truncated` says a
    /// next page existed and was not read. Repeated or empty tokens fail as
    /// in [`Calls::pages`].
    pub async fn pages_up_to<T, E, F, Fut>(
        &self,
        pool: Pool,
        loc: Loc<'_>,
        operation: &'static str,
        max_pages: usize,
        mut send: F,
        next: fn(&T) -> Option<&str>,
    ) -> Result<Paged<T>, AwsError>
    where
        T: RequestId,
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        let mut token = None;
        loop {
            let page = self.call(pool, loc, operation, send(token)).await?;
            token = check_next_token(operation, next(&page), &mut seen, pages.len() + 1, page.request_id())?;
            pages.push(page);
            match token {
                None => return Ok(Paged { pages, truncated: false }),
                Some(_) if pages.len() >= max_pages => return Ok(Paged { pages, truncated: true }),
                Some(_) => {}
            }
        }
    }
}

/// Most pages [`Calls::pages`] reads of one list before giving up (a
/// service handing out fresh tokens forever); far above any real list.
pub const PAGE_LIMIT: usize = 10_000;
/// Error codes of lists that do not end.
pub const REPEATED_TOKEN_CODE: &str = "RepeatedNextToken";
pub const EMPTY_TOKEN_CODE: &str = "EmptyNextToken";
pub const PAGE_LIMIT_CODE: &str = "PageLimitExceeded";

/// Pages read from a list, and whether pages were left unread.
#[derive(Debug)]
pub struct Paged<T> {
    pub pages: Vec<T>,
    pub truncated: bool,
}

fn pagination_error(operation: &str, code: &str, message: String, request_id: Option<String>) -> AwsError {
    let mut err = AwsError::local(operation, code, message);
    err.request_id = request_id;
    err
}

/// The token for the next page, or an error when following it would loop:
/// an empty token (sent back, it would restart the list) or one already
/// followed. `page` is the 1-based number of the page that returned it.
fn check_next_token(
    operation: &str,
    token: Option<&str>,
    seen: &mut HashSet<String>,
    page: usize,
    request_id: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let Some(token) = token else { return Ok(None) };
    let request_id = request_id.map(str::to_owned);
    if token.is_empty() {
        return Err(pagination_error(
            operation,
            EMPTY_TOKEN_CODE,
            format!("page {page} returned an empty NextToken; stopped instead of restarting the list"),
            request_id,
        ));
    }
    if !seen.insert(token.to_owned()) {
        return Err(pagination_error(
            operation,
            REPEATED_TOKEN_CODE,
            format!("page {page} returned a NextToken already followed; stopped instead of looping"),
            request_id,
        ));
    }
    Ok(Some(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_per_key() {
        let stats = CallStats::default();
        stats.record("iam:GetRole".into());
        stats.record("iam:GetRole".into());
        stats.record("sts:AssumeRole".into());
        let snap = stats.snapshot();
        assert_eq!(snap.get("iam:GetRole"), Some(&2));
        assert_eq!(snap.get("sts:AssumeRole"), Some(&1));
    }

    type StsResult = Result<(), SdkError<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError, HttpResponse>>;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pool_bounds_calls_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Calls::new(3, 1);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let work = (0..12).map(|_| {
            let (in_flight, peak) = (in_flight.clone(), peak.clone());
            let fut = async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                StsResult::Ok(())
            };
            let calls = calls.clone();
            async move { calls.call(Pool::Main, Loc { account: "1", region: "us-east-1" }, "sts:GetCallerIdentity", fut).await }
        });
        let results = futures::future::join_all(work).await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stopped_calls_fail_fast_without_sending() {
        let calls = Calls::new(2, 1);
        calls.stop.stop("interrupt");
        calls.stop.stop("second reason ignored");
        let loc = Loc { account: "1", region: "us-east-1" };
        let fut = async { StsResult::Ok(()) };
        let err = calls.call(Pool::Main, loc, "sts:GetCallerIdentity", fut).await.unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Interrupted"));
        assert!(err.to_string().contains("interrupt"));
        assert_eq!(calls.stop.reason().as_deref(), Some("interrupt"));
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_calls_are_abandoned_after_the_grace() {
        let calls = Calls::new(2, 1);
        let loc = Loc { account: "1", region: "us-east-1" };
        let hung = async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StsResult::Ok(())
        };
        let stopper = {
            let stop = calls.stop.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                stop.stop("SIGTERM");
            }
        };
        let started = tokio::time::Instant::now();
        let (result, ()) = tokio::join!(calls.call(Pool::Main, loc, "sts:GetCallerIdentity", hung), stopper);
        let err = result.unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Interrupted"));
        assert!(err.to_string().contains("abandoned in flight"), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(1) + STOP_GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_calls_may_finish_within_the_grace() {
        let calls = Calls::new(2, 1);
        calls.stop.stop("SIGINT");
        // Once stopped, nothing new is sent...
        let loc = Loc { account: "1", region: "us-east-1" };
        assert!(calls.call(Pool::Main, loc, "sts:GetCallerIdentity", async { StsResult::Ok(()) }).await.is_err());
        // ...but a call already sent may finish within the grace.
        let fresh = Calls::new(2, 1);
        let slow = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            StsResult::Ok(())
        };
        let stop = fresh.stop.clone();
        let stopper = async move { stop.stop("SIGINT") };
        let (result, ()) = tokio::join!(fresh.call(Pool::Main, loc, "sts:GetCallerIdentity", slow), stopper);
        assert!(result.is_ok(), "a call in flight finishes within the grace: {result:?}");
    }

    /// A fake list: page `i` answers the token `tokens[i]`.
    #[derive(Debug)]
    struct Page(Option<String>);

    impl RequestId for Page {
        fn request_id(&self) -> Option<&str> {
            Some("rid-page")
        }
    }

    async fn list(tokens: &[Option<&str>], max_pages: usize) -> (Result<Paged<Page>, AwsError>, usize) {
        let calls = Calls::new(2, 1);
        let loc = Loc { account: "1", region: "us-east-1" };
        let sent = std::sync::atomic::AtomicUsize::new(0);
        let result = calls
            .pages_up_to(
                Pool::Main,
                loc,
                "kinesisanalytics:ListApplications",
                max_pages,
                |_token| {
                    let i = sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let page = Page(tokens.get(i).copied().flatten().map(str::to_owned));
                    async move { StsPage::Ok(page) }
                },
                |p: &Page| p.0.as_deref(),
            )
            .await;
        (result, sent.load(std::sync::atomic::Ordering::SeqCst))
    }

    type StsPage = Result<Page, SdkError<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError, HttpResponse>>;

    #[tokio::test]
    async fn pages_follow_tokens_to_the_end() {
        let (result, sent) = list(&[Some("a"), Some("b"), None], 100).await;
        let paged = result.unwrap();
        assert_eq!((paged.pages.len(), paged.truncated, sent), (3, false, 3));
    }

    #[tokio::test]
    async fn a_repeated_token_stops_with_a_clear_error() {
        // a → b → a would loop forever
        let (result, sent) = list(&[Some("a"), Some("b"), Some("a"), Some("b")], 100).await;
        let err = result.unwrap_err();
        assert_eq!(err.code.as_deref(), Some(REPEATED_TOKEN_CODE));
        assert_eq!(err.kind, crate::collect::ErrorKind::Error);
        assert_eq!(err.request_id.as_deref(), Some("rid-page"));
        assert!(err.to_string().contains("page 3") && err.to_string().contains("kinesisanalytics:ListApplications"), "{err}");
        assert_eq!(sent, 3, "no request after the repeated token");
    }

    #[tokio::test]
    async fn an_empty_token_stops_with_a_clear_error() {
        let (result, sent) = list(&[Some("a"), Some("")], 100).await;
        let err = result.unwrap_err();
        assert_eq!(err.code.as_deref(), Some(EMPTY_TOKEN_CODE));
        assert!(err.to_string().contains("empty NextToken"), "{err}");
        assert_eq!(sent, 2);
    }

    #[tokio::test]
    async fn a_capped_list_says_it_was_truncated() {
        let (result, sent) = list(&[Some("a"), Some("b"), Some("c"), None], 2).await;
        let paged = result.unwrap();
        assert_eq!((paged.pages.len(), paged.truncated, sent), (2, true, 2));
        // exactly at the cap with no next page is not truncated
        let (result, _) = list(&[Some("a"), None], 2).await;
        assert!(!result.unwrap().truncated);
    }

    #[tokio::test(start_paused = true)]
    async fn sleep_ends_early_on_stop() {
        let stop = StopHandle::default();
        let started = tokio::time::Instant::now();
        let other = stop.clone();
        tokio::join!(stop.sleep_unless_stopped(Duration::from_secs(60)), async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            other.stop("x");
        });
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }
}
