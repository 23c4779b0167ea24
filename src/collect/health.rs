//! AWS Health, once per scan, through the Organization view (management or
//! delegated-administrator credentials, global endpoint): every Managed
//! Flink event of the scanned regions (`DescribeEventsForOrganization`,
//! paged), then for each event kept its accounts
//! (`DescribeAffectedAccountsForOrganization`) and entities
//! (`DescribeAffectedEntitiesForOrganization`, ten events per call).
//!
//! Kept: open events, and any event updated inside the lookback window.
//! Without a Business (or higher) support plan AWS answers
//! `SubscriptionRequiredException`; without the organizational view enabled
//! the calls fail too
//! (<https://docs.aws.amazon.com/health/latest/APIReference/API_DescribeEventsForOrganization.html>).
//! Either way the caller records one `health` coverage row, `skipped` with
//! the code: this source is informational and never makes a run incomplete.

use aws_sdk_health::types::{EntityAccountFilter, EventStatusCode, OrganizationEventFilter};
use chrono::{DateTime, Utc};

use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::flink_detail::to_chrono;
use super::session::AccountSession;
use crate::inventory::{HealthEntity, HealthEvent, HealthView, GLOBAL_REGION};

/// The Health service code of Managed Service for Apache Flink.
pub const SERVICE: &str = "KINESISANALYTICS";
/// `organizationEntityAccountFilters` takes at most ten events.
const ENTITY_FILTERS_PER_CALL: usize = 10;

fn keep(status: Option<&EventStatusCode>, last_updated: Option<DateTime<Utc>>, window_start: DateTime<Utc>) -> bool {
    matches!(status, Some(EventStatusCode::Open)) || last_updated.is_some_and(|t| t >= window_start)
}

/// The organization's Managed Flink events in `regions`.
pub async fn fetch(session: &AccountSession, calls: &Calls, regions: &[String], window_start: DateTime<Utc>) -> Result<HealthView, AwsError> {
    let client = session.health();
    let loc = Loc { account: &session.account_id, region: GLOBAL_REGION };
    let mut filter = OrganizationEventFilter::builder().services(SERVICE);
    for region in regions {
        filter = filter.regions(region);
    }
    let filter = filter.build();
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = client.describe_events_for_organization().filter(filter.clone()).max_results(100).set_next_token(token.take());
        let page = calls.call(Pool::Main, loc, "health:DescribeEventsForOrganization", request.send()).await?;
        for e in page.events() {
            let last_updated = e.last_updated_time().and_then(to_chrono);
            if !keep(e.status_code(), last_updated, window_start) {
                continue;
            }
            events.push(HealthEvent {
                arn: e.arn().unwrap_or_default().to_owned(),
                event_type: e.event_type_code().unwrap_or_default().into(),
                category: e.event_type_category().map(|c| c.as_str()).unwrap_or_default().into(),
                region: e.region().unwrap_or_default().into(),
                status: e.status_code().map(|s| s.as_str()).unwrap_or_default().into(),
                started_at: e.start_time().and_then(to_chrono),
                ended_at: e.end_time().and_then(to_chrono),
                last_updated_at: last_updated,
                accounts: Vec::new(),
                entities: Vec::new(),
            });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }

    for event in &mut events {
        let mut token: Option<String> = None;
        loop {
            let request = client.describe_affected_accounts_for_organization().event_arn(&event.arn).set_next_token(token.take());
            let page = calls.call(Pool::Main, loc, "health:DescribeAffectedAccountsForOrganization", request.send()).await?;
            event.accounts.extend(page.affected_accounts().iter().map(|a| a.as_str().into()));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
    }

    let arns: Vec<String> = events.iter().map(|e| e.arn.clone()).collect();
    for chunk in arns.chunks(ENTITY_FILTERS_PER_CALL) {
        let filters: Vec<EntityAccountFilter> = chunk.iter().filter_map(|arn| EntityAccountFilter::builder().event_arn(arn).build().ok()).collect();
        let mut token: Option<String> = None;
        loop {
            let request = client
                .describe_affected_entities_for_organization()
                .set_organization_entity_account_filters(Some(filters.clone()))
                .max_results(100)
                .set_next_token(token.take());
            let page = calls.call(Pool::Main, loc, "health:DescribeAffectedEntitiesForOrganization", request.send()).await?;
            for entity in page.entities() {
                let Some(event) = events.iter_mut().find(|e| Some(e.arn.as_str()) == entity.event_arn()) else { continue };
                event.entities.push(HealthEntity {
                    account_id: entity.aws_account_id().unwrap_or_default().into(),
                    value: entity.entity_value().unwrap_or_default().to_owned(),
                    status: entity.status_code().map(|s| s.as_str()).unwrap_or_default().into(),
                });
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
    }
    Ok(HealthView { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_events_and_recent_ones_are_kept() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let before = start - chrono::Duration::hours(2);
        assert!(keep(Some(&EventStatusCode::Open), Some(before), start), "open, however old");
        assert!(keep(Some(&EventStatusCode::Closed), Some(start), start), "closed inside the window");
        assert!(!keep(Some(&EventStatusCode::Closed), Some(before), start), "closed before the window");
        assert!(!keep(Some(&EventStatusCode::Upcoming), None, start));
    }
}
