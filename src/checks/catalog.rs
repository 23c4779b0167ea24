//! Every check id (the contract of SPEC §6) with its default severity and
//! one-line title. Each check's full documentation lives beside its code.

use serde::{Deserialize, Serialize};

use crate::severity::Severity;

macro_rules! checks {
    ($( $variant:ident => $id:literal, $severity:ident, $family:ident, $title:literal; )+) => {
        /// A check of the catalogue. The string ids are a contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum CheckId {
            $( #[serde(rename = $id)] $variant, )+
        }

        impl CheckId {
            pub const ALL: &'static [CheckId] = &[$( CheckId::$variant, )+];

            pub fn as_str(self) -> &'static str {
                match self { $( CheckId::$variant => $id, )+ }
            }

            pub fn default_severity(self) -> Severity {
                match self { $( CheckId::$variant => Severity::$severity, )+ }
            }

            pub fn family(self) -> Family {
                match self { $( CheckId::$variant => Family::$family, )+ }
            }

            pub fn title(self) -> &'static str {
                match self { $( CheckId::$variant => $title, )+ }
            }
        }
    };
}

checks! {
    CheckpointingDisabled => "checkpointing-disabled", High, Checkpoint, "Checkpointing is disabled";
    CheckpointIntervalOutOfRange => "checkpoint-interval-out-of-range", Medium, Checkpoint, "Checkpoint interval outside the allowed range";
    CheckpointFailures => "checkpoint-failures", High, Checkpoint, "Checkpoints failed in the lookback window";
    CheckpointSlow => "checkpoint-slow", Medium, Checkpoint, "Checkpoints take too long for their interval";
    SnapshotsDisabled => "snapshots-disabled", Medium, Snapshot, "Snapshots are disabled";
    SnapshotStale => "snapshot-stale", Low, Snapshot, "No recent READY snapshot";
    RuntimeEndOfSupport => "runtime-end-of-support", High, Application, "Flink runtime past or near end of support";
    ApplicationUnhealthy => "application-unhealthy", Medium, Application, "Application is unhealthy";
    OperationFailed => "operation-failed", Medium, Application, "An application operation failed";
    CmkServiceAccessDenied => "cmk-service-access-denied", High, Access, "Customer managed key does not let Managed Flink use it";
    ExecutionRoleAccessDenied => "execution-role-access-denied", High, Access, "Execution role cannot perform a required action";
    AccessUndetermined => "access-undetermined", Low, Access, "An access decision could not be made: an input could not be read";
    DriftAccessDecision => "drift-access-decision", High, Drift, "Access decision differs between baseline and target";
    DriftScp => "drift-scp", Medium, Drift, "Effective SCPs differ";
    DriftRcp => "drift-rcp", Medium, Drift, "Effective RCPs differ";
    DriftPermissionBoundary => "drift-permission-boundary", Medium, Drift, "Permissions boundary differs";
    DriftIdentityPolicy => "drift-identity-policy", Medium, Drift, "Identity policies differ";
    DriftResourcePolicy => "drift-resource-policy", Medium, Drift, "Resource policies differ";
    DriftTrustPolicy => "drift-trust-policy", Medium, Drift, "Trust policies differ";
    DriftCheckpointConfig => "drift-checkpoint-config", Medium, Drift, "Checkpoint settings differ";
    DriftRuntime => "drift-runtime", Medium, Drift, "Runtime differs";
    DriftSnapshotConfig => "drift-snapshot-config", Medium, Drift, "Snapshot settings differ";
    AlarmMissing => "alarm-missing", Medium, Monitoring, "No usable alarm on checkpoints or restarts";
    HealthEventOpen => "health-event-open", Medium, Monitoring, "Open AWS Health event for Managed Flink";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Checkpoint,
    Snapshot,
    Application,
    Access,
    Drift,
    Monitoring,
}

impl Family {
    /// Every family, in catalogue order.
    pub const ALL: [Family; 6] = [Family::Checkpoint, Family::Snapshot, Family::Application, Family::Access, Family::Drift, Family::Monitoring];

    /// The lowercase name (as serialized): `checkpoint`, `access`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Checkpoint => "checkpoint",
            Family::Snapshot => "snapshot",
            Family::Application => "application",
            Family::Access => "access",
            Family::Drift => "drift",
            Family::Monitoring => "monitoring",
        }
    }
}

impl std::str::FromStr for CheckId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a check id (see `fleetscan checks`)"))
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

pub fn is_known_check(id: &str) -> bool {
    id.parse::<CheckId>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_ids_are_unique() {
        let ids: HashSet<_> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ids.len(), CheckId::ALL.len());
    }

    #[test]
    fn contract_ids_and_default_severities() {
        for (id, severity) in [
            ("checkpointing-disabled", Severity::High),
            ("checkpoint-interval-out-of-range", Severity::Medium),
            ("checkpoint-failures", Severity::High),
            ("checkpoint-slow", Severity::Medium),
            ("snapshots-disabled", Severity::Medium),
            ("snapshot-stale", Severity::Low),
            ("runtime-end-of-support", Severity::High),
            ("application-unhealthy", Severity::Medium),
            ("operation-failed", Severity::Medium),
            ("cmk-service-access-denied", Severity::High),
            ("execution-role-access-denied", Severity::High),
            ("access-undetermined", Severity::Low),
            ("drift-access-decision", Severity::High),
            ("drift-scp", Severity::Medium),
            ("drift-rcp", Severity::Medium),
            ("drift-permission-boundary", Severity::Medium),
            ("drift-identity-policy", Severity::Medium),
            ("drift-resource-policy", Severity::Medium),
            ("drift-trust-policy", Severity::Medium),
            ("drift-checkpoint-config", Severity::Medium),
            ("drift-runtime", Severity::Medium),
            ("drift-snapshot-config", Severity::Medium),
            ("alarm-missing", Severity::Medium),
            ("health-event-open", Severity::Medium),
        ] {
            let check: CheckId = id.parse().unwrap();
            assert_eq!(check.default_severity(), severity, "{id}");
            assert_eq!(check.as_str(), id);
        }
        assert_eq!(CheckId::ALL.len(), 24);
    }
}
