//! SDK errors mapped into the crate's own kinds. Every failed AWS call becomes
//! an [`AwsError`] carrying the operation, error code, message and request id;
//! coverage rows are built from these.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

use crate::inventory::CoverageStatus;

/// What kind of failure a call hit; decides the coverage status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller may not do this (IAM, SCP, key policy, ...).
    Denied,
    /// An opt-in region not enabled for the account (regional calls to a
    /// Region of [`super::opt_in::OPT_IN_REGIONS`] only).
    RegionDisabled,
    /// Throttled even after the SDK's retries.
    Throttled,
    /// The resource does not exist (deleted during the scan, ...).
    NotFound,
    /// Anything else: 5xx after retries, network, timeouts, bad responses.
    Error,
    /// Not attempted: the scan was stopped (interrupt, `--max-duration`).
    Stopped,
}

impl ErrorKind {
    /// The coverage status a failure of this kind produces.
    pub fn coverage_status(self) -> CoverageStatus {
        match self {
            Self::Denied => CoverageStatus::Denied,
            Self::RegionDisabled => CoverageStatus::RegionDisabled,
            Self::Throttled => CoverageStatus::Throttled,
            Self::NotFound => CoverageStatus::Skipped,
            Self::Error => CoverageStatus::Error,
            Self::Stopped => CoverageStatus::Skipped,
        }
    }
}

/// One failed AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub kind: ErrorKind,
    /// `service:Operation`, e.g. `kinesisanalytics:DescribeApplication`.
    pub operation: String,
    /// AWS error code (`AccessDeniedException`, ...) or the SDK failure class
    /// (`DispatchFailure`, `Timeout`, ...) when there was no AWS response.
    pub code: Option<String>,
    pub message: Option<String>,
    /// `x-amzn-RequestId` / `x-amz-request-id` of the failed response.
    pub request_id: Option<String>,
    /// HTTP status of the failed response, when there was one.
    pub http_status: Option<u16>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// `outer: inner: innermost`, each message once: readable in a log line or a
/// coverage row, unlike the SDK's debug dump.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

impl AwsError {
    /// Maps an SDK error. `region` is where the call went (a Region, or
    /// [`GLOBAL_REGION`](crate::inventory::GLOBAL_REGION)): an unrecognised
    /// token means "not enabled" only in an opt-in Region.
    pub fn from_sdk<E>(operation: &str, err: &SdkError<E, HttpResponse>, region: &str) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let request_id = err.request_id().map(str::to_owned);
        let (code, message, http_status) = match err {
            SdkError::ServiceError(service) => {
                (service.err().code().map(str::to_owned), service.err().message().map(str::to_owned), Some(service.raw().status().as_u16()))
            }
            SdkError::TimeoutError(_) => (Some("Timeout".to_owned()), Some(error_chain(err)), None),
            SdkError::DispatchFailure(_) => (Some("DispatchFailure".to_owned()), Some(error_chain(err)), None),
            SdkError::ResponseError(response) => (Some("ResponseError".to_owned()), Some(error_chain(err)), Some(response.raw().status().as_u16())),
            SdkError::ConstructionFailure(_) => (Some("ConstructionFailure".to_owned()), Some(error_chain(err)), None),
            _ => (None, Some(error_chain(err)), None),
        };
        let kind = classify(code.as_deref(), http_status, region);
        let message = match code.as_deref() {
            Some(c) if TOKEN_ERRORS.contains(&c) && kind == ErrorKind::Error => {
                Some(format!("{}{}", message.map(|m| format!("{m} ")).unwrap_or_default(), token_error_hint(region)))
            }
            _ => message,
        };
        Self { kind, operation: operation.to_owned(), code, message, request_id, http_status }
    }

    /// An error that did not come from the SDK (bad data in a response, ...).
    pub fn local(operation: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind: if code == crate::inventory::INTERRUPTED_CODE { ErrorKind::Stopped } else { ErrorKind::Error },
            operation: operation.to_owned(),
            code: Some(code.to_owned()),
            message: Some(message.into()),
            request_id: None,
            http_status: None,
        }
    }

    /// A policy document AWS returned that does not parse: the raw text is
    /// kept in the inventory, and this error makes it a coverage row
    /// (`error`, code [`MALFORMED_POLICY_CODE`], the response's request id)
    /// because access decisions that need it cannot be made.
    pub fn malformed_policy(operation: &str, what: &str, doc: &crate::inventory::PolicyDoc, request_id: Option<&str>) -> Option<Self> {
        let problem = doc.error.as_ref()?;
        Some(Self {
            kind: ErrorKind::Error,
            operation: operation.to_owned(),
            code: Some(MALFORMED_POLICY_CODE.to_owned()),
            message: Some(format!("{what}: {problem}; raw text kept, not evaluated")),
            request_id: request_id.map(str::to_owned),
            http_status: None,
        })
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Code of the coverage error for a policy document that does not parse.
pub const MALFORMED_POLICY_CODE: &str = "MalformedPolicyDocument";

const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AccessDeniedForDependencyException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "NotAuthorized",
];

/// Token errors: the credentials are unknown where the call went. In an
/// opt-in Region that means the account has not enabled it; anywhere else
/// (a Region enabled by default, a global endpoint) it is a real failure.
const TOKEN_ERRORS: &[&str] = &["UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired", "InvalidAccessKeyId"];

/// Why a token error is not read as a disabled Region.
fn token_error_hint(region: &str) -> String {
    if region == crate::inventory::GLOBAL_REGION {
        "(global endpoint: the credentials were not recognised)".to_owned()
    } else if super::opt_in::DEFAULT_REGIONS.contains(&region) {
        format!(
            "({region} is enabled by default in every account, so this is not a disabled opt-in Region: check the credentials and the audit role)"
        )
    } else {
        format!(
            "({region} is not in fleetscan's table of opt-in Regions, checked {}; if it is a new opt-in Region, add it to src/collect/opt_in.rs)",
            super::opt_in::CHECKED_ON
        )
    }
}

const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
];

const NOT_FOUND: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NotFoundException",
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "AccountNotFoundException",
    "PolicyNotFoundException",
    "TargetNotFoundException",
    "ParentNotFoundException",
    "NotFoundException",
];

/// Decides the kind from the error code, then the HTTP status. `region`:
/// where the call went, for token errors (see [`super::opt_in`]).
pub fn classify(code: Option<&str>, http_status: Option<u16>, region: &str) -> ErrorKind {
    if let Some(code) = code {
        if DENIED.contains(&code) {
            return ErrorKind::Denied;
        }
        if TOKEN_ERRORS.contains(&code) {
            return if super::opt_in::is_opt_in(region) { ErrorKind::RegionDisabled } else { ErrorKind::Error };
        }
        if THROTTLED.contains(&code) {
            return ErrorKind::Throttled;
        }
        if NOT_FOUND.contains(&code) {
            return ErrorKind::NotFound;
        }
    }
    match http_status {
        Some(429) => ErrorKind::Throttled,
        Some(403) if code.is_none() => ErrorKind::Denied,
        Some(404) if code.is_none() => ErrorKind::NotFound,
        _ => ErrorKind::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(classify(Some("AccessDeniedException"), Some(400), "us-east-1"), ErrorKind::Denied);
        assert_eq!(classify(Some("AccessDenied"), Some(403), "global"), ErrorKind::Denied);
        assert_eq!(classify(Some("ThrottlingException"), Some(400), "us-east-1"), ErrorKind::Throttled);
        assert_eq!(classify(Some("Throttling"), Some(400), "global"), ErrorKind::Throttled);
        assert_eq!(classify(Some("ResourceNotFoundException"), Some(400), "us-east-1"), ErrorKind::NotFound);
        assert_eq!(classify(Some("NoSuchEntity"), Some(404), "global"), ErrorKind::NotFound);
        assert_eq!(classify(Some("InternalFailure"), Some(500), "us-east-1"), ErrorKind::Error);
        assert_eq!(classify(Some("DispatchFailure"), None, "us-east-1"), ErrorKind::Error);
    }

    #[test]
    fn token_errors_mean_region_disabled_only_in_opt_in_regions() {
        for code in ["UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "InvalidAccessKeyId"] {
            assert_eq!(classify(Some(code), Some(403), "eu-south-1"), ErrorKind::RegionDisabled, "{code} in an opt-in Region");
            assert_eq!(classify(Some(code), Some(403), "me-central-1"), ErrorKind::RegionDisabled, "{code} in an opt-in Region");
            assert_eq!(classify(Some(code), Some(403), "eu-west-1"), ErrorKind::Error, "{code} in a default Region");
            assert_eq!(classify(Some(code), Some(403), "us-east-1"), ErrorKind::Error, "{code} in a default Region");
            assert_eq!(classify(Some(code), Some(403), "global"), ErrorKind::Error, "{code} on a global endpoint");
            assert_eq!(classify(Some(code), Some(403), "xx-new-9"), ErrorKind::Error, "{code} in a Region of neither table");
        }
    }

    #[test]
    fn token_error_in_a_default_region_says_why_it_is_an_error() {
        assert!(token_error_hint("eu-west-1").contains("enabled by default"));
        assert!(token_error_hint("xx-new-9").contains("src/collect/opt_in.rs"));
        assert!(token_error_hint("global").contains("global endpoint"));
    }

    #[test]
    fn status_decides_when_there_is_no_code() {
        assert_eq!(classify(None, Some(429), "us-east-1"), ErrorKind::Throttled);
        assert_eq!(classify(None, Some(403), "us-east-1"), ErrorKind::Denied);
        assert_eq!(classify(None, Some(404), "us-east-1"), ErrorKind::NotFound);
        assert_eq!(classify(None, Some(503), "us-east-1"), ErrorKind::Error);
    }

    #[test]
    fn display_names_operation_code_and_request_id() {
        let err = AwsError {
            kind: ErrorKind::Denied,
            operation: "iam:GetRole".into(),
            code: Some("AccessDenied".into()),
            message: Some("no".into()),
            request_id: Some("abc-123".into()),
            http_status: Some(403),
        };
        assert_eq!(err.to_string(), "iam:GetRole failed: AccessDenied: no (request id abc-123)");
        assert_eq!(err.kind.coverage_status(), CoverageStatus::Denied);
    }
}
