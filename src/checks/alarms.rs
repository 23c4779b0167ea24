//! `alarm-missing`: the on-call runbook says an alarm must exist on failed
//! checkpoints, on checkpoint duration and on restarts. For each app this
//! looks at the region's CloudWatch metric alarms on the app's `Application`
//! dimension and reports each required alarm that is missing, has its
//! actions disabled (or none), or sits in `INSUFFICIENT_DATA`. The fix prints
//! the `aws cloudwatch put-metric-alarm` command with a threshold from the
//! app's own lookback window; fleetscan never runs it.

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::config::AlarmKind;
use crate::findings::Evidence;
use crate::inventory::{metric_names, FlinkApp, InlineString, MetricAlarm};

const GUIDE_ALARMS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/monitoring-metrics-alarms.html";
const CLI_PUT_METRIC_ALARM: &str = "https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/put-metric-alarm.html";
const GUIDE_METRICS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html";

pub const DOC_ALARM_MISSING: CheckDoc = CheckDoc {
    what: "Fires when an application lacks a usable CloudWatch metric alarm (namespace AWS/KinesisAnalytics, dimension \
           Application=<app>) on one of [checks] alarms_required: failed-checkpoints (numberOfFailedCheckpoints), \
           checkpoint-duration (lastCheckpointDuration), restarts (fullRestarts or downtime on Flink 1.x, numRestarts, \
           restartingTime or failingTime on Flink 2.x). An alarm whose actions are disabled, that has no alarm action, or \
           that sits in INSUFFICIENT_DATA does not count.",
    why: "Checkpoint failures and slow checkpoints come before a restart loop; without an alarm the first sign is a stale \
          state restore or an outage noticed by a consumer. An alarm with actions disabled or without data pages nobody.",
    example: "orders-prod has an alarm on lastCheckpointDuration whose actions were disabled during a maintenance window and \
              never enabled again, and no alarm on numberOfFailedCheckpoints.",
    fix: "Run the put-metric-alarm command printed in the finding (fleetscan never runs it): failed checkpoints and restarts \
          alarm on any increase (RATE(metric) > 0, as AWS recommends); checkpoint duration alarms above mean + alarm_sigma × \
          standard deviation of the app's lastCheckpointDuration in the lookback window, never above the checkpoint \
          interval. Replace <sns-topic-arn> when the region has no alarm action to reuse; enable the actions of an existing \
          alarm with `aws cloudwatch enable-alarm-actions`.",
    references: &[GUIDE_ALARMS, CLI_PUT_METRIC_ALARM, GUIDE_METRICS],
};

const PERIOD_SECS: u32 = 300;
const NAMESPACE: &str = "AWS/KinesisAnalytics";
const TOPIC_PLACEHOLDER: &str = "<sns-topic-arn>";

/// Metrics that satisfy `kind` for this app's runtime; the first is the one
/// the suggested alarm uses.
fn metrics_for(kind: AlarmKind, app: &FlinkApp) -> &'static [&'static str] {
    match kind {
        AlarmKind::FailedCheckpoints => &[metric_names::FAILED_CHECKPOINTS],
        AlarmKind::CheckpointDuration => &[metric_names::CHECKPOINT_DURATION],
        AlarmKind::Restarts if metric_names::is_flink2(&app.runtime) => {
            &[metric_names::NUM_RESTARTS, metric_names::RESTARTING_TIME, metric_names::FAILING_TIME]
        }
        AlarmKind::Restarts => &[metric_names::FULL_RESTARTS, metric_names::DOWNTIME],
    }
}

/// Why an alarm does not count, or `None` when it does. `INSUFFICIENT_DATA`
/// counts against it only while the app runs: a stopped app publishes no
/// metrics, so its alarms have no data by design.
/// States: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html>.
fn unusable(alarm: &MetricAlarm, app_running: bool) -> Option<String> {
    if !alarm.actions_enabled {
        Some(format!("alarm {} has its actions disabled", alarm.name))
    } else if alarm.alarm_actions.is_empty() {
        Some(format!("alarm {} has no alarm action", alarm.name))
    } else if app_running && alarm.state == "INSUFFICIENT_DATA" {
        Some(format!("alarm {} is in INSUFFICIENT_DATA", alarm.name))
    } else {
        None
    }
}

/// A checkpoint-duration threshold from the app's own history.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    Computed {
        ms: f64,
        mean: f64,
        stddev: f64,
        points: usize,
        capped_at: Option<i64>,
    },
    /// No usable history: the reason.
    Unknown(String),
}

/// mean + sigma × σ (population) of `lastCheckpointDuration` in the window,
/// never above the effective checkpoint interval.
pub fn duration_threshold(app: &FlinkApp, sigma: f64, lookback_hours: u32) -> Threshold {
    if app.metrics.is_none() {
        return Threshold::Unknown(
            "the app's metrics could not be read (see coverage, scope cloudwatch): choose a threshold below the checkpoint interval".to_owned(),
        );
    }
    let values: Vec<f64> = app
        .metrics
        .as_ref()
        .map(|m| m.points(metric_names::CHECKPOINT_DURATION))
        .unwrap_or_default()
        .iter()
        .map(|p| p.value)
        .collect();
    if values.len() < 2 {
        return Threshold::Unknown(format!(
            "no lastCheckpointDuration history in the {lookback_hours} h lookback window ({} point{}): choose a threshold below the checkpoint interval",
            values.len(),
            if values.len() == 1 { "" } else { "s" }
        ));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let stddev = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mut ms = (mean + sigma * stddev).ceil();
    let effective = app.checkpoint.effective;
    let mut capped_at = None;
    if effective.enabled && ms > effective.interval_ms as f64 {
        ms = effective.interval_ms as f64;
        capped_at = Some(effective.interval_ms);
    }
    Threshold::Computed { ms, mean, stddev, points: values.len(), capped_at }
}

/// `'text'` for a POSIX shell (app names come from AWS; never trusted).
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The `aws cloudwatch put-metric-alarm` command for one missing alarm
/// (printed, never run), kept as its few parameters and written out when a
/// report reads it: printed, the three commands of one app are 2 KB, and
/// thousands of apps may lack alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmCommand {
    kind: AlarmKind,
    metric: &'static str,
    app: InlineString,
    region: InlineString,
    topic: InlineString,
    /// The checkpoint-duration threshold in ms, when one could be computed.
    threshold_ms: Option<u64>,
}

impl AlarmCommand {
    pub fn new(kind: AlarmKind, app: &FlinkApp, region: &str, topic: &str, threshold: &Threshold) -> Self {
        let threshold_ms = match threshold {
            // Whole milliseconds already (ceiled, or the interval).
            Threshold::Computed { ms, .. } => Some(*ms as u64),
            Threshold::Unknown(_) => None,
        };
        Self {
            kind,
            metric: metrics_for(kind, app)[0],
            app: app.name.as_str().into(),
            region: region.into(),
            topic: topic.into(),
            threshold_ms,
        }
    }
}

impl std::fmt::Display for AlarmCommand {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { kind, metric, app, region, topic, threshold_ms } = self;
        let name = shell_quote(&format!("{app}-{}", kind.as_str()));
        write!(out, "aws cloudwatch put-metric-alarm --region {region} --alarm-name {name} ")?;
        match kind {
            AlarmKind::CheckpointDuration => {
                let value = threshold_ms.map_or_else(|| "<milliseconds>".to_owned(), |ms| ms.to_string());
                write!(
                    out,
                    "--namespace {NAMESPACE} --metric-name {metric} --dimensions {} --statistic Maximum --period {PERIOD_SECS} \
                     --comparison-operator GreaterThanThreshold --threshold {value} ",
                    shell_quote(&format!("Name=Application,Value={app}"))
                )?;
            }
            // Cumulative counters: any increase is a failure (RATE > 0).
            AlarmKind::FailedCheckpoints | AlarmKind::Restarts => {
                let metrics = serde_json::json!([
                    {"Id": "m", "ReturnData": false, "MetricStat": {"Period": PERIOD_SECS, "Stat": "Maximum",
                        "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": [{"Name": "Application", "Value": app.as_str()}]}}},
                    {"Id": "increase", "Expression": "RATE(m)", "Label": format!("{metric} increase per second"), "ReturnData": true}
                ]);
                write!(out, "--metrics {} --comparison-operator GreaterThanThreshold --threshold 0 ", shell_quote(&metrics.to_string()))?;
            }
        }
        write!(out, "--evaluation-periods 1 --alarm-actions {}", shell_quote(topic))
    }
}

/// The printed command for `kind`.
#[cfg(test)]
fn command(kind: AlarmKind, app: &FlinkApp, region: &str, topic: &str, threshold: &Threshold) -> String {
    AlarmCommand::new(kind, app, region, topic, threshold).to_string()
}

pub fn check(ctx: &Context, sink: &mut Sink) {
    let app = ctx.flink();
    let required = &ctx.config.checks.alarms_required;
    // SQL-1_0 applications publish no Flink metrics to alarm on.
    if required.is_empty() || app.runtime.starts_with("SQL-") {
        return;
    }
    let region = ctx.account().regions.iter().find(|r| r.region == ctx.region());
    // Not read (see coverage): nothing to judge.
    let Some(alarms) = region.and_then(|r| r.alarms.as_ref()) else { return };
    let running = app.status == "RUNNING";
    let mine: Vec<&MetricAlarm> = alarms.iter().filter(|a| a.metrics.iter().any(|m| m.application == app.name)).collect();
    // Reuse an action the region's alarms already notify.
    let topic = alarms
        .iter()
        .filter(|a| unusable(a, running).is_none())
        .flat_map(|a| a.alarm_actions.first())
        .next()
        .map(String::as_str)
        .unwrap_or(TOPIC_PLACEHOLDER);

    let mut missing = Vec::new();
    let mut evidence = Vec::new();
    for &kind in required {
        let wanted = metrics_for(kind, app);
        let watching: Vec<&&MetricAlarm> = mine.iter().filter(|a| a.metrics.iter().any(|m| wanted.contains(&m.metric_name.as_str()))).collect();
        if watching.iter().any(|a| unusable(a, running).is_none()) {
            continue;
        }
        let reason = match watching.first() {
            None => format!("no alarm on {}", wanted.join(" or ")),
            Some(first) => unusable(first, running).unwrap_or_default(),
        };
        missing.push(kind);
        evidence.push(Evidence::new(kind.as_str(), reason));
    }
    if missing.is_empty() {
        return;
    }
    let checks = &ctx.config.checks;
    let threshold = duration_threshold(app, checks.alarm_sigma, checks.metrics_lookback_hours);
    if missing.contains(&AlarmKind::CheckpointDuration) {
        evidence.push(Evidence::new(
            "duration threshold",
            match &threshold {
                Threshold::Computed { ms, mean, stddev, points, capped_at } => {
                    let mut text = format!("{ms:.0} ms = mean {mean:.0} + {} × σ {stddev:.0} over {points} points", checks.alarm_sigma);
                    if let Some(interval) = capped_at {
                        text = format!(
                            "{ms:.0} ms: mean {mean:.0} + {} × σ {stddev:.0} is above the {interval} ms checkpoint interval, so the interval",
                            checks.alarm_sigma
                        );
                    }
                    text
                }
                Threshold::Unknown(why) => format!("not computed: {why}"),
            },
        ));
    }
    for &kind in &missing {
        let command = AlarmCommand::new(kind, app, ctx.region(), topic, &threshold);
        evidence.push(Evidence::command(format!("command {}", kind.as_str()), command));
    }
    let names: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
    evidence.insert(0, Evidence::new("missing", names.join(", ")));
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };
    sink.emit_titled(
        CheckId::AlarmMissing,
        target,
        "alarms",
        format!("No usable alarm on {}", names.join(", ")),
        format!(
            "{} has no usable CloudWatch alarm on {}. The put-metric-alarm commands below create them (printed, never run).",
            app.name,
            names.join(", ")
        ),
        evidence,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, set_metric, Fleet};
    use crate::checks::{Context, Index};
    use crate::findings::Finding;
    use crate::inventory::{AlarmedMetric, Inventory};

    fn alarm(name: &str, app: &str, metric: &str, enabled: bool, state: &str) -> MetricAlarm {
        MetricAlarm {
            name: name.into(),
            state: state.into(),
            actions_enabled: enabled,
            alarm_actions: vec!["arn:aws:sns:eu-west-1:111111111111:oncall".into()],
            metrics: vec![AlarmedMetric { metric_name: metric.into(), application: app.into() }],
        }
    }

    fn run(inv: &Inventory, toml: &str) -> Vec<Finding> {
        let config = config_from(toml);
        let index = Index::new(inv);
        let mut sink = Sink::new();
        for app in inv.apps() {
            check(&Context::new(inv, &index, &config, app), &mut sink);
        }
        sink.into_parts().0
    }

    fn fleet(alarms: Option<Vec<MetricAlarm>>, edit: impl FnOnce(&mut FlinkApp)) -> Inventory {
        Fleet::new()
            .account("111111111111", "prod", "Root")
            .app("111111111111", "eu-west-1", "orders", edit)
            .edit(|inv| inv.accounts[0].regions[0].alarms = alarms)
            .build()
    }

    fn value(f: &Finding, label: &str) -> String {
        f.evidence
            .iter()
            .find(|e| e.label == label)
            .map(|e| e.value.to_string())
            .unwrap_or_else(|| panic!("no {label}: {:?}", f.evidence))
    }

    #[test]
    fn all_three_alarms_usable_is_quiet_and_unread_alarms_are_not_judged() {
        let all = vec![
            alarm("f", "orders", "numberOfFailedCheckpoints", true, "OK"),
            alarm("d", "orders", "lastCheckpointDuration", true, "ALARM"),
            alarm("r", "orders", "fullRestarts", true, "OK"),
        ];
        assert!(run(&fleet(Some(all), |_| {}), "").is_empty());
        assert!(run(&fleet(None, |_| {}), "").is_empty(), "alarms not read: coverage says so, no finding");
    }

    #[test]
    fn disabled_insufficient_and_other_apps_alarms_do_not_count() {
        let alarms = vec![
            alarm("orders-failed", "orders", "numberOfFailedCheckpoints", false, "OK"),
            alarm("orders-duration", "orders", "lastCheckpointDuration", true, "INSUFFICIENT_DATA"),
            alarm("billing-restarts", "billing", "fullRestarts", true, "OK"),
        ];
        let found = run(&fleet(Some(alarms), |_| {}), "");
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.check, CheckId::AlarmMissing);
        assert_eq!(value(f, "missing"), "failed-checkpoints, checkpoint-duration, restarts");
        assert_eq!(value(f, "failed-checkpoints"), "alarm orders-failed has its actions disabled");
        assert_eq!(value(f, "checkpoint-duration"), "alarm orders-duration is in INSUFFICIENT_DATA");
        assert_eq!(value(f, "restarts"), "no alarm on fullRestarts or downtime");
        // the region's working topic is reused in the commands
        assert!(value(f, "command restarts").contains("--alarm-actions 'arn:aws:sns:eu-west-1:111111111111:oncall'"));
    }

    #[test]
    fn duration_threshold_is_mean_plus_sigma_stddev_capped_at_the_interval() {
        // durations 1000, 3000 → mean 2000, σ 1000
        let found = run(
            &fleet(Some(vec![]), |a| set_metric(a, metric_names::CHECKPOINT_DURATION, &[1000.0, 3000.0])),
            "[checks]\nalarms_required = [\"checkpoint-duration\"]\n",
        );
        let f = &found[0];
        assert_eq!(value(f, "missing"), "checkpoint-duration");
        assert!(value(f, "duration threshold").starts_with("4000 ms = mean 2000 + 2 × σ 1000 over 2 points"), "{}", value(f, "duration threshold"));
        let cmd = value(f, "command checkpoint-duration");
        assert!(cmd.starts_with("aws cloudwatch put-metric-alarm --region eu-west-1 --alarm-name 'orders-checkpoint-duration' --namespace AWS/KinesisAnalytics --metric-name lastCheckpointDuration --dimensions 'Name=Application,Value=orders'"), "{cmd}");
        assert!(cmd.contains("--threshold 4000 "), "{cmd}");
        assert!(cmd.contains("--alarm-actions '<sns-topic-arn>'"), "no topic in the region to reuse: {cmd}");
        // sigma 50 would go past the 60 s interval: capped
        let found = run(
            &fleet(Some(vec![]), |a| set_metric(a, metric_names::CHECKPOINT_DURATION, &[1000.0, 3000.0])),
            "[checks]\nalarms_required = [\"checkpoint-duration\"]\nalarm_sigma = 10\n",
        );
        assert!(value(&found[0], "command checkpoint-duration").contains("--threshold 12000 "));
        let capped = duration_threshold(
            &{
                let mut a = crate::checks::testkit::flink_app("1", "eu-west-1", "x");
                set_metric(&mut a, metric_names::CHECKPOINT_DURATION, &[10_000.0, 50_000.0]);
                a
            },
            3.0,
            24,
        );
        assert!(matches!(capped, Threshold::Computed { ms, capped_at: Some(60_000), .. } if ms == 60_000.0), "{capped:?}");
    }

    #[test]
    fn no_history_gives_the_command_without_a_threshold_and_says_why() {
        let config = "[checks]\nalarms_required = [\"checkpoint-duration\"]\n";
        let found = run(&fleet(Some(vec![]), |_| {}), config);
        let f = &found[0];
        assert!(value(f, "duration threshold").starts_with("not computed: no lastCheckpointDuration history in the 24 h lookback window"));
        assert!(value(f, "command checkpoint-duration").contains("--threshold <milliseconds>"));
        // Metrics that could not be read are not "no history".
        let found = run(&fleet(Some(vec![]), |a| a.metrics = None), config);
        assert!(value(&found[0], "duration threshold").starts_with("not computed: the app's metrics could not be read"));
    }

    #[test]
    fn restarts_follow_the_runtime_and_counters_alarm_on_any_increase() {
        let found = run(
            &fleet(Some(vec![alarm("r", "orders", "fullRestarts", true, "OK")]), |a| a.runtime = "FLINK-2_2".into()),
            "[checks]\nalarms_required = [\"restarts\"]\n",
        );
        assert_eq!(found.len(), 1, "fullRestarts does not cover a Flink 2.x app");
        let cmd = value(&found[0], "command restarts");
        assert!(cmd.contains(r#""MetricName":"numRestarts""#) && cmd.contains(r#""Expression":"RATE(m)""#), "{cmd}");
        assert!(cmd.contains("--comparison-operator GreaterThanThreshold --threshold 0"), "{cmd}");
        assert!(run(
            &fleet(Some(vec![alarm("r", "orders", "numRestarts", true, "OK")]), |a| a.runtime = "FLINK-2_2".into()),
            "[checks]\nalarms_required = [\"restarts\"]\n"
        )
        .is_empty());
    }

    #[test]
    fn hostile_app_names_are_shell_quoted() {
        let mut app = crate::checks::testkit::flink_app("1", "eu-west-1", "x");
        app.name = "a'; rm -rf / #".into();
        let cmd = command(AlarmKind::CheckpointDuration, &app, "eu-west-1", TOPIC_PLACEHOLDER, &Threshold::Unknown(String::new()));
        assert!(cmd.contains(r"--alarm-name 'a'\''; rm -rf / #-checkpoint-duration'"), "{cmd}");
    }
}
