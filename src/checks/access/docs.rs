//! Documentation of the access checks.

use crate::checks::check_doc::CheckDoc;

const POLICY_EVAL: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html";
const SCPS: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html";
const RCPS: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html";
const FLINK_IAM: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/iam-role.html";
const FLINK_VPC: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/vpc-permissions.html";
const FLINK_CMK: &str = "https://docs.aws.amazon.com/managed-flink/latest/java/key-management-flink.html";
const KMS_KEY_POLICIES: &str = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html";

pub const DOC_EXECUTION_ROLE_ACCESS_DENIED: CheckDoc = CheckDoc {
    what: "For every application, lists the actions its execution role needs, each with its resource: cloudwatch:PutMetricData on *; \
           logs:PutLogEvents on its log stream, logs:DescribeLogStreams on its log group, logs:DescribeLogGroups; s3:GetObject and \
           s3:GetObjectVersion on its code object; the ec2 network-interface set when it runs in a VPC; Kinesis read and write \
           actions on the streams named in its property groups; and every [[require]] entry of the config. Each is decided by the \
           policy engine through the account's SCP chain (root → OUs → account; not for the management account, which SCPs do not \
           affect), the resource account's RCP chain (not for resources in the management account), the permissions boundary, the \
           identity policies and the resource policy, with the request context of a real call (aws:PrincipalArn, \
           aws:PrincipalOrgID, aws:PrincipalTag/*, aws:RequestedRegion, aws:ResourceAccount, ...). Fires for each action that is not \
           Allowed; evidence names the blocking policy, the statement (index and Sid) and where it is attached (OU path or account). \
           RCPs are applied only to the services AWS lists as governed by RCPs (S3, STS, KMS, SQS, Secrets Manager at the last \
           reading), never to service-linked roles, resources of the management account or AWS managed keys. Every resource is \
           judged in the account that owns it (its policy read there, that account's RCPs, the cross-account rules). A decision \
           that depends on an input the scan could not read is Unknown and reported by access-undetermined, never here.",
    why: "A missing permission shows up as a checkpoint failure, a restart loop or a job that never starts; finding it from the \
          logs takes hours, especially when an SCP on a nested OU is the cause.",
    example: "s3:GetObject on arn:aws:s3:::code-bucket/app.jar is ExplicitlyDenied by SCP RequireTLSAndRegion statement #1 (Sid \
              DenyOutsideEU) attached at Root/Workloads/Prod.",
    fix: "Change the named statement, or grant the action in the identity policy / boundary / resource policy that lacks it.",
    references: &[FLINK_IAM, FLINK_VPC, POLICY_EVAL, SCPS, RCPS],
};

pub const DOC_ACCESS_UNDETERMINED: CheckDoc = CheckDoc {
    what: "Fires once per application and required action (execution role or the Managed Flink service principals on its \
           customer managed key) whose decision is Unknown: an input of the decision could not be read — the targets of an SCP or \
           RCP (organizations:ListTargetsForPolicy / ListPoliciesForTarget denied or throttled out), a policy document that \
           could not be read or parsed, an identity policy or boundary, or the bucket, stream or key policy of a resource in an \
           account the run could not enter or outside the organization — and the decision differs depending on what it says. \
           fleetscan decides each action with every missing input taken at both extremes (allow everything / allow nothing, a \
           Deny-capable policy present / absent); when both give the same answer that answer is reported, otherwise this \
           finding names each missing input (what, which account, the error code and request id) and the permission that reads it.",
    why: "A report that turns unread data into denials (or allows) cannot be acted on: a security review would chase false \
          denials, or miss real ones. Unknown says exactly what to grant so the next run decides.",
    example: "The audit role lacks organizations:ListTargetsForPolicy, so where SCP DenyKinesisWrites is attached is unknown: \
              kinesis:PutRecords of payments-dev is Unknown instead of a guessed denial.",
    fix: "Grant the audit role the permission named in the finding (config/iam/fleetscan-org-read.json for Organizations calls, \
          config/iam/fleetscan-member-read.json in member accounts), make sure the run can enter the account that owns the \
          resource, and scan again.",
    references: &[POLICY_EVAL, SCPS, RCPS],
};

pub const DOC_CMK_SERVICE_ACCESS_DENIED: CheckDoc = CheckDoc {
    what: "For applications encrypted with a customer managed KMS key, evaluates the key policy (and the RCPs of the key's account) \
           for the Managed Flink service principals: kinesisanalytics.amazonaws.com needs kms:GenerateDataKey, kms:Decrypt and \
           kms:DescribeKey; infrastructure.kinesisanalytics.amazonaws.com needs kms:Decrypt, kms:GenerateDataKeyWithoutPlaintext \
           and kms:CreateGrant. The request carries aws:PrincipalIsAWSService = true, aws:SourceArn = the application ARN, \
           aws:SourceAccount and kms:EncryptionContext:aws:kinesisanalytics:arn. Fires for each action that is not Allowed.",
    why: "Durable application state (checkpoints, snapshots, running storage) is encrypted with this key; if the service cannot use \
          it, checkpoints and snapshots fail and the application cannot start or restore.",
    example: "A key policy that only grants the account root and the execution role, or an RCP data perimeter that denies kms:* to \
              principals outside the organization without exempting AWS service principals (aws:PrincipalIsAWSService).",
    fix: "Add key policy statements for both service principals (scoped with aws:SourceArn / aws:SourceAccount), and exempt AWS \
          service principals in RCP data perimeters.",
    references: &[FLINK_CMK, KMS_KEY_POLICIES, RCPS],
};
