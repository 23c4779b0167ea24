//! IAM policy engine: parse, evaluate, explain and diff AWS policies.
//!
//! Standalone: this module imports nothing else from the crate.
//!
//! # Use
//!
//! ```
//! use std::sync::Arc;
//! use fleetscan::policy::{evaluate, NamedPolicy, Policy, PolicySet, Request, Outcome};
//!
//! let doc = r#"{"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::code/*"}]}"#;
//! let policy = Arc::new(Policy::parse_str(doc).unwrap()); // compile once, reuse
//! let set = PolicySet { identity: vec![NamedPolicy::new("AppCode", policy)], ..Default::default() };
//! let req = Request::new(Some("arn:aws:iam::111111111111:role/app"), "s3:GetObject", "arn:aws:s3:::code/app.jar")
//!     .with_resource_account("111111111111");
//! let d = evaluate(&set, &req);
//! assert_eq!(d.decision, Outcome::Allowed);
//! ```
//!
//! For the CLI: [`explain_bundle_json`] / [`explain_bundle_text`] implement
//! `fleetscan explain --bundle` (contract in SPEC §7, details in [`bundle`]).
//! For drift: [`diff_policies`] / [`diff_documents`].
//!
//! # Evaluation order
//!
//! Following <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html>
//! and <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>:
//!
//! 1. `sts:GetCallerIdentity` is always allowed (it needs no permission).
//! 2. Every applicable policy is scanned. An explicit `Deny` in any of them
//!    (identity, boundary, session, SCP, RCP, resource, endpoint) decides
//!    `ExplicitlyDenied`.
//! 3. SCPs (IAM principals only — not anonymous callers or service
//!    principals) need an `Allow` at *every* level from the root to the
//!    account; an empty level allows nothing
//!    (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html>).
//!    RCPs likewise on the resource's account
//!    (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html>);
//!    the engine never adds `FullAWSAccess`/`RCPFullAWSAccess` itself —
//!    callers pass exactly what is attached.
//! 4. Core grant: same account — an `Allow` in an identity policy *or* a
//!    resource policy naming the principal (or its role, for a session);
//!    KMS key policies and role trust policies (when given) must name the
//!    principal or delegate the action to the account (`:root` / account
//!    id) before identity policies count
//!    (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>).
//!    Cross account — both the identity policy and the resource policy must
//!    allow. Anonymous callers and service principals — only the resource
//!    policy can grant.
//! 5. The session policy (when present) must allow too, except that within
//!    one account a resource policy naming the session ARN grants what the
//!    session policy does not
//!    (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>;
//!    the conformance corpus disagrees, see `tests/conformance-known-failures.md`).
//! 6. The permissions boundary must allow, except that within one account a
//!    resource policy naming the IAM user, the role *session*, or `*` is
//!    not limited by a boundary's implicit deny
//!    (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>).
//!    A resource-policy `Deny` with `NotPrincipal` always applies to a
//!    principal with a boundary
//!    (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>).
//! 7. VPC endpoint policies (when given) must allow
//!    (<https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html>).
//! 8. A few AWS-managed resources can never be changed by customers
//!    (AWS managed policies, `/aws-reserved/` roles, `alias/aws/*` KMS
//!    aliases): write actions on them are implicitly denied, reported as
//!    `resource`.
//!
//! Scope: SCPs skip service-linked roles; RCPs skip the services they do
//! not govern and service-linked roles ([`scope`]); the explanation says so.
//!
//! Missing inputs: [`evaluate_bounds`] decides from the two extreme
//! completions and answers `Unknown` when they disagree.
//!
//! `blocked_by` lists every layer that denies — explicitly, or by not
//! allowing — in the order `identity, boundary, session, scp, rcp,
//! resource, endpoint`.
//!
//! # Matching
//!
//! Actions match case-insensitively with `*`/`?`; resources
//! case-sensitively, component by component for ARNs; a request resource
//! containing wildcards is a pattern (see [`Request`]). Conditions: see
//! [`condition`]. Policy variables: see [`variables`].
//!
//! # Failing closed
//!
//! A document that does not parse is a [`PolicyError`] with the element
//! path — never a silent allow or deny. A condition that cannot be
//! evaluated (unknown operator, unparsable date/number/IP/boolean/base64
//! policy value) never lets an `Allow` statement grant, and makes a `Deny`
//! statement apply (conservative: an audit would rather report a possible
//! denial than miss one); the explanation says so.

pub mod bundle;
pub mod condition;
pub mod context;
pub mod diff;
pub mod document;
pub mod eval;
pub mod explain;
pub(crate) mod matcher;
pub mod principal;
pub mod request;
pub mod scope;
pub mod variables;

pub use bundle::{explain_bundle_json, explain_bundle_text, Bundle, BundleError};
pub use condition::{CondOutcome, Condition};
pub use context::{Context, ContextValue};
pub use diff::{diff_documents, diff_policies, CanonicalStatement, PolicyDiff, StatementChange};
pub use document::{Effect, Policy, PolicyError, PrincipalType, Statement};
pub use eval::{evaluate, evaluate_bounds, NamedPolicy, OrgLevel, PolicySet, COMPLETION_PREFIX};
pub use explain::{DecidingStatement, Decision, Outcome, PolicyKind};
pub use principal::{PrincipalMatch, RequestPrincipal};
pub use request::Request;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
