//! What each application needs (SPEC §7): the actions with the resource each
//! applies to, the account owning that resource, and where the need comes from.

use crate::checks::Context;
use crate::checks::Index;
use crate::inventory::FlinkApp;

/// One action an execution role must be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub action: String,
    /// The resource ARN, `*`, or a pattern such as `.../consumer/*`
    /// ("some consumer of this stream").
    pub resource: String,
    /// The account that owns the resource (for RCPs and same/cross-account rules).
    pub resource_account: String,
    /// The action supports no resource-level permissions.
    pub wildcard_only: bool,
    /// Where the requirement comes from.
    pub source: String,
}

pub const VPC_ACTIONS: [&str; 8] = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeDhcpOptions",
    "ec2:CreateNetworkInterfacePermission",
];
pub const KINESIS_READ: [&str; 5] =
    ["kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards", "kinesis:SubscribeToShard"];
pub const KINESIS_WRITE: [&str; 2] = ["kinesis:PutRecord", "kinesis:PutRecords"];

/// The account field of an ARN, when it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Which account owns `arn`: its account field, else the account collect
/// found owning it (S3 buckets, see `collect::ownership`), else `fallback`
/// (an owner nobody could find: its policy is then missing, so decisions on
/// it are `Unknown` whatever account they are judged in).
pub fn owner_of(index: &Index<'_>, arn: &str, fallback: &str) -> String {
    if let Some(account) = arn_account(arn) {
        return account.to_owned();
    }
    index
        .resource(arn)
        .or_else(|| index.resource(bucket_arn(arn)))
        .map(|r| r.account_id.clone())
        .filter(|owner| !owner.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

/// `arn:aws:s3:::bucket/key` → `arn:aws:s3:::bucket`.
pub fn bucket_arn(arn: &str) -> &str {
    match arn.strip_prefix("arn:aws:s3:::").and_then(|rest| rest.find('/')) {
        Some(slash) => &arn[.."arn:aws:s3:::".len() + slash],
        None => arn,
    }
}

/// Whether a stream named in the property groups is read, written or both,
/// from the names around it (`input`/`source` → read, `output`/`sink` →
/// write; unknown → both).
fn stream_direction(app: &FlinkApp, stream_arn: &str) -> (bool, bool) {
    let name = stream_arn.rsplit('/').next().unwrap_or(stream_arn);
    let mut read = false;
    let mut write = false;
    for group in &app.property_groups {
        for (key, value) in &group.properties {
            if value != stream_arn && value != name && !value.contains(stream_arn) {
                continue;
            }
            let label = format!("{} {}", group.id, key).to_ascii_lowercase();
            let w = ["output", "sink", "dest", "write", "producer", "target"].iter().any(|k| label.contains(k));
            let r = ["input", "source", "read", "consumer"].iter().any(|k| label.contains(k));
            match (r, w) {
                (true, false) => read = true,
                (false, true) => write = true,
                _ => {
                    read = true;
                    write = true;
                }
            }
        }
    }
    if !read && !write {
        (true, true)
    } else {
        (read, write)
    }
}

/// Everything the app's execution role needs.
pub fn for_app(ctx: &Context) -> Vec<Need> {
    let app = ctx.flink();
    let account = &ctx.account().id;
    let region = ctx.region();
    let mut needs = Vec::new();
    let mut push = |action: &str, resource: String, owner: String, wildcard_only: bool, source: String| {
        needs.push(Need { action: action.to_owned(), resource, resource_account: owner, wildcard_only, source });
    };

    push("cloudwatch:PutMetricData", "*".to_owned(), account.clone(), true, "flink: publishes application metrics".to_owned());

    for stream in &app.log_stream_arns {
        let owner = owner_of(ctx.index, stream, account);
        let group = stream.split(":log-stream:").next().unwrap_or(stream);
        let group_prefix = group.rsplit_once(":log-group:").map(|(p, _)| p).unwrap_or(group);
        push("logs:PutLogEvents", stream.clone(), owner.clone(), false, "flink: writes to its CloudWatch log stream".to_owned());
        push("logs:DescribeLogStreams", format!("{group}:log-stream:*"), owner.clone(), false, "flink: finds its log stream".to_owned());
        push("logs:DescribeLogGroups", format!("{group_prefix}:log-group:*"), owner, false, "flink: finds its log group".to_owned());
    }

    if let Some(code) = &app.code {
        let object = code.object_arn();
        let owner = owner_of(ctx.index, &code.bucket_arn, account);
        push("s3:GetObject", object.clone(), owner.clone(), false, "flink: reads its application code".to_owned());
        push("s3:GetObjectVersion", object, owner, false, "flink: reads its application code (versioned)".to_owned());
    }

    if app.vpc.is_some() {
        for action in VPC_ACTIONS {
            push(action, "*".to_owned(), account.clone(), true, "flink: runs in a VPC (elastic network interfaces)".to_owned());
        }
    }

    for stream in &app.stream_arns {
        let owner = owner_of(ctx.index, stream, account);
        let (read, write) = stream_direction(app, stream);
        if read {
            for action in KINESIS_READ {
                let resource = if action == "kinesis:SubscribeToShard" { format!("{stream}/consumer/*") } else { stream.clone() };
                push(action, resource, owner.clone(), false, "flink: reads a stream named in its property groups".to_owned());
            }
        }
        if write {
            for action in KINESIS_WRITE {
                push(action, stream.clone(), owner.clone(), false, "flink: writes a stream named in its property groups".to_owned());
            }
        }
    }

    for req in &ctx.config.require {
        if req.app_pattern.as_ref().is_some_and(|re| !re.is_match(&app.name)) {
            continue;
        }
        let resource = req.resource.replace("${account}", account).replace("${region}", region).replace("${app}", &app.name);
        let owner = if resource == "*" { account.clone() } else { owner_of(ctx.index, &resource, account) };
        push(&req.action, resource, owner, false, format!("config [[require]]: {}", req.reason));
    }
    needs
}
