//! Pure mapping of Managed Flink API shapes into the snapshot's
//! [`FlinkApp`], [`Snapshot`] and [`Operation`].

use chrono::{DateTime, Utc};

use aws_sdk_kinesisanalyticsv2::types::{ApplicationConfigurationDescription, ApplicationDetail, ApplicationOperationInfo, SnapshotDetails};

use super::arn;
use crate::inventory::{
    CheckpointConfig, CodeLocation, Encryption, FlinkApp, InlineString, Monitoring, Operation, Parallelism, PropertyGroup, Snapshot, VpcConfig,
};

/// `AWS_OWNED_KEY`: what an app without an encryption configuration uses.
pub const AWS_OWNED_KEY: &str = "AWS_OWNED_KEY";

/// Converts an SDK timestamp.
pub fn to_chrono(dt: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(dt.secs(), dt.subsec_nanos())
}

/// Builds the app from DescribeApplication; snapshots, operations, tags
/// and metrics are filled by the caller.
pub fn app_from_detail(detail: &ApplicationDetail) -> FlinkApp {
    let runtime = detail.runtime_environment().as_str().to_owned();
    let conf = detail.application_configuration_description();
    let flink = conf.and_then(|c| c.flink_application_configuration_description());
    let checkpoint = match flink.and_then(|f| f.checkpoint_configuration_description()) {
        Some(cp) => CheckpointConfig::from_api(
            cp.configuration_type().map(|t| t.as_str()).unwrap_or("DEFAULT"),
            cp.checkpointing_enabled(),
            cp.checkpoint_interval(),
            cp.min_pause_between_checkpoints(),
        ),
        // A Flink app without the block runs with the service defaults; other
        // runtimes (SQL) have no Flink checkpointing at all.
        None if runtime.starts_with("FLINK") => CheckpointConfig::from_api("DEFAULT", None, None, None),
        None => CheckpointConfig::default(),
    };
    let parallelism = flink.and_then(|f| f.parallelism_configuration_description()).map(|p| Parallelism {
        configuration_type: p.configuration_type().map(|t| t.as_str().into()).unwrap_or_default(),
        parallelism: p.parallelism(),
        parallelism_per_kpu: p.parallelism_per_kpu(),
        current_parallelism: p.current_parallelism(),
        auto_scaling_enabled: p.auto_scaling_enabled(),
    });
    let monitoring = flink.and_then(|f| f.monitoring_configuration_description()).map(|m| Monitoring {
        configuration_type: m.configuration_type().map(|t| t.as_str().into()).unwrap_or_default(),
        metrics_level: m.metrics_level().map(|l| l.as_str().into()),
        log_level: m.log_level().map(|l| l.as_str().into()),
    });
    let property_groups = property_groups(conf);
    let stream_arns = arn::stream_arns(property_groups.iter().flat_map(|g| g.properties.values().map(InlineString::as_str)));
    FlinkApp {
        name: detail.application_name().into(),
        arn: detail.application_arn().to_owned(),
        description: detail.application_description().filter(|d| !d.is_empty()).map(str::to_owned),
        status: detail.application_status().as_str().into(),
        runtime: runtime.into(),
        version_id: Some(detail.application_version_id()),
        created_at: detail.create_timestamp().and_then(to_chrono),
        updated_at: detail.last_update_timestamp().and_then(to_chrono),
        execution_role_arn: detail.service_execution_role().map(str::to_owned),
        checkpoint,
        parallelism,
        monitoring,
        snapshots_enabled: conf.and_then(|c| c.application_snapshot_configuration_description()).map(|s| s.snapshots_enabled()).unwrap_or(false),
        snapshots: Vec::new(),
        operations: Vec::new(),
        vpc: conf.and_then(|c| c.vpc_configuration_descriptions().first()).map(|v| VpcConfig {
            vpc_id: Some(v.vpc_id().to_owned()).filter(|id| !id.is_empty()),
            subnet_ids: v.subnet_ids().to_vec(),
            security_group_ids: v.security_group_ids().to_vec(),
        }),
        encryption: encryption(conf),
        property_groups,
        stream_arns,
        code: conf
            .and_then(|c| c.application_code_configuration_description())
            .and_then(|c| c.code_content_description())
            .and_then(|c| c.s3_application_code_location_description())
            .map(|s3| CodeLocation {
                bucket_arn: s3.bucket_arn().to_owned(),
                file_key: s3.file_key().to_owned(),
                object_version: s3.object_version().map(str::to_owned),
            }),
        log_stream_arns: detail
            .cloud_watch_logging_option_descriptions()
            .iter()
            .map(|l| l.log_stream_arn().to_owned())
            .filter(|a| !a.is_empty())
            .collect(),
        metrics: None,
        tags: Default::default(),
    }
}

fn property_groups(conf: Option<&ApplicationConfigurationDescription>) -> Vec<PropertyGroup> {
    let mut groups: Vec<PropertyGroup> = conf
        .and_then(|c| c.environment_property_descriptions())
        .map(|e| e.property_group_descriptions())
        .unwrap_or_default()
        .iter()
        .map(|g| PropertyGroup {
            id: g.property_group_id().into(),
            properties: g.property_map().iter().map(|(k, v)| (k.into(), v.into())).collect(),
        })
        .collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    groups
}

/// Key type and, when the API gave a key ARN, the ARN. A key id or alias is
/// resolved later with KMS DescribeKey.
fn encryption(conf: Option<&ApplicationConfigurationDescription>) -> Encryption {
    match conf.and_then(|c| c.application_encryption_configuration_description()) {
        Some(enc) => Encryption {
            key_type: enc.key_type().as_str().into(),
            key_arn: enc.key_id().filter(|k| k.starts_with("arn:") && k.contains(":key/")).map(str::to_owned),
        },
        None => Encryption { key_type: AWS_OWNED_KEY.into(), key_arn: None },
    }
}

/// The key id the API gave (ARN, id or alias), if any.
pub fn key_id(detail: &ApplicationDetail) -> Option<String> {
    detail
        .application_configuration_description()
        .and_then(|c| c.application_encryption_configuration_description())
        .and_then(|e| e.key_id())
        .map(str::to_owned)
}

pub fn snapshot(s: &SnapshotDetails) -> Snapshot {
    Snapshot {
        name: s.snapshot_name().into(),
        status: s.snapshot_status().as_str().into(),
        created_at: s.snapshot_creation_timestamp().and_then(to_chrono),
        application_version_id: Some(s.application_version_id()),
        runtime: s.runtime_environment().map(|r| r.as_str().into()),
    }
}

pub fn operation(o: &ApplicationOperationInfo) -> Operation {
    Operation {
        id: o.operation_id().unwrap_or_default().into(),
        operation: o.operation().unwrap_or_default().into(),
        status: o.operation_status().map(|s| s.as_str().into()).unwrap_or_default(),
        started_at: o.start_time().and_then(to_chrono),
        ended_at: o.end_time().and_then(to_chrono),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesisanalyticsv2::types::{
        ApplicationCodeConfigurationDescription, ApplicationEncryptionConfigurationDescription, ApplicationSnapshotConfigurationDescription,
        ApplicationStatus, CheckpointConfigurationDescription, CodeContentDescription, CodeContentType, ConfigurationType,
        EnvironmentPropertyDescriptions, FlinkApplicationConfigurationDescription, KeyType, RuntimeEnvironment, S3ApplicationCodeLocationDescription,
        VpcConfigurationDescription,
    };

    fn detail(conf: ApplicationConfigurationDescription) -> ApplicationDetail {
        ApplicationDetail::builder()
            .application_arn("arn:aws:kinesisanalytics:us-east-1:111122223333:application/orders")
            .application_name("orders")
            .runtime_environment(RuntimeEnvironment::Flink118)
            .application_status(ApplicationStatus::Running)
            .application_version_id(3)
            .service_execution_role("arn:aws:iam::111122223333:role/flink-exec")
            .application_configuration_description(conf)
            .build()
            .unwrap()
    }

    #[test]
    fn maps_a_full_description() {
        let conf = ApplicationConfigurationDescription::builder()
            .flink_application_configuration_description(
                FlinkApplicationConfigurationDescription::builder()
                    .checkpoint_configuration_description(
                        CheckpointConfigurationDescription::builder()
                            .configuration_type(ConfigurationType::Custom)
                            .checkpointing_enabled(true)
                            .checkpoint_interval(30_000)
                            .min_pause_between_checkpoints(1_000)
                            .build(),
                    )
                    .build(),
            )
            .application_snapshot_configuration_description(
                ApplicationSnapshotConfigurationDescription::builder().snapshots_enabled(true).build().unwrap(),
            )
            .application_encryption_configuration_description(
                ApplicationEncryptionConfigurationDescription::builder()
                    .key_type(KeyType::CustomerManagedKey)
                    .key_id("arn:aws:kms:us-east-1:111122223333:key/abcd")
                    .build()
                    .unwrap(),
            )
            .environment_property_descriptions(
                EnvironmentPropertyDescriptions::builder()
                    .property_group_descriptions(
                        aws_sdk_kinesisanalyticsv2::types::PropertyGroup::builder()
                            .property_group_id("io")
                            .property_map("input", "arn:aws:kinesis:us-east-1:111122223333:stream/in")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .application_code_configuration_description(
                ApplicationCodeConfigurationDescription::builder()
                    .code_content_type(CodeContentType::Zipfile)
                    .code_content_description(
                        CodeContentDescription::builder()
                            .s3_application_code_location_description(
                                S3ApplicationCodeLocationDescription::builder().bucket_arn("arn:aws:s3:::code").file_key("app.jar").build().unwrap(),
                            )
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .vpc_configuration_descriptions(
                VpcConfigurationDescription::builder()
                    .vpc_configuration_id("1.1")
                    .vpc_id("vpc-1")
                    .subnet_ids("subnet-1")
                    .security_group_ids("sg-1")
                    .build()
                    .unwrap(),
            )
            .build();
        let app = app_from_detail(&detail(conf));
        assert_eq!(app.status, "RUNNING");
        assert_eq!(app.runtime, "FLINK-1_18");
        assert_eq!(app.checkpoint.effective.interval_ms, 30_000);
        assert!(app.snapshots_enabled);
        assert!(app.encryption.is_customer_managed());
        assert_eq!(app.encryption.key_arn.as_deref(), Some("arn:aws:kms:us-east-1:111122223333:key/abcd"));
        assert_eq!(app.stream_arns, ["arn:aws:kinesis:us-east-1:111122223333:stream/in"]);
        assert_eq!(app.code.as_ref().map(|c| c.object_arn()), Some("arn:aws:s3:::code/app.jar".to_owned()));
        assert_eq!(app.vpc.as_ref().and_then(|v| v.vpc_id.as_deref()), Some("vpc-1"));
    }

    #[test]
    fn missing_blocks_mean_defaults() {
        let app = app_from_detail(&detail(ApplicationConfigurationDescription::builder().build()));
        assert_eq!(app.checkpoint.effective, crate::inventory::EffectiveCheckpoint::SERVICE_DEFAULT);
        assert_eq!(app.encryption.key_type, AWS_OWNED_KEY);
        assert!(!app.snapshots_enabled);
        assert!(app.vpc.is_none());
    }
}
