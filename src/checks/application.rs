//! Application checks: runtime support, health and failed operations.

use crate::checks::catalog::CheckId;
use crate::checks::checkpoint::window_evidence;
use crate::checks::check_doc::CheckDoc;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::Evidence;
use crate::inventory::metric_names;
use crate::severity::Severity;

const GUIDE_UPGRADES: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-in-place-version-upgrades.html";
const GUIDE_FLINK_2_2: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/flink-2-2.html";
const API_RUNTIME_ENVIRONMENT: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CreateApplication.html";
const API_APPLICATION_DETAIL: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ApplicationDetail.html";
const API_LIST_OPERATIONS: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ListApplicationOperations.html";
const GUIDE_METRICS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html";
const GUIDE_ROLLBACK: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-system-rollbacks.html";

/// Support state of a runtime, as far as this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeSupport {
    /// Past end of support: `high`.
    Ended,
    /// End of support announced: `medium`.
    Announced,
}

/// The runtime table. `Ended` follows SPEC §6 (FLINK-1_6, 1_8, 1_11, 1_13,
/// SQL-1_0); the Studio runtimes ZEPPELIN-FLINK-1_0 / 2_0 embed Flink 1.11 /
/// 1.13 and share their fate. `Announced` (medium) lists runtimes whose end
/// of support AWS has announced. Update this table when AWS announces more.
pub const RUNTIMES: &[(&str, RuntimeSupport, &str)] = &[
    ("SQL-1_0", RuntimeSupport::Ended, "Kinesis Data Analytics for SQL applications are past end of support"),
    ("FLINK-1_6", RuntimeSupport::Ended, "Apache Flink 1.6 is past end of support in Managed Service for Apache Flink"),
    ("FLINK-1_8", RuntimeSupport::Ended, "Apache Flink 1.8 is past end of support in Managed Service for Apache Flink"),
    ("FLINK-1_11", RuntimeSupport::Ended, "Apache Flink 1.11 is past end of support in Managed Service for Apache Flink"),
    ("FLINK-1_13", RuntimeSupport::Ended, "Apache Flink 1.13 is past end of support in Managed Service for Apache Flink"),
    ("ZEPPELIN-FLINK-1_0", RuntimeSupport::Ended, "Studio runtime on Apache Flink 1.11, which is past end of support"),
    ("ZEPPELIN-FLINK-2_0", RuntimeSupport::Ended, "Studio runtime on Apache Flink 1.13, which is past end of support"),
    ("FLINK-1_15", RuntimeSupport::Announced, "end of support for Apache Flink 1.15 has been announced"),
    ("ZEPPELIN-FLINK-3_0", RuntimeSupport::Announced, "Studio runtime on Apache Flink 1.15, whose end of support has been announced"),
];

pub fn runtime_support(runtime: &str) -> Option<(RuntimeSupport, &'static str)> {
    RUNTIMES.iter().find(|(r, _, _)| r.eq_ignore_ascii_case(runtime)).map(|(_, s, why)| (*s, *why))
}

pub const DOC_RUNTIME_END_OF_SUPPORT: CheckDoc = CheckDoc {
    what: "Fires when the application's RuntimeEnvironment is past end of support (high): FLINK-1_6, FLINK-1_8, FLINK-1_11, \
           FLINK-1_13, SQL-1_0, and the Studio runtimes ZEPPELIN-FLINK-1_0/2_0 built on them; or when its end of support is \
           announced (medium, reported at medium unless [checks.severity] overrides it): FLINK-1_15, ZEPPELIN-FLINK-3_0.",
    why: "Runtimes past end of support get no security patches or fixes and AWS may stop or force-upgrade such applications; \
          announced ones need an upgrade planned before the date.",
    example: "An application created years ago still runs FLINK-1_13.",
    fix: "Upgrade in place to a supported runtime (UpdateApplication with a new RuntimeEnvironment, from a snapshot) after \
          testing state compatibility; FLINK-1_20 and FLINK-2_2 are current.",
    references: &[GUIDE_UPGRADES, GUIDE_FLINK_2_2, API_RUNTIME_ENVIRONMENT],
};

pub const DOC_APPLICATION_UNHEALTHY: CheckDoc = CheckDoc {
    what: "Fires when the application status is FORCE_STOPPING, ROLLING_BACK or ROLLED_BACK, or the CloudWatch downtime metric \
           was above 0 at any point of the lookback window.",
    why: "These states mean an update failed and was rolled back, or the job is being killed; downtime above 0 means the job was \
          not processing (restarting or failing) for a while.",
    example: "An UpdateApplication with an incompatible jar rolled the app back (status ROLLED_BACK); downtime peaked at 180000 ms.",
    fix: "Read the failed operation (ListApplicationOperations / DescribeApplicationOperation) and the job logs, fix the cause, \
          and redeploy; for downtime look at fullRestarts and the exceptions in the logs.",
    references: &[API_APPLICATION_DETAIL, GUIDE_ROLLBACK, GUIDE_METRICS],
};

pub const DOC_OPERATION_FAILED: CheckDoc = CheckDoc {
    what: "Fires once per application operation (UpdateApplication, StartApplication, maintenance, ...) with status FAILED whose \
           start or end falls inside the lookback window; the finding carries the operation's error string.",
    why: "A failed update often leaves the application on the old version or rolled back while the team believes the new one \
          is live; failed maintenance can precede a restart loop.",
    example: "UpdateApplication FAILED: \"Flink job failed to start: ClassNotFoundException ...\".",
    fix: "Use DescribeApplicationOperation for the full failure details, fix the cause (code, permissions, configuration) and \
          retry the operation.",
    references: &[API_LIST_OPERATIONS],
};

pub fn check(ctx: &Context, sink: &mut Sink) {
    let app = ctx.flink();
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };

    if let Some((support, why)) = runtime_support(&app.runtime) {
        let (title, level) = match support {
            RuntimeSupport::Ended => ("Flink runtime is past end of support", Severity::High),
            RuntimeSupport::Announced => ("Flink runtime end of support is announced", Severity::Medium),
        };
        sink.emit_titled(
            CheckId::RuntimeEndOfSupport,
            target,
            "runtime",
            title,
            format!("{} runs {}: {why}.", app.name, app.runtime),
            vec![Evidence::new("RuntimeEnvironment", app.runtime.clone()), Evidence::new("support", format!("{support:?}"))],
        );
        if level != CheckId::RuntimeEndOfSupport.default_severity() {
            sink.set_last_severity(level);
        }
    }

    let bad_status = matches!(app.status.as_str(), "FORCE_STOPPING" | "ROLLING_BACK" | "ROLLED_BACK");
    let max_downtime = app.metrics.as_ref().and_then(|m| m.max_of(metric_names::DOWNTIME)).filter(|d| *d > 0.0);
    if bad_status || max_downtime.is_some() {
        let mut reasons = Vec::new();
        let mut evidence = vec![Evidence::new("status", app.status.clone())];
        if bad_status {
            reasons.push(format!("status is {}", app.status));
        }
        if let Some(downtime) = max_downtime {
            reasons.push(format!("downtime reached {downtime:.0} ms in the window"));
            evidence.push(Evidence::new("max downtime", format!("{downtime:.0} ms")));
            evidence.push(window_evidence(ctx));
        }
        sink.emit(CheckId::ApplicationUnhealthy, target, "health", format!("{}: {}.", app.name, reasons.join("; ")), evidence);
    }

    for op in &app.operations {
        if op.status != "FAILED" || !(ctx.clock.in_window(op.ended_at) || ctx.clock.in_window(op.started_at)) {
            continue;
        }
        let error = op.error.clone().unwrap_or_else(|| "no error string returned".to_owned());
        let when = op.ended_at.or(op.started_at).map(|t| t.to_rfc3339()).unwrap_or_default();
        sink.emit(
            CheckId::OperationFailed,
            target,
            &format!("operation:{}", op.id),
            format!("{} {} failed at {when}: {error}", app.name, op.operation),
            vec![
                Evidence::new("operation", format!("{} ({})", op.operation, op.id)),
                Evidence::new("error", error),
                window_evidence(ctx),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{run_end, set_metric, Fleet};
    use crate::config::Config;
    use crate::inventory::{FlinkApp, Inventory, Operation};
    use chrono::Duration;

    fn run(inv: &Inventory) -> Vec<crate::findings::Finding> {
        let config = Config::default();
        let mut sink = Sink::new();
        let index = crate::checks::Index::new(inv);
        for app in inv.apps() {
            check(&Context::new(inv, &index, &config, app), &mut sink);
        }
        sink.into_parts().0
    }

    fn one(edit: impl FnOnce(&mut FlinkApp)) -> Inventory {
        Fleet::new().account("111111111111", "prod", "Root").app("111111111111", "eu-west-1", "orders", edit).build()
    }

    #[test]
    fn runtime_past_end_of_support_is_high_announced_is_medium_current_is_silent() {
        for runtime in ["FLINK-1_6", "FLINK-1_8", "FLINK-1_11", "FLINK-1_13", "SQL-1_0"] {
            let found = run(&one(|a| a.runtime = runtime.into()));
            assert_eq!(found.len(), 1, "{runtime}");
            assert_eq!(found[0].severity, Severity::High, "{runtime}");
        }
        let found = run(&one(|a| a.runtime = "FLINK-1_15".into()));
        assert_eq!(found[0].severity, Severity::Medium);
        for runtime in ["FLINK-1_18", "FLINK-1_19", "FLINK-1_20", "FLINK-2_2"] {
            assert!(run(&one(|a| a.runtime = runtime.into())).is_empty(), "{runtime}");
        }
    }

    #[test]
    fn unhealthy_on_status_or_downtime() {
        for status in ["FORCE_STOPPING", "ROLLING_BACK", "ROLLED_BACK"] {
            let found = run(&one(|a| a.status = status.into()));
            assert_eq!(found.iter().filter(|f| f.check == CheckId::ApplicationUnhealthy).count(), 1, "{status}");
        }
        let found = run(&one(|a| set_metric(a, metric_names::DOWNTIME, &[0.0, 180_000.0, 0.0])));
        assert!(found.iter().any(|f| f.check == CheckId::ApplicationUnhealthy && f.detail.contains("180000")));
        // RUNNING with zero downtime, or READY (stopped), is healthy
        assert!(run(&one(|a| set_metric(a, metric_names::DOWNTIME, &[0.0, 0.0]))).is_empty());
        assert!(run(&one(|a| a.status = "READY".into())).is_empty());
    }

    fn op(id: &str, status: &str, hours_ago: i64) -> Operation {
        Operation {
            id: id.into(),
            operation: "UpdateApplication".into(),
            status: status.into(),
            started_at: Some(run_end() - Duration::hours(hours_ago)),
            ended_at: Some(run_end() - Duration::hours(hours_ago) + Duration::minutes(3)),
            error: (status == "FAILED").then(|| "ClassNotFoundException: com.example.Job".into()),
        }
    }

    #[test]
    fn failed_operation_inside_the_window_fires_with_its_error() {
        let found = run(&one(|a| a.operations = vec![op("op-1", "FAILED", 2), op("op-0", "FAILED", 72), op("op-2", "SUCCESSFUL", 1)]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, CheckId::OperationFailed);
        assert_eq!(found[0].subject, "operation:op-1");
        assert!(found[0].detail.contains("ClassNotFoundException"));
    }
}
