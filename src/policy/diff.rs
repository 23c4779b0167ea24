//! Semantic policy diff: compares two documents ignoring formatting,
//! statement order, list order, duplicates, action case, and single-value
//! vs list forms. Statements with the same `Sid` on both sides but
//! different content are *changed*; others are matched by content and
//! reported as *added* or *removed*.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::document::{Effect, Policy, PolicyError, PrincipalType, Statement};

/// A statement in canonical form (all sets sorted, actions lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalStatement {
    /// `Sid`.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// True for `NotAction`.
    pub not_action: bool,
    /// Lower-cased action patterns.
    pub actions: BTreeSet<String>,
    /// `Some(true)` for `NotResource`, `Some(false)` for `Resource`, `None` when absent.
    pub not_resource: Option<bool>,
    /// Resource patterns.
    pub resources: BTreeSet<String>,
    /// `Some(true)` for `NotPrincipal`, `Some(false)` for `Principal`.
    pub not_principal: Option<bool>,
    /// Principal entries.
    pub principals: BTreeSet<(PrincipalType, String)>,
    /// `(operator, lower-cased key, values)`.
    pub conditions: BTreeSet<(String, String, BTreeSet<String>)>,
}

impl CanonicalStatement {
    /// Canonical form of a compiled statement.
    pub fn from_statement(s: &Statement) -> CanonicalStatement {
        CanonicalStatement {
            sid: s.sid.clone(),
            effect: s.effect,
            not_action: s.action.negated,
            actions: s.action.patterns.iter().map(|a| a.to_ascii_lowercase()).collect(),
            not_resource: s.resource.as_ref().map(|r| r.negated),
            resources: s.resource.as_ref().map(|r| r.patterns.iter().cloned().collect()).unwrap_or_default(),
            not_principal: s.principal.as_ref().map(|p| p.negated),
            principals: s.principal.as_ref().map(|p| p.entries.iter().cloned().collect()).unwrap_or_default(),
            conditions: s
                .conditions
                .iter()
                .map(|c| (c.operator.clone(), c.key.to_ascii_lowercase(), c.values.iter().cloned().collect()))
                .collect(),
        }
    }

    fn same_content(&self, o: &CanonicalStatement) -> bool {
        let mut a = self.clone();
        a.sid = o.sid.clone();
        &a == o
    }
}

fn set_str(s: &BTreeSet<String>) -> String {
    s.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for CanonicalStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}[{}]", self.effect, if self.not_action { "NotAction" } else { "" }, set_str(&self.actions))?;
        match self.not_resource {
            Some(true) => write!(f, " NotResource [{}]", set_str(&self.resources))?,
            Some(false) => write!(f, " on [{}]", set_str(&self.resources))?,
            None => {}
        }
        if let Some(neg) = self.not_principal {
            let p: Vec<String> = self.principals.iter().map(|(t, v)| format!("{}:{v}", t.as_str())).collect();
            write!(f, " {} [{}]", if neg { "NotPrincipal" } else { "Principal" }, p.join(", "))?;
        }
        for (op, k, v) in &self.conditions {
            write!(f, " if {op} {k} [{}]", set_str(v))?;
        }
        if let Some(s) = &self.sid {
            write!(f, " (Sid {s})")?;
        }
        Ok(())
    }
}

/// A statement whose `Sid` exists on both sides with different content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementChange {
    /// The shared `Sid`.
    pub sid: String,
    /// Before.
    pub before: CanonicalStatement,
    /// After.
    pub after: CanonicalStatement,
}

fn set_delta<T: Ord + Clone + fmt::Debug>(name: &str, a: &BTreeSet<T>, b: &BTreeSet<T>, out: &mut Vec<String>, show: impl Fn(&T) -> String) {
    let added: Vec<String> = b.difference(a).map(&show).collect();
    let removed: Vec<String> = a.difference(b).map(&show).collect();
    if !added.is_empty() {
        out.push(format!("{name} +[{}]", added.join(", ")));
    }
    if !removed.is_empty() {
        out.push(format!("{name} -[{}]", removed.join(", ")));
    }
}

impl StatementChange {
    /// One line per differing element (`actions +[s3:putobject]`, `effect Allow → Deny`).
    pub fn details(&self) -> Vec<String> {
        let (a, b) = (&self.before, &self.after);
        let mut out = Vec::new();
        if a.effect != b.effect {
            out.push(format!("effect {} → {}", a.effect, b.effect));
        }
        if a.not_action != b.not_action {
            out.push(format!("{} → {}", if a.not_action { "NotAction" } else { "Action" }, if b.not_action { "NotAction" } else { "Action" }));
        }
        set_delta("actions", &a.actions, &b.actions, &mut out, |s| s.clone());
        if a.not_resource != b.not_resource {
            out.push("Resource/NotResource element changed".to_string());
        }
        set_delta("resources", &a.resources, &b.resources, &mut out, |s| s.clone());
        if a.not_principal != b.not_principal {
            out.push("Principal/NotPrincipal element changed".to_string());
        }
        set_delta("principals", &a.principals, &b.principals, &mut out, |(t, v)| format!("{}:{v}", t.as_str()));
        set_delta("conditions", &a.conditions, &b.conditions, &mut out, |(o, k, v)| format!("{o} {k} [{}]", set_str(v)));
        out
    }
}

/// Differences between two policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyDiff {
    /// Statements only in the second policy.
    pub added: Vec<CanonicalStatement>,
    /// Statements only in the first policy.
    pub removed: Vec<CanonicalStatement>,
    /// Statements with the same `Sid` and different content.
    pub changed: Vec<StatementChange>,
}

impl PolicyDiff {
    /// True when the policies are semantically identical.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// `"2 added, 1 removed, 0 changed"` or `"no differences"`.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            "no differences".to_string()
        } else {
            format!("{} added, {} removed, {} changed", self.added.len(), self.removed.len(), self.changed.len())
        }
    }
}

impl fmt::Display for PolicyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for s in &self.added {
            writeln!(f, "+ {s}")?;
        }
        for s in &self.removed {
            writeln!(f, "- {s}")?;
        }
        for c in &self.changed {
            writeln!(f, "~ Sid {}: {}", c.sid, c.details().join("; "))?;
        }
        Ok(())
    }
}

/// Compare two compiled policies (`before` → `after`).
pub fn diff_policies(before: &Policy, after: &Policy) -> PolicyDiff {
    let a: BTreeSet<CanonicalStatement> = before.statements.iter().map(CanonicalStatement::from_statement).collect();
    let b: BTreeSet<CanonicalStatement> = after.statements.iter().map(CanonicalStatement::from_statement).collect();
    let mut only_a: Vec<CanonicalStatement> = a.difference(&b).cloned().collect();
    let mut only_b: Vec<CanonicalStatement> = b.difference(&a).cloned().collect();
    let mut changed = Vec::new();
    only_a.retain(|x| {
        let Some(sid) = &x.sid else { return true };
        match only_b.iter().position(|y| y.sid.as_ref() == Some(sid)) {
            Some(j) => {
                let y = only_b.remove(j);
                if !x.same_content(&y) {
                    changed.push(StatementChange { sid: sid.clone(), before: x.clone(), after: y });
                }
                false
            }
            None => true,
        }
    });
    PolicyDiff { added: only_b, removed: only_a, changed }
}

/// Parse and compare two documents.
pub fn diff_documents(before: &Value, after: &Value) -> Result<PolicyDiff, PolicyError> {
    let a = Policy::from_value(before).map_err(|e| e.within("before"))?;
    let b = Policy::from_value(after).map_err(|e| e.within("after"))?;
    Ok(diff_policies(&a, &b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignores_formatting_order_and_action_case() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["KMS:*"], "Resource": ["*"]},
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:listbucket", "S3:GETOBJECT"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]}]});
        let d = diff_documents(&a, &b).unwrap();
        assert!(d.is_empty(), "{d}");
        assert_eq!(d.summary(), "no differences");
    }

    #[test]
    fn reports_added_removed_changed() {
        let a = json!({"Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]});
        let b = json!({"Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]});
        let d = diff_documents(&a, &b).unwrap();
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.changed.len(), 1);
        let det = d.changed[0].details();
        assert!(det.iter().any(|l| l.contains("actions +[s3:putobject]")), "{det:?}");
        assert!(det.iter().any(|l| l.contains("conditions +")), "{det:?}");
        assert!(d.to_string().contains("1 added, 1 removed, 1 changed"));
        assert!(diff_documents(&json!({}), &b).unwrap_err().path.starts_with("before"));
    }
}
