//! Names of Organization levels for people: `Root (r-…)`,
//! `Root/Workloads/Prod (ou-…)`, `account 1111… (name)`. Shared by access
//! analysis and drift, so it sits below both and depends on the inventory
//! alone.

use crate::inventory::{Account, Inventory, PolicyLevel};

/// Where `level` of `account`'s chain is.
pub fn level_label(inv: &Inventory, account: &Account, level: &PolicyLevel) -> String {
    let ou_path = inv
        .organization
        .as_ref()
        .and_then(|o| o.organizational_units.iter().find(|u| u.id == level.target_id))
        .map(|u| u.path.as_str());
    describe_level(account, level, ou_path)
}

/// [`level_label`] with the OU path already looked up (the hot path).
pub fn describe_level(account: &Account, level: &PolicyLevel, ou_path: Option<&str>) -> String {
    if level.target_id == account.id {
        format!("account {} ({})", account.id, account.name)
    } else if level.target_id.starts_with("r-") {
        format!("Root ({})", level.target_id)
    } else {
        format!("{} ({})", ou_path.unwrap_or(&level.target_name), level.target_id)
    }
}
