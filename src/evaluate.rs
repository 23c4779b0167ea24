//! The evaluate stage: pure functions from an [`Inventory`] and a [`Config`]
//! to an [`Evaluation`]: checks per app (in parallel), prod-versus-dev
//! drift per `[[compare]]` pair (in parallel), then severity overrides and
//! suppressions in one place (the sink), then a deterministic order.

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;

use crate::checks::causes::{group_tagged, tag_all, CauseTag, Decisions};
use crate::checks::sink::{report_order, sort_findings, Finalizer, Sink};
use crate::checks::{check_app, Context, Index, RunClock};
use crate::config::Config;
use crate::drift::compare::compare_pair;
use crate::exit::Outcome;
use crate::findings::{AccessDecision, Evaluation, Finding, FindingStatus};
use crate::inventory::{AppRef, Inventory};
use crate::severity::Severity;

/// Evaluates one inventory. Same inventory + same config → same Evaluation
/// (no wall clock: "now" is the run's finish time recorded in the snapshot).
pub fn evaluate(inventory: &Inventory, config: &Config) -> Evaluation {
    let clock = RunClock::of(inventory, config);
    let mut notes = Vec::new();
    if clock.now.is_none() {
        notes.push("the snapshot records no run time: snapshot-stale, lookback windows, dated runtime end of support and suppression expiry were not evaluated".to_owned());
    }

    // Accounts some [[compare]] pair reads; other apps' allowed decisions
    // are counted and dropped at once, so memory stays flat at 10,000 apps.
    let compared: HashSet<&str> = config
        .compare
        .iter()
        .flat_map(|cmp| [cmp.baseline.as_str(), cmp.target.as_str()])
        .filter_map(|key| inventory.account_by_id_or_name(key).map(|a| a.id.as_str()))
        .collect();
    let apps: Vec<AppRef<'_>> = inventory.apps().collect();
    let index = Index::new(inventory);
    let index = &index;
    // Per app, in parallel: checks, severity overrides and suppressions,
    // then each finding's cause while the app's decisions are at hand; the
    // decisions are then dropped (only the paired accounts' are kept, for
    // drift). At 10,000 apps, keeping them all to the end cost 20 MiB.
    let run_date = clock.run_date();
    let per_app: Vec<(Sink, Vec<CauseTag>, Finalizer<'_>, usize)> = apps
        .par_iter()
        .map(|app| {
            let mut sink = Sink::new();
            check_app(&Context { inventory, index, config, clock, app: *app }, &mut sink);
            let mut finalizer = Finalizer::new(config, run_date);
            finalizer.apply(sink.findings_vec());
            let tags = tag_all(sink.findings(), &Decisions::new(sink.access()).with_boundaries_of(app.account));
            let not_allowed = sink.access().iter().filter(|d| !d.outcome.is_allowed()).count();
            if !compared.contains(app.account.id.as_str()) {
                sink.forget_decisions();
            }
            sink.shrink_to_fit();
            (sink, tags, finalizer, not_allowed)
        })
        .collect();
    let mut finalizer = Finalizer::new(config, run_date);
    let mut access_not_allowed = 0;
    let mut batches = Vec::with_capacity(per_app.len() + config.compare.len());
    for (sink, tags, app_finalizer, not_allowed) in per_app {
        finalizer.absorb(app_finalizer);
        access_not_allowed += not_allowed;
        batches.push((sink, tags));
    }

    let mut paired: Vec<AccessDecision> = batches.iter().flat_map(|(sink, _)| sink.access()).cloned().collect();
    sort_access(&mut paired);
    let access_allowed =
        batches.iter().map(|(sink, _)| sink.allowed_forgotten()).sum::<usize>() + paired.iter().filter(|d| d.outcome.is_allowed()).count();
    let outcomes: Vec<_> = config.compare.par_iter().map(|cmp| compare_pair(inventory, cmp, &paired)).collect();
    let mut drift = Vec::new();
    let paired_decisions = Decisions::new(&paired).with_boundaries(inventory);
    for outcome in outcomes {
        drift.extend(outcome.rows);
        notes.extend(outcome.notes);
        let mut sink = outcome.sink;
        finalizer.apply(sink.findings_vec());
        let tags = tag_all(sink.findings(), &paired_decisions);
        batches.push((sink, tags));
    }
    drop(paired_decisions);
    drop(paired);
    let suppressions = finalizer.into_reports();

    // Causes over the findings where they lie, in report order; then one
    // list of findings.
    let (sinks, tag_lists): (Vec<Sink>, Vec<Vec<CauseTag>>) = batches.into_iter().unzip();
    let mut tagged: Vec<(&Finding, CauseTag)> = Vec::with_capacity(sinks.iter().map(|sink| sink.findings().len()).sum());
    for (sink, tags) in sinks.iter().zip(tag_lists) {
        tagged.extend(sink.findings().iter().zip(tags));
    }
    tagged.sort_by(|a, b| report_order(a.0, b.0));
    let causes = group_tagged(tagged);
    let mut findings = Vec::with_capacity(sinks.iter().map(|sink| sink.findings().len()).sum());
    for sink in sinks {
        findings.extend(sink.into_parts().0);
    }
    sort_findings(&mut findings);
    let mut open_by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.status == FindingStatus::Open) {
        *open_by_severity.entry(f.severity).or_default() += 1;
    }
    Evaluation {
        findings,
        drift,
        open_by_severity,
        since_previous: None,
        access_not_allowed,
        access_allowed,
        suppressions,
        notes,
        causes,
    }
}

fn sort_access(access: &mut [AccessDecision]) {
    access.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Exit code of a run (SPEC §3): 3 when the scan is incomplete (wins over
/// 1), 1 when an open finding is at or above `fail_on`, else 0.
pub fn exit_outcome(evaluation: &Evaluation, fail_on: Severity, complete: bool) -> Outcome {
    Outcome::of_run(complete, evaluation.highest_open_severity(), fail_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, Fleet};
    use crate::checks::CheckId;

    fn fleet() -> Inventory {
        Fleet::new()
            .account("111111111111", "prod", "Root")
            .account("222222222222", "dev", "Root")
            .app("111111111111", "eu-west-1", "a", |a| a.runtime = "FLINK-1_13".into())
            .app("111111111111", "eu-west-1", "b", |a| a.snapshots.clear())
            .app("222222222222", "eu-west-1", "c", |a| a.snapshots_enabled = false)
            .build()
    }

    #[test]
    fn evaluation_is_deterministic_and_sorted() {
        let inv = fleet();
        let config = Config::default();
        let a = evaluate(&inv, &config);
        for _ in 0..5 {
            assert_eq!(evaluate(&inv, &config), a);
        }
        let order: Vec<_> = a.findings.iter().map(|f| (f.severity, f.check)).collect();
        assert_eq!(
            order,
            vec![
                (Severity::High, CheckId::RuntimeEndOfSupport),
                (Severity::Medium, CheckId::SnapshotsDisabled),
                (Severity::Low, CheckId::SnapshotStale)
            ]
        );
        assert_eq!(a.open_by_severity.get(&Severity::High), Some(&1));
    }

    #[test]
    fn exit_codes_follow_fail_on_and_incomplete_wins() {
        let inv = fleet();
        let eval = evaluate(&inv, &Config::default());
        assert_eq!(exit_outcome(&eval, Severity::High, true).code(), 1);
        assert_eq!(exit_outcome(&eval, Severity::Critical, true).code(), 0);
        assert_eq!(exit_outcome(&eval, Severity::Critical, false).code(), 3);
        assert_eq!(exit_outcome(&eval, Severity::High, false).code(), 3);
        // suppressed findings do not fail the run
        let config = config_from("[[suppress]]\ncheck = \"runtime-end-of-support\"\nreason = \"OPS-1\"\n");
        let eval = evaluate(&inv, &config);
        assert_eq!(exit_outcome(&eval, Severity::High, true).code(), 0);
    }
}
