//! Decisions and their explanations (typed, JSON and text).

use std::fmt;
use std::sync::Arc;

use serde_json::{json, Value};

use super::document::Effect;
use super::eval::Hit;
use super::principal::PrincipalMatch;
use super::request::Request;

/// The final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allowed,
    /// Denied because nothing (or not every required layer) allows it.
    ImplicitlyDenied,
    /// Denied by a matching `Deny` statement.
    ExplicitlyDenied,
    /// Not decidable: an input of the decision could not be read, and the
    /// answer depends on it (only from [`super::eval::evaluate_bounds`]).
    Unknown,
}

impl Outcome {
    /// `Allowed` | `ImplicitlyDenied` | `ExplicitlyDenied` (the contract strings).
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Allowed => "Allowed",
            Outcome::ImplicitlyDenied => "ImplicitlyDenied",
            Outcome::ExplicitlyDenied => "ExplicitlyDenied",
            Outcome::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy type (also the `blocked_by` vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Identity-based policy.
    Identity = 0,
    /// Permissions boundary.
    Boundary = 1,
    /// Session policy.
    Session = 2,
    /// Service control policy.
    Scp = 3,
    /// Resource control policy.
    Rcp = 4,
    /// Resource-based policy (bucket, key, trust, stream policy), or an
    /// AWS rule protecting an AWS-managed resource.
    Resource = 5,
    /// VPC endpoint policy.
    Endpoint = 6,
}

impl PolicyKind {
    pub(crate) const COUNT: usize = 7;
    /// All kinds in `blocked_by` order.
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::Identity,
        PolicyKind::Boundary,
        PolicyKind::Session,
        PolicyKind::Scp,
        PolicyKind::Rcp,
        PolicyKind::Resource,
        PolicyKind::Endpoint,
    ];

    /// The contract string: `identity`, `boundary`, `session`, `scp`, `rcp`,
    /// `resource`, `endpoint`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Boundary => "boundary",
            PolicyKind::Session => "session",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::Resource => "resource",
            PolicyKind::Endpoint => "endpoint",
        }
    }

    fn label(&self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Scp => "SCP",
            PolicyKind::Rcp => "RCP",
            PolicyKind::Resource => "resource policy",
            PolicyKind::Endpoint => "VPC endpoint policy",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an explanation: a statement that decided the outcome, or
/// (with `statement_index == None`) a layer that allowed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// Policy type.
    pub policy_type: PolicyKind,
    /// Policy display name or id (`None` for a layer-level entry).
    pub policy: Option<Arc<str>>,
    /// The SCP/RCP target (root, OU or account id) the policy is attached to.
    pub level: Option<Arc<str>>,
    /// Index of the statement in its document (0-based).
    pub statement_index: Option<usize>,
    /// The statement's `Sid`.
    pub sid: Option<String>,
    /// The statement's effect (`None` for a layer-level entry).
    pub effect: Option<Effect>,
    /// Why it matched (action, resource, principal, conditions) or why the
    /// layer blocks.
    pub why: String,
}

fn quote_list(v: &[String]) -> String {
    let inner: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", inner.join(", "))
}

impl DecidingStatement {
    pub(crate) fn from_hit(h: &Hit, req: &Request) -> DecidingStatement {
        let s = h.stmt;
        let mut why = String::with_capacity(160);
        match h.info.action_idx {
            Some(i) => why.push_str(&format!("action {:?} matches {:?}", req.action, s.action.patterns.get(i).map(String::as_str).unwrap_or(""))),
            None => why.push_str(&format!("action {:?} is not in NotAction {}", req.action, quote_list(&s.action.patterns))),
        }
        match (&s.resource, h.info.resource_idx) {
            (None, _) => why.push_str("; no Resource element (any resource)"),
            (Some(r), Some(i)) => {
                why.push_str(&format!("; resource {:?} matches {:?}", req.resource, r.patterns.get(i).map(String::as_str).unwrap_or("")))
            }
            (Some(r), None) => why.push_str(&format!("; resource {:?} is not in NotResource {}", req.resource, quote_list(&r.patterns))),
        }
        if req.wildcard_only_action {
            why.push_str(" (action supports only \"*\")");
        }
        if h.info.np_boundary_rule {
            why.push_str("; Deny with NotPrincipal always applies to a principal with a permissions boundary");
        } else if let Some(pb) = &s.principal {
            if matches!(h.kind, PolicyKind::Resource | PolicyKind::Endpoint | PolicyKind::Rcp) {
                match h.info.principal_idx.and_then(|i| pb.entries.get(i)) {
                    Some((t, v)) => {
                        let how = match h.info.principal {
                            PrincipalMatch::Account => " (account: delegates to the account's IAM policies)",
                            PrincipalMatch::Session => " (the role/user behind the session)",
                            _ => "",
                        };
                        why.push_str(&format!("; principal {:?} matches {}:{:?}{how}", req.principal.as_str(), t.as_str(), v))
                    }
                    None if pb.negated => why.push_str(&format!("; principal {:?} is not in NotPrincipal", req.principal.as_str())),
                    None => {}
                }
            }
        }
        if s.conditions.is_empty() {
            why.push_str("; no conditions");
        } else {
            let held: Vec<String> = s
                .conditions
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != h.info.unevaluable)
                .map(|(_, c)| format!("{} {} {}", c.operator, c.key, quote_list(&c.values)))
                .collect();
            if !held.is_empty() {
                why.push_str(&format!("; conditions held: {}", held.join(", ")));
            }
            if let Some(c) = h.info.unevaluable.and_then(|i| s.conditions.get(i)) {
                let reason = if c.is_unknown_operator() { "unknown operator" } else { "unparsable policy value" };
                why.push_str(&format!(
                    "; condition {} {} could not be evaluated ({reason}): a Deny is assumed to apply (fail closed)",
                    c.operator, c.key
                ));
            }
        }
        DecidingStatement {
            policy_type: h.kind,
            policy: Some(h.policy.name.clone()),
            level: h.level.cloned(),
            statement_index: Some(s.index),
            sid: s.sid.clone(),
            effect: Some(s.effect),
            why,
        }
    }

    pub(crate) fn gap(kind: PolicyKind, level: Option<&Arc<str>>, req: &Request, why: &str) -> DecidingStatement {
        DecidingStatement {
            policy_type: kind,
            policy: None,
            level: level.cloned(),
            statement_index: None,
            sid: None,
            effect: None,
            why: format!("{why} ({} on {})", req.action, req.resource),
        }
    }

    pub(crate) fn rule(kind: PolicyKind, why: &str) -> DecidingStatement {
        DecidingStatement {
            policy_type: kind,
            policy: None,
            level: None,
            statement_index: None,
            sid: None,
            effect: None,
            why: why.to_string(),
        }
    }

    /// JSON form used by `explain --bundle`.
    pub fn to_json(&self) -> Value {
        json!({
            "policy_type": self.policy_type.as_str(),
            "policy": self.policy.as_deref(),
            "level": self.level.as_deref(),
            "statement_index": self.statement_index,
            "sid": self.sid,
            "effect": self.effect.map(|e| e.to_string()),
            "why": self.why,
        })
    }
}

impl fmt::Display for DecidingStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.policy_type.label())?;
        if let Some(p) = &self.policy {
            write!(f, " {p:?}")?;
        }
        if let Some(l) = &self.level {
            write!(f, " at {l}")?;
        }
        if let Some(i) = self.statement_index {
            write!(f, ", statement #{i}")?;
        }
        if let Some(s) = &self.sid {
            write!(f, " (Sid {s})")?;
        }
        if let Some(e) = self.effect {
            write!(f, ": {e}")?;
        }
        write!(f, " — {}", self.why)
    }
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed / implicitly denied / explicitly denied.
    pub decision: Outcome,
    /// Every layer that denies, explicitly or by not allowing, in
    /// [`PolicyKind::ALL`] order. Empty when allowed.
    pub blocked_by: Vec<PolicyKind>,
    /// The deciding statements (Deny statements when explicitly denied, the
    /// granting statements when allowed) and one entry per layer that
    /// allows nothing.
    pub explanation: Vec<DecidingStatement>,
}

impl Decision {
    /// True when allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == Outcome::Allowed
    }

    /// The `explain --bundle` JSON: `decision`, `blocked_by`, `explanation`.
    pub fn to_json(&self) -> Value {
        json!({
            "decision": self.decision.as_str(),
            "blocked_by": self.blocked_by.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "explanation": self.explanation.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
        })
    }

    /// Human rendering (`--format text`).
    pub fn to_text(&self, req: &Request) -> String {
        let mut out = String::new();
        out.push_str(&format!("{} → {} on {}", req.principal().as_str(), req.action(), req.resource()));
        if req.wildcard_only_action() {
            out.push_str(" (action supports only resource \"*\")");
        }
        out.push('\n');
        out.push_str(&format!("Decision: {}\n", self.decision));
        if !self.blocked_by.is_empty() {
            let b: Vec<&str> = self.blocked_by.iter().map(|k| k.as_str()).collect();
            out.push_str(&format!("Blocked by: {}\n", b.join(", ")));
        }
        if !self.explanation.is_empty() {
            out.push_str(if self.decision == Outcome::Allowed { "Granted by:\n" } else { "Because:\n" });
            for d in &self.explanation {
                out.push_str(&format!("  - {d}\n"));
            }
        }
        out
    }
}
