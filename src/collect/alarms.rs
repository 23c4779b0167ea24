//! CloudWatch alarms: one paged `DescribeAlarms` (metric alarms only) per
//! account × region that has apps, through the same pool as every call.
//! Only alarms watching a Managed Flink metric (namespace
//! `AWS/KinesisAnalytics` with an `Application` dimension, directly or inside
//! a metric-math query) are kept: the alarm check reads nothing else, and an
//! account's other alarms would only cost memory.
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html>

use aws_sdk_cloudwatch::types::{AlarmType, Dimension, Metric};

use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::metrics::NAMESPACE;
use super::session::AccountSession;
use crate::inventory::{AlarmedMetric, MetricAlarm};

/// Largest page DescribeAlarms allows.
pub const PAGE_SIZE: i32 = 100;

/// The Managed Flink metric `metric` names, if it is one.
fn flink_metric(metric: Option<&Metric>) -> Option<AlarmedMetric> {
    let metric = metric?;
    if metric.namespace() != Some(NAMESPACE) {
        return None;
    }
    application(metric.dimensions(), metric.metric_name())
}

fn application(dimensions: &[Dimension], metric_name: Option<&str>) -> Option<AlarmedMetric> {
    let app = dimensions.iter().find(|d| d.name() == Some("Application"))?.value()?;
    Some(AlarmedMetric { metric_name: metric_name?.into(), application: app.into() })
}

/// The alarm as the check reads it, or `None` when it watches no Managed Flink metric.
fn reduce(alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> Option<MetricAlarm> {
    let mut metrics = Vec::new();
    if alarm.namespace() == Some(NAMESPACE) {
        metrics.extend(application(alarm.dimensions(), alarm.metric_name()));
    }
    for query in alarm.metrics() {
        metrics.extend(flink_metric(query.metric_stat().and_then(|s| s.metric())));
    }
    if metrics.is_empty() {
        return None;
    }
    Some(MetricAlarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        state: alarm.state_value().map(|s| s.as_str()).unwrap_or_default().into(),
        actions_enabled: alarm.actions_enabled().unwrap_or(false),
        alarm_actions: alarm.alarm_actions().to_vec(),
        metrics,
    })
}

/// Every metric alarm of the region that watches a Managed Flink metric.
pub async fn fetch(session: &AccountSession, calls: &Calls, region: &str) -> Result<Vec<MetricAlarm>, AwsError> {
    let client = session.cloudwatch(region);
    let loc = Loc { account: &session.account_id, region };
    let mut alarms = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = client.describe_alarms().alarm_types(AlarmType::MetricAlarm).max_records(PAGE_SIZE).set_next_token(token.take());
        let page = calls.call(Pool::Main, loc, "cloudwatch:DescribeAlarms", request.send()).await?;
        alarms.extend(page.metric_alarms().iter().filter_map(reduce));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(alarms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::{MetricDataQuery, MetricStat, StateValue};

    fn dim(name: &str, value: &str) -> Dimension {
        Dimension::builder().name(name).value(value).build()
    }

    #[test]
    fn keeps_flink_alarms_direct_or_in_metric_math() {
        let direct = aws_sdk_cloudwatch::types::MetricAlarm::builder()
            .alarm_name("orders-duration")
            .namespace(NAMESPACE)
            .metric_name("lastCheckpointDuration")
            .dimensions(dim("Application", "orders"))
            .actions_enabled(true)
            .alarm_actions("arn:aws:sns:eu-west-1:1:oncall")
            .state_value(StateValue::Ok)
            .build();
        let reduced = reduce(&direct).unwrap();
        assert_eq!(reduced.metrics, vec![AlarmedMetric { metric_name: "lastCheckpointDuration".into(), application: "orders".into() }]);
        assert_eq!((reduced.state.as_str(), reduced.actions_enabled, reduced.alarm_actions.len()), ("OK", true, 1));

        let metric = Metric::builder()
            .namespace(NAMESPACE)
            .metric_name("numberOfFailedCheckpoints")
            .dimensions(dim("Application", "orders"))
            .build();
        let math = aws_sdk_cloudwatch::types::MetricAlarm::builder()
            .alarm_name("orders-failed")
            .metrics(
                MetricDataQuery::builder()
                    .id("m1")
                    .metric_stat(MetricStat::builder().metric(metric).period(60).stat("Maximum").build())
                    .return_data(false)
                    .build(),
            )
            .metrics(MetricDataQuery::builder().id("e1").expression("RATE(m1)").return_data(true).build())
            .state_value(StateValue::InsufficientData)
            .build();
        let reduced = reduce(&math).unwrap();
        assert_eq!(reduced.metrics[0].metric_name, "numberOfFailedCheckpoints");
        assert_eq!(reduced.state, "INSUFFICIENT_DATA");
        assert!(!reduced.actions_enabled);

        let other = aws_sdk_cloudwatch::types::MetricAlarm::builder()
            .alarm_name("cpu")
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .dimensions(dim("InstanceId", "i-1"))
            .build();
        assert!(reduce(&other).is_none());
    }
}
