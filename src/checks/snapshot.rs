//! Snapshot checks: snapshots switched off, or no recent READY snapshot.

use chrono::Duration;

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::Evidence;

const API_SNAPSHOT_CONFIGURATION: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ApplicationSnapshotConfiguration.html";
const API_CREATE_SNAPSHOT: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CreateApplicationSnapshot.html";
const GUIDE_SNAPSHOTS: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-fault-snapshot.html";

pub const DOC_SNAPSHOTS_DISABLED: CheckDoc = CheckDoc {
    what: "Fires when the application's ApplicationSnapshotConfiguration has SnapshotsEnabled = false.",
    why: "With snapshots off, stopping or updating the application discards its state, and there is no savepoint to roll back to \
          after a bad deployment or to restore after an incident.",
    example: "ApplicationSnapshotConfiguration = {SnapshotsEnabled: false} on a job that keeps aggregation windows in state.",
    fix: "Enable snapshots (UpdateApplication, ApplicationSnapshotConfigurationUpdate.SnapshotsEnabledUpdate = true); schedule \
          CreateApplicationSnapshot if you want regular restore points.",
    references: &[API_SNAPSHOT_CONFIGURATION, GUIDE_SNAPSHOTS],
};

pub const DOC_SNAPSHOT_STALE: CheckDoc = CheckDoc {
    what: "Fires when snapshots are enabled but no snapshot in READY state is newer than snapshot_max_age_days ([checks]), measured \
           from the run's finish time recorded in the snapshot (never the wall clock, so re-evaluating a snapshot gives the same answer).",
    why: "The newest savepoint is what you restore after a bad update or a region incident; an old one means replaying days of \
          data, or losing what the source no longer retains (Kinesis keeps 24 hours by default).",
    example: "The newest READY snapshot is 12 days old, the limit is 7 days; or the only recent snapshot is FAILED.",
    fix: "Take snapshots on a schedule (CreateApplicationSnapshot from EventBridge Scheduler or a pipeline step), and find out why \
          recent ones failed.",
    references: &[API_CREATE_SNAPSHOT, GUIDE_SNAPSHOTS],
};

pub fn check(ctx: &Context, sink: &mut Sink) {
    let app = ctx.flink();
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };
    if !app.snapshots_enabled {
        sink.emit(
            CheckId::SnapshotsDisabled,
            target,
            "snapshots",
            format!("{} has snapshots disabled.", app.name),
            vec![Evidence::new("SnapshotsEnabled", "false")],
        );
        return;
    }
    let Some(now) = ctx.clock.now else { return };
    let max_age_days = ctx.config.checks.snapshot_max_age_days;
    let cutoff = now - Duration::days(i64::from(max_age_days));
    let latest = app.latest_ready_snapshot();
    let fresh = latest.and_then(|s| s.created_at).is_some_and(|at| at > cutoff);
    if fresh {
        return;
    }
    let mut evidence = vec![Evidence::new("max age", format!("{max_age_days} days (before {})", cutoff.to_rfc3339()))];
    let detail = match latest {
        Some(s) => {
            let at = s.created_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "unknown time".to_owned());
            evidence.push(Evidence::new("latest READY snapshot", format!("{} at {at}", s.name)));
            match s.created_at {
                Some(t) => format!("Newest READY snapshot is {} days old.", (now - t).num_days()),
                None => "The READY snapshot has no creation time.".to_owned(),
            }
        }
        None => "No READY snapshot exists.".to_owned(),
    };
    let not_ready = app.snapshots.iter().filter(|s| s.status != "READY").count();
    if not_ready > 0 {
        evidence.push(Evidence::new("snapshots not READY", not_ready.to_string()));
    }
    sink.emit(CheckId::SnapshotStale, target, "snapshots", detail, evidence);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{run_end, Fleet};
    use crate::config::Config;
    use crate::inventory::{FlinkApp, Inventory, Snapshot};

    fn run(inv: &Inventory) -> Vec<CheckId> {
        let config = Config::default();
        let mut sink = Sink::new();
        let index = crate::checks::Index::new(inv);
        for app in inv.apps() {
            check(&Context::new(inv, &index, &config, app), &mut sink);
        }
        sink.findings().iter().map(|f| f.check).collect()
    }

    fn one(edit: impl FnOnce(&mut FlinkApp)) -> Inventory {
        Fleet::new().account("111111111111", "prod", "Root").app("111111111111", "eu-west-1", "orders", edit).build()
    }

    fn snap(status: &str, days_old: i64) -> Snapshot {
        Snapshot {
            name: format!("s-{status}-{days_old}").into(),
            status: status.into(),
            created_at: Some(run_end() - Duration::days(days_old)),
            application_version_id: None,
            runtime: None,
        }
    }

    #[test]
    fn snapshots_disabled_fires_and_stale_does_not() {
        let found = run(&one(|a| a.snapshots_enabled = false));
        assert_eq!(found, vec![CheckId::SnapshotsDisabled]);
        assert!(run(&one(|_| {})).is_empty());
    }

    #[test]
    fn stale_when_only_old_ready_or_recent_failed_snapshots() {
        assert_eq!(run(&one(|a| a.snapshots = vec![snap("READY", 12), snap("FAILED", 1)])), vec![CheckId::SnapshotStale]);
        assert_eq!(run(&one(|a| a.snapshots.clear())), vec![CheckId::SnapshotStale]);
        assert!(run(&one(|a| a.snapshots = vec![snap("READY", 6), snap("READY", 30)])).is_empty());
    }

    #[test]
    fn age_is_measured_from_the_run_not_the_wall_clock() {
        // Same snapshot, same answer, however long after the run we evaluate.
        let inv = one(|a| a.snapshots = vec![snap("READY", 3)]);
        assert!(run(&inv).is_empty());
        let mut later = inv.clone();
        later.run.finished_at = Some(run_end() + Duration::days(10));
        later.run.metrics_window_end = later.run.finished_at;
        assert_eq!(run(&later), vec![CheckId::SnapshotStale]);
    }
}
