//! Decisions per second for a prod-like request on one core.
//!
//! Policy set: SCPs at three levels (root, OU, account) with three policies
//! each, a permissions boundary, three identity policies, and a bucket
//! policy with conditions. Policies are compiled once; the loop evaluates
//! (with full explanation) N times.
//!
//! Run: `cargo bench --bench policy_decisions` (release profile).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use fleetscan::policy::{evaluate, NamedPolicy, OrgLevel, Outcome, Policy, PolicySet, Request};

fn p(name: &str, v: serde_json::Value) -> NamedPolicy {
    NamedPolicy::new(name, Arc::new(Policy::from_value(&v).expect("valid policy")))
}

fn scp_level(target: &str, n: usize) -> OrgLevel {
    let policies = vec![
        p(&format!("FullAWSAccess-{n}"), json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
        p(
            &format!("DenyRegions-{n}"),
            json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyOutsideRegions", "Effect": "Deny",
            "NotAction": ["iam:*", "organizations:*", "sts:*", "cloudfront:*", "route53:*", "support:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                          "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/OrgAdmin", "arn:aws:iam::*:role/aws-reserved/*"]}}}]}),
        ),
        p(
            &format!("Guardrails-{n}"),
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoLeaveOrg", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
            {"Sid": "NoDisableCloudTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"},
            {"Sid": "RequireTls", "Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}},
            {"Sid": "ProtectRoles", "Effect": "Deny", "Action": ["iam:AttachRolePolicy", "iam:PutRolePolicy"], "Resource": "arn:aws:iam::*:role/platform-*"}]}),
        ),
    ];
    OrgLevel { target: Arc::from(target), policies }
}

fn policy_set() -> PolicySet {
    PolicySet {
        scps: Some(vec![scp_level("r-ab12", 0), scp_level("ou-ab12-prod", 1), scp_level("111111111111", 2)]),
        boundaries: vec![p(
            "FlinkBoundary",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "kinesis:*", "logs:*", "cloudwatch:PutMetricData", "kms:Decrypt", "kms:GenerateDataKey", "ec2:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}),
        )],
        identity: vec![
            p(
                "FlinkCode",
                json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "ReadCode", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::flink-code-prod/apps/*"},
                {"Sid": "ListCode", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::flink-code-prod"}]}),
            ),
            p(
                "FlinkLogs",
                json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
                 "Resource": "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/kinesis-analytics/*"},
                {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]}),
            ),
            p(
                "FlinkStreams",
                json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards", "kinesis:SubscribeToShard"],
                 "Resource": "arn:aws:kinesis:eu-west-1:111111111111:stream/orders-*"},
                {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": "arn:aws:kinesis:eu-west-1:111111111111:stream/enriched-*"}]}),
            ),
        ],
        resource: Some(p(
            "flink-code-prod bucket policy",
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::flink-code-prod", "arn:aws:s3:::flink-code-prod/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::flink-code-prod/*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
            {"Sid": "AppRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/flink-prod-app"},
             "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::flink-code-prod/apps/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}, "StringLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/flink-*"}}}]}),
        )),
        ..Default::default()
    }
}

fn request() -> Request {
    Request::new(Some("arn:aws:iam::111111111111:role/flink-prod-app"), "s3:GetObject", "arn:aws:s3:::flink-code-prod/apps/app-1.4.2.jar")
        .with_resource_account("111111111111")
        .with_context("aws:PrincipalArn", "arn:aws:iam::111111111111:role/flink-prod-app")
        .with_context("aws:PrincipalAccount", "111111111111")
        .with_context("aws:PrincipalOrgID", "o-abc123")
        .with_context("aws:PrincipalTag/team", "streaming")
        .with_context("aws:RequestedRegion", "eu-west-1")
        .with_context("aws:ResourceAccount", "111111111111")
        .with_context("aws:PrincipalIsAWSService", "false")
        .with_context("aws:SecureTransport", "true")
}

fn main() {
    let set = policy_set();
    let req = request();
    let d = evaluate(&set, &req);
    assert_eq!(d.decision, Outcome::Allowed, "{}", d.to_text(&req));

    // Warm up, then time.
    for _ in 0..20_000 {
        black_box(evaluate(black_box(&set), black_box(&req)));
    }
    let n: u32 = std::env::var("N").ok().and_then(|s| s.parse().ok()).unwrap_or(500_000);
    let start = Instant::now();
    for _ in 0..n {
        black_box(evaluate(black_box(&set), black_box(&req)));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "policy_decisions: {n} decisions in {secs:.3} s = {:.0} decisions/s ({:.2} µs each, one core, with explanation)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}
