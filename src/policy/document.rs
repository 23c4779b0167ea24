//! Parsing policy documents into compiled [`Policy`] values.
//!
//! Accepts every form of the IAM grammar
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>):
//! `Statement` as one object or a list; `Action`/`NotAction`,
//! `Resource`/`NotResource` as a string or list; `Principal`/`NotPrincipal`
//! as `"*"` or a map of `AWS`/`Service`/`Federated`/`CanonicalUser` to a
//! string or list; `Condition` values as strings, numbers, booleans or
//! lists of them. Anything else is a [`PolicyError`] naming the path of the
//! offending element, e.g. `Statement[2].Condition.StringEquals`. Unknown
//! element names are errors too: a misspelt `"Actions"` must not silently
//! change a decision.
//!
//! A statement without `Resource`/`NotResource` (role trust policies, some
//! resource policies) applies to any resource. A statement without
//! `Principal`/`NotPrincipal` is fine in identity policies, SCPs, boundaries
//! and session policies (which have no principal element) and never matches
//! in a resource-based policy.

use std::fmt;

use serde_json::Value;

use super::condition::Condition;
use super::matcher::{ArnPattern, Glob};
use super::variables::{parse_template, Template};

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Grants the matched requests.
    Allow,
    /// Explicitly denies the matched requests.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A policy document that could not be parsed: `path` names the element
/// (`Statement[2].Condition.StringEquals`), `message` what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    /// Path of the offending element inside the document.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl PolicyError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError { path: path.into(), message: message.into() }
    }

    /// Prefix the path (used when the document is nested in a bundle).
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = if self.path.is_empty() { prefix.to_string() } else { format!("{prefix}.{}", self.path) };
        self
    }
}

/// The `Action` / `NotAction` element.
#[derive(Debug, Clone)]
pub struct ActionBlock {
    /// True for `NotAction`.
    pub negated: bool,
    /// The patterns as written.
    pub patterns: Vec<String>,
    pub(crate) globs: Vec<Glob>,
}

/// One `Resource` entry: a plain pattern or one containing policy variables.
#[derive(Debug, Clone)]
pub(crate) enum ResourceItem {
    Plain(ArnPattern),
    Templated(Template),
}

/// The `Resource` / `NotResource` element.
#[derive(Debug, Clone)]
pub struct ResourceBlock {
    /// True for `NotResource`.
    pub negated: bool,
    /// The patterns as written.
    pub patterns: Vec<String>,
    pub(crate) items: Vec<ResourceItem>,
}

/// Kind of a principal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// `"AWS"`: account, user, role, session ARNs or `*`.
    Aws,
    /// `"Service"`: service principal names.
    Service,
    /// `"Federated"`: identity providers.
    Federated,
    /// `"CanonicalUser"`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    /// The JSON key.
    pub fn as_str(&self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// The `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone)]
pub struct PrincipalBlock {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// `(type, value)` pairs; `"Principal": "*"` is `(Aws, "*")`.
    pub entries: Vec<(PrincipalType, String)>,
}

/// One compiled statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Position in the document's `Statement` list (0-based).
    pub index: usize,
    /// `Sid`, if any.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` / `NotAction`.
    pub action: ActionBlock,
    /// `Resource` / `NotResource`; `None` = applies to any resource.
    pub resource: Option<ResourceBlock>,
    /// `Principal` / `NotPrincipal`; `None` when absent.
    pub principal: Option<PrincipalBlock>,
    /// `Condition` entries (all must hold).
    pub conditions: Vec<Condition>,
}

/// A parsed, compiled policy document: cheap to evaluate many times,
/// `Send + Sync`, shareable behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `Version` (`None` when absent, which AWS treats as `2008-10-17`).
    pub version: Option<String>,
    /// `Id`, if any.
    pub id: Option<String>,
    /// The statements in document order.
    pub statements: Vec<Statement>,
}

const STATEMENT_KEYS: &[&str] = &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

impl Policy {
    /// Parse a document from JSON text.
    pub fn parse_str(text: &str) -> Result<Policy, PolicyError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PolicyError::new("", format!("invalid JSON: {e}")))?;
        Policy::from_value(&v)
    }

    /// Parse a document from a JSON value.
    pub fn from_value(doc: &Value) -> Result<Policy, PolicyError> {
        let obj = doc.as_object().ok_or_else(|| PolicyError::new("", "a policy document must be a JSON object"))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::new(k.as_str(), "unknown policy element"));
            }
        }
        let version = opt_string(obj.get("Version"), "Version")?;
        if let Some(v) = &version {
            if v != "2012-10-17" && v != "2008-10-17" {
                return Err(PolicyError::new("Version", format!("unsupported version {v:?}")));
            }
        }
        let id = opt_string(obj.get("Id"), "Id")?;
        let variables = version.as_deref() == Some("2012-10-17");
        let stmts: Vec<&Value> = match obj.get("Statement") {
            None => return Err(PolicyError::new("Statement", "missing")),
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => return Err(PolicyError::new("Statement", "expected an object or a list of objects")),
        };
        let mut statements = Vec::with_capacity(stmts.len());
        for (i, s) in stmts.into_iter().enumerate() {
            statements.push(parse_statement(s, i, variables)?);
        }
        Ok(Policy { version, id, statements })
    }
}

fn opt_string(v: Option<&Value>, path: &str) -> Result<Option<String>, PolicyError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PolicyError::new(path, "expected a string")),
    }
}

fn string_or_list(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PolicyError::new(format!("{path}[{i}]"), "expected a string")),
            })
            .collect(),
        _ => Err(PolicyError::new(path, "expected a string or a list of strings")),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn one_of<'a>(obj: &'a serde_json::Map<String, Value>, a: &str, b: &str, path: &str) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (obj.get(a), obj.get(b)) {
        (Some(_), Some(_)) => Err(PolicyError::new(path, format!("both {a} and {b} given"))),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) => Ok(None),
    }
}

fn parse_statement(v: &Value, index: usize, variables: bool) -> Result<Statement, PolicyError> {
    let path = format!("Statement[{index}]");
    let obj = v.as_object().ok_or_else(|| PolicyError::new(&path, "a statement must be a JSON object"))?;
    for k in obj.keys() {
        if !STATEMENT_KEYS.contains(&k.as_str()) {
            return Err(PolicyError::new(format!("{path}.{k}"), "unknown statement element"));
        }
    }
    let sid = opt_string(obj.get("Sid"), &format!("{path}.Sid"))?;
    let effect = match obj.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(_) => return Err(PolicyError::new(format!("{path}.Effect"), "expected \"Allow\" or \"Deny\"")),
        None => return Err(PolicyError::new(format!("{path}.Effect"), "missing")),
    };
    let action = match one_of(obj, "Action", "NotAction", &path)? {
        None => return Err(PolicyError::new(format!("{path}.Action"), "missing (need Action or NotAction)")),
        Some((v, negated)) => {
            let name = if negated { "NotAction" } else { "Action" };
            let patterns = string_or_list(v, &format!("{path}.{name}"))?;
            let globs = patterns.iter().map(|p| Glob::compile(p, true)).collect();
            ActionBlock { negated, patterns, globs }
        }
    };
    let resource = match one_of(obj, "Resource", "NotResource", &path)? {
        None => None,
        Some((v, negated)) => {
            let name = if negated { "NotResource" } else { "Resource" };
            let patterns = string_or_list(v, &format!("{path}.{name}"))?;
            let items = patterns
                .iter()
                .map(|p| match if variables { parse_template(p) } else { None } {
                    Some(t) => ResourceItem::Templated(t),
                    None => ResourceItem::Plain(ArnPattern::compile(p)),
                })
                .collect();
            Some(ResourceBlock { negated, patterns, items })
        }
    };
    let principal = match one_of(obj, "Principal", "NotPrincipal", &path)? {
        None => None,
        Some((v, negated)) => {
            let name = if negated { "NotPrincipal" } else { "Principal" };
            Some(parse_principal(v, negated, &format!("{path}.{name}"))?)
        }
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &format!("{path}.Condition"), variables)?,
    };
    Ok(Statement { index, sid, effect, action, resource, principal, conditions })
}

fn parse_principal(v: &Value, negated: bool, path: &str) -> Result<PrincipalBlock, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(PrincipalBlock { negated, entries: vec![(PrincipalType::Aws, "*".into())] }),
        // Lenient: a bare string other than "*" is read as an AWS principal.
        Value::String(s) => Ok(PrincipalBlock { negated, entries: vec![(PrincipalType::Aws, s.clone())] }),
        Value::Object(m) => {
            let mut entries = Vec::new();
            for (k, val) in m {
                let t = match k.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    _ => return Err(PolicyError::new(format!("{path}.{k}"), "unknown principal type")),
                };
                for s in string_or_list(val, &format!("{path}.{k}"))? {
                    entries.push((t, s));
                }
            }
            Ok(PrincipalBlock { negated, entries })
        }
        _ => Err(PolicyError::new(path, "expected \"*\" or an object")),
    }
}

fn parse_conditions(v: &Value, path: &str, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let ops = v.as_object().ok_or_else(|| PolicyError::new(path, "expected an object of operators"))?;
    let mut out = Vec::new();
    for (op, keys) in ops {
        let opath = format!("{path}.{op}");
        let keys = keys.as_object().ok_or_else(|| PolicyError::new(&opath, "expected an object of condition keys"))?;
        for (key, vals) in keys {
            let kpath = format!("{opath}.{key}");
            let values: Vec<String> = match vals {
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| scalar_text(x).ok_or_else(|| PolicyError::new(format!("{kpath}[{i}]"), "expected a string, number or boolean")))
                    .collect::<Result<_, _>>()?,
                other => vec![scalar_text(other).ok_or_else(|| PolicyError::new(&kpath, "expected a string, number, boolean or a list of them"))?],
            };
            out.push(Condition::compile(op, key, values, variables));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // AWS grammar: Statement, Action, Resource, Principal values may be a
    // single value or a list.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    #[test]
    fn accepts_single_values_and_lists() {
        let p = Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Statement": {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                          "Principal": {"AWS": ["111111111111", "arn:aws:iam::222222222222:root"], "Service": "kinesisanalytics.amazonaws.com"},
                          "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": true},
                                        "StringEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"]}}}
        }))
        .unwrap();
        let s = &p.statements[0];
        assert_eq!(s.sid.as_deref(), Some("One"));
        assert_eq!(s.principal.as_ref().unwrap().entries.len(), 3);
        assert_eq!(s.conditions.len(), 3);
        assert_eq!(s.conditions[0].values, vec!["10"]);
        assert_eq!(s.conditions[1].values, vec!["true"]);
        let star =
            Policy::from_value(&json!({"Statement": [{"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "*", "NotPrincipal": "*"}]})).unwrap();
        assert!(star.statements[0].action.negated);
        assert!(star.statements[0].principal.as_ref().unwrap().negated);
    }

    #[test]
    fn errors_name_the_path() {
        let e = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": "oops"}}]}))
        .unwrap_err();
        assert_eq!(e.path, "Statement[2].Condition.StringEquals");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "allow", "Action": "*"}]})).unwrap_err();
        assert_eq!(e.path, "Statement[0].Effect");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Actions": "*"}]})).unwrap_err();
        assert_eq!(e.path, "Statement[0].Actions");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": ["s3:x", 3]}]})).unwrap_err();
        assert_eq!(e.path, "Statement[0].Action[1]");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": "*", "Bogus": "x"}}]})).unwrap_err();
        assert_eq!(e.path, "Statement[0].Principal.Bogus");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": {"nested": 1}}}}]}))
            .unwrap_err();
        assert_eq!(e.path, "Statement[0].Condition.StringEquals.k");
        assert!(Policy::parse_str("not json").is_err());
        assert!(Policy::from_value(&json!([])).is_err());
        assert!(Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "x"}]})).is_err());
    }

    // AWS: with Version 2008-10-17 (or no Version) policy variables are literal text.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    #[test]
    fn variables_only_in_2012_documents() {
        let v12 = Policy::from_value(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:username}"}]}),
        )
        .unwrap();
        assert!(matches!(v12.statements[0].resource.as_ref().unwrap().items[0], ResourceItem::Templated(_)));
        let v08 =
            Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:username}"}]})).unwrap();
        assert!(matches!(v08.statements[0].resource.as_ref().unwrap().items[0], ResourceItem::Plain(_)));
    }
}
