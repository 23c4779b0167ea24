//! Managed Flink, per account × region: ListApplications (all pages), then
//! per app DescribeApplication, ListApplicationSnapshots (all pages),
//! ListApplicationOperations (every page, up to [`MAX_OPERATION_PAGES`]),
//! DescribeApplicationOperation for FAILED operations inside the window, and
//! ListTagsForResource.

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::calls::{Calls, Loc, Pool};
use super::error::{AwsError, ErrorKind};
use super::flink_detail;
use super::session::AccountSession;
use crate::inventory::{FlinkApp, InlineString, Operation, Snapshot};

/// Page size for the list operations (the API maximum is 50).
const PAGE: i32 = 50;
/// Most ListApplicationOperations pages read per app. AWS documents no
/// order for the list
/// (<https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ListApplicationOperations.html>),
/// so the window is covered only when every page is read; beyond this many
/// pages (1,000 operations) the app's coverage row says the list was cut.
pub const MAX_OPERATION_PAGES: usize = 20;
/// Code of the coverage row of an app whose operations list was cut.
pub const TRUNCATED_CODE: &str = crate::inventory::TRUNCATED_CODE;

/// One region's Flink apps and what went wrong reading them.
#[derive(Debug, Default)]
pub struct RegionApps {
    pub apps: Vec<FlinkApp>,
    /// Key ids (id, alias or ARN) of CMK apps, by app name, for KMS resolution.
    pub key_ids: Vec<(String, String)>,
    /// Failed calls that did not lose an app (snapshots, tags, ...).
    pub errors: Vec<AwsError>,
    /// Apps listed but gone by DescribeApplication.
    pub deleted: Vec<(String, AwsError)>,
    /// Apps whose DescribeApplication failed otherwise.
    pub failed: Vec<(String, AwsError)>,
    /// Apps read, but with a list cut at its page cap: (app, what was cut).
    pub truncated: Vec<(String, String)>,
}

struct Reader<'a> {
    client: aws_sdk_kinesisanalyticsv2::Client,
    calls: &'a Calls,
    loc: Loc<'a>,
    window_start: DateTime<Utc>,
}

/// Lists and reads every app of the region. `Err` when the listing itself
/// failed (region disabled, denied, ...): nothing else was tried.
pub async fn scan_region(session: &AccountSession, calls: &Calls, region: &str, window_start: DateTime<Utc>) -> Result<RegionApps, AwsError> {
    let reader = Reader {
        client: session.flink(region),
        calls,
        loc: Loc { account: &session.account_id, region },
        window_start,
    };
    let names = reader.list().await?;
    let results = join_all(names.iter().map(|name| reader.app(name))).await;
    let mut out = RegionApps::default();
    for (name, result) in names.into_iter().zip(results) {
        match result {
            Ok((app, key_id, errors, truncated)) => {
                if let Some(cut) = truncated {
                    out.truncated.push((app.name.to_string(), cut));
                }
                if let Some(key_id) = key_id {
                    out.key_ids.push((app.name.to_string(), key_id));
                }
                out.apps.push(app);
                out.errors.extend(errors);
            }
            Err(err) if err.kind == ErrorKind::NotFound => out.deleted.push((name, err)),
            Err(err) => out.failed.push((name, err)),
        }
    }
    out.apps.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl Reader<'_> {
    async fn list(&self) -> Result<Vec<String>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Main,
                self.loc,
                "kinesisanalytics:ListApplications",
                |token| self.client.list_applications().limit(PAGE).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        Ok(pages.iter().flat_map(|page| page.application_summaries()).map(|s| s.application_name().to_owned()).collect())
    }

    /// The app, its key id when customer managed, non-fatal errors, and
    /// what was cut when a list hit its page cap.
    async fn app(&self, name: &str) -> Result<(FlinkApp, Option<String>, Vec<AwsError>, Option<String>), AwsError> {
        let request = self.client.describe_application().application_name(name);
        let described = self.calls.call(Pool::Main, self.loc, "kinesisanalytics:DescribeApplication", request.send()).await?;
        let detail = described
            .application_detail()
            .ok_or_else(|| AwsError::local("kinesisanalytics:DescribeApplication", "MissingDetail", format!("no ApplicationDetail for {name}")))?;
        let mut app = flink_detail::app_from_detail(detail);
        let key_id = flink_detail::key_id(detail).filter(|_| app.encryption.is_customer_managed());
        let (snapshots, operations, tags) = futures::join!(self.snapshots(name), self.operations(name), self.tags(&app.arn));
        let mut errors = Vec::new();
        let mut truncated = None;
        match snapshots {
            Ok(list) => app.snapshots = list,
            Err(err) => errors.push(err),
        }
        match operations {
            Ok((list, errs, cut)) => {
                app.operations = list;
                errors.extend(errs);
                truncated = cut;
            }
            Err(err) => errors.push(err),
        }
        match tags {
            Ok(tags) => app.tags = tags,
            Err(err) => errors.push(err),
        }
        Ok((app, key_id, errors, truncated))
    }

    async fn snapshots(&self, name: &str) -> Result<Vec<Snapshot>, AwsError> {
        let pages = self
            .calls
            .pages(
                Pool::Main,
                self.loc,
                "kinesisanalytics:ListApplicationSnapshots",
                |token| self.client.list_application_snapshots().application_name(name).limit(PAGE).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        let mut out: Vec<Snapshot> = pages.iter().flat_map(|page| page.snapshot_summaries()).map(flink_detail::snapshot).collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(out)
    }

    /// Every operation (all pages, up to [`MAX_OPERATION_PAGES`]), newest
    /// first; FAILED ones inside the window get their error. The third
    /// value says what was cut when the list had more pages than the cap.
    async fn operations(&self, name: &str) -> Result<(Vec<Operation>, Vec<AwsError>, Option<String>), AwsError> {
        let paged = self
            .calls
            .pages_up_to(
                Pool::Main,
                self.loc,
                "kinesisanalytics:ListApplicationOperations",
                MAX_OPERATION_PAGES,
                |token| self.client.list_application_operations().application_name(name).limit(PAGE).set_next_token(token).send(),
                |page| page.next_token(),
            )
            .await?;
        let mut out: Vec<Operation> =
            paged.pages.iter().flat_map(|page| page.application_operation_info_list()).map(flink_detail::operation).collect();
        let truncated = paged.truncated.then(|| {
            format!(
                "kinesisanalytics:ListApplicationOperations: read {MAX_OPERATION_PAGES} pages ({} operations) and stopped; AWS documents no order, so failed operations inside the window may be on pages not read",
                out.len()
            )
        });
        out.sort_by_key(|o| std::cmp::Reverse(o.started_at));
        let failed: Vec<usize> = out
            .iter()
            .enumerate()
            // The check fires on an operation that ended (or started) inside
            // the window: ask for the error of exactly those.
            .filter(|(_, o)| o.status == "FAILED" && !o.id.is_empty() && o.ended_at.or(o.started_at).map(|t| t >= self.window_start).unwrap_or(true))
            .map(|(i, _)| i)
            .collect();
        let details = join_all(failed.iter().map(|&i| self.failure(name, &out[i].id))).await;
        let mut errors = Vec::new();
        for (i, detail) in failed.into_iter().zip(details) {
            match detail {
                Ok(error) => out[i].error = error,
                Err(err) => errors.push(err),
            }
        }
        Ok((out, errors, truncated))
    }

    async fn failure(&self, name: &str, operation_id: &str) -> Result<Option<String>, AwsError> {
        let request = self.client.describe_application_operation().application_name(name).operation_id(operation_id);
        let out = self.calls.call(Pool::Main, self.loc, "kinesisanalytics:DescribeApplicationOperation", request.send()).await?;
        Ok(out
            .application_operation_info_details()
            .and_then(|d| d.operation_failure_details())
            .and_then(|f| f.error_info())
            .and_then(|e| e.error_string())
            .map(str::to_owned))
    }

    async fn tags(&self, arn: &str) -> Result<std::collections::BTreeMap<InlineString, InlineString>, AwsError> {
        let request = self.client.list_tags_for_resource().resource_arn(arn);
        let out = self.calls.call(Pool::Main, self.loc, "kinesisanalytics:ListTagsForResource", request.send()).await?;
        Ok(out.tags().iter().map(|t| (t.key().into(), t.value().unwrap_or_default().into())).collect())
    }
}
