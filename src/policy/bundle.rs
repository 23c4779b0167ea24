//! The `fleetscan explain --bundle FILE|-` contract (SPEC §7).
//!
//! Input:
//!
//! ```json
//! {
//!   "request": {"principal": "arn:aws:iam::111111111111:role/r", "action": "s3:GetObject",
//!               "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111",
//!               "context": {"aws:PrincipalOrgID": "o-abc", "aws:TagKeys": ["a", "b"]},
//!               "wildcard_only_action": false},
//!   "identity_policies": [{"Version": "2012-10-17", "Statement": []}],
//!   "permission_boundaries": [],
//!   "session_policy": null,
//!   "scps": [{"target": "r-root", "policies": []}, {"target": "ou-1", "policies": []}],
//!   "rcps": [{"target": "r-root", "policies": []}],
//!   "resource_policy": null,
//!   "endpoint_policies": []
//! }
//! ```
//!
//! Every policy position accepts either a plain document or
//! `{"name": "...", "document": {...}}` so callers can name policies in
//! explanations (without a name, the document's `Id` or the position, e.g.
//! `identity_policies[1]`, is used). `request.principal` may be `null` or
//! absent for an anonymous request. `scps`/`rcps` absent or `null` = no
//! Organizations policy applies; present = one entry per level, root first.
//! Unknown fields are errors, so a typo never silently drops a policy.
//!
//! Output: `{"decision": ..., "blocked_by": [...], "explanation": [...]}`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::context::{Context, ContextValue};
use super::document::Policy;
use super::eval::{evaluate, NamedPolicy, OrgLevel, PolicySet};
use super::explain::Decision;
use super::request::Request;

/// A bundle that cannot be used: `path` says where (`scps[1].policies[0]`,
/// `identity_policies[2].Statement[0].Action`), `message` what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid bundle at {path}: {message}")]
pub struct BundleError {
    /// Location inside the bundle (`$` for the top level).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> BundleError {
    BundleError { path: path.into(), message: message.into() }
}

const TOP_KEYS: &[&str] =
    &["request", "identity_policies", "permission_boundaries", "session_policy", "scps", "rcps", "resource_policy", "endpoint_policies"];
const REQUEST_KEYS: &[&str] = &["principal", "action", "resource", "resource_account", "context", "wildcard_only_action"];

/// A parsed bundle: the request and its policies.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The request.
    pub request: Request,
    /// The policies.
    pub policies: PolicySet,
}

impl Bundle {
    /// Parse bundle JSON text.
    pub fn parse_str(input: &str) -> Result<Bundle, BundleError> {
        let v: Value = serde_json::from_str(input).map_err(|e| err("$", format!("invalid JSON: {e}")))?;
        Bundle::from_value(&v)
    }

    /// Parse a bundle JSON value.
    pub fn from_value(v: &Value) -> Result<Bundle, BundleError> {
        let obj = v.as_object().ok_or_else(|| err("$", "the bundle must be a JSON object"))?;
        for k in obj.keys() {
            if !TOP_KEYS.contains(&k.as_str()) {
                return Err(err(k.as_str(), "unknown field"));
            }
        }
        let request = parse_request(obj.get("request").ok_or_else(|| err("request", "missing"))?)?;
        let policies = PolicySet {
            identity: policy_list(obj.get("identity_policies"), "identity_policies")?,
            boundaries: policy_list(obj.get("permission_boundaries"), "permission_boundaries")?,
            session: opt_policy(obj.get("session_policy"), "session_policy")?,
            scps: levels(obj.get("scps"), "scps")?,
            rcps: levels(obj.get("rcps"), "rcps")?,
            resource: opt_policy(obj.get("resource_policy"), "resource_policy")?,
            endpoints: policy_list(obj.get("endpoint_policies"), "endpoint_policies")?,
        };
        Ok(Bundle { request, policies })
    }

    /// Evaluate the bundle.
    pub fn evaluate(&self) -> Decision {
        evaluate(&self.policies, &self.request)
    }
}

fn get_str<'a>(o: &'a Map<String, Value>, k: &str, path: &str) -> Result<Option<&'a str>, BundleError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("{path}.{k}"), "expected a string")),
    }
}

fn parse_request(v: &Value) -> Result<Request, BundleError> {
    let o = v.as_object().ok_or_else(|| err("request", "expected an object"))?;
    for k in o.keys() {
        if !REQUEST_KEYS.contains(&k.as_str()) {
            return Err(err(format!("request.{k}"), "unknown field"));
        }
    }
    let principal = get_str(o, "principal", "request")?;
    let action = get_str(o, "action", "request")?.ok_or_else(|| err("request.action", "missing"))?;
    if !action.contains(':') {
        return Err(err("request.action", format!("{action:?} is not of the form service:Action")));
    }
    let resource = get_str(o, "resource", "request")?.unwrap_or("*");
    let mut req = Request::new(principal, action, resource);
    if let Some(a) = get_str(o, "resource_account", "request")? {
        req = req.with_resource_account(a);
    }
    match o.get("wildcard_only_action") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => req = req.with_wildcard_only_action(*b),
        Some(_) => return Err(err("request.wildcard_only_action", "expected true or false")),
    }
    match o.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            let mut ctx = Context::default();
            for (k, v) in m {
                let path = format!("request.context.{k}");
                let cv = match v {
                    Value::Array(a) => ContextValue::Multi(
                        a.iter()
                            .enumerate()
                            .map(|(i, x)| scalar(x).ok_or_else(|| err(format!("{path}[{i}]"), "expected a string, number or boolean")))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => ContextValue::Single(scalar(other).ok_or_else(|| err(&path, "expected a string, number, boolean or a list of them"))?),
                };
                ctx.insert(k, cv);
            }
            req = req.with_context_map(ctx);
        }
        Some(_) => return Err(err("request.context", "expected an object")),
    }
    Ok(req)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parse one policy position: a document or `{"name", "document"}`.
fn named(v: &Value, path: &str) -> Result<NamedPolicy, BundleError> {
    let (name, doc, doc_path) = match v.as_object() {
        Some(o) if o.contains_key("document") => {
            for k in o.keys() {
                if k != "name" && k != "document" {
                    return Err(err(format!("{path}.{k}"), "unknown field (expected name and document)"));
                }
            }
            let name = get_str(o, "name", path)?.map(str::to_string);
            (name, &o["document"], format!("{path}.document"))
        }
        _ => (None, v, path.to_string()),
    };
    let doc = match doc {
        // Policy documents as delivered by IAM APIs may be JSON strings.
        Value::String(s) => serde_json::from_str::<Value>(s).map_err(|e| err(&doc_path, format!("invalid JSON: {e}")))?,
        other => other.clone(),
    };
    let policy = Policy::from_value(&doc).map_err(|e| {
        let p = if e.path.is_empty() { doc_path.clone() } else { format!("{doc_path}.{}", e.path) };
        err(p, e.message)
    })?;
    let name = name.or_else(|| policy.id.clone()).unwrap_or_else(|| path.to_string());
    Ok(NamedPolicy { name: Arc::from(name), policy: Arc::new(policy) })
}

fn policy_list(v: Option<&Value>, path: &str) -> Result<Vec<NamedPolicy>, BundleError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().enumerate().map(|(i, x)| named(x, &format!("{path}[{i}]"))).collect(),
        Some(_) => Err(err(path, "expected a list of policies")),
    }
}

fn opt_policy(v: Option<&Value>, path: &str) -> Result<Option<NamedPolicy>, BundleError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => named(x, path).map(Some),
    }
}

fn levels(v: Option<&Value>, path: &str) -> Result<Option<Vec<OrgLevel>>, BundleError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, lv) in a.iter().enumerate() {
                let lp = format!("{path}[{i}]");
                let o = lv.as_object().ok_or_else(|| err(&lp, "expected {\"target\": ..., \"policies\": [...]}"))?;
                for k in o.keys() {
                    if k != "target" && k != "policies" {
                        return Err(err(format!("{lp}.{k}"), "unknown field"));
                    }
                }
                let target = get_str(o, "target", &lp)?.ok_or_else(|| err(format!("{lp}.target"), "missing"))?;
                let policies = policy_list(o.get("policies"), &format!("{lp}.policies"))?;
                out.push(OrgLevel { target: Arc::from(target), policies });
            }
            Ok(Some(out))
        }
        Some(_) => Err(err(path, "expected a list of levels")),
    }
}

/// `explain --bundle` JSON output for bundle text `input`.
pub fn explain_bundle_json(input: &str) -> Result<Value, BundleError> {
    let b = Bundle::parse_str(input)?;
    Ok(b.evaluate().to_json())
}

/// `explain --bundle --format text` output for bundle text `input`.
pub fn explain_bundle_text(input: &str) -> Result<String, BundleError> {
    let b = Bundle::parse_str(input)?;
    Ok(b.evaluate().to_text(&b.request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_plain_policies() {
        let out = explain_bundle_json(
            r#"{"request": {"principal": "arn:aws:iam::111111111111:role/r", "action": "s3:GetObject",
                 "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111"},
                "identity_policies": [{"name": "AppRead", "document": {"Version": "2012-10-17",
                   "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}],
                "scps": [{"target": "r-root", "policies": [{"Id": "FullAWSAccess", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]},
                         {"target": "ou-1", "policies": [{"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(out["decision"], "ExplicitlyDenied");
        assert_eq!(out["blocked_by"], serde_json::json!(["scp"]));
        let e = &out["explanation"][0];
        assert_eq!(e["policy_type"], "scp");
        assert_eq!(e["policy"], "scps[1].policies[0]");
        assert_eq!(e["level"], "ou-1");
        assert_eq!(e["statement_index"], 0);
    }

    #[test]
    fn errors_name_the_location() {
        let e = explain_bundle_json(r#"{"request": {"action": "s3:GetObject"}, "scps": [{"target": "r", "policies": [{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": 5}}]}]}]}"#).unwrap_err();
        assert_eq!(e.path, "scps[0].policies[0].Statement[0].Condition.StringEquals");
        assert!(e.to_string().contains("scps[0].policies[0].Statement[0].Condition.StringEquals"));
        let e = explain_bundle_json(r#"{"request": {"action": "s3:GetObject"}, "scp": []}"#).unwrap_err();
        assert_eq!(e.path, "scp");
        let e = explain_bundle_json(r#"{"identity_policies": []}"#).unwrap_err();
        assert_eq!(e.path, "request");
        assert!(explain_bundle_json("[").is_err());
    }

    #[test]
    fn text_rendering() {
        let t = explain_bundle_text(
            r#"{"request": {"principal": "arn:aws:iam::111111111111:role/r", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
                "identity_policies": []}"#,
        )
        .unwrap();
        assert!(t.contains("Decision: ImplicitlyDenied"));
        assert!(t.contains("Blocked by: identity"));
    }
}
