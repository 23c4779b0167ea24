//! Resource policies of what an account's apps touch, each resource once:
//! customer managed KMS keys (DescribeKey for ARN and KeyManager, GetKeyPolicy
//! `default`), code buckets (GetBucketPolicy; `NoSuchBucketPolicy` = no
//! policy), Kinesis streams named in property groups (GetResourcePolicy, in
//! the stream's region).
//!
//! Every policy is read with the credentials of the account that owns the
//! resource: AWS answers GetKeyPolicy, GetBucketPolicy and GetResourcePolicy
//! only to the owner ("Cross-account use: No",
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html>;
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html>:
//! the caller "must ... belong to the bucket owner's account"). Here, the
//! app account's own resources: keys and streams whose ARN names it (or no
//! account), buckets its one `ListBuckets` lists. The others are handed to
//! [`super::ownership`], which reads them with the owner's session after
//! every account is scanned. A read that fails is kept as a resource with
//! `unread` set, so access analysis knows the policy is unknown rather
//! than absent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_types::request_id::RequestId;
use futures::future::join_all;

use super::arn;
use super::calls::{Calls, Loc, Pool};
use super::error::AwsError;
use super::session::AccountSession;
use super::unread;
use crate::inventory::{PolicyDoc, ResourceKind, ResourcePolicy, GLOBAL_REGION};

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

/// A resource the account's apps name that it does not own, or whose
/// owner is not known yet (a bucket its `ListBuckets` did not list).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Foreign {
    pub kind: ResourceKind,
    /// The app's region (buckets), the key's or the stream's.
    pub region: String,
    /// Key ARN, bucket ARN or stream ARN.
    pub arn: String,
    /// The owning account when the ARN names it.
    pub owner: Option<String>,
}

/// Results with the errors grouped by (region, scope) for coverage.
#[derive(Debug, Default)]
pub struct ResourceData {
    pub resources: Vec<ResourcePolicy>,
    /// (region, key id as the app named it) → key ARN.
    pub key_arns: HashMap<(String, String), String>,
    /// Every (region, scope) tried, with its errors.
    pub scopes: BTreeMap<(String, &'static str), Vec<AwsError>>,
    /// What other accounts own (see [`super::ownership`]).
    pub foreign: Vec<Foreign>,
    /// Names of the buckets this account owns, when it listed them.
    pub listed_buckets: Option<BTreeSet<String>>,
}

/// A resource policy read, and the error saying its document does not parse.
pub type Read = Result<(ResourcePolicy, Option<AwsError>), AwsError>;

/// Records one read: the resource, or (when the read failed) a resource
/// marked unread, and the errors for coverage.
pub fn record(region: &str, kind: ResourceKind, arn: &str, account_id: &str, outcome: Read, data: &mut ResourceData) {
    let scope = scope_of(kind);
    let errors = data.scopes.entry((region.to_owned(), scope)).or_default();
    match outcome {
        Ok((resource, malformed)) => {
            errors.extend(malformed);
            data.resources.push(resource);
        }
        Err(err) => {
            data.resources.push(unread_resource(kind, arn, account_id, Some(region), unread::from_error(&err, account_id)));
            errors.push(err);
        }
    }
}

/// The coverage scope of a resource kind.
pub fn scope_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::KmsKey => "kms",
        ResourceKind::S3Bucket => "s3",
        ResourceKind::KinesisStream => "kinesis",
    }
}

/// A resource whose policy could not be read.
pub fn unread_resource(kind: ResourceKind, arn: &str, owner: &str, region: Option<&str>, why: crate::inventory::Unread) -> ResourcePolicy {
    ResourcePolicy {
        arn: arn.to_owned(),
        kind,
        account_id: owner.to_owned(),
        region: region.map(str::to_owned),
        policy: None,
        key_manager: None,
        unread: Some(why),
    }
}

/// The account an ARN names, when it names one.
fn arn_account(arn: &str) -> Option<&str> {
    arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
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
    let mut data = ResourceData::default();
    let owned_here = |arn: &str| arn_account(arn).is_none_or(|owner| owner == account);
    let (own_keys, other_keys): (Vec<_>, Vec<_>) = wanted.keys.iter().partition(|(_, key)| owned_here(key));
    let (own_streams, other_streams): (Vec<_>, Vec<_>) = wanted.streams.iter().partition(|stream| owned_here(stream));
    for (region, key) in other_keys {
        data.foreign.push(Foreign {
            kind: ResourceKind::KmsKey,
            region: key_region(region, key),
            arn: key.clone(),
            owner: arn_account(key).map(str::to_owned),
        });
    }
    for stream in other_streams {
        let region = arn::parse(stream).map(|a| a.region.to_owned()).unwrap_or_default();
        data.foreign.push(Foreign {
            kind: ResourceKind::KinesisStream,
            region,
            arn: stream.clone(),
            owner: arn_account(stream).map(str::to_owned),
        });
    }
    // S3 ARNs name no account: the account's own bucket list tells (one
    // call, whatever the number of apps), read alongside the keys and
    // streams. When it cannot be read, every bucket is tried as the
    // account's own, and a foreign one's policy read fails and is recorded
    // as unread.
    let listing = async {
        if wanted.buckets.is_empty() {
            None
        } else {
            Some(list_buckets(session, calls).await)
        }
    };
    let keys = join_all(own_keys.iter().map(|(region, key)| kms_key(session, calls, region, key)));
    let streams = join_all(own_streams.iter().map(|stream| stream_policy(session, calls, stream)));
    let (listing, keys, streams) = futures::join!(listing, keys, streams);
    let own_buckets: Vec<&(String, String)> = match listing {
        None => Vec::new(),
        Some(Ok(names)) => {
            let (own, other): (Vec<_>, Vec<_>) =
                wanted.buckets.iter().partition(|(_, bucket)| arn::bucket_name(bucket).is_some_and(|b| names.contains(b)));
            for (region, bucket) in other {
                data.foreign.push(Foreign { kind: ResourceKind::S3Bucket, region: region.clone(), arn: bucket.clone(), owner: None });
            }
            data.listed_buckets = Some(names);
            own
        }
        Some(Err(err)) => {
            data.scopes.entry((GLOBAL_REGION.to_owned(), "s3")).or_default().push(err);
            wanted.buckets.iter().collect()
        }
    };
    let buckets = join_all(own_buckets.iter().map(|(region, bucket)| bucket_policy(session, calls, region, bucket))).await;

    for ((region, key_id), outcome) in own_keys.iter().zip(keys) {
        if let Ok((resource, _)) = &outcome {
            data.key_arns.insert((region.clone(), key_id.clone()), resource.arn.clone());
        }
        record(&key_region(region, key_id), ResourceKind::KmsKey, key_id, account, outcome, &mut data);
    }
    for ((region, bucket), outcome) in own_buckets.iter().zip(buckets) {
        record(region, ResourceKind::S3Bucket, bucket, account, outcome, &mut data);
    }
    for (stream, outcome) in own_streams.iter().zip(streams) {
        let region = arn::parse(stream).map(|a| a.region.to_owned()).unwrap_or_default();
        record(&region, ResourceKind::KinesisStream, stream, account, outcome, &mut data);
    }
    // A key referenced from two regions' apps by the same ARN is read once per
    // (region, id) pair; keep one entry per ARN.
    let mut seen = BTreeSet::new();
    data.resources.retain(|r| seen.insert((r.kind, r.arn.clone())));
    data.resources.sort_by(|a, b| (a.kind, &a.arn).cmp(&(b.kind, &b.arn)));
    tracing::debug!(account, resources = data.resources.len(), "resource policies read");
    data
}

/// Names of the buckets `session`'s account owns (`ListBuckets`, paged).
pub async fn list_buckets(session: &AccountSession, calls: &Calls) -> Result<BTreeSet<String>, AwsError> {
    let client = session.s3(GLOBAL_REGION);
    let loc = Loc { account: &session.account_id, region: GLOBAL_REGION };
    let pages = calls
        .pages(
            Pool::Main,
            loc,
            "s3:ListBuckets",
            |token| client.list_buckets().set_continuation_token(token).send(),
            |page| page.continuation_token(),
        )
        .await?;
    Ok(pages.iter().flat_map(|page| page.buckets()).filter_map(|b| b.name().map(str::to_owned)).collect())
}

pub async fn kms_key(session: &AccountSession, calls: &Calls, app_region: &str, key_id: &str) -> Read {
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
        unread: None,
    };
    Ok(malformed("kms:GetKeyPolicy", resource, policy.request_id()))
}

pub async fn bucket_policy(session: &AccountSession, calls: &Calls, region: &str, bucket_arn: &str) -> Read {
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
        // Read with the owner's session (see the module documentation).
        account_id: session.account_id.clone(),
        region: Some(region.to_owned()),
        policy,
        key_manager: None,
        unread: None,
    };
    Ok(malformed("s3:GetBucketPolicy", resource, request_id.as_deref()))
}

pub async fn stream_policy(session: &AccountSession, calls: &Calls, stream_arn: &str) -> Read {
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
        unread: None,
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
