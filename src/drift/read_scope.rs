//! What a run read completely, so night over night can tell *resolved* (the
//! finding's account × region × scope was read and the finding is gone) from
//! *not checked* (it was not read: AssumeRole denied, a region throttled
//! out, `--max-duration`, a subset run with `--accounts` / `--regions`).
//!
//! A finding of account A in region R was checked when:
//! * A is in the run's organization and was scanned (not filtered out, not
//!   suspended); an account that left a completely read organization has
//!   nothing left to check, so its findings count as resolved;
//! * R is one of the run's regions (or the finding is account-wide) and the
//!   run has coverage rows for A in R;
//! * no coverage row of A in R, nor an account-wide row of A (assume-role,
//!   IAM, tags), is incomplete;
//! * for access and drift checks, which read the SCPs and RCPs, the
//!   organization's own rows are complete; for drift checks the same holds
//!   for every baseline account paired with A by `[[compare]]`;
//! * for `health-event-open`, AWS Health's organizational view was read.
//!
//! "Read" is stricter here than "complete" for the exit code: a row counts
//! only when it is `ok`, or `skipped` because the resource was deleted
//! during the scan. A region that answered with a token error (taken as not
//! enabled) is not read: last night's findings there stay not checked
//! rather than resolved on an inference. The `health` row and the rows of
//! resources owned outside the scan are judged per finding instead (Health
//! above; access decisions on an unread resource become
//! `access-undetermined`, see `nightly`), so they do not blank a whole
//! account or region.

use std::collections::{HashMap, HashSet};

use crate::checks::catalog::{CheckId, Family};
use crate::config::Config;
use crate::findings::Finding;
use crate::inventory::{CoverageRow, CoverageStatus, Inventory, GLOBAL_REGION};

/// Codes of `skipped` rows for something deleted between list and
/// describe: nothing was lost, the scope was read.
const DELETED_CODES: [&str; 3] = ["ResourceNotFoundException", "NotFoundException", "NoSuchEntity"];

/// Codes of `skipped` rows for a resource whose owner the run could not or
/// did not enter (`collect::ownership`): judged per decision, not per scope.
const OWNER_CODES: [&str; 3] = ["OutsideOrganization", "OwnerNotScanned", "OwnerUnknown"];

/// Whether the row's scope was read in full tonight.
fn read_in_full(row: &CoverageRow) -> bool {
    match row.status {
        CoverageStatus::Ok => true,
        CoverageStatus::Skipped => row.error_code.as_deref().is_some_and(|c| DELETED_CODES.contains(&c)),
        _ => false,
    }
}

/// The scopes one run read completely.
pub struct ReadScopes<'a> {
    inventory: &'a Inventory,
    regions: HashSet<&'a str>,
    /// First incomplete row per (account, region or `global`).
    incomplete: HashMap<(&'a str, &'a str), &'a CoverageRow>,
    /// (account, region) pairs with any coverage row.
    tried: HashSet<(&'a str, &'a str)>,
    /// An incomplete row of the organization itself (tree walk, SCPs, RCPs).
    org_incomplete: Option<&'a CoverageRow>,
    /// The `health` row when AWS Health was not read.
    health_unread: Option<&'a CoverageRow>,
    /// Baseline account ids by target account id, from `[[compare]]`.
    baselines: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> ReadScopes<'a> {
    pub fn of(inventory: &'a Inventory, config: &'a Config) -> Self {
        let management = inventory.organization.as_ref().map(|o| o.management_account_id.as_str());
        let mut incomplete = HashMap::new();
        let mut tried = HashSet::new();
        let mut org_incomplete = None;
        let mut health_unread = None;
        for row in &inventory.coverage {
            tried.insert((row.account_id.as_str(), row.region.as_str()));
            if read_in_full(row) {
                continue;
            }
            if row.scope == "health" {
                health_unread.get_or_insert(row);
                continue;
            }
            if row.error_code.as_deref().is_some_and(|c| OWNER_CODES.contains(&c)) {
                continue;
            }
            // Without an organization view (DescribeOrganization or
            // ListRoots failed) there is no management id to match: any
            // incomplete organizations row means the accounts were not listed.
            let org_row = row.scope == "organizations" && row.region == GLOBAL_REGION;
            if org_row && (management.is_none() || Some(row.account_id.as_str()) == management) {
                org_incomplete.get_or_insert(row);
            }
            incomplete.entry((row.account_id.as_str(), row.region.as_str())).or_insert(row);
        }
        let mut baselines: HashMap<&str, Vec<&str>> = HashMap::new();
        for cmp in &config.compare {
            if let (Some(base), Some(target)) = (inventory.account_by_id_or_name(&cmp.baseline), inventory.account_by_id_or_name(&cmp.target)) {
                baselines.entry(target.id.as_str()).or_default().push(base.id.as_str());
            }
        }
        Self {
            inventory,
            regions: inventory.run.regions.iter().map(String::as_str).collect(),
            incomplete,
            tried,
            org_incomplete,
            health_unread: if inventory.health.is_some() { None } else { health_unread },
            baselines,
        }
    }

    /// Why the finding's scope was not read completely by this run, or
    /// `None` when it was (then a finding gone tonight is resolved).
    pub fn why_not_read(&self, finding: &Finding) -> Option<String> {
        if finding.check == CheckId::HealthEventOpen && self.inventory.health.is_none() {
            return Some(match self.health_unread {
                Some(row) => format!("AWS Health not read ({})", describe(row)),
                None => "AWS Health not read in this run".to_owned(),
            });
        }
        let family = finding.check.family();
        if matches!(family, Family::Access | Family::Drift) {
            if let Some(row) = self.org_incomplete {
                return Some(format!("organization policies not read completely ({})", describe(row)));
            }
        }
        if let Some(why) = self.account_region(&finding.account_id, &finding.region) {
            return Some(why);
        }
        if family == Family::Drift {
            for base in self.baselines.get(finding.account_id.as_str()).into_iter().flatten() {
                if let Some(why) = self.account_region(base, &finding.region) {
                    return Some(format!("baseline {why}"));
                }
            }
        }
        None
    }

    fn account_region(&self, account_id: &str, region: &str) -> Option<String> {
        let Some(account) = self.inventory.account(account_id) else {
            // Gone from the organization: resolved if the organization was
            // read completely, else it may just not have been listed.
            return self
                .org_incomplete
                .map(|row| format!("account {account_id} not listed; organization not read completely ({})", describe(row)));
        };
        if let crate::inventory::ScanDecision::Skipped { reason } = &account.scan {
            return Some(format!("account {account_id} not scanned: {reason}"));
        }
        if let Some(row) = self.incomplete.get(&(account_id, GLOBAL_REGION)) {
            return Some(format!("account {account_id}: {}", describe(row)));
        }
        if region == GLOBAL_REGION {
            return None;
        }
        if !self.regions.contains(region) {
            return Some(format!("region {region} not scanned in this run"));
        }
        if let Some(row) = self.incomplete.get(&(account_id, region)) {
            return Some(format!("account {account_id} in {region}: {}", describe(row)));
        }
        if !self.tried.contains(&(account_id, region)) {
            return Some(format!("account {account_id} in {region}: not read in this run"));
        }
        None
    }
}

fn describe(row: &CoverageRow) -> String {
    let code = row.error_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    format!("{} {}{code}", row.scope, row.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::catalog::CheckId;
    use crate::checks::testkit::Fleet;
    use crate::findings::FindingStatus;
    use crate::inventory::{CoverageStatus, ScanDecision};
    use crate::severity::Severity;

    fn finding(check: CheckId, account: &str, region: &str) -> Finding {
        Finding {
            finding_id: format!("{account}-{region}").into(),
            check,
            severity: Severity::High,
            status: FindingStatus::Open,
            account_id: account.into(),
            account_name: "n".into(),
            ou_path: "Root".into(),
            region: region.into(),
            resource_arn: "arn".into(),
            subject: "s".into(),
            title: "t".into(),
            detail: "d".into(),
            evidence: vec![],
            suppression: None,
            expired_suppression: None,
        }
    }

    fn row(account: &str, region: &str, scope: &str, status: CoverageStatus, code: Option<&str>) -> CoverageRow {
        CoverageRow {
            account_id: account.into(),
            account_name: "n".into(),
            region: region.into(),
            scope: scope.into(),
            status,
            error_code: code.map(Into::into),
            request_id: None,
            detail: None,
            at: chrono::Utc::now(),
        }
    }

    fn inventory() -> Inventory {
        let mut inv = Fleet::new()
            .account("111111111111", "prod", "Root")
            .account("222222222222", "dev", "Root")
            .account("333333333333", "sandbox", "Root")
            .build();
        inv.run.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        inv.coverage = vec![
            row("111111111111", "global", "assume-role", CoverageStatus::Ok, None),
            row("111111111111", "us-east-1", "flink", CoverageStatus::Ok, None),
            row("111111111111", "eu-west-1", "flink", CoverageStatus::Throttled, Some("ThrottlingException")),
            row("222222222222", "global", "assume-role", CoverageStatus::Denied, Some("AccessDenied")),
        ];
        if let Some(a) = inv.accounts.iter_mut().find(|a| a.id == "333333333333") {
            a.scan = ScanDecision::Skipped { reason: "not in accounts.include_accounts".into() };
        }
        inv
    }

    #[test]
    fn only_completely_read_scopes_count_as_checked() {
        let inv = inventory();
        let config = Config::default();
        let scopes = ReadScopes::of(&inv, &config);
        let why = |account: &str, region: &str| scopes.why_not_read(&finding(CheckId::SnapshotStale, account, region));
        assert_eq!(why("111111111111", "us-east-1"), None, "read completely");
        assert!(
            why("111111111111", "eu-west-1").is_some_and(|w| w.contains("flink throttled (ThrottlingException)")),
            "{:?}",
            why("111111111111", "eu-west-1")
        );
        assert!(why("222222222222", "us-east-1").is_some_and(|w| w.contains("assume-role denied (AccessDenied)")));
        assert!(why("333333333333", "us-east-1").is_some_and(|w| w.contains("not in accounts.include_accounts")), "subset run");
        assert!(why("111111111111", "ap-south-1").is_some_and(|w| w.contains("region ap-south-1 not scanned")), "--regions subset");
        assert_eq!(why("444444444444", "us-east-1"), None, "left a completely read organization: resolved");
    }

    #[test]
    fn inferred_disabled_regions_unread_health_and_no_organization_are_not_read() {
        let config = Config::default();
        let mut inv = inventory();
        // A token error taken as "region not enabled" is an inference, not a read.
        inv.coverage
            .push(row("111111111111", "ap-south-1", "flink", CoverageStatus::RegionDisabled, Some("UnrecognizedClientException")));
        inv.run.regions.push("ap-south-1".into());
        // AWS Health not subscribed: one skipped row under the caller.
        inv.coverage
            .push(row("123456789012", "global", "health", CoverageStatus::Skipped, Some("SubscriptionRequiredException")));
        // A bucket owned outside the organization: judged per decision.
        inv.coverage.push(row("111111111111", "us-east-1", "s3", CoverageStatus::Skipped, Some("OutsideOrganization")));
        let scopes = ReadScopes::of(&inv, &config);
        assert!(scopes
            .why_not_read(&finding(CheckId::SnapshotStale, "111111111111", "ap-south-1"))
            .is_some_and(|w| w.contains("region-disabled")));
        let health = scopes.why_not_read(&finding(CheckId::HealthEventOpen, "111111111111", "us-east-1"));
        assert!(health.as_deref().is_some_and(|w| w.contains("AWS Health not read") && w.contains("SubscriptionRequiredException")), "{health:?}");
        assert_eq!(
            scopes.why_not_read(&finding(CheckId::SnapshotStale, "111111111111", "us-east-1")),
            None,
            "the health and owner rows blank nothing else"
        );
        assert_eq!(scopes.why_not_read(&finding(CheckId::SnapshotStale, "123456789012", "global")), None);

        // DescribeOrganization failed: no account list, nothing resolves by absence.
        let mut lone = inventory();
        lone.organization = None;
        lone.coverage
            .push(row("123456789012", "global", "organizations", CoverageStatus::Denied, Some("AccessDeniedException")));
        let scopes = ReadScopes::of(&lone, &config);
        assert!(scopes
            .why_not_read(&finding(CheckId::SnapshotStale, "444444444444", "us-east-1"))
            .is_some_and(|w| w.contains("organization not read")));
    }

    #[test]
    fn drift_needs_its_baseline_and_access_needs_the_organization() {
        let mut inv = inventory();
        inv.coverage.push(row("222222222222", "us-east-1", "flink", CoverageStatus::Ok, None));
        // dev's assume-role is denied; prod is the target of a pair with dev as baseline
        let config: Config = crate::config::Config::resolve(
            crate::config::FileConfig::parse("[[compare]]\nname = \"p\"\nbaseline = \"dev\"\ntarget = \"prod\"\n").unwrap(),
            Default::default(),
        )
        .unwrap();
        let scopes = ReadScopes::of(&inv, &config);
        assert_eq!(scopes.why_not_read(&finding(CheckId::SnapshotStale, "111111111111", "us-east-1")), None);
        let drift = scopes.why_not_read(&finding(CheckId::DriftRuntime, "111111111111", "us-east-1"));
        assert!(drift.is_some_and(|w| w.starts_with("baseline account 222222222222")), "drift against an unread baseline is not checked");

        let management = inv.organization.as_ref().map(|o| o.management_account_id.clone()).unwrap_or_default();
        inv.coverage
            .push(row(&management, "global", "organizations", CoverageStatus::Throttled, Some("TooManyRequestsException")));
        let scopes = ReadScopes::of(&inv, &config);
        let access = scopes.why_not_read(&finding(CheckId::ExecutionRoleAccessDenied, "111111111111", "us-east-1"));
        assert!(access.is_some_and(|w| w.contains("organization policies")), "SCPs not read: access findings not checked");
        assert_eq!(scopes.why_not_read(&finding(CheckId::SnapshotStale, "111111111111", "us-east-1")), None, "checkpoint checks do not read SCPs");
        assert!(
            scopes.why_not_read(&finding(CheckId::SnapshotStale, "444444444444", "us-east-1")).is_some(),
            "an account missing from an unread organization is not resolved"
        );
    }
}
