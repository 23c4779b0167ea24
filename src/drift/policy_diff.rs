//! Semantic comparison of two policy documents, statement by statement:
//! statement order, JSON formatting, the order of values in lists, a single
//! value versus a one-element list, and the case of action names do not
//! count. Statements are paired by identical meaning first, then by Sid;
//! the rest are added or removed.
//!
//! Interim: this canonical comparison stands in until the policy engine's
//! semantic diff (`policy::diff`) is merged; the output type stays.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::inventory::PolicyDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One statement-level difference (`baseline` → `target`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementChange {
    pub kind: ChangeKind,
    pub sid: Option<String>,
    pub baseline_index: Option<usize>,
    pub target_index: Option<usize>,
    /// Canonical JSON of the statement on each side.
    pub baseline: Option<String>,
    pub target: Option<String>,
}

impl StatementChange {
    pub fn describe(&self) -> String {
        let sid = self.sid.as_deref().map(|s| format!(" (Sid {s})")).unwrap_or_default();
        match self.kind {
            ChangeKind::Added => format!("statement #{}{sid} only in target: {}", self.target_index.unwrap_or(0), self.target.as_deref().unwrap_or("")),
            ChangeKind::Removed => format!("statement #{}{sid} only in baseline: {}", self.baseline_index.unwrap_or(0), self.baseline.as_deref().unwrap_or("")),
            ChangeKind::Changed => format!(
                "statement{sid} changed: baseline #{} {} → target #{} {}",
                self.baseline_index.unwrap_or(0),
                self.baseline.as_deref().unwrap_or(""),
                self.target_index.unwrap_or(0),
                self.target.as_deref().unwrap_or("")
            ),
        }
    }
}

/// How two documents compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyDelta {
    Same,
    Statements(Vec<StatementChange>),
    /// At least one side did not parse: compared as text.
    Unparsed { baseline_error: Option<String>, target_error: Option<String>, text_equal: bool },
}

impl PolicyDelta {
    pub fn is_same(&self) -> bool {
        match self {
            Self::Same => true,
            Self::Statements(c) => c.is_empty(),
            Self::Unparsed { text_equal, .. } => *text_equal,
        }
    }

    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Same => Vec::new(),
            Self::Statements(changes) => changes.iter().map(StatementChange::describe).collect(),
            Self::Unparsed { baseline_error, target_error, text_equal } => {
                let mut out = Vec::new();
                if let Some(e) = baseline_error {
                    out.push(format!("baseline document does not parse ({e}); compared as text"));
                }
                if let Some(e) = target_error {
                    out.push(format!("target document does not parse ({e}); compared as text"));
                }
                if !text_equal {
                    out.push("texts differ".to_owned());
                }
                out
            }
        }
    }
}

/// Compares two documents (already normalised by the caller).
pub fn diff_docs(baseline: &PolicyDoc, target: &PolicyDoc) -> PolicyDelta {
    match (&baseline.json, &target.json) {
        (Some(a), Some(b)) => diff_values(a, b),
        _ => {
            let text = |d: &PolicyDoc| d.json.as_ref().map(|j| j.to_string()).or_else(|| d.raw.clone()).unwrap_or_default();
            PolicyDelta::Unparsed {
                baseline_error: baseline.error.clone(),
                target_error: target.error.clone(),
                text_equal: text(baseline) == text(target),
            }
        }
    }
}

pub fn diff_values(a: &Value, b: &Value) -> PolicyDelta {
    let sa = statements(a);
    let sb = statements(b);
    let mut used_b = vec![false; sb.len()];
    let mut unmatched_a = Vec::new();
    for (ia, (sid_a, ca)) in sa.iter().enumerate() {
        match sb.iter().enumerate().position(|(ib, (_, cb))| !used_b[ib] && cb == ca) {
            Some(ib) => used_b[ib] = true,
            None => unmatched_a.push((ia, sid_a.clone(), ca.clone())),
        }
        let _ = sid_a;
    }
    let mut changes = Vec::new();
    for (ia, sid_a, ca) in unmatched_a {
        let partner = sid_a.as_ref().and_then(|sid| sb.iter().enumerate().position(|(ib, (sid_b, _))| !used_b[ib] && sid_b.as_ref() == Some(sid)));
        match partner {
            Some(ib) => {
                used_b[ib] = true;
                changes.push(StatementChange {
                    kind: ChangeKind::Changed,
                    sid: sid_a,
                    baseline_index: Some(ia),
                    target_index: Some(ib),
                    baseline: Some(ca),
                    target: Some(sb[ib].1.clone()),
                });
            }
            None => changes.push(StatementChange {
                kind: ChangeKind::Removed,
                sid: sid_a,
                baseline_index: Some(ia),
                target_index: None,
                baseline: Some(ca),
                target: None,
            }),
        }
    }
    for (ib, (sid_b, cb)) in sb.iter().enumerate() {
        if !used_b[ib] {
            changes.push(StatementChange {
                kind: ChangeKind::Added,
                sid: sid_b.clone(),
                baseline_index: None,
                target_index: Some(ib),
                baseline: None,
                target: Some(cb.clone()),
            });
        }
    }
    if changes.is_empty() {
        PolicyDelta::Same
    } else {
        PolicyDelta::Statements(changes)
    }
}

/// (Sid, canonical JSON without the Sid) of each statement.
fn statements(doc: &Value) -> Vec<(Option<String>, String)> {
    let list = match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .map(|s| {
            let sid = s.get("Sid").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
            let mut canon = Map::new();
            if let Value::Object(map) = s {
                for (key, value) in map {
                    if key == "Sid" {
                        continue;
                    }
                    let v = match key.as_str() {
                        "Action" | "NotAction" => set_of(value, true),
                        "Resource" | "NotResource" => set_of(value, false),
                        "Principal" | "NotPrincipal" => principal(value),
                        "Condition" => condition(value),
                        _ => value.clone(),
                    };
                    canon.insert(key.clone(), v);
                }
            }
            let mut sorted: Vec<(String, Value)> = canon.into_iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            (sid, Value::Object(sorted.into_iter().collect()).to_string())
        })
        .collect()
}

fn set_of(value: &Value, lower: bool) -> Value {
    let mut items: Vec<String> = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect(),
        other => vec![other.to_string()],
    };
    if lower {
        items.iter_mut().for_each(|s| *s = s.to_ascii_lowercase());
    }
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

fn principal(value: &Value) -> Value {
    match value {
        Value::String(s) if s == "*" => principal(&serde_json::json!({"AWS": "*"})),
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), set_of(v, false))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        other => other.clone(),
    }
}

fn condition(value: &Value) -> Value {
    let Value::Object(ops) = value else { return value.clone() };
    let mut out: Vec<(String, Value)> = ops
        .iter()
        .map(|(op, keys)| {
            let inner = match keys {
                Value::Object(k) => {
                    let mut e: Vec<(String, Value)> = k.iter().map(|(key, v)| (key.to_ascii_lowercase(), set_of(v, false))).collect();
                    e.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Object(e.into_iter().collect())
                }
                other => other.clone(),
            };
            (op.to_ascii_lowercase(), inner)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_format_and_action_case_do_not_count() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": ["b", "a"]}]});
        let b = json!({"Statement": [
            {"Effect": "Deny", "Resource": ["a", "b"], "Action": ["EC2:*"]},
            {"Sid": "A", "Effect": "Allow", "Action": ["KMS:Decrypt", "s3:getobject"], "Resource": ["*"]}], "Version": "2012-10-17"});
        assert!(diff_values(&a, &b).is_same());
    }

    #[test]
    fn changed_added_removed_statements() {
        let a = json!({"Statement": [
            {"Sid": "Keep", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "Kms", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]});
        let b = json!({"Statement": [
            {"Sid": "Keep", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "Kms", "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]});
        let PolicyDelta::Statements(changes) = diff_values(&a, &b) else { panic!() };
        let kinds: Vec<_> = changes.iter().map(|c| (c.kind, c.sid.clone())).collect();
        assert_eq!(kinds, vec![(ChangeKind::Changed, Some("Kms".into())), (ChangeKind::Removed, None), (ChangeKind::Added, None)]);
    }
}
