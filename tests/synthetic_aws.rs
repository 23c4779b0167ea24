//! The synthetic AWS of the Organization-scale benchmark, checked against the
//! real SDK clients: every response it generates parses, carries the fields
//! fleetscan reads, and its throttling errors are retried by the SDK's
//! standard retry classifier. No latency, no network; runs in a second.

#[path = "../benches/support/synthetic_aws.rs"]
mod synthetic_aws;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use synthetic_aws::{account_id, FleetSpec, SyntheticAws};

async fn sdk_config(aws: &Arc<SyntheticAws>, creds: Credentials, max_attempts: u32) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .http_client(aws.http_client())
        .retry_config(RetryConfig::standard().with_max_attempts(max_attempts).with_initial_backoff(Duration::from_millis(1)))
        .load()
        .await
}

async fn management(aws: &Arc<SyntheticAws>, max_attempts: u32) -> SdkConfig {
    let (ak, sk) = aws.management_keys();
    sdk_config(aws, Credentials::new(ak, sk, None, None, "synthetic"), max_attempts).await
}

fn regional(conf: &SdkConfig, region: &str) -> SdkConfig {
    conf.to_builder().region(Region::new(region.to_owned())).build()
}

fn decode(s: &str) -> serde_json::Value {
    let text = percent_encoding::percent_decode_str(s).decode_utf8().expect("utf8");
    serde_json::from_str(&text).expect("policy JSON")
}

#[tokio::test]
async fn organizations_tree_policies_and_tags_parse() {
    let aws = SyntheticAws::new(FleetSpec::tiny());
    let conf = management(&aws, 1).await;
    let org = aws_sdk_organizations::Client::new(&conf);

    let described = org.describe_organization().send().await.unwrap();
    let o = described.organization().unwrap();
    assert_eq!(o.master_account_id(), Some(account_id(0).as_str()));
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_owned();
    assert_eq!(roots.roots()[0].policy_types().len(), 2);

    // Walk the tree top-down, every page.
    let mut parents = vec![root.clone()];
    let (mut ous, mut accounts) = (0, Vec::new());
    let mut entities = vec![root.clone()];
    while let Some(parent) = parents.pop() {
        let pages: Vec<_> = org
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap();
        for page in pages {
            for ou in page.organizational_units() {
                ous += 1;
                parents.push(ou.id().unwrap().to_owned());
                entities.push(ou.id().unwrap().to_owned());
                assert!(ou.name().is_some() && ou.arn().is_some());
            }
        }
        let pages: Vec<_> = org.list_accounts_for_parent().parent_id(&parent).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
        for page in pages {
            for a in page.accounts() {
                assert!(a.joined_timestamp().is_some(), "epoch timestamp parsed");
                assert_eq!(a.state().map(|s| s.as_str()), Some("ACTIVE"));
                accounts.push(a.id().unwrap().to_owned());
            }
        }
    }
    assert_eq!(ous, aws.ou_count());
    assert_eq!(accounts.len(), aws.spec.accounts);

    entities.extend(accounts.iter().cloned());
    let mut policies = 0;
    let mut attached: std::collections::BTreeSet<(String, String)> = Default::default();
    for filter in [aws_sdk_organizations::types::PolicyType::ServiceControlPolicy, aws_sdk_organizations::types::PolicyType::ResourceControlPolicy] {
        let listed = org.list_policies().filter(filter).send().await.unwrap();
        for p in listed.policies() {
            policies += 1;
            let d = org.describe_policy().policy_id(p.id().unwrap()).send().await.unwrap();
            let content = d.policy().unwrap().content().unwrap();
            serde_json::from_str::<serde_json::Value>(content).expect("policy content is JSON");
            let targets: usize = org
                .list_targets_for_policy()
                .policy_id(p.id().unwrap())
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .unwrap()
                .iter()
                .flat_map(|page| page.targets().iter().map(|t| t.target_id().unwrap().to_owned()))
                .map(|target| attached.insert((target, p.id().unwrap().to_owned())))
                .count();
            if p.aws_managed() {
                assert_eq!(targets, 1 + aws.ou_count() + aws.spec.accounts, "{} attached everywhere", p.name().unwrap());
            } else {
                assert!(targets >= 1);
            }
        }
    }
    assert_eq!(policies, aws.policy_count());

    // The other direction agrees: each entity's policies, both types.
    let stats_before = aws.stats().get("organizations:ListPoliciesForTarget");
    let mut seen = std::collections::BTreeSet::new();
    for entity in &entities {
        for filter in
            [aws_sdk_organizations::types::PolicyType::ServiceControlPolicy, aws_sdk_organizations::types::PolicyType::ResourceControlPolicy]
        {
            let listed = org.list_policies_for_target().target_id(entity).filter(filter.clone()).send().await.unwrap();
            assert!(listed.policies().iter().all(|p| p.r#type() == Some(&filter)));
            seen.extend(listed.policies().iter().map(|p| (entity.clone(), p.id().unwrap().to_owned())));
        }
    }
    assert_eq!(seen, attached, "ListPoliciesForTarget is the inverse of ListTargetsForPolicy");
    assert_eq!(aws.stats().get("organizations:ListPoliciesForTarget") - stats_before, 2 * entities.len() as u64);
    let missing = org
        .list_policies_for_target()
        .target_id("ou-synt-999")
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("TargetNotFoundException"));

    // Real page size: at most 20, larger asks are rejected.
    let err = org.list_accounts_for_parent().parent_id(&root).max_results(50).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidInputException"));
    let tags = org.list_tags_for_resource().resource_id(account_id(1)).send().await.unwrap();
    assert!(tags.tags().iter().any(|t| t.key() == "env"));

    let stats = aws.stats();
    // FullAWSAccess and RCPFullAWSAccess: 23 targets = 2 pages each; the others 1.
    assert_eq!(stats.get("organizations:ListTargetsForPolicy"), aws.policy_count() as u64 + 2);
    assert_eq!(stats.throttles, 0);
}

#[tokio::test]
async fn member_account_reads_parse() {
    let aws = SyntheticAws::new(FleetSpec::tiny());
    let base = management(&aws, 1).await;
    let sts = aws_sdk_sts::Client::new(&base);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(account_id(0).as_str()));

    let (mut apps_seen, mut cmk_seen, mut failed_seen, mut no_bucket_policy) = (0, 0, 0, 0);
    for a in 1..aws.spec.accounts {
        let id = account_id(a);
        let assumed = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/FleetscanAudit"))
            .role_session_name("fleetscan-test")
            .send()
            .await
            .unwrap();
        let c = assumed.credentials().unwrap();
        assert!(c.access_key_id().contains(&id), "access key encodes the account");
        let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "assumed");
        let conf = sdk_config(&aws, creds, 1).await;
        let who = aws_sdk_sts::Client::new(&conf).get_caller_identity().send().await.unwrap();
        assert_eq!(who.account(), Some(id.as_str()));
        let iam = aws_sdk_iam::Client::new(&conf);

        for region in aws.spec.regions.clone() {
            let rconf = regional(&conf, &region);
            let flink = aws_sdk_kinesisanalyticsv2::Client::new(&rconf);
            let listed = flink.list_applications().limit(50).send().await.unwrap();
            let names: Vec<String> = listed.application_summaries().iter().map(|s| s.application_name().to_owned()).collect();
            if names.is_empty() {
                continue;
            }
            for name in &names {
                apps_seen += 1;
                let d = flink.describe_application().application_name(name).send().await.unwrap();
                let detail = d.application_detail().unwrap();
                assert_eq!(detail.application_name(), name);
                assert!(detail.create_timestamp().is_some() && detail.last_update_timestamp().is_some());
                assert!(detail.runtime_environment().as_str().starts_with("FLINK-"));
                let conf_d = detail.application_configuration_description().unwrap();
                let flink_conf = conf_d.flink_application_configuration_description().unwrap();
                assert!(flink_conf.checkpoint_configuration_description().unwrap().checkpoint_interval().is_some());
                let props = conf_d.environment_property_descriptions().unwrap().property_group_descriptions();
                let input_stream = props[0].property_map()["input.stream.arn"].clone();
                let code = conf_d
                    .application_code_configuration_description()
                    .unwrap()
                    .code_content_description()
                    .unwrap()
                    .s3_application_code_location_description()
                    .unwrap();
                let bucket = code.bucket_arn().strip_prefix("arn:aws:s3:::").unwrap().to_owned();
                assert!(!detail.cloud_watch_logging_option_descriptions().is_empty());

                let snaps = flink.list_application_snapshots().application_name(name).limit(50).send().await.unwrap();
                assert_eq!(snaps.snapshot_summaries().len(), aws.spec.snapshots_per_app);
                assert!(snaps.snapshot_summaries()[0].snapshot_creation_timestamp().is_some());
                let ops = flink.list_application_operations().application_name(name).limit(50).send().await.unwrap();
                assert_eq!(ops.application_operation_info_list().len(), aws.spec.operations_per_app);
                for op in ops.application_operation_info_list() {
                    assert!(op.start_time().is_some());
                    if op.operation_status().map(|s| s.as_str()) == Some("FAILED") {
                        failed_seen += 1;
                        let det = flink
                            .describe_application_operation()
                            .application_name(name)
                            .operation_id(op.operation_id().unwrap())
                            .send()
                            .await
                            .unwrap();
                        let error = det
                            .application_operation_info_details()
                            .and_then(|d| d.operation_failure_details())
                            .and_then(|f| f.error_info())
                            .and_then(|e| e.error_string());
                        assert!(error.unwrap().contains("CheckpointException"));
                    }
                }
                let tags = flink.list_tags_for_resource().resource_arn(detail.application_arn()).send().await.unwrap();
                assert_eq!(tags.tags().len(), 3);

                // Execution role: trust policy URL-encoded, policies.
                let role_arn = detail.service_execution_role().unwrap();
                let role_name = role_arn.rsplit('/').next().unwrap();
                let role = iam.get_role().role_name(role_name).send().await.unwrap();
                let role = role.role().unwrap();
                assert_eq!(role.arn(), role_arn);
                let trust = decode(role.assume_role_policy_document().unwrap());
                assert_eq!(trust["Statement"][0]["Principal"]["Service"], "kinesisanalytics.amazonaws.com");
                let attached = iam.list_attached_role_policies().role_name(role_name).send().await.unwrap();
                assert_eq!(attached.attached_policies().len(), 2);
                let mut arns: Vec<String> = attached.attached_policies().iter().map(|p| p.policy_arn().unwrap().to_owned()).collect();
                if let Some(b) = role.permissions_boundary() {
                    arns.push(b.permissions_boundary_arn().unwrap().to_owned());
                }
                for arn in arns {
                    let p = iam.get_policy().policy_arn(&arn).send().await.unwrap();
                    let v = p.policy().unwrap().default_version_id().unwrap();
                    let pv = iam.get_policy_version().policy_arn(&arn).version_id(v).send().await.unwrap();
                    decode(pv.policy_version().unwrap().document().unwrap());
                }
                let inline = iam.list_role_policies().role_name(role_name).send().await.unwrap();
                for pn in inline.policy_names() {
                    let rp = iam.get_role_policy().role_name(role_name).policy_name(pn).send().await.unwrap();
                    decode(rp.policy_document());
                }

                // Customer managed key.
                if let Some(key_id) = conf_d.application_encryption_configuration_description().and_then(|e| e.key_id()) {
                    cmk_seen += 1;
                    let kms = aws_sdk_kms::Client::new(&rconf);
                    let key = kms.describe_key().key_id(key_id).send().await.unwrap();
                    let meta = key.key_metadata().unwrap();
                    assert_eq!(meta.key_manager().map(|m| m.as_str()), Some("CUSTOMER"));
                    let policy = kms.get_key_policy().key_id(meta.arn().unwrap()).policy_name("default").send().await.unwrap();
                    serde_json::from_str::<serde_json::Value>(policy.policy().unwrap()).unwrap();
                }

                // Code bucket: path-style (endpoint override) and virtual-hosted.
                for path_style in [true, false] {
                    let s3conf = aws_sdk_s3::config::Builder::from(&rconf).force_path_style(path_style).build();
                    let s3 = aws_sdk_s3::Client::from_conf(s3conf);
                    match s3.get_bucket_policy().bucket(&bucket).send().await {
                        Ok(out) => {
                            serde_json::from_str::<serde_json::Value>(out.policy().unwrap()).unwrap();
                        }
                        Err(err) => {
                            assert_eq!(err.code(), Some("NoSuchBucketPolicy"), "{err:?}");
                            no_bucket_policy += 1;
                        }
                    }
                }

                // The account's bucket list names the code bucket (how
                // collect finds which account owns a bucket).
                for path_style in [true, false] {
                    let s3conf = aws_sdk_s3::config::Builder::from(&rconf).force_path_style(path_style).build();
                    let listed = aws_sdk_s3::Client::from_conf(s3conf).list_buckets().send().await.unwrap();
                    assert!(listed.buckets().iter().any(|b| b.name() == Some(bucket.as_str())), "{bucket} not in {listed:?}");
                }

                // Streams from the property groups.
                let kinesis = aws_sdk_kinesis::Client::new(&rconf);
                let out = kinesis.get_resource_policy().resource_arn(&input_stream).send().await.unwrap();
                assert!(out.policy().starts_with('{'));
            }

            // One batched GetMetricData for the region's apps.
            let cw = aws_sdk_cloudwatch::Client::new(&rconf);
            let end = aws_smithy_types::DateTime::from_secs(aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs());
            let start = aws_smithy_types::DateTime::from_secs(end.secs() - 86_400);
            let mut request = cw.get_metric_data().start_time(start).end_time(end);
            let metrics = ["numberOfFailedCheckpoints", "lastCheckpointDuration", "lastCheckpointSize", "downtime", "fullRestarts"];
            for (i, name) in names.iter().enumerate() {
                for (j, m) in metrics.iter().enumerate() {
                    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
                    let metric = Metric::builder()
                        .namespace("AWS/KinesisAnalytics")
                        .metric_name(*m)
                        .dimensions(Dimension::builder().name("Application").value(name).build())
                        .build();
                    let stat = MetricStat::builder().metric(metric).period(300).stat("Maximum").build();
                    request = request.metric_data_queries(MetricDataQuery::builder().id(format!("m{i}_{j}")).metric_stat(stat).build());
                }
            }
            let out = request.send().await.unwrap();
            assert_eq!(out.metric_data_results().len(), names.len() * metrics.len());
            for r in out.metric_data_results() {
                assert!(r.id().unwrap().starts_with('m'));
                assert!(!r.timestamps().is_empty() && r.timestamps().len() == r.values().len());
                assert!(r.timestamps()[0].secs() >= start.secs() && r.timestamps()[0].secs() <= end.secs());
                assert_eq!(r.status_code().map(|s| s.as_str()), Some("Complete"));
            }
        }
    }
    assert_eq!(apps_seen, aws.app_count(), "every app listed in exactly one account × region");
    assert!(cmk_seen > 0 && failed_seen > 0 && no_bucket_policy > 0, "cmk {cmk_seen} failed {failed_seen} nobucket {no_bucket_policy}");
    let stats = aws.stats();
    assert_eq!(stats.get("sts:AssumeRole"), (aws.spec.accounts - 1) as u64);
    assert_eq!(stats.get("cloudwatch:GetMetricData"), aws.app_region_pairs() as u64);
    assert!(stats.per_account.len() >= aws.spec.accounts);
}

/// Every service's throttling answer is classified as retryable by the SDK:
/// with every call throttled and 3 attempts, each operation is tried 3 times.
#[tokio::test]
async fn throttling_errors_are_retried_by_the_sdk() {
    let mut spec = FleetSpec::tiny();
    spec.throttle_rate = 1.0;
    let aws = SyntheticAws::new(spec);
    let conf = management(&aws, 3).await;
    let id = account_id(1);
    let codes = [
        aws_sdk_organizations::Client::new(&conf).list_roots().send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_sts::Client::new(&conf).get_caller_identity().send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_iam::Client::new(&conf).get_role().role_name("r").send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_kinesisanalyticsv2::Client::new(&conf).list_applications().send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_cloudwatch::Client::new(&conf).get_metric_data().send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_kms::Client::new(&conf).describe_key().key_id("k").send().await.unwrap_err().code().map(str::to_owned),
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build())
            .get_bucket_policy()
            .bucket("b")
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_owned),
        aws_sdk_kinesis::Client::new(&conf)
            .get_resource_policy()
            .resource_arn(format!("arn:aws:kinesis:us-east-1:{id}:stream/s"))
            .send()
            .await
            .unwrap_err()
            .code()
            .map(str::to_owned),
    ];
    let codes: Vec<&str> = codes.iter().map(|c| c.as_deref().unwrap_or("-")).collect();
    assert_eq!(
        codes,
        [
            "TooManyRequestsException",
            "Throttling",
            "Throttling",
            "ThrottlingException",
            "Throttling",
            "ThrottlingException",
            "SlowDown",
            "LimitExceededException"
        ]
    );
    let stats = aws.stats();
    for (op, n) in &stats.calls {
        assert_eq!(*n, 3, "{op} attempted {n} times: its throttling error was not retried");
    }
    assert_eq!(stats.calls.len(), 8);
    assert_eq!(stats.throttles, 24);
}
