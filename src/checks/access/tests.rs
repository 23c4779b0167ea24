use serde_json::{json, Value};

use super::*;
use crate::checks::testkit::{allow_all, config_from, Fleet, MGMT};
use crate::config::Config;
use crate::findings::Finding;
use crate::inventory::{Inventory, OrgPolicyKind, ResourceKind, VpcConfig};

fn run(inv: &Inventory, config: &Config) -> (Vec<Finding>, Vec<AccessDecision>) {
    let mut sink = Sink::new();
    let index = crate::checks::Index::new(inv);
    for app in inv.apps() {
        check(&Context::new(inv, &index, config, app), &mut sink);
    }
    sink.into_parts()
}

fn denied(findings: &[Finding], check: CheckId) -> Vec<&Finding> {
    findings.iter().filter(|f| f.check == check).collect()
}

fn prod_fleet() -> Fleet {
    Fleet::new()
        .ou("ou-work", "Workloads", "r-root")
        .ou("ou-prod", "Prod", "ou-work")
        .account("111111111111", "prod-orders", "ou-prod")
}

fn region_lock_not_action() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyOutsideEU", "Effect": "Deny",
        "NotAction": ["iam:*", "organizations:*", "sts:*", "cloudfront:*", "support:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]})
}

#[test]
fn healthy_app_is_allowed_everything_it_needs() {
    let inv = prod_fleet().app("111111111111", "eu-west-1", "orders", |_| {}).build();
    let (findings, access) = run(&inv, &Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
    let actions: Vec<&str> = access.iter().map(|d| d.action.as_str()).collect();
    for a in
        ["cloudwatch:PutMetricData", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups", "s3:GetObject", "s3:GetObjectVersion"]
    {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(access.iter().all(|d| d.outcome == AccessOutcome::Allowed));
}

#[test]
fn region_lock_scp_with_not_action_does_not_fire_inside_the_allowed_regions() {
    let inv = prod_fleet()
        .scp("p-region", "RegionLock", region_lock_not_action(), &["ou-prod"])
        .app("111111111111", "eu-west-1", "orders", |_| {})
        .build();
    let (findings, _) = run(&inv, &Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn region_lock_scp_fires_outside_and_names_policy_statement_and_ou() {
    let inv = prod_fleet()
        .scp("p-region", "RegionLock", region_lock_not_action(), &["ou-prod"])
        .app("111111111111", "us-east-1", "orders", |_| {})
        .build();
    let (findings, _) = run(&inv, &Config::default());
    let found = denied(&findings, CheckId::ExecutionRoleAccessDenied);
    assert!(!found.is_empty());
    let f = found.iter().find(|f| f.subject.starts_with("s3:GetObject ")).expect("s3:GetObject denied");
    let text = format!("{} {}", f.detail, f.evidence_text());
    assert!(text.contains("RegionLock"), "{text}");
    assert!(text.contains("statement #0"), "{text}");
    assert!(text.contains("DenyOutsideEU"), "{text}");
    assert!(text.contains("Root/Workloads/Prod (ou-prod)"), "{text}");
    assert!(text.contains("ExplicitlyDenied"), "{text}");
}

#[test]
fn scps_do_not_apply_to_the_management_account() {
    let deny_all = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}]});
    let inv = Fleet::new()
        .account(MGMT, "management", "Root")
        .account("111111111111", "member", "Root")
        .scp("p-deny", "DenyAll", deny_all, &["r-root"])
        .app(MGMT, "eu-west-1", "mgmt-app", |_| {})
        .app("111111111111", "eu-west-1", "member-app", |_| {})
        .build();
    let (findings, _) = run(&inv, &Config::default());
    let denied_apps: std::collections::BTreeSet<&str> =
        denied(&findings, CheckId::ExecutionRoleAccessDenied).iter().map(|f| f.account_id.as_str()).collect();
    assert_eq!(denied_apps.into_iter().collect::<Vec<_>>(), vec!["111111111111"]);
}

#[test]
fn narrower_boundary_denies_and_is_named() {
    let boundary = json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyLogs", "Effect": "Allow", "Action": ["logs:*", "cloudwatch:*"], "Resource": "*"}]});
    let inv = prod_fleet()
        .managed_policy("111111111111", "arn:aws:iam::111111111111:policy/FlinkBoundary", "FlinkBoundary", boundary)
        .app("111111111111", "eu-west-1", "orders", |_| {})
        .role("111111111111", "orders-role", |r| r.permissions_boundary_arn = Some("arn:aws:iam::111111111111:policy/FlinkBoundary".into()))
        .build();
    let (findings, access) = run(&inv, &Config::default());
    let s3 = access.iter().find(|d| d.action == "s3:GetObject").unwrap();
    assert_eq!(s3.outcome, AccessOutcome::ImplicitlyDenied);
    assert_eq!(s3.blocked_by, vec!["boundary"]);
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).iter().any(|f| f.subject.starts_with("s3:GetObject ")));
    assert!(access.iter().find(|d| d.action == "logs:PutLogEvents").unwrap().outcome.is_allowed());
}

#[test]
fn unparsable_policy_makes_decisions_unknown_and_undetermined_never_allow_or_deny() {
    let inv = prod_fleet()
        .app("111111111111", "eu-west-1", "orders", |_| {})
        .role("111111111111", "orders-role", |r| {
            r.inline_policies.push(crate::inventory::InlinePolicy {
                name: "broken".into(),
                document: crate::inventory::PolicyDoc::from_aws_text("{\"Statement\": ["),
            });
        })
        .build();
    let (findings, access) = run(&inv, &Config::default());
    assert!(access.iter().all(|d| d.outcome == AccessOutcome::Unknown), "{access:#?}");
    assert!(access[0].missing[0].what.contains("inline policy broken"), "{:?}", access[0].missing);
    assert_eq!(access[0].missing[0].error_code, "MalformedPolicyDocument");
    assert_eq!(access[0].missing[0].permission, "iam:GetRolePolicy");
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).is_empty(), "no denial rests on an unread policy: {findings:#?}");
    let undetermined = denied(&findings, CheckId::AccessUndetermined);
    assert_eq!(undetermined.len(), access.len(), "one finding per app and undetermined action");
    assert!(undetermined[0].detail.contains("iam:GetRolePolicy"), "{}", undetermined[0].detail);
}

fn unread(operation: &str) -> crate::inventory::Unread {
    crate::inventory::Unread {
        operation: operation.into(),
        account_id: MGMT.into(),
        error_code: "AccessDeniedException".into(),
        request_id: Some("req-1".into()),
    }
}

/// Marks the targets of `policy_id` unknown, as collect does when
/// ListTargetsForPolicy is denied: may be attached at every level.
fn targets_unknown(inv: &mut Inventory, policy_id: &str) {
    let org = inv.organization.as_mut().unwrap();
    let policy = org.policies.iter_mut().find(|p| p.id == policy_id).unwrap();
    policy.targets.clear();
    policy.targets_unread = Some(unread("organizations:ListTargetsForPolicy"));
    let kind = policy.kind;
    for account in &mut inv.accounts {
        let chain = match kind {
            OrgPolicyKind::ServiceControlPolicy => &mut account.scp_chain,
            OrgPolicyKind::ResourceControlPolicy => &mut account.rcp_chain,
        };
        for level in chain {
            level.policy_ids.retain(|id| id != policy_id);
            level.maybe_policy_ids.push(policy_id.into());
        }
    }
}

#[test]
fn a_deny_scp_whose_targets_are_unknown_makes_only_what_it_could_deny_unknown() {
    let deny_kinesis =
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoKinesisWrites", "Effect": "Deny", "Action": "kinesis:Put*", "Resource": "*"}]});
    let mut inv = prod_fleet()
        .scp("p-nokinesis", "DenyKinesisWrites", deny_kinesis, &["ou-prod"])
        .app("111111111111", "eu-west-1", "orders", |a| a.stream_arns = vec!["arn:aws:kinesis:eu-west-1:111111111111:stream/out".into()])
        .build();
    // Complete: the Deny applies.
    let (findings, _) = run(&inv, &Config::default());
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).iter().any(|f| f.subject.starts_with("kinesis:PutRecord ")));

    targets_unknown(&mut inv, "p-nokinesis");
    let (findings, access) = run(&inv, &Config::default());
    let put = access.iter().find(|d| d.action == "kinesis:PutRecord").unwrap();
    assert_eq!(put.outcome, AccessOutcome::Unknown, "{put:#?}");
    assert!(
        put.missing
            .iter()
            .any(|m| m.what == "targets of SCP DenyKinesisWrites (p-nokinesis)" && m.request_id.as_deref() == Some("req-1")),
        "{:?}",
        put.missing
    );
    // A Deny that cannot match the action leaves it decided.
    assert!(access.iter().find(|d| d.action == "kinesis:GetRecords").unwrap().outcome.is_allowed());
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).is_empty(), "{findings:#?}");
    assert!(denied(&findings, CheckId::AccessUndetermined).iter().any(|f| f.subject.contains("kinesis:PutRecord ")));
}

#[test]
fn an_allow_all_scp_whose_targets_are_unknown_is_not_a_denial() {
    // FullAWSAccess's targets unknown (inference impossible): no level is
    // known to allow, but nothing is known to deny either.
    let mut inv = prod_fleet().app("111111111111", "eu-west-1", "orders", |_| {}).build();
    targets_unknown(&mut inv, "p-FullAWSAccess");
    let (findings, access) = run(&inv, &Config::default());
    assert!(access.iter().all(|d| d.outcome == AccessOutcome::Unknown), "{access:#?}");
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).is_empty());
}

fn deny_outside_org_rcp() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "OnlyFromTheLab", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalTag/lab": "yes"}}}]})
}

#[test]
fn rcps_apply_only_to_the_services_they_govern() {
    let inv = prod_fleet()
        .rcp("p-lab", "LabPerimeter", deny_outside_org_rcp(), &["ou-prod"])
        .app("111111111111", "eu-west-1", "orders", |a| a.stream_arns = vec!["arn:aws:kinesis:eu-west-1:111111111111:stream/in".into()])
        .build();
    let (findings, access) = run(&inv, &Config::default());
    let denied_actions: Vec<&str> = access.iter().filter(|d| !d.outcome.is_allowed()).map(|d| d.action.as_str()).collect();
    assert_eq!(denied_actions, ["s3:GetObject", "s3:GetObjectVersion"], "{access:#?}");
    let s3 = denied(&findings, CheckId::ExecutionRoleAccessDenied);
    assert!(s3.iter().all(|f| f.title.contains("RCP LabPerimeter")), "{s3:#?}");
    let metrics = access.iter().find(|d| d.action == "cloudwatch:PutMetricData").unwrap();
    assert!(metrics.deciding.iter().any(|s| s.policy_kind == "rcp" && s.why.starts_with("RCPs do not apply to cloudwatch")), "{metrics:#?}");
}

#[test]
fn rcps_do_not_apply_to_resources_of_the_management_account_or_aws_managed_keys() {
    let inv = prod_fleet()
        .account(MGMT, "management", "r-root")
        .rcp("p-lab", "LabPerimeter", deny_outside_org_rcp(), &["r-root"])
        .app("111111111111", "eu-west-1", "orders", |a| {
            a.code = Some(crate::inventory::CodeLocation { bucket_arn: "arn:aws:s3:::central-code".into(), file_key: "orders.jar".into(), object_version: None });
        })
        .resource(MGMT, ResourceKind::S3Bucket, "arn:aws:s3:::central-code", Some("eu-west-1"), Some(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::central-code/*"}]})))
        .build();
    let (_, access) = run(&inv, &Config::default());
    let s3 = access.iter().find(|d| d.action == "s3:GetObject").unwrap();
    assert_eq!(s3.outcome, AccessOutcome::Allowed, "{s3:#?}");
}

#[test]
fn a_bucket_of_another_member_is_judged_there_with_the_cross_account_rules() {
    let grant = |who: &str| {
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": who}, "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::artifacts/*"}]})
    };
    let fleet = |policy: Value| {
        prod_fleet()
            .account("333333333333", "artifacts", "r-root")
            .app("111111111111", "eu-west-1", "orders", |a| {
                a.code = Some(crate::inventory::CodeLocation {
                    bucket_arn: "arn:aws:s3:::artifacts".into(),
                    file_key: "orders.jar".into(),
                    object_version: None,
                });
            })
            .resource("333333333333", ResourceKind::S3Bucket, "arn:aws:s3:::artifacts", Some("eu-west-1"), Some(policy))
            .build()
    };
    let (_, access) = run(&fleet(grant("arn:aws:iam::111111111111:role/orders-role")), &Config::default());
    let s3 = access.iter().find(|d| d.action == "s3:GetObject").unwrap();
    assert_eq!(s3.outcome, AccessOutcome::Allowed, "{s3:#?}");
    // The bucket policy grants someone else: cross-account needs both sides.
    let (findings, access) = run(&fleet(grant("arn:aws:iam::444444444444:root")), &Config::default());
    let s3 = access.iter().find(|d| d.action == "s3:GetObject").unwrap();
    assert_eq!((s3.outcome, s3.blocked_by.clone()), (AccessOutcome::ImplicitlyDenied, vec!["resource".into()]), "{s3:#?}");
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).iter().any(|f| f.subject.starts_with("s3:GetObject ")));
}

#[test]
fn a_bucket_whose_policy_could_not_be_read_makes_the_read_unknown() {
    let inv = prod_fleet()
        .app("111111111111", "eu-west-1", "orders", |a| {
            a.code = Some(crate::inventory::CodeLocation {
                bucket_arn: "arn:aws:s3:::elsewhere".into(),
                file_key: "orders.jar".into(),
                object_version: None,
            });
        })
        .edit(|inv| {
            inv.accounts[0].resources.push(crate::inventory::ResourcePolicy {
                arn: "arn:aws:s3:::elsewhere".into(),
                kind: ResourceKind::S3Bucket,
                account_id: "999999999999".into(),
                region: None,
                policy: None,
                key_manager: None,
                unread: Some(crate::inventory::Unread {
                    operation: "s3:GetBucketPolicy".into(),
                    account_id: "999999999999".into(),
                    error_code: "OutsideOrganization".into(),
                    request_id: None,
                }),
            });
        })
        .build();
    let (findings, access) = run(&inv, &Config::default());
    let s3 = access.iter().find(|d| d.action == "s3:GetObject").unwrap();
    assert_eq!(s3.outcome, AccessOutcome::Unknown, "{s3:#?}");
    assert_eq!(s3.missing[0].error_code, "OutsideOrganization");
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).is_empty(), "{findings:#?}");
}

#[test]
fn vpc_kinesis_and_config_requirements_are_checked() {
    let inv = prod_fleet()
        .app("111111111111", "eu-west-1", "orders", |a| {
            a.vpc = Some(VpcConfig { vpc_id: Some("vpc-1".into()), subnet_ids: vec!["subnet-1".into()], security_group_ids: vec![] });
            a.stream_arns =
                vec!["arn:aws:kinesis:eu-west-1:111111111111:stream/in".into(), "arn:aws:kinesis:eu-west-1:111111111111:stream/out".into()];
            a.property_groups = vec![crate::inventory::PropertyGroup {
                id: "FlinkApplicationProperties".into(),
                properties: [
                    ("input.stream".into(), "in".into()),
                    ("output.stream.arn".into(), "arn:aws:kinesis:eu-west-1:111111111111:stream/out".into()),
                ]
                .into(),
            }];
        })
        .build();
    let config = config_from("[[require]]\naction = \"secretsmanager:GetSecretValue\"\nresource = \"arn:aws:secretsmanager:eu-west-1:${account}:secret:${app}-db\"\napp_pattern = \"^orders\"\nreason = \"database password\"\n");
    let (_, access) = run(&inv, &config);
    let has = |action: &str, resource: &str| access.iter().any(|d| d.action == action && d.resource.ends_with(resource));
    assert!(has("ec2:CreateNetworkInterface", "*"));
    assert!(has("kinesis:GetRecords", "stream/in"));
    assert!(!has("kinesis:PutRecord", "stream/in"));
    assert!(has("kinesis:PutRecords", "stream/out"));
    assert!(!has("kinesis:GetRecords", "stream/out"));
    assert!(has("kinesis:SubscribeToShard", "stream/in/consumer/*"));
    assert!(access.iter().any(|d| d.action == "secretsmanager:GetSecretValue"
        && d.resource == "arn:aws:secretsmanager:eu-west-1:111111111111:secret:orders-db"
        && d.source.contains("database password")));
}

// -- customer managed key ----------------------------------------------------

const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn key_policy(with_service: bool) -> Value {
    let mut statements =
        vec![json!({"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"})];
    if with_service {
        statements.push(json!({"Sid": "FlinkService", "Effect": "Allow",
            "Principal": {"Service": ["kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"]},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}, "ArnLike": {"aws:SourceArn": "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/*"}}}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn cmk_fleet(with_service: bool) -> Fleet {
    prod_fleet().resource("111111111111", ResourceKind::KmsKey, KEY, Some("eu-west-1"), Some(key_policy(with_service))).app(
        "111111111111",
        "eu-west-1",
        "orders",
        |a| {
            a.encryption = crate::inventory::Encryption { key_type: "CUSTOMER_MANAGED_KEY".into(), key_arn: Some(KEY.into()) };
        },
    )
}

fn perimeter(exempt_services: bool) -> Value {
    let mut condition = json!({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-test12345"}});
    if exempt_services {
        condition["BoolIfExists"] = json!({"aws:PrincipalIsAWSService": "false"});
    }
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*",
        "Action": ["kms:*", "s3:*"], "Resource": "*", "Condition": condition}]})
}

#[test]
fn key_policy_granting_the_service_principals_does_not_fire() {
    let (findings, access) = run(&cmk_fleet(true).build(), &Config::default());
    assert!(denied(&findings, CheckId::CmkServiceAccessDenied).is_empty(), "{findings:#?}");
    let kms: Vec<_> = access.iter().filter(|d| d.principal.ends_with("amazonaws.com")).collect();
    assert_eq!(kms.len(), 6);
    assert!(kms.iter().all(|d| d.outcome.is_allowed()));
}

#[test]
fn key_policy_without_the_service_principals_fires_for_each_action() {
    let (findings, _) = run(&cmk_fleet(false).build(), &Config::default());
    let found = denied(&findings, CheckId::CmkServiceAccessDenied);
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(found.iter().any(|f| f.subject.starts_with("infrastructure.kinesisanalytics.amazonaws.com kms:CreateGrant")));
    let ids: std::collections::BTreeSet<_> = found.iter().map(|f| f.finding_id.clone()).collect();
    assert_eq!(ids.len(), 6, "distinct finding ids per principal and action");
}

#[test]
fn rcp_perimeter_exempting_aws_service_principals_does_not_fire() {
    let inv = cmk_fleet(true).rcp("p-perimeter", "DataPerimeter", perimeter(true), &["ou-prod"]).build();
    let (findings, _) = run(&inv, &Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn rcp_perimeter_without_the_exemption_blocks_the_service() {
    let inv = cmk_fleet(true).rcp("p-perimeter", "DataPerimeter", perimeter(false), &["ou-prod"]).build();
    let (findings, _) = run(&inv, &Config::default());
    let found = denied(&findings, CheckId::CmkServiceAccessDenied);
    assert_eq!(found.len(), 6);
    assert!(found[0].evidence_text().contains("DataPerimeter"), "{}", found[0].evidence_text());
    assert!(found[0].evidence_text().contains("Root/Workloads/Prod (ou-prod)"));
    // the execution role is in the org: the perimeter does not touch it
    assert!(denied(&findings, CheckId::ExecutionRoleAccessDenied).is_empty());
    let _ = allow_all();
}

#[test]
fn rcps_do_not_apply_to_aws_managed_keys() {
    let inv = cmk_fleet(true)
        .rcp("p-perimeter", "DataPerimeter", perimeter(false), &["ou-prod"])
        .edit(|inv| {
            for key in inv.accounts.iter_mut().flat_map(|a| a.resources.iter_mut()).filter(|r| r.kind == ResourceKind::KmsKey) {
                key.key_manager = Some("AWS".into());
            }
        })
        .build();
    let (findings, _) = run(&inv, &Config::default());
    assert!(denied(&findings, CheckId::CmkServiceAccessDenied).is_empty(), "{findings:#?}");
}

#[test]
fn a_key_policy_that_could_not_be_read_is_undetermined_not_denied() {
    let inv = cmk_fleet(true)
        .edit(|inv| {
            for key in inv.accounts.iter_mut().flat_map(|a| a.resources.iter_mut()).filter(|r| r.kind == ResourceKind::KmsKey) {
                key.policy = None;
                key.unread = Some(unread("kms:GetKeyPolicy"));
            }
        })
        .build();
    let (findings, access) = run(&inv, &Config::default());
    assert!(denied(&findings, CheckId::CmkServiceAccessDenied).is_empty(), "{findings:#?}");
    let kms: Vec<_> = access.iter().filter(|d| d.principal.ends_with("amazonaws.com")).collect();
    assert!(kms.len() == 6 && kms.iter().all(|d| d.outcome == AccessOutcome::Unknown), "{kms:#?}");
    assert_eq!(denied(&findings, CheckId::AccessUndetermined).len(), 6);
}
