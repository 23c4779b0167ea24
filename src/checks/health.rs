//! AWS Health beside each app: `health-event-open` while an open Managed
//! Flink event affects the app's account and region, and the same events as
//! evidence on the app's checkpoint findings (the runbook's first step when
//! a checkpoint fails is to look at AWS Health).

use crate::checks::catalog::CheckId;
use crate::checks::check_doc::CheckDoc;
use crate::checks::sink::{Sink, Target};
use crate::checks::Context;
use crate::findings::Evidence;
use crate::inventory::HealthEvent;

const GUIDE_HEALTH: &str = "https://docs.aws.amazon.com/health/latest/ug/aggregate-events.html";
const API_EVENTS: &str = "https://docs.aws.amazon.com/health/latest/APIReference/API_DescribeEventsForOrganization.html";

pub const DOC_HEALTH_EVENT_OPEN: CheckDoc = CheckDoc {
    what: "Fires while an open AWS Health event for Managed Service for Apache Flink (service KINESISANALYTICS) affects the \
           application's account and region, as the Organization view of AWS Health reports it. Read once per scan with the \
           management credentials; without Business support or the organizational view the coverage row `health` says so \
           and no finding is made.",
    why: "When checkpoints fail, an AWS-side issue explains it and changes what to do (wait, fail over) — the runbook says to \
          look at AWS Health first. The event shows beside the app and in its checkpoint findings.",
    example: "AWS_KINESISANALYTICS_OPERATIONAL_ISSUE open in us-east-1 for account prod-orders since 08:10 UTC while orders-prod's \
              checkpoints fail.",
    fix: "Follow the event in the AWS Health Dashboard (organizational view) and its guidance; the finding closes by itself when \
          AWS closes the event. Meanwhile hold changes to the affected apps.",
    references: &[GUIDE_HEALTH, API_EVENTS],
};

/// Checks whose detail should show the AWS Health events of their app.
const CHECKPOINT_CHECKS: [CheckId; 4] =
    [CheckId::CheckpointFailures, CheckId::CheckpointSlow, CheckId::CheckpointingDisabled, CheckId::ApplicationUnhealthy];

fn names_app(event: &HealthEvent, account: &str, app_name: &str, app_arn: &str) -> bool {
    event.entities.iter().any(|e| e.account_id == account && (e.value == app_arn || e.value == app_name))
}

/// Events (open or recent) that affect this app's account and region.
pub fn events_for<'a>(ctx: &Context<'a>) -> Vec<&'a HealthEvent> {
    let Some(view) = ctx.inventory.health.as_ref() else { return Vec::new() };
    view.events.iter().filter(|e| e.affects(&ctx.account().id, ctx.region())).collect()
}

fn line(event: &HealthEvent, ctx: &Context) -> String {
    let app = ctx.flink();
    let named = if names_app(event, &ctx.account().id, &app.name, &app.arn) { " (names this application)" } else { "" };
    format!("{}{named}: {}", event.describe(), event.arn)
}

/// Run after the other families: the finding and the evidence lines.
pub fn check(ctx: &Context, sink: &mut Sink) {
    let events = events_for(ctx);
    if events.is_empty() {
        return;
    }
    let app = ctx.flink();
    let target = Target { account: ctx.account(), region: ctx.region(), resource: &app.arn };
    for finding in sink.findings_mut().iter_mut().filter(|f| f.resource_arn == app.arn && CHECKPOINT_CHECKS.contains(&f.check)) {
        for event in &events {
            finding.evidence.push(Evidence::new("AWS Health", line(event, ctx)));
        }
    }
    for event in events.iter().filter(|e| e.is_open()) {
        sink.emit_titled(
            CheckId::HealthEventOpen,
            target,
            &format!("health:{}", event.arn),
            format!("Open AWS Health event {} in {}", event.event_type, event.region),
            format!("{} affects {} ({}) in {}: {}.", event.event_type, ctx.account().name, ctx.account().id, event.region, line(event, ctx)),
            vec![
                Evidence::new("event", event.arn.clone()),
                Evidence::new("status", event.describe()),
                Evidence::new("category", event.category.clone()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, set_metric, Fleet};
    use crate::evaluate::evaluate;
    use crate::inventory::{metric_names, HealthEntity, HealthView};

    fn event(status: &str, region: &str, accounts: &[&str]) -> HealthEvent {
        HealthEvent {
            arn: format!("arn:aws:health:{region}::event/KINESISANALYTICS/ISSUE/{status}"),
            event_type: "AWS_KINESISANALYTICS_OPERATIONAL_ISSUE".into(),
            category: "issue".into(),
            region: region.into(),
            status: status.into(),
            accounts: accounts.iter().map(|a| (*a).into()).collect(),
            entities: vec![HealthEntity {
                account_id: "111111111111".into(),
                value: "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/orders".into(),
                status: "IMPAIRED".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn open_events_of_the_account_and_region_fire_and_annotate_checkpoint_findings() {
        let inv = Fleet::new()
            .account("111111111111", "prod", "Root")
            .account("222222222222", "dev", "Root")
            .app("111111111111", "eu-west-1", "orders", |a| set_metric(a, metric_names::FAILED_CHECKPOINTS, &[1.0, 4.0]))
            .app("222222222222", "eu-west-1", "orders-dev", |a| set_metric(a, metric_names::FAILED_CHECKPOINTS, &[1.0, 4.0]))
            .edit(|inv| {
                inv.health = Some(HealthView {
                    events: vec![
                        event("open", "eu-west-1", &["111111111111"]),
                        event("closed", "eu-west-1", &["111111111111"]),
                        event("open", "us-east-1", &["111111111111"]),
                    ],
                })
            })
            .build();
        let eval = evaluate(&inv, &config_from("[checks]\nalarms_required = []\n"));
        let open: Vec<_> = eval.findings.iter().filter(|f| f.check == CheckId::HealthEventOpen).collect();
        assert_eq!(open.len(), 1, "one open event in the app's account and region: {open:#?}");
        assert_eq!(open[0].account_id, "111111111111");
        assert!(open[0].detail.contains("names this application"), "{}", open[0].detail);
        let failures = |account: &str| eval.findings.iter().find(|f| f.check == CheckId::CheckpointFailures && f.account_id == account).unwrap();
        let health_lines: Vec<_> = failures("111111111111").evidence.iter().filter(|e| e.label == "AWS Health").collect();
        assert_eq!(health_lines.len(), 2, "open and recently closed events of the region show in the checkpoint finding");
        assert!(failures("222222222222").evidence.iter().all(|e| e.label != "AWS Health"), "dev is not affected");
        // the event is the cause
        let ids = eval.cause_ids();
        let cause = eval.causes.iter().find(|c| c.cause_id == ids[open[0].finding_id.as_str()]).unwrap();
        assert_eq!(cause.kind, "health-event");
    }
}
