//! Where AWS Organizations policies apply, as dated data.
//!
//! RCPs govern only the services AWS lists in the Organizations user guide
//! (section "List of AWS services that support RCPs" of
//! <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>);
//! for every other service an RCP is not evaluated at all. SCPs do not
//! restrict service-linked roles
//! (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>:
//! "SCPs don't affect service-linked roles"). That RCPs do not either is
//! the reading of the RCP page; the excerpt available here only
//! says RCPs do not affect AWS services' ability to assume a service-linked
//! role, so re-check the page (the service-linked-role case cannot arise
//! for a Flink execution role, which is never one). What depends on the
//! inventory — resources of the management account, AWS managed KMS keys —
//! is decided by the caller, which simply passes no RCP levels.

use super::principal::RequestPrincipal;

/// The page [`RCP_SERVICES`] was read from.
pub const RCP_SERVICES_SOURCE: &str = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html";

/// When [`RCP_SERVICES`] was last checked against [`RCP_SERVICES_SOURCE`]
/// (and the AWS Control Tower RCP control reference,
/// <https://docs.aws.amazon.com/controltower/latest/controlreference/rcp-controls.html>,
/// which lists the same five services). AWS adds services to the list over
/// time: re-read the page and extend the table.
pub const RCP_SERVICES_READ_ON: &str = "2026-12-01";

/// Service prefixes (as in `s3:GetObject`) whose actions RCPs govern, with
/// the service's name.
pub const RCP_SERVICES: &[(&str, &str)] = &[
    ("s3", "Amazon S3"),
    ("sts", "AWS Security Token Service"),
    ("kms", "AWS Key Management Service"),
    ("sqs", "Amazon Simple Queue Service"),
    ("secretsmanager", "AWS Secrets Manager"),
];

/// Whether RCPs govern actions of `service` (the action's prefix, any case).
pub fn rcps_govern(service: &str) -> bool {
    RCP_SERVICES.iter().any(|(prefix, _)| prefix.eq_ignore_ascii_case(service))
}

/// Service-linked roles live under the path `/aws-service-role/` and are
/// named `AWSServiceRoleFor…`; a session of one keeps the role name.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>
pub fn is_service_linked_role(principal: &RequestPrincipal) -> bool {
    match principal {
        RequestPrincipal::Role { arn, name, .. } => arn.contains(":role/aws-service-role/") || name.starts_with("AWSServiceRoleFor"),
        RequestPrincipal::AssumedRole { role_name, .. } => role_name.starts_with("AWSServiceRoleFor"),
        _ => false,
    }
}

/// Why Organizations policies of one kind are not evaluated for a request,
/// or `None` when they are.
pub fn scp_exemption(principal: &RequestPrincipal) -> Option<String> {
    is_service_linked_role(principal).then(|| "SCPs do not apply to service-linked roles".to_owned())
}

/// See [`scp_exemption`]; RCPs also skip services they do not govern.
pub fn rcp_exemption(service: &str, principal: &RequestPrincipal) -> Option<String> {
    if is_service_linked_role(principal) {
        return Some("RCPs do not apply to service-linked roles".to_owned());
    }
    (!rcps_govern(service))
        .then(|| format!("RCPs do not apply to {service} (AWS lists the services RCPs govern, read {RCP_SERVICES_READ_ON}: {RCP_SERVICES_SOURCE})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_its_page_and_date() {
        assert!(RCP_SERVICES_SOURCE.ends_with("/organizations/latest/userguide/orgs_manage_policies_rcps.html"));
        assert!(chrono_like_date(RCP_SERVICES_READ_ON), "{RCP_SERVICES_READ_ON}");
        for service in ["s3", "S3", "sts", "kms", "sqs", "secretsmanager"] {
            assert!(rcps_govern(service), "{service}");
        }
        // The services a Flink app's role uses besides S3 and KMS.
        for service in ["cloudwatch", "kinesis", "logs", "ec2"] {
            assert!(!rcps_govern(service), "{service}");
        }
    }

    fn chrono_like_date(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 3 && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    }

    #[test]
    fn service_linked_roles_are_exempt_from_both() {
        let slr = RequestPrincipal::parse(Some(
            "arn:aws:iam::111111111111:role/aws-service-role/kinesisanalytics.amazonaws.com/AWSServiceRoleForKinesisAnalytics",
        ));
        assert!(scp_exemption(&slr).is_some());
        assert!(rcp_exemption("s3", &slr).is_some());
        let role = RequestPrincipal::parse(Some("arn:aws:iam::111111111111:role/app"));
        assert!(scp_exemption(&role).is_none());
        assert!(rcp_exemption("s3", &role).is_none());
        assert_eq!(rcp_exemption("kinesis", &role).as_deref().map(|s| s.starts_with("RCPs do not apply to kinesis")), Some(true));
    }
}
