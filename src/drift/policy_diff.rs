//! Semantic comparison of two policy documents, statement by statement:
//! statement order, JSON formatting, the order of values in lists, a single
//! value versus a one-element list, and the case of action names do not
//! count. Statements are paired by identical meaning first, then by Sid;
//! the rest are added or removed.
//!
//! The comparison itself is the policy engine's (`policy::diff_documents`);
//! this module adapts it to drift rows and handles unparsable documents.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
            ChangeKind::Added => format!("statement{sid} only in target: {}", self.target.as_deref().unwrap_or("")),
            ChangeKind::Removed => format!("statement{sid} only in baseline: {}", self.baseline.as_deref().unwrap_or("")),
            ChangeKind::Changed => {
                format!("statement{sid} changed: {} → {}", self.baseline.as_deref().unwrap_or(""), self.target.as_deref().unwrap_or(""))
            }
        }
    }
}

/// How two documents compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyDelta {
    Same,
    Statements(Vec<StatementChange>),
    /// At least one side did not parse: compared as text.
    Unparsed {
        baseline_error: Option<String>,
        target_error: Option<String>,
        text_equal: bool,
    },
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
    match (baseline.value(), target.value()) {
        (Some(a), Some(b)) => diff_values(&a, &b),
        _ => {
            let text = |d: &PolicyDoc| d.text().map(str::to_owned).or_else(|| d.raw.clone()).unwrap_or_default();
            PolicyDelta::Unparsed {
                baseline_error: baseline.error.clone(),
                target_error: target.error.clone(),
                text_equal: text(baseline) == text(target),
            }
        }
    }
}

/// Compares two parsed JSON documents with the policy engine's semantic
/// diff (`policy::diff_documents`); a document the engine cannot compile is
/// compared as text and says why.
pub fn diff_values(a: &Value, b: &Value) -> PolicyDelta {
    match crate::policy::diff_documents(a, b) {
        Ok(diff) => {
            let mut changes = Vec::new();
            for s in &diff.changed {
                changes.push(StatementChange {
                    kind: ChangeKind::Changed,
                    sid: Some(s.sid.clone()),
                    baseline_index: None,
                    target_index: None,
                    baseline: Some(s.before.to_string()),
                    target: Some(format!("{} [{}]", s.after, s.details().join("; "))),
                });
            }
            for s in &diff.removed {
                changes.push(StatementChange {
                    kind: ChangeKind::Removed,
                    sid: s.sid.clone(),
                    baseline_index: None,
                    target_index: None,
                    baseline: Some(s.to_string()),
                    target: None,
                });
            }
            for s in &diff.added {
                changes.push(StatementChange {
                    kind: ChangeKind::Added,
                    sid: s.sid.clone(),
                    baseline_index: None,
                    target_index: None,
                    baseline: None,
                    target: Some(s.to_string()),
                });
            }
            if changes.is_empty() {
                PolicyDelta::Same
            } else {
                PolicyDelta::Statements(changes)
            }
        }
        Err(_) => PolicyDelta::Unparsed {
            baseline_error: crate::policy::Policy::from_value(a).err().map(|e| e.to_string()),
            target_error: crate::policy::Policy::from_value(b).err().map(|e| e.to_string()),
            text_equal: a == b,
        },
    }
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
