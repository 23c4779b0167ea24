//! Which AWS Regions are opt-in, as dated data. A token error
//! (`UnrecognizedClientException`, `InvalidClientTokenId`, `AuthFailure`, …)
//! on a regional endpoint means "this account has not enabled the Region"
//! only where the Region can be disabled at all: an opt-in Region. In a
//! Region enabled by default the same error is a real failure (bad or
//! revoked credentials, a broken audit role) and must not pass as "nothing
//! to scan".
//!
//! AWS's rule (<https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html>,
//! "Enable or disable AWS Regions in your account"): Regions launched before
//! March 20, 2019 are enabled by default and cannot be disabled; Regions
//! launched after it are opt-in. The default set is therefore closed; the
//! opt-in set grows with every new Region, so a Region in neither table is
//! treated as enabled by default (its token errors are `error` rows, and
//! the detail says to add the Region here).
//!
//! Checked on 2026-12-01 against:
//! * <https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/supported-regions.html>
//!   (the 17 default Regions, and opt-in Regions listed apart);
//! * <https://docs.aws.amazon.com/AmazonS3/latest/userguide/ConfiguringMrapOptInRegions.html>
//!   (the opt-in Regions af-south-1 … me-central-1 below);
//! * Regions launched since (ap-southeast-5 Malaysia 2024, ap-southeast-7
//!   Thailand 2025, mx-central-1 Mexico 2025, ap-east-2 Taipei 2025,
//!   ap-southeast-6 New Zealand 2025) are opt-in by the rule above.

/// When the tables below were last checked against the pages cited.
pub const CHECKED_ON: &str = "2026-12-01";

/// Regions enabled by default in every account (launched before 2019-03-20).
pub const DEFAULT_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// Opt-in Regions (launched after 2019-03-20): disabled until an account
/// enables them.
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// Whether `region` is an opt-in Region (one an account may not have enabled).
pub fn is_opt_in(region: &str) -> bool {
    OPT_IN_REGIONS.contains(&region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_opt_in_regions_are_disjoint_and_known() {
        for region in DEFAULT_REGIONS {
            assert!(!is_opt_in(region), "{region}");
        }
        for region in ["eu-south-1", "ap-east-1", "me-south-1", "af-south-1", "mx-central-1"] {
            assert!(is_opt_in(region), "{region}");
        }
        assert_eq!(DEFAULT_REGIONS.len(), 17);
        // GovCloud and China Regions are enabled in their own partitions.
        assert!(!is_opt_in("us-gov-west-1") && !is_opt_in("cn-north-1"));
        assert!(!is_opt_in("global"));
    }
}
