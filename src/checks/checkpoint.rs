//! Checkpoint checks: on *effective* values (`ConfigurationType = DEFAULT`
//! means on, 60000 ms, 5000 ms, whatever the raw fields say) and on the
//! CloudWatch checkpoint metrics of the lookback window.

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::Evidence;
use crate::inventory::{metric_names, FlinkApp};

const API_CHECKPOINT_CONFIGURATION: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CheckpointConfiguration.html";
const GUIDE_FAULT_TOLERANCE: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-fault.html";
const GUIDE_METRICS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html";
const FLINK_CHECKPOINTING: &str = "https://nightlies.apache.org/flink/flink-docs-release-1.20/docs/dev/datastream/fault-tolerance/checkpointing/";
const FLINK_TUNING: &str = "https://nightlies.apache.org/flink/flink-docs-release-1.20/docs/ops/state/large_state_tuning/";

pub const DOC_CHECKPOINTING_DISABLED: CheckDoc = CheckDoc {
    what: "Fires when the application's effective checkpointing is off: ConfigurationType is CUSTOM and CheckpointingEnabled is false. \
           With ConfigurationType DEFAULT checkpointing is always on, whatever the other fields say, so a DEFAULT configuration never fires.",
    why: "Without checkpoints a restart (maintenance, scaling, a task failure) loses all operator state and either reprocesses from the \
          source's start position or skips data; exactly-once sinks cannot commit.",
    example: "CheckpointConfiguration = {ConfigurationType: CUSTOM, CheckpointingEnabled: false} on a stateful job that reads a Kinesis stream.",
    fix: "Set ConfigurationType to DEFAULT, or keep CUSTOM with CheckpointingEnabled = true (UpdateApplication, \
          CheckpointConfigurationUpdate).",
    references: &[API_CHECKPOINT_CONFIGURATION, GUIDE_FAULT_TOLERANCE, FLINK_CHECKPOINTING],
};

pub const DOC_INTERVAL_OUT_OF_RANGE: CheckDoc = CheckDoc {
    what: "Fires when checkpointing is on and the effective checkpoint interval is below checkpoint_interval_min_ms or above \
           checkpoint_interval_max_ms ([checks]). DEFAULT configurations use 60000 ms whatever the raw CheckpointInterval field says.",
    why: "Too short an interval makes checkpoints overlap the job's work and load the state backend and S3; too long an interval means \
          a long replay and large duplicates after every restart.",
    example: "ConfigurationType CUSTOM with CheckpointInterval 1000 (1 s) against a minimum of 10000 ms.",
    fix: "Choose an interval inside the range (or adjust the range in [checks] if the job really needs it), and set \
          MinPauseBetweenCheckpoints so checkpoints cannot run back to back.",
    references: &[API_CHECKPOINT_CONFIGURATION, FLINK_TUNING],
};

pub const DOC_CHECKPOINT_FAILURES: CheckDoc = CheckDoc {
    what: "Fires when the cumulative CloudWatch metric numberOfFailedCheckpoints increased inside the lookback window \
           (metrics_lookback_hours). The counter resets when the job restarts; each restart starts a new run of increases.",
    why: "A failing checkpoint means the state that would be restored after a failure is getting older; repeated failures often precede \
          a restart loop, and in prod-vs-dev investigations they are usually the first symptom of a permission or KMS difference.",
    example: "numberOfFailedCheckpoints went 4 → 9 during the last 24 hours.",
    fix: "Read the job's CloudWatch logs around the failure times (timeouts, S3/KMS AccessDenied, backpressure); check \
          execution-role-access-denied and cmk-service-access-denied findings for the same app.",
    references: &[GUIDE_METRICS, GUIDE_FAULT_TOLERANCE],
};

pub const DOC_CHECKPOINT_SLOW: CheckDoc = CheckDoc {
    what: "Fires when checkpointing is on and the largest lastCheckpointDuration seen in the lookback window exceeds \
           checkpoint_slow_ratio × the effective checkpoint interval.",
    why: "A checkpoint that takes a large share of its interval leaves little room for the next one; growth here usually means state \
          is growing or the job is backpressured, and ends in checkpoint timeouts.",
    example: "Interval 60000 ms (DEFAULT), ratio 0.5, lastCheckpointDuration peaked at 42000 ms.",
    fix: "Look for backpressure and state growth; consider incremental checkpoints, more parallelism/KPUs, or a longer interval.",
    references: &[GUIDE_METRICS, FLINK_TUNING],
};

pub fn check(ctx: &Context, sink: &mut Sink) {
    let app = ctx.flink();
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };
    let effective = app.checkpoint.effective;
    let checks = &ctx.config.checks;
    // SQL-1_0 applications have no Flink configuration, so no checkpoints
    // to judge (runtime-end-of-support covers them).
    if app.checkpoint.configuration_type.is_empty() {
        return;
    }

    if !effective.enabled {
        sink.emit(
            CheckId::CheckpointingDisabled,
            target,
            "checkpointing",
            format!("{} runs with checkpointing off (ConfigurationType {}).", app.name, app.checkpoint.configuration_type),
            config_evidence(app),
        );
        // Interval and duration checks are moot without checkpoints.
        metrics_failures(ctx, app, target, sink);
        return;
    }

    let interval = effective.interval_ms;
    if interval < checks.checkpoint_interval_min_ms || interval > checks.checkpoint_interval_max_ms {
        let side = if interval < checks.checkpoint_interval_min_ms { "below the minimum" } else { "above the maximum" };
        let mut evidence = config_evidence(app);
        evidence.push(Evidence::new("allowed range", format!("{}..={} ms", checks.checkpoint_interval_min_ms, checks.checkpoint_interval_max_ms)));
        sink.emit(
            CheckId::CheckpointIntervalOutOfRange,
            target,
            "checkpoint-interval",
            format!("Effective checkpoint interval {interval} ms is {side} of the allowed range."),
            evidence,
        );
    }

    metrics_failures(ctx, app, target, sink);

    if let Some(metrics) = &app.metrics {
        if let Some(max_duration) = metrics.max_of(metric_names::CHECKPOINT_DURATION) {
            let limit = checks.checkpoint_slow_ratio * interval as f64;
            if max_duration > limit {
                sink.emit(
                    CheckId::CheckpointSlow,
                    target,
                    "checkpoint-duration",
                    format!(
                        "Longest checkpoint in the window took {max_duration:.0} ms, more than {:.0}% of the {interval} ms interval.",
                        checks.checkpoint_slow_ratio * 100.0
                    ),
                    vec![
                        Evidence::new("max lastCheckpointDuration", format!("{max_duration:.0} ms")),
                        Evidence::new("effective interval", format!("{interval} ms")),
                        Evidence::new("limit", format!("{limit:.0} ms (checkpoint_slow_ratio {})", checks.checkpoint_slow_ratio)),
                        window_evidence(ctx),
                    ],
                );
            }
        }
    }
}

fn metrics_failures(ctx: &Context, app: &FlinkApp, target: Target<'_>, sink: &mut Sink) {
    let Some(metrics) = &app.metrics else { return };
    let Some(increase) = metrics.failed_checkpoint_increase() else { return };
    if increase > 0.0 {
        let latest = metrics.latest_of(metric_names::FAILED_CHECKPOINTS).unwrap_or_default();
        sink.emit(
            CheckId::CheckpointFailures,
            target,
            metric_names::FAILED_CHECKPOINTS,
            format!("{increase:.0} checkpoint(s) failed in the last {} hours.", ctx.config.checks.metrics_lookback_hours),
            vec![
                Evidence::new("numberOfFailedCheckpoints increase", format!("{increase:.0}")),
                Evidence::new("numberOfFailedCheckpoints latest", format!("{latest:.0}")),
                window_evidence(ctx),
            ],
        );
    }
}

fn config_evidence(app: &FlinkApp) -> Vec<Evidence> {
    let c = &app.checkpoint;
    let raw = |v: Option<String>| v.unwrap_or_else(|| "unset".to_owned());
    vec![
        Evidence::new("ConfigurationType", c.configuration_type.clone()),
        Evidence::new(
            "effective",
            format!("enabled={} interval={} ms min_pause={} ms", c.effective.enabled, c.effective.interval_ms, c.effective.min_pause_ms),
        ),
        Evidence::new(
            "raw fields",
            format!(
                "CheckpointingEnabled={} CheckpointInterval={} MinPauseBetweenCheckpoints={}",
                raw(c.raw_enabled.map(|v| v.to_string())),
                raw(c.raw_interval_ms.map(|v| v.to_string())),
                raw(c.raw_min_pause_ms.map(|v| v.to_string()))
            ),
        ),
    ]
}

pub(crate) fn window_evidence(ctx: &Context) -> Evidence {
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "unknown".to_owned());
    Evidence::new("window", format!("{} .. {}", fmt(ctx.clock.window_start), fmt(ctx.clock.now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, set_metric, Fleet};
    use crate::config::Config;
    use crate::inventory::{CheckpointConfig, Inventory};

    fn run(inv: &Inventory, config: &Config) -> Vec<(CheckId, String)> {
        let mut sink = Sink::new();
        let index = crate::checks::Index::new(inv);
        for app in inv.apps() {
            check(&Context::new(inv, &index, config, app), &mut sink);
        }
        sink.findings().iter().map(|f| (f.check, f.detail.clone())).collect()
    }

    fn one(edit: impl FnOnce(&mut FlinkApp)) -> Inventory {
        Fleet::new().account("111111111111", "prod", "Root").app("111111111111", "eu-west-1", "orders", edit).build()
    }

    fn fired(found: &[(CheckId, String)], id: CheckId) -> bool {
        found.iter().any(|(c, _)| *c == id)
    }

    #[test]
    fn sql_applications_without_flink_configuration_are_not_judged() {
        let inv = one(|a| {
            a.runtime = "SQL-1_0".into();
            a.checkpoint = CheckpointConfig::default();
        });
        assert!(run(&inv, &Config::default()).is_empty());
    }

    #[test]
    fn checkpointing_disabled_fires_on_custom_off() {
        let inv = one(|a| a.checkpoint = CheckpointConfig::from_api("CUSTOM", Some(false), Some(60_000), None));
        let found = run(&inv, &Config::default());
        assert!(fired(&found, CheckId::CheckpointingDisabled));
        assert!(!fired(&found, CheckId::CheckpointIntervalOutOfRange));
    }

    #[test]
    fn default_configuration_never_fires_whatever_raw_fields_say() {
        // DEFAULT ignores the raw fields: disabled + 1 ms interval in the raw
        // fields still means on, 60000 ms.
        let inv = one(|a| a.checkpoint = CheckpointConfig::from_api("DEFAULT", Some(false), Some(1), Some(0)));
        let found = run(&inv, &Config::default());
        assert!(!fired(&found, CheckId::CheckpointingDisabled), "{found:?}");
        assert!(!fired(&found, CheckId::CheckpointIntervalOutOfRange), "{found:?}");
    }

    #[test]
    fn interval_out_of_range_uses_configured_bounds() {
        let inv = one(|a| a.checkpoint = CheckpointConfig::from_api("CUSTOM", Some(true), Some(1_000), None));
        assert!(fired(&run(&inv, &Config::default()), CheckId::CheckpointIntervalOutOfRange));
        let inv = one(|a| a.checkpoint = CheckpointConfig::from_api("CUSTOM", Some(true), Some(600_000), None));
        let found = run(&inv, &Config::default());
        assert!(found.iter().any(|(c, d)| *c == CheckId::CheckpointIntervalOutOfRange && d.contains("above")));
        let relaxed = config_from("[checks]\ncheckpoint_interval_max_ms = 900000\n");
        assert!(!fired(&run(&inv, &relaxed), CheckId::CheckpointIntervalOutOfRange));
    }

    #[test]
    fn failures_fire_on_increase_not_on_a_flat_high_counter() {
        let inv = one(|a| set_metric(a, metric_names::FAILED_CHECKPOINTS, &[4.0, 4.0, 6.0, 9.0]));
        let found = run(&inv, &Config::default());
        assert!(found.iter().any(|(c, d)| *c == CheckId::CheckpointFailures && d.starts_with("5 checkpoint")));
        let inv = one(|a| set_metric(a, metric_names::FAILED_CHECKPOINTS, &[12.0, 12.0, 12.0]));
        assert!(!fired(&run(&inv, &Config::default()), CheckId::CheckpointFailures));
    }

    #[test]
    fn slow_compares_with_ratio_of_effective_interval() {
        // DEFAULT: 60000 ms interval, ratio 0.5 → limit 30000 ms
        let inv = one(|a| set_metric(a, metric_names::CHECKPOINT_DURATION, &[1_000.0, 42_000.0, 2_000.0]));
        assert!(fired(&run(&inv, &Config::default()), CheckId::CheckpointSlow));
        let inv = one(|a| set_metric(a, metric_names::CHECKPOINT_DURATION, &[1_000.0, 29_000.0]));
        assert!(!fired(&run(&inv, &Config::default()), CheckId::CheckpointSlow));
    }
}
