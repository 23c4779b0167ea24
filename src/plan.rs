//! The plan: which accounts × regions a scan covers, decided purely from the
//! discovered organization ([`OrgView`]) and the `[accounts]` / `aws.regions`
//! configuration. `fleetscan accounts` prints it; `collect` executes it.

use serde::Serialize;

use crate::collect::org::OrgView;
use crate::config::Config;
use crate::inventory::{Account, ScanDecision};

/// Region scanned when neither config nor the credential chain names one.
pub const FALLBACK_REGION: &str = "us-east-1";

/// One account of the organization and what the scan does with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEntry {
    pub account_id: String,
    pub name: String,
    pub ou_path: String,
    /// `ACTIVE`, `SUSPENDED`, ... as Organizations reports it.
    pub status: String,
    pub is_management: bool,
    /// Assumed role, base credentials, or skipped with the reason.
    pub decision: ScanDecision,
    /// Regions scanned (empty when skipped).
    pub regions: Vec<String>,
}

impl PlanEntry {
    pub fn is_scanned(&self) -> bool {
        self.decision.is_scanned()
    }
}

/// The whole plan, with the organization it was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub org: OrgView,
    /// Regions every scanned account is scanned in.
    pub regions: Vec<String>,
    /// Every account of the organization, in OU-path then name order.
    pub entries: Vec<PlanEntry>,
    /// Filters that matched nothing, region fallbacks, ...
    pub warnings: Vec<String>,
}

impl Plan {
    /// Entries that will be scanned.
    pub fn scanned(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.is_scanned())
    }

    /// Number of account × region pairs to scan.
    pub fn targets(&self) -> usize {
        self.scanned().map(|e| e.regions.len()).sum()
    }
}

/// Builds the plan. Pure: no AWS calls.
pub fn build(config: &Config, org: &OrgView) -> Plan {
    let mut warnings = Vec::new();
    let regions = if !config.aws.regions.is_empty() {
        dedup(config.aws.regions.clone())
    } else if let Some(region) = &org.default_region {
        vec![region.clone()]
    } else {
        warnings.push(format!("no region in aws.regions or the credential chain; scanning {FALLBACK_REGION}"));
        vec![FALLBACK_REGION.to_owned()]
    };
    let root_name = root_name(org);
    let filter = &config.accounts;
    let partition = crate::collect::arn::partition_of(&org.caller.arn).to_owned();

    let entries = org
        .accounts
        .iter()
        .map(|account| {
            let decision = decide(config, org, account, &root_name, &partition);
            PlanEntry {
                account_id: account.id.clone(),
                name: account.name.clone(),
                ou_path: account.ou_path.clone(),
                status: account.status.clone(),
                is_management: account.is_management,
                regions: if decision.is_scanned() { regions.clone() } else { Vec::new() },
                decision,
            }
        })
        .collect();

    for key in &filter.include_ous {
        if !org.accounts.iter().any(|a| ou_matches(key, a, &root_name)) {
            warnings.push(format!("accounts.include_ous entry `{key}` matches no account"));
        }
    }
    for (list, name) in [(&filter.include_accounts, "include_accounts"), (&filter.exclude_accounts, "exclude_accounts")] {
        for key in list {
            if !org.accounts.iter().any(|a| account_matches(key, a)) {
                warnings.push(format!("accounts.{name} entry `{key}` matches no account"));
            }
        }
    }
    Plan { org: org.clone(), regions, entries, warnings }
}

fn decide(config: &Config, org: &OrgView, account: &Account, root_name: &str, partition: &str) -> ScanDecision {
    let filter = &config.accounts;
    let skip = |reason: String| ScanDecision::Skipped { reason };
    if !account.status.eq_ignore_ascii_case("ACTIVE") {
        return skip(format!("account is {}", account.status));
    }
    if let Some(key) = filter.exclude_accounts.iter().find(|k| account_matches(k, account)) {
        return skip(format!("excluded by accounts.exclude_accounts (`{key}`)"));
    }
    if !filter.include_accounts.is_empty() && !filter.include_accounts.iter().any(|k| account_matches(k, account)) {
        return skip("not in accounts.include_accounts".to_owned());
    }
    if !filter.include_ous.is_empty() && !filter.include_ous.iter().any(|k| ou_matches(k, account, root_name)) {
        return skip("not under accounts.include_ous".to_owned());
    }
    if account.id == org.caller.account {
        return ScanDecision::BaseCredentials;
    }
    ScanDecision::AssumedRole { role_arn: crate::collect::session::role_arn(partition, &account.id, &config.aws.role_name) }
}

fn root_name(org: &OrgView) -> String {
    org.accounts.iter().filter_map(|a| a.ou_path.split('/').next()).find(|s| !s.is_empty()).unwrap_or("Root").to_owned()
}

/// An account filter entry: the account id or its exact name.
pub fn account_matches(key: &str, account: &Account) -> bool {
    let key = key.trim();
    key == account.id || key == account.name
}

/// An OU filter entry: an OU or root id anywhere above the account, or a
/// path (`Root/Workloads/Prod`, the leading root name optional) equal to or
/// above the account's OU path.
pub fn ou_matches(key: &str, account: &Account, root_name: &str) -> bool {
    let key = key.trim().trim_matches('/');
    if key.is_empty() {
        return false;
    }
    if key.starts_with("ou-") || key.starts_with("r-") {
        return account.parent_ids.iter().any(|id| id == key);
    }
    let path = if key == root_name || key.starts_with(&format!("{root_name}/")) { key.to_owned() } else { format!("{root_name}/{key}") };
    account.ou_path == path || account.ou_path.starts_with(&format!("{path}/"))
}

fn dedup(mut regions: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    regions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::org::{skeleton, CallerIdentity};
    use crate::config::{FileConfig, Overrides};

    fn org() -> OrgView {
        let root = "r-1".to_string();
        let accounts = vec![
            skeleton("000000000000", "management", None, "ACTIVE", "Root", vec![root.clone()], true),
            skeleton("111111111111", "prod-orders", None, "ACTIVE", "Root/Workloads/Prod", vec![root.clone(), "ou-w".into(), "ou-p".into()], false),
            skeleton("222222222222", "dev-orders", None, "ACTIVE", "Root/Workloads/Dev", vec![root.clone(), "ou-w".into(), "ou-d".into()], false),
            skeleton("333333333333", "old", None, "SUSPENDED", "Root/Workloads/Prod", vec![root.clone(), "ou-w".into(), "ou-p".into()], false),
            skeleton(
                "444444444444",
                "prod-deep",
                None,
                "ACTIVE",
                "Root/Workloads/Prod/Team/Sub",
                vec![root, "ou-w".into(), "ou-p".into(), "ou-t".into(), "ou-s".into()],
                false,
            ),
        ];
        OrgView {
            organization: None,
            accounts,
            caller: CallerIdentity {
                account: "000000000000".into(),
                arn: "arn:aws:iam::000000000000:user/admin".into(),
                user_id: "X".into(),
            },
            default_region: Some("eu-west-1".into()),
            enabled_policy_types: vec![],
            policies_pending: false,
            coverage: vec![],
        }
    }

    fn config(toml: &str) -> Config {
        Config::resolve(FileConfig::parse(toml).unwrap(), Overrides::default()).unwrap()
    }

    fn scanned(plan: &Plan) -> Vec<&str> {
        plan.scanned().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn defaults_scan_every_active_account_in_the_chain_region() {
        let plan = build(&Config::default(), &org());
        assert_eq!(scanned(&plan), ["management", "prod-orders", "dev-orders", "prod-deep"]);
        assert_eq!(plan.regions, ["eu-west-1"]);
        let suspended = plan.entries.iter().find(|e| e.name == "old").unwrap();
        assert_eq!(suspended.decision, ScanDecision::Skipped { reason: "account is SUSPENDED".into() });
        assert!(suspended.regions.is_empty());
        assert_eq!(plan.entries[0].decision, ScanDecision::BaseCredentials);
        assert_eq!(
            plan.entries[1].decision,
            ScanDecision::AssumedRole { role_arn: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole".into() }
        );
        assert_eq!(plan.targets(), 4);
    }

    #[test]
    fn include_ous_by_path_includes_sub_ous_and_by_id() {
        let plan = build(&config("[accounts]\ninclude_ous = [\"Root/Workloads/Prod\"]"), &org());
        assert_eq!(scanned(&plan), ["prod-orders", "prod-deep"]);
        let plan = build(&config("[accounts]\ninclude_ous = [\"Workloads/Dev\"]"), &org());
        assert_eq!(scanned(&plan), ["dev-orders"]);
        let plan = build(&config("[accounts]\ninclude_ous = [\"ou-t\"]"), &org());
        assert_eq!(scanned(&plan), ["prod-deep"]);
        // a path prefix that is not a whole OU name does not match
        let plan = build(&config("[accounts]\ninclude_ous = [\"Root/Work\"]"), &org());
        assert!(scanned(&plan).is_empty());
        assert!(plan.warnings.iter().any(|w| w.contains("Root/Work")));
    }

    #[test]
    fn include_and_exclude_by_id_or_name() {
        let plan = build(&config("[accounts]\ninclude_accounts = [\"prod-orders\", \"222222222222\"]"), &org());
        assert_eq!(scanned(&plan), ["prod-orders", "dev-orders"]);
        let plan = build(&config("[accounts]\nexclude_accounts = [\"prod-orders\", \"000000000000\"]"), &org());
        assert_eq!(scanned(&plan), ["dev-orders", "prod-deep"]);
        let excluded = plan.entries.iter().find(|e| e.name == "prod-orders").unwrap();
        assert!(matches!(&excluded.decision, ScanDecision::Skipped { reason } if reason.contains("exclude_accounts")));
    }

    #[test]
    fn config_regions_win_and_fallback_warns() {
        let plan = build(&config("[aws]\nregions = [\"us-east-1\", \"eu-west-1\", \"us-east-1\"]"), &org());
        assert_eq!(plan.regions, ["us-east-1", "eu-west-1"]);
        let mut view = org();
        view.default_region = None;
        let plan = build(&Config::default(), &view);
        assert_eq!(plan.regions, [FALLBACK_REGION]);
        assert_eq!(plan.warnings.len(), 1);
    }
}
