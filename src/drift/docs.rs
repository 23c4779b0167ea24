//! Documentation of the drift-* checks (prod-versus-dev comparisons).

use crate::checks::check_doc::CheckDoc;

const SCP_EVAL: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html";
const RCP_EVAL: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html";
const POLICY_EVAL: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html";
const BOUNDARIES: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html";
const TRUST: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html";
const IDENTITY_VS_RESOURCE: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html";
const CHECKPOINTS: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CheckpointConfiguration.html";
const UPGRADES: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/how-in-place-version-upgrades.html";
const SNAPSHOTS: &str = "https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ApplicationSnapshotConfiguration.html";

const PAIRING: &str = "Apps of a [[compare]] pair are matched by the `key` capture (or first group) of app_pattern, by identical \
                       name otherwise. Account ids and names of the two accounts, and the two app names, are replaced by placeholders \
                       ({account}, {account-name}, {app}) in ARNs and policy text before comparing, so only real differences show.";

pub const DOC_ACCESS_DECISION: CheckDoc = CheckDoc {
    what: "Fires when a required action of a paired app (same action, same resource after normalisation) is allowed in one account \
           of a [[compare]] pair and denied in the other; evidence names the deciding statement on each side.",
    why: "This is the question behind most 'works in dev, fails in prod' checkpoint incidents: the permission that differs, and the \
          policy statement that makes it differ.",
    example: "s3:GetObject on the code object is Allowed in dev-orders and ExplicitlyDenied in prod-orders by SCP DenyUnencryptedS3 \
              statement #0 attached at Root/Workloads/Prod.",
    fix: "Change the named statement (or the policy on the other side) so the two environments agree, then re-run.",
    references: &[POLICY_EVAL, SCP_EVAL, RCP_EVAL],
};

pub const DOC_SCP: CheckDoc = CheckDoc {
    what: "Fires when the SCPs that apply to the two accounts differ. Levels are aligned root with root, OU levels by depth (their \
           OU paths shown), the account level with the account level; at each level policies are matched by name and compared \
           statement by statement (semantic diff: order, formatting and action case do not count).",
    why: "SCPs cap what every role in the account can do; an SCP attached to a nested prod OU is invisible from the dev account and \
          a classic cause of prod-only AccessDenied.",
    example: "Root/Workloads/Prod has RegionLockdown (Deny NotAction ... outside eu-west-1) while Root/Workloads/Dev has none.",
    fix: "Decide which side is right; attach, detach or edit the SCP so both paths carry the intended guardrails.",
    references: &[SCP_EVAL],
};

pub const DOC_RCP: CheckDoc = CheckDoc {
    what: "Fires when the RCPs on the two accounts differ, level by level like drift-scp.",
    why: "RCPs cap what anyone may do to resources in the account (buckets, keys); a prod-only data perimeter can block the code \
          bucket or the state key.",
    example: "Prod has an RCP denying s3:* unless aws:PrincipalOrgID matches; dev has only RCPFullAWSAccess.",
    fix: "Align the RCPs, or make the perimeter exempt what the application legitimately needs.",
    references: &[RCP_EVAL],
};

pub const DOC_PERMISSION_BOUNDARY: CheckDoc = CheckDoc {
    what: "Fires when the paired apps' execution roles have different permissions boundaries (one has none, or the documents differ \
           semantically).",
    why: "A boundary narrower in prod silently removes permissions the identity policies grant.",
    example: "prod's role has boundary FlinkBoundary without kms:Decrypt; dev's role has no boundary.",
    fix: "Give both roles the same boundary, or add the missing actions to the narrower one.",
    references: &[BOUNDARIES, PAIRING_REF],
};

pub const DOC_IDENTITY_POLICY: CheckDoc = CheckDoc {
    what: "Fires when the paired execution roles' identity policies (attached managed and inline) differ: a policy on one side \
           only, or statements added, removed or changed.",
    why: "Hand-edited roles drift; the app that works in dev may rely on a statement prod never got.",
    example: "dev's inline policy allows kinesis:SubscribeToShard, prod's does not.",
    fix: "Deploy both roles from the same template; reconcile the listed statements.",
    references: &[POLICY_EVAL, PAIRING_REF],
};

pub const DOC_RESOURCE_POLICY: CheckDoc = CheckDoc {
    what: "Fires when the resource policies of what the paired apps touch differ: the customer managed key policy, the code \
           bucket policy, the Kinesis stream policies.",
    why: "A key policy without the Managed Flink service principals, or a bucket policy with an extra Deny, breaks only one side.",
    example: "prod's key policy lacks the statement for infrastructure.kinesisanalytics.amazonaws.com.",
    fix: "Reconcile the resource policies (infrastructure as code for both environments).",
    references: &[IDENTITY_VS_RESOURCE, PAIRING_REF],
};

pub const DOC_TRUST_POLICY: CheckDoc = CheckDoc {
    what: "Fires when the paired execution roles' trust policies differ.",
    why: "The service must be able to assume the execution role; conditions (aws:SourceAccount, aws:SourceArn) that differ can \
          stop an app from starting in one environment.",
    example: "prod's trust policy pins aws:SourceArn to an old application name.",
    fix: "Align the trust policies; keep confused-deputy conditions pointing at the right application.",
    references: &[TRUST, PAIRING_REF],
};

pub const DOC_CHECKPOINT_CONFIG: CheckDoc = CheckDoc {
    what: "Fires when the paired apps differ in effective checkpointing (enabled, interval, minimum pause).",
    why: "Checkpoint settings that differ make dev a poor rehearsal for prod recovery behaviour.",
    example: "dev uses DEFAULT (on, 60000 ms); prod uses CUSTOM with checkpointing disabled.",
    fix: "Use the same checkpoint configuration in both environments.",
    references: &[CHECKPOINTS, PAIRING_REF],
};

pub const DOC_RUNTIME: CheckDoc = CheckDoc {
    what: "Fires when the paired apps run different runtime environments.",
    why: "A different Flink version changes connectors, state compatibility and checkpoint behaviour.",
    example: "dev runs FLINK-1_20, prod still runs FLINK-1_15.",
    fix: "Upgrade the older side (in-place version upgrade) after testing.",
    references: &[UPGRADES, PAIRING_REF],
};

pub const DOC_SNAPSHOT_CONFIG: CheckDoc = CheckDoc {
    what: "Fires when the paired apps differ in whether snapshots are enabled.",
    why: "An update or stop in the environment without snapshots loses state.",
    example: "dev has snapshots on, prod off.",
    fix: "Enable snapshots on both.",
    references: &[SNAPSHOTS, PAIRING_REF],
};

/// Where pairing and normalisation are explained (the project README, once published).
const PAIRING_REF: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html";

/// The pairing rule, for the report and `fleetscan checks`.
pub const PAIRING_NOTE: &str = PAIRING;
