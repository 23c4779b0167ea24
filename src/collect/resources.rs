//! Resource policies of what an account's apps touch, each resource once:
//! customer managed KMS keys (DescribeKey for ARN and KeyManager, GetKeyPolicy
//! `default`), code buckets (GetBucketPolicy; `NoSuchBucketPolicy` = no
//! policy), Kinesis streams named in property groups (GetResourcePolicy, in
//! the stream's region). Reads use the app account's credentials.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_types::request_id::RequestId;
use futures::future::join_all;

use super::arn;
use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::session::AccountSession;
use crate::inventory::{PolicyDoc, ResourceKind, ResourcePolicy};

/// What to read, collected from the account's apps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// (region, key id/alias/ARN as the app names it).
    pub keys: BTreeSet<(String, String)>,
    /// (region of the app, bucket ARN).
    pub buckets: BTreeSet<(String, String)>,
    /// Stream ARNs.
    pub streams: BTreeSet<String>,
}

/// Results with the errors grouped by (region, scope) for coverage.
#[derive(Debug, Default)]
pub struct ResourceData {
    pub resources: Vec<ResourcePolicy>,
    /// (region, key id as the app named it) → key ARN.
    pub key_arns: HashMap<(String, String), String>,
    /// Every (region, scope) tried, with its errors.
    pub scopes: BTreeMap<(String, &'static str), Vec<AwsError>>,
}

/// A resource policy read, and the error saying its document does not parse.
type Read = Result<(ResourcePolicy, Option<AwsError>), AwsError>;

fn record(region: &str, scope: &'static str, outcome: Read, data: &mut ResourceData) {
    let errors = data.scopes.entry((region.to_owned(), scope)).or_default();
    match outcome {
        Ok((resource, malformed)) => {
            errors.extend(malformed);
            data.resources.push(resource);
        }
        Err(err) => errors.push(err),
    }
}

/// The error for `resource`'s policy when its document does not parse.
fn malformed(operation: &str, resource: ResourcePolicy, request_id: Option<&str>) -> (ResourcePolicy, Option<AwsError>) {
    let error = resource
        .policy
        .as_ref()
        .and_then(|doc| AwsError::malformed_policy(operation, &format!("resource policy of {}", resource.arn), doc, request_id));
    (resource, error)
}

/// Policy text → document; an empty text or `{}` means no policy.
fn policy_text(text: Option<&str>) -> Option<PolicyDoc> {
    text.map(str::trim).filter(|t| !t.is_empty() && *t != "{}").map(PolicyDoc::from_aws_text)
}

/// The region a key lives in: the ARN's, else the app's.
pub fn key_region(app_region: &str, key_id: &str) -> String {
    arn::parse(key_id).map(|a| a.region.to_owned()).filter(|r| !r.is_empty()).unwrap_or_else(|| app_region.to_owned())
}

pub async fn collect(session: &AccountSession, calls: &Calls, wanted: &Wanted) -> ResourceData {
    let account = session.account_id.as_str();
    let keys = join_all(wanted.keys.iter().map(|(region, key)| kms_key(session, calls, region, key)));
    let buckets = join_all(wanted.buckets.iter().map(|(region, bucket)| bucket_policy(session, calls, region, bucket)));
    let streams = join_all(wanted.streams.iter().map(|stream| stream_policy(session, calls, stream)));
    let (keys, buckets, streams) = futures::join!(keys, buckets, streams);

    let mut data = ResourceData::default();
    for ((region, key_id), outcome) in wanted.keys.iter().zip(keys) {
        if let Ok((resource, _)) = &outcome {
            data.key_arns.insert((region.clone(), key_id.clone()), resource.arn.clone());
        }
        record(region, "kms", outcome, &mut data);
    }
    for ((region, _), outcome) in wanted.buckets.iter().zip(buckets) {
        record(region, "s3", outcome, &mut data);
    }
    for (stream, outcome) in wanted.streams.iter().zip(streams) {
        let region = arn::parse(stream).map(|a| a.region.to_owned()).unwrap_or_default();
        record(&region, "kinesis", outcome, &mut data);
    }
    // A key referenced from two regions' apps by the same ARN is read once per
    // (region, id) pair; keep one entry per ARN.
    let mut seen = BTreeSet::new();
    data.resources.retain(|r| seen.insert((r.kind, r.arn.clone())));
    data.resources.sort_by(|a, b| (a.kind, &a.arn).cmp(&(b.kind, &b.arn)));
    tracing::debug!(account, resources = data.resources.len(), "resource policies read");
    data
}

async fn kms_key(session: &AccountSession, calls: &Calls, app_region: &str, key_id: &str) -> Read {
    let region = key_region(app_region, key_id);
    let client = session.kms(&region);
    let loc = Loc { account: &session.account_id, region: &region };
    let described = calls.call(Pool::Main, loc, "kms:DescribeKey", client.describe_key().key_id(key_id).send()).await?;
    let metadata = described.key_metadata();
    let key_arn = metadata
        .and_then(|m| m.arn())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::local("kms:DescribeKey", "MissingArn", format!("DescribeKey returned no ARN for {key_id}")))?;
    let key_manager = metadata.and_then(|m| m.key_manager()).map(|k| k.as_str().to_owned());
    let request = client.get_key_policy().key_id(&key_arn).policy_name("default");
    let policy = calls.call(Pool::Main, loc, "kms:GetKeyPolicy", request.send()).await?;
    let resource = ResourcePolicy {
        account_id: arn::parse(&key_arn).map(|a| a.account.to_owned()).unwrap_or_default(),
        region: Some(region.clone()),
        policy: policy_text(policy.policy()),
        key_manager,
        kind: ResourceKind::KmsKey,
        arn: key_arn,
    };
    Ok(malformed("kms:GetKeyPolicy", resource, policy.request_id()))
}

async fn bucket_policy(session: &AccountSession, calls: &Calls, region: &str, bucket_arn: &str) -> Read {
    let bucket = arn::bucket_name(bucket_arn)
        .ok_or_else(|| AwsError::local("s3:GetBucketPolicy", "BadBucketArn", format!("`{bucket_arn}` is not a bucket ARN")))?;
    let client = session.s3(region);
    let loc = Loc { account: &session.account_id, region };
    let (policy, request_id) = match calls.call(Pool::Main, loc, "s3:GetBucketPolicy", client.get_bucket_policy().bucket(bucket).send()).await {
        Ok(out) => (policy_text(out.policy()), out.request_id().map(str::to_owned)),
        Err(err) if err.is_code("NoSuchBucketPolicy") => (None, None),
        Err(err) => return Err(err),
    };
    let resource = ResourcePolicy {
        arn: format!("arn:{}:s3:::{bucket}", arn::partition_of(bucket_arn)),
        kind: ResourceKind::S3Bucket,
        // S3 ARNs carry no account; the code bucket is assumed to be the app's.
        account_id: session.account_id.clone(),
        region: Some(region.to_owned()),
        policy,
        key_manager: None,
    };
    Ok(malformed("s3:GetBucketPolicy", resource, request_id.as_deref()))
}

async fn stream_policy(session: &AccountSession, calls: &Calls, stream_arn: &str) -> Read {
    let parsed = arn::parse(stream_arn)
        .ok_or_else(|| AwsError::local("kinesis:GetResourcePolicy", "BadStreamArn", format!("`{stream_arn}` is not an ARN")))?;
    let region = parsed.region.to_owned();
    let client = session.kinesis(&region);
    let loc = Loc { account: &session.account_id, region: &region };
    let request = client.get_resource_policy().resource_arn(stream_arn);
    let out = calls.call(Pool::Main, loc, "kinesis:GetResourcePolicy", request.send()).await?;
    let resource = ResourcePolicy {
        arn: stream_arn.to_owned(),
        kind: ResourceKind::KinesisStream,
        account_id: parsed.account.to_owned(),
        region: Some(region),
        policy: policy_text(Some(out.policy())),
        key_manager: None,
    };
    Ok(malformed("kinesis:GetResourcePolicy", resource, out.request_id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policies_are_none() {
        assert!(policy_text(None).is_none());
        assert!(policy_text(Some("")).is_none());
        assert!(policy_text(Some(" {} ")).is_none());
        assert!(policy_text(Some(r#"{"Version":"2012-10-17","Statement":[]}"#)).is_some());
    }

    #[test]
    fn key_region_prefers_the_arn() {
        assert_eq!(key_region("us-east-1", "arn:aws:kms:eu-west-1:111122223333:key/k"), "eu-west-1");
        assert_eq!(key_region("us-east-1", "alias/app"), "us-east-1");
        assert_eq!(key_region("us-east-1", "1234abcd-12ab"), "us-east-1");
    }
}
