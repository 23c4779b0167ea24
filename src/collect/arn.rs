//! Small, pure ARN helpers.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

/// The parts of an ARN `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Splits an ARN; `None` when it is not one.
pub fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(Arn {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// The partition of an ARN, `aws` when it cannot be told.
pub fn partition_of(arn: &str) -> &str {
    parse(arn).map(|a| a.partition).filter(|p| !p.is_empty()).unwrap_or("aws")
}

/// The role name (last path segment) of `arn:aws:iam::acct:role/path/name`.
pub fn role_name(role_arn: &str) -> Option<&str> {
    let arn = parse(role_arn)?;
    let rest = arn.resource.strip_prefix("role/")?;
    rest.rsplit('/').next().filter(|n| !n.is_empty())
}

/// The bucket of `arn:aws:s3:::bucket`.
pub fn bucket_name(bucket_arn: &str) -> Option<&str> {
    let arn = parse(bucket_arn)?;
    (arn.service == "s3" && !arn.resource.is_empty()).then(|| arn.resource.split('/').next().unwrap_or(arn.resource))
}

fn stream_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+").unwrap_or_else(|err| unreachable!("static regex: {err}"))
    })
}

/// Kinesis stream ARNs (`arn:aws:kinesis:<region>:<acct>:stream/<name>`)
/// found anywhere in the given values, deduplicated, sorted. Consumer ARNs
/// yield their stream.
pub fn stream_arns<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found = BTreeSet::new();
    for value in values {
        for m in stream_regex().find_iter(value) {
            found.insert(m.as_str().to_owned());
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns() {
        let arn = parse("arn:aws:kinesis:eu-west-1:111122223333:stream/orders").unwrap();
        assert_eq!((arn.service, arn.region, arn.account, arn.resource), ("kinesis", "eu-west-1", "111122223333", "stream/orders"));
        assert!(parse("not-an-arn").is_none());
        assert_eq!(partition_of("arn:aws-cn:s3:::b"), "aws-cn");
    }

    #[test]
    fn role_and_bucket_names() {
        assert_eq!(role_name("arn:aws:iam::111122223333:role/service-role/flink-exec"), Some("flink-exec"));
        assert_eq!(role_name("arn:aws:iam::111122223333:role/plain"), Some("plain"));
        assert_eq!(role_name("arn:aws:iam::111122223333:user/u"), None);
        assert_eq!(bucket_name("arn:aws:s3:::code-bucket"), Some("code-bucket"));
        assert_eq!(bucket_name("arn:aws:kms:us-east-1:1:key/x"), None);
    }

    #[test]
    fn finds_stream_arns_in_property_values() {
        let values = [
            "arn:aws:kinesis:us-east-1:111122223333:stream/orders-in",
            "prefix arn:aws:kinesis:eu-west-1:444455556666:stream/audit.v2 and arn:aws:kinesis:us-east-1:111122223333:stream/orders-in",
            "arn:aws:kinesis:us-east-1:111122223333:stream/clicks/consumer/c1:1700000000",
            "orders-in",
            "arn:aws:s3:::bucket",
        ];
        assert_eq!(
            stream_arns(values),
            vec![
                "arn:aws:kinesis:eu-west-1:444455556666:stream/audit.v2",
                "arn:aws:kinesis:us-east-1:111122223333:stream/clicks",
                "arn:aws:kinesis:us-east-1:111122223333:stream/orders-in",
            ]
        );
    }
}
