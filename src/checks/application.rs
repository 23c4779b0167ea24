//! Application checks: runtime support, health and failed operations.

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::checkpoint::window_evidence;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::Evidence;
use crate::inventory::metric_names;
use crate::severity::Severity;
use chrono::NaiveDate;

const GUIDE_UPGRADES: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-in-place-version-upgrades.html";
const GUIDE_FLINK_2_2: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/flink-2-2.html";
const GUIDE_FLINK_1_19: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/flink-1-19.html";
const API_RUNTIME_ENVIRONMENT: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CreateApplication.html";
const API_APPLICATION_DETAIL: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ApplicationDetail.html";
const API_LIST_OPERATIONS: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ListApplicationOperations.html";
const GUIDE_METRICS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html";
const GUIDE_ROLLBACK: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-system-rollbacks.html";

/// What AWS publishes about a runtime's end of support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOfSupport {
    /// AWS publishes this date (year, month, day; the runtime's `source`).
    On(i32, u32, u32),
    /// Unsupported, but AWS publishes no end-of-support date on any page
    /// fleetscan cites: reported high, and the detail says the date is unknown.
    PastUndated,
    /// Supported; AWS publishes no end-of-support date for it (yet).
    NoDatePublished,
}

/// One Managed Flink runtime (a `RuntimeEnvironment` value of the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// The `RuntimeEnvironment` value, e.g. `FLINK-1_20`.
    pub id: &'static str,
    /// What it runs, e.g. `Apache Flink 1.20`.
    pub engine: &'static str,
    pub end_of_support: EndOfSupport,
    /// Where the date (or its absence) comes from.
    pub source: &'static str,
}

/// When [`RUNTIMES`] was last checked against the pages it cites.
pub const RUNTIMES_CHECKED_ON: &str = "2026-12-01";

/// Kinesis Data Analytics for SQL: no new applications from 2025-10-15,
/// applications deleted and support ended from 2026-01-27.
const SOURCE_SQL_DISCONTINUED: &str = "https://docs.aws.amazon.com/kinesisanalytics/latest/dev/get-started-add-realtime-analytics.html";
/// No AWS page with an end-of-support date for these runtimes was found
/// (searched 2026-12-01); the project lists them as unsupported (SPEC §6).
const SOURCE_UNDATED: &str = "no AWS page publishes a date (searched 2026-12-01); unsupported per fleetscan's SPEC §6";

/// Every `RuntimeEnvironment` value of the SDK this build uses
/// (aws-sdk-kinesisanalyticsv2 1.125.0: a unit test keeps the two in step),
/// with its end of support as AWS publishes it. Update it when AWS
/// announces a date; an app on a runtime missing here is reported as
/// unknown, never passed silently.
pub const RUNTIMES: &[Runtime] = &[
    Runtime {
        id: "SQL-1_0",
        engine: "Kinesis Data Analytics for SQL",
        end_of_support: EndOfSupport::On(2026, 1, 27),
        source: SOURCE_SQL_DISCONTINUED,
    },
    Runtime {
        id: "FLINK-1_6",
        engine: "Apache Flink 1.6",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "FLINK-1_8",
        engine: "Apache Flink 1.8",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "FLINK-1_11",
        engine: "Apache Flink 1.11",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "FLINK-1_13",
        engine: "Apache Flink 1.13",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "ZEPPELIN-FLINK-1_0",
        engine: "Studio on Apache Flink 1.11",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "ZEPPELIN-FLINK-2_0",
        engine: "Studio on Apache Flink 1.13",
        end_of_support: EndOfSupport::PastUndated,
        source: SOURCE_UNDATED,
    },
    Runtime {
        id: "FLINK-1_15",
        engine: "Apache Flink 1.15",
        end_of_support: EndOfSupport::NoDatePublished,
        source: API_RUNTIME_ENVIRONMENT,
    },
    Runtime {
        id: "ZEPPELIN-FLINK-3_0",
        engine: "Studio on Apache Flink 1.15",
        end_of_support: EndOfSupport::NoDatePublished,
        source: API_RUNTIME_ENVIRONMENT,
    },
    Runtime {
        id: "FLINK-1_18",
        engine: "Apache Flink 1.18",
        end_of_support: EndOfSupport::NoDatePublished,
        source: API_RUNTIME_ENVIRONMENT,
    },
    Runtime {
        id: "FLINK-1_19",
        engine: "Apache Flink 1.19",
        end_of_support: EndOfSupport::NoDatePublished,
        source: GUIDE_FLINK_1_19,
    },
    Runtime {
        id: "FLINK-1_20",
        engine: "Apache Flink 1.20",
        end_of_support: EndOfSupport::NoDatePublished,
        source: API_RUNTIME_ENVIRONMENT,
    },
    Runtime {
        id: "FLINK-2_2",
        engine: "Apache Flink 2.2",
        end_of_support: EndOfSupport::NoDatePublished,
        source: GUIDE_FLINK_2_2,
    },
    Runtime {
        id: "FLINK-2_3",
        engine: "Apache Flink 2.3",
        end_of_support: EndOfSupport::NoDatePublished,
        source: API_RUNTIME_ENVIRONMENT,
    },
];

/// The table entry of `runtime`, if this build knows it.
pub fn runtime(runtime: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.id.eq_ignore_ascii_case(runtime))
}

impl EndOfSupport {
    pub fn date(self) -> Option<NaiveDate> {
        match self {
            Self::On(y, m, d) => NaiveDate::from_ymd_opt(y, m, d),
            Self::PastUndated | Self::NoDatePublished => None,
        }
    }
}

/// The verdict on one app's runtime at `run_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeVerdict {
    /// Past its end-of-support date (or unsupported without a date): high.
    Ended { since: Option<NaiveDate> },
    /// End of support within `warn_days` of the run: medium.
    EndingSoon { on: NaiveDate, days_left: i64 },
    /// Not in [`RUNTIMES`] (newer than this build's SDK): low, "unknown".
    Unknown,
    /// Nothing to report.
    Fine,
}

/// Judges `runtime` at `run_date` with `warn_days` of warning. Without a
/// run date, dated runtimes cannot be judged and pass (evaluation notes say
/// the snapshot records no run time).
pub fn judge(runtime_id: &str, run_date: Option<NaiveDate>, warn_days: u32) -> RuntimeVerdict {
    let Some(entry) = runtime(runtime_id) else { return RuntimeVerdict::Unknown };
    match entry.end_of_support {
        EndOfSupport::PastUndated => RuntimeVerdict::Ended { since: None },
        EndOfSupport::NoDatePublished => RuntimeVerdict::Fine,
        EndOfSupport::On(..) => {
            let (Some(on), Some(today)) = (entry.end_of_support.date(), run_date) else { return RuntimeVerdict::Fine };
            let days_left = (on - today).num_days();
            if days_left <= 0 {
                RuntimeVerdict::Ended { since: Some(on) }
            } else if days_left <= i64::from(warn_days) {
                RuntimeVerdict::EndingSoon { on, days_left }
            } else {
                RuntimeVerdict::Fine
            }
        }
    }
}

pub const DOC_RUNTIME_END_OF_SUPPORT: CheckDoc = CheckDoc {
    what: "Judges the application's RuntimeEnvironment against fleetscan's dated table of Managed Flink runtimes (every value of \
           the API, each with the end-of-support date AWS publishes and the page it comes from). High on or after the date, and \
           for runtimes unsupported without a published date (FLINK-1_6, 1_8, 1_11, 1_13 and the Studio runtimes built on them); \
           medium within runtime_warn_days ([checks], default 180) before the date; the detail states the date. A runtime the \
           table does not know (newer than this build) is reported low as unknown. Runtimes with no published date pass.",
    why: "Runtimes past end of support get no security patches or fixes and AWS may stop, delete or force-upgrade such \
          applications (Kinesis Data Analytics for SQL applications are deleted from 2026-01-27); an upgrade needs planning and \
          testing of state compatibility before the date.",
    example: "An application created years ago still runs FLINK-1_13; a SQL-1_0 application 60 days before 2026-01-27 is medium.",
    fix: "Upgrade in place to a supported runtime (UpdateApplication with a new RuntimeEnvironment, from a snapshot) after \
          testing state compatibility; FLINK-1_20 and FLINK-2_x are current (Flink 2.x renames metrics: fullRestarts becomes \
          numRestarts). Migrate SQL applications to Managed Service for Apache Flink (Studio or SQL API).",
    references: &[GUIDE_UPGRADES, GUIDE_FLINK_2_2, API_RUNTIME_ENVIRONMENT, SOURCE_SQL_DISCONTINUED],
};

pub const DOC_APPLICATION_UNHEALTHY: CheckDoc = CheckDoc {
    what: "Fires when the application status is FORCE_STOPPING, ROLLING_BACK or ROLLED_BACK, or the job was not running at some \
           point of the lookback window: CloudWatch downtime above 0 on Flink 1.x, restartingTime or failingTime above 0 on Flink \
           2.x (where downtime is deprecated). The evidence counts restarts (fullRestarts, or numRestarts on Flink 2.x).",
    why: "These states mean an update failed and was rolled back, or the job is being killed; downtime above 0 means the job was \
          not processing (restarting or failing) for a while.",
    example: "An UpdateApplication with an incompatible jar rolled the app back (status ROLLED_BACK); downtime peaked at 180000 ms.",
    fix: "Read the failed operation (ListApplicationOperations / DescribeApplicationOperation) and the job logs, fix the cause, \
          and redeploy; for time not running look at the restarts (fullRestarts, numRestarts on Flink 2.x) and the exceptions in \
          the logs.",
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

fn runtime_end_of_support(ctx: &Context, target: Target<'_>, sink: &mut Sink) {
    let app = ctx.flink();
    let entry = runtime(&app.runtime);
    let (title, level, detail) = match judge(&app.runtime, ctx.clock.run_date(), ctx.config.checks.runtime_warn_days) {
        RuntimeVerdict::Fine => return,
        RuntimeVerdict::Ended { since: Some(date) } => {
            ("Flink runtime is past end of support", Severity::High, format!("{} runs {}, whose end of support was {date}.", app.name, app.runtime))
        }
        RuntimeVerdict::Ended { since: None } => (
            "Flink runtime is past end of support",
            Severity::High,
            format!("{} runs {}, which is past end of support; AWS publishes no end-of-support date for it.", app.name, app.runtime),
        ),
        RuntimeVerdict::EndingSoon { on, days_left } => (
            "Flink runtime end of support is near",
            Severity::Medium,
            format!("{} runs {}, whose end of support is {on} ({days_left} days after this run).", app.name, app.runtime),
        ),
        RuntimeVerdict::Unknown => (
            "Flink runtime unknown to this fleetscan",
            Severity::Low,
            format!(
                "{} runs {}, a runtime not in fleetscan's runtime table (checked {RUNTIMES_CHECKED_ON}; probably newer than this build): its end of support cannot be judged. Update fleetscan.",
                app.name, app.runtime
            ),
        ),
    };
    let mut evidence = vec![Evidence::new("RuntimeEnvironment", app.runtime.clone())];
    match entry {
        Some(entry) => {
            evidence.push(Evidence::new("engine", entry.engine));
            let date = entry.end_of_support.date().map(|d| d.to_string()).unwrap_or_else(|| "not published by AWS".to_owned());
            evidence.push(Evidence::new("end of support", date));
            evidence.push(Evidence::new("source", entry.source));
        }
        None => evidence.push(Evidence::new("runtime table", format!("{} runtimes, checked {RUNTIMES_CHECKED_ON}", RUNTIMES.len()))),
    }
    sink.emit_titled(CheckId::RuntimeEndOfSupport, target, "runtime", title, detail, evidence);
    if level != CheckId::RuntimeEndOfSupport.default_severity() {
        sink.set_last_severity(level);
    }
}

pub fn check(ctx: &Context, sink: &mut Sink) {
    let app = ctx.flink();
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };

    runtime_end_of_support(ctx, target, sink);

    let bad_status = matches!(app.status.as_str(), "FORCE_STOPPING" | "ROLLING_BACK" | "ROLLED_BACK");
    // Flink 1.x publishes `downtime`; Flink 2.x deprecates it for
    // `restartingTime` / `failingTime` (metric_names::not_running).
    let not_running: Vec<(&str, f64)> = metric_names::not_running(&app.runtime)
        .iter()
        .filter_map(|metric| app.metrics.as_ref().and_then(|m| m.max_of(metric)).filter(|v| *v > 0.0).map(|v| (*metric, v)))
        .collect();
    if bad_status || !not_running.is_empty() {
        let mut reasons = Vec::new();
        let mut evidence = vec![Evidence::new("status", app.status.clone())];
        if bad_status {
            reasons.push(format!("status is {}", app.status));
        }
        for (metric, value) in &not_running {
            reasons.push(format!("{metric} reached {value:.0} ms in the window"));
            evidence.push(Evidence::new(format!("max {metric}"), format!("{value:.0} ms")));
        }
        let restarts = metric_names::restarts(&app.runtime);
        if let Some(n) = app.metrics.as_ref().and_then(|m| m.increase_of(restarts)).filter(|n| *n > 0.0) {
            evidence.push(Evidence::new(format!("restarts in window ({restarts})"), format!("{n:.0}")));
        }
        if !not_running.is_empty() {
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
            vec![Evidence::new("operation", format!("{} ({})", op.operation, op.id)), Evidence::new("error", error), window_evidence(ctx)],
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
        run_with(inv, &Config::default())
    }

    fn run_with(inv: &Inventory, config: &Config) -> Vec<crate::findings::Finding> {
        let config = config.clone();
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

    fn at(inv: &mut Inventory, date: &str) {
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        inv.run.finished_at = Some(day.and_hms_opt(19, 0, 0).unwrap().and_utc());
    }

    #[test]
    fn the_table_covers_every_runtime_of_the_sdk() {
        use aws_sdk_kinesisanalyticsv2::types::RuntimeEnvironment;
        let sdk: Vec<&str> = RuntimeEnvironment::values().to_vec();
        assert!(sdk.contains(&"FLINK-2_3") || sdk.iter().any(|r| metric_names::is_flink2(r)), "the SDK knows a Flink 2.x runtime");
        for value in &sdk {
            assert!(runtime(value).is_some(), "{value} is missing from RUNTIMES");
        }
        for entry in RUNTIMES {
            assert!(sdk.contains(&entry.id), "{} is not a RuntimeEnvironment value of this SDK", entry.id);
            assert!(
                entry.source.starts_with("https://docs.aws.amazon.com/") || entry.end_of_support == EndOfSupport::PastUndated,
                "{}: cite the AWS page",
                entry.id
            );
            if let EndOfSupport::On(..) = entry.end_of_support {
                assert!(entry.end_of_support.date().is_some(), "{}: a real date", entry.id);
            }
        }
        assert_eq!(RUNTIMES.len(), sdk.len(), "one entry per value");
    }

    #[test]
    fn a_dated_runtime_is_high_after_its_date_medium_within_the_warning_window() {
        let sql = |date: &str, config: &Config| {
            let mut inv = one(|a| a.runtime = "SQL-1_0".into());
            at(&mut inv, date);
            run_with(&inv, config)
        };
        let config = Config::default();
        let after = sql("2026-02-01", &config);
        assert_eq!((after.len(), after[0].severity), (1, Severity::High));
        assert!(after[0].detail.contains("2026-01-27"), "the detail states the date: {}", after[0].detail);
        assert_eq!(sql("2026-01-27", &config)[0].severity, Severity::High, "on the date");
        let soon = sql("2025-12-01", &config);
        assert_eq!((soon.len(), soon[0].severity), (1, Severity::Medium));
        assert!(soon[0].detail.contains("2026-01-27") && soon[0].detail.contains("57 days"), "{}", soon[0].detail);
        assert!(soon[0].evidence.iter().any(|e| e.label == "source" && e.value.text().starts_with("https://docs.aws.amazon.com/")));
        assert!(sql("2025-06-01", &config).is_empty(), "240 days ahead: outside the 180-day window");
        let wider = crate::checks::testkit::config_from("[checks]\nruntime_warn_days = 365\n");
        assert_eq!(sql("2025-06-01", &wider)[0].severity, Severity::Medium, "runtime_warn_days widens the window");
        // the finding keeps its id as it moves from medium to high
        assert_eq!(soon[0].finding_id, after[0].finding_id);
    }

    #[test]
    fn undated_ended_runtimes_are_high_supported_ones_silent_unknown_ones_reported() {
        for runtime in ["FLINK-1_6", "FLINK-1_8", "FLINK-1_11", "FLINK-1_13", "ZEPPELIN-FLINK-1_0", "ZEPPELIN-FLINK-2_0"] {
            let found = run(&one(|a| a.runtime = runtime.into()));
            assert_eq!(found.len(), 1, "{runtime}");
            assert_eq!(found[0].severity, Severity::High, "{runtime}");
            assert!(found[0].detail.contains("publishes no end-of-support date"), "{}", found[0].detail);
        }
        for runtime in ["FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20", "FLINK-2_2", "FLINK-2_3"] {
            assert!(run(&one(|a| a.runtime = runtime.into())).is_empty(), "{runtime}");
        }
        let found = run(&one(|a| a.runtime = "FLINK-3_1".into()));
        assert_eq!(found.len(), 1, "an unknown runtime is reported, not passed");
        assert_eq!(found[0].severity, Severity::Low);
        assert!(found[0].detail.contains("FLINK-3_1") && found[0].detail.contains("not in fleetscan's runtime table"), "{}", found[0].detail);
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

    #[test]
    fn flink_2_apps_are_judged_on_the_flink_2_metrics() {
        let flink2 = |edit: fn(&mut FlinkApp)| {
            run(&one(|a| {
                a.runtime = "FLINK-2_2".into();
                edit(a);
            }))
        };
        let found = flink2(|a| {
            set_metric(a, metric_names::RESTARTING_TIME, &[0.0, 30_000.0, 0.0]);
            set_metric(a, metric_names::NUM_RESTARTS, &[2.0, 3.0, 5.0]);
        });
        let unhealthy = found.iter().find(|f| f.check == CheckId::ApplicationUnhealthy).expect("restartingTime > 0 is unhealthy");
        assert!(unhealthy.detail.contains("restartingTime reached 30000 ms"), "{}", unhealthy.detail);
        assert!(unhealthy.evidence.iter().any(|e| e.label == "restarts in window (numRestarts)" && e.value == "3"), "{:?}", unhealthy.evidence);
        assert!(!flink2(|a| set_metric(a, metric_names::FAILING_TIME, &[0.0, 5_000.0])).is_empty(), "failingTime > 0 is unhealthy");
        // a Flink 2.x app is not judged on the deprecated downtime
        assert!(flink2(|a| set_metric(a, metric_names::DOWNTIME, &[0.0, 180_000.0])).is_empty());
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
