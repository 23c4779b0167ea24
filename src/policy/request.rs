//! The request being authorised.

use super::context::{Context, ContextValue};
use super::principal::RequestPrincipal;

/// One request: who (principal), what (action), on what (resource), in
/// which account, with which context keys.
///
/// A resource containing `*` or `?` is read as a *pattern* ("some resource
/// matching this"): an Allow applies when its resource pattern overlaps it,
/// a Deny only when it covers all of it. Real ARNs contain no wildcard, so
/// this only matters for "could X do Y on anything under bucket/*?" queries.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) principal: RequestPrincipal,
    pub(crate) action: String,
    pub(crate) resource: String,
    pub(crate) resource_account: Option<String>,
    pub(crate) context: Context,
    pub(crate) wildcard_only_action: bool,
    pub(crate) resource_is_pattern: bool,
}

impl Request {
    /// A request by `principal` (an ARN or service principal; `None` =
    /// anonymous) to perform `action` on `resource` (an ARN or `*`).
    pub fn new(principal: Option<&str>, action: &str, resource: &str) -> Request {
        Request {
            principal: RequestPrincipal::parse(principal),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context: Context::default(),
            wildcard_only_action: false,
            resource_is_pattern: resource.contains(['*', '?']),
        }
    }

    /// The account that owns the resource. When not set, the account field
    /// of the resource ARN is used, and failing that (S3 ARNs, `*`) the
    /// principal's account.
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Request {
        let a: String = account.into();
        self.resource_account = if a.is_empty() { None } else { Some(a) };
        self
    }

    /// Add a context key (case-insensitive name) with a single or multiple values.
    pub fn with_context(mut self, key: &str, value: impl Into<ContextValue>) -> Request {
        self.context.insert(key, value.into());
        self
    }

    /// Replace the whole context.
    pub fn with_context_map(mut self, context: Context) -> Request {
        self.context = context;
        self
    }

    /// Mark the action as supporting no resource-level permissions: only
    /// statements whose resource element is `*` apply.
    pub fn with_wildcard_only_action(mut self, yes: bool) -> Request {
        self.wildcard_only_action = yes;
        self
    }

    /// The principal.
    pub fn principal(&self) -> &RequestPrincipal {
        &self.principal
    }
    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }
    /// The resource as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }
    /// The context.
    pub fn context(&self) -> &Context {
        &self.context
    }
    /// The wildcard-only flag.
    pub fn wildcard_only_action(&self) -> bool {
        self.wildcard_only_action
    }

    /// The account owning the resource (see [`Request::with_resource_account`]).
    pub fn resource_account(&self) -> Option<&str> {
        if let Some(a) = &self.resource_account {
            return Some(a);
        }
        let from_arn = self.resource.split(':').nth(4).filter(|a| !a.is_empty() && *a != "aws" && !a.contains('*'));
        from_arn.or_else(|| self.principal.account())
    }

    /// The service prefix of the action (`s3` for `s3:GetObject`), lower-cased.
    pub(crate) fn service(&self) -> String {
        self.action.split(':').next().unwrap_or_default().to_ascii_lowercase()
    }
}
