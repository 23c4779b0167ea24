//! Checkpoint metrics: one CloudWatch GetMetricData per account × region for
//! all its apps (split beyond 500 queries, pages followed), namespace
//! `AWS/KinesisAnalytics`, dimension `Application=<name>`, statistic
//! Maximum, at a period that keeps each series to at most
//! [`MAX_POINTS`] points (300 s for windows up to 8 h, 900 s for a day).
//! Each app is asked for the metrics its runtime publishes
//! ([`metric_names::for_runtime`]: `numRestarts`, `restartingTime`,
//! `failingTime` on Flink 2.x instead of `fullRestarts`, `downtime`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{DateTime, Utc};

use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::flink_detail::to_chrono;
use super::session::AccountSession;
use crate::inventory::{metric_names, CheckpointMetrics, MetricPoint};

pub const NAMESPACE: &str = "AWS/KinesisAnalytics";
/// Smallest period; a multiple of it keeps windows aligned across runs.
pub const MIN_PERIOD_SECS: i32 = 300;
/// Points kept per series: enough for the report's picture and the checks
/// (cumulative counters and maxima survive coarser periods), small enough
/// for 10,000 apps.
pub const MAX_POINTS: i64 = 96;
pub const STAT: &str = "Maximum";
/// GetMetricData accepts at most 500 queries per call.
pub const MAX_QUERIES: usize = 500;

/// The metrics window, shared by every app of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub period_secs: i32,
}

impl Window {
    /// `hours` ending at `now` rounded up to the next period boundary (so
    /// the latest, still open period is included); both ends are aligned.
    pub fn ending_at(now: DateTime<Utc>, hours: u32) -> Self {
        let span = i64::from(hours) * 3600;
        let min = i64::from(MIN_PERIOD_SECS);
        let period = ((span + MAX_POINTS * min - 1) / (MAX_POINTS * min)).max(1) * min;
        let rem = now.timestamp().rem_euclid(period);
        let end_secs = if rem == 0 { now.timestamp() } else { now.timestamp() - rem + period };
        let end = DateTime::<Utc>::from_timestamp(end_secs, 0).unwrap_or(now);
        let period_secs = i32::try_from(period).unwrap_or(MIN_PERIOD_SECS);
        Self { start: end - chrono::Duration::hours(i64::from(hours)), end, period_secs }
    }
}

/// One query: its id, the app and the metric it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    pub id: String,
    pub app: String,
    pub metric: &'static str,
}

/// An app whose metrics are read: its name and runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMetricsWanted {
    pub name: String,
    pub runtime: String,
}

/// Queries for every app × the metrics of its runtime, in batches of at
/// most [`MAX_QUERIES`].
pub fn plan_queries(apps: &[AppMetricsWanted]) -> Vec<Vec<QuerySpec>> {
    let all: Vec<QuerySpec> = apps
        .iter()
        .enumerate()
        .flat_map(|(i, app)| {
            metric_names::for_runtime(&app.runtime).iter().enumerate().map(move |(m, metric)| QuerySpec {
                id: format!("a{i}m{m}"),
                app: app.name.clone(),
                metric,
            })
        })
        .collect();
    all.chunks(MAX_QUERIES).map(<[QuerySpec]>::to_vec).collect()
}

fn query(spec: &QuerySpec, period_secs: i32) -> MetricDataQuery {
    let dimension = Dimension::builder().name("Application").value(&spec.app).build();
    let metric = Metric::builder().namespace(NAMESPACE).metric_name(spec.metric).dimensions(dimension).build();
    let stat = MetricStat::builder().metric(metric).period(period_secs).stat(STAT).build();
    MetricDataQuery::builder().id(&spec.id).metric_stat(stat).return_data(true).build()
}

fn smithy_time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

/// Metrics per app name. Apps without data get an empty series set; apps
/// of a batch that could not be read get none (their `metrics` stays
/// `None`, so no check mistakes "not read" for "no failures").
pub async fn fetch(
    session: &AccountSession,
    calls: &Calls,
    region: &str,
    apps: &[AppMetricsWanted],
    window: Window,
) -> (HashMap<String, CheckpointMetrics>, Vec<AwsError>) {
    let client = session.cloudwatch(region);
    let loc = Loc { account: &session.account_id, region };
    let mut series: HashMap<String, BTreeMap<String, Vec<MetricPoint>>> = HashMap::new();
    let mut errors = Vec::new();
    let mut unread: std::collections::HashSet<String> = std::collections::HashSet::new();
    for batch in plan_queries(apps) {
        let by_id: HashMap<&str, &QuerySpec> = batch.iter().map(|q| (q.id.as_str(), q)).collect();
        let queries: Vec<MetricDataQuery> = batch.iter().map(|q| query(q, window.period_secs)).collect();
        // Every page through Calls::pages: a repeated or empty NextToken
        // ends the batch with an error instead of looping.
        let pages = calls
            .pages(
                Pool::Main,
                loc,
                "cloudwatch:GetMetricData",
                |token| {
                    client
                        .get_metric_data()
                        .set_metric_data_queries(Some(queries.clone()))
                        .start_time(smithy_time(window.start))
                        .end_time(smithy_time(window.end))
                        .scan_by(ScanBy::TimestampAscending)
                        .set_next_token(token)
                        .send()
                },
                |out| out.next_token(),
            )
            .await;
        match pages {
            Ok(pages) => {
                for result in pages.iter().flat_map(|out| out.metric_data_results()) {
                    let Some(spec) = result.id().and_then(|id| by_id.get(id)) else { continue };
                    let points = result
                        .timestamps()
                        .iter()
                        .zip(result.values())
                        .filter_map(|(t, v)| to_chrono(t).map(|at| MetricPoint { at, value: *v }));
                    series.entry(spec.app.clone()).or_default().entry(spec.metric.to_owned()).or_default().extend(points);
                }
            }
            Err(err) => {
                unread.extend(batch.iter().map(|q| q.app.clone()));
                errors.push(err);
            }
        }
    }
    let metrics = apps
        .iter()
        .filter(|app| !unread.contains(&app.name))
        .map(|app| {
            let mut m = CheckpointMetrics {
                window_start: Some(window.start),
                window_end: Some(window.end),
                period_secs: window.period_secs,
                series: BTreeMap::new(),
            };
            for (metric, points) in series.remove(&app.name).unwrap_or_default() {
                m.set_points(&metric, points);
            }
            (app.name.clone(), m)
        })
        .collect();
    (metrics, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(n: usize, runtime: &str) -> Vec<AppMetricsWanted> {
        (0..n).map(|i| AppMetricsWanted { name: format!("app-{i}"), runtime: runtime.into() }).collect()
    }

    #[test]
    fn each_app_is_asked_for_the_metrics_of_its_runtime() {
        let mut apps = wanted(1, "FLINK-1_20");
        apps.push(AppMetricsWanted { name: "new".into(), runtime: "FLINK-2_3".into() });
        let queries: Vec<QuerySpec> = plan_queries(&apps).into_iter().flatten().collect();
        let of = |app: &str| queries.iter().filter(|q| q.app == app).map(|q| q.metric).collect::<Vec<_>>();
        assert!(of("app-0").contains(&"fullRestarts") && of("app-0").contains(&"downtime"));
        assert!(!of("app-0").contains(&"numRestarts"));
        assert!(of("new").contains(&"numRestarts") && of("new").contains(&"restartingTime") && of("new").contains(&"failingTime"));
        assert!(!of("new").contains(&"fullRestarts"), "removed in Flink 2.x");
    }

    #[test]
    fn batches_hold_at_most_500_queries_with_unique_valid_ids() {
        let apps = wanted(150, "FLINK-1_20");
        let batches = plan_queries(&apps);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [500, 250]);
        let mut ids: Vec<&str> = batches.iter().flatten().map(|q| q.id.as_str()).collect();
        assert!(ids.iter().all(|id| id.starts_with(|c: char| c.is_ascii_lowercase()) && id.chars().all(|c| c.is_ascii_alphanumeric())));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 750);
        assert!(plan_queries(&[]).is_empty());
    }

    #[test]
    fn window_is_aligned_to_the_period() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_123, 0).unwrap();
        let w = Window::ending_at(now, 24);
        assert_eq!(w.period_secs, 900);
        assert_eq!(w.end.timestamp() % 900, 0);
        assert!(w.end >= now && w.end - now < chrono::Duration::seconds(900));
        assert_eq!((w.end - w.start).num_hours(), 24);
        for hours in [1, 8, 24, 72, 24 * 63] {
            let w = Window::ending_at(now, hours);
            let points = i64::from(hours) * 3600 / i64::from(w.period_secs);
            assert!(points <= MAX_POINTS && w.period_secs % MIN_PERIOD_SECS == 0, "{hours} h: {w:?}");
        }
        assert_eq!(Window::ending_at(now, 1).period_secs, 300);
    }
}
