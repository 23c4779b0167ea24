//! The documentation type every check carries. It sits below the check
//! families (which define their docs with it) and the registry in
//! [`crate::checks::doc`] (which maps ids to them), so neither imports the
//! other's module for it.

use serde::Serialize;

/// The documentation of one check (ruff/cargo-deny style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDoc {
    /// What the check looks at and when it fires.
    pub what: &'static str,
    /// Why it matters to someone running Flink in production.
    pub why: &'static str,
    /// A situation that fires it.
    pub example: &'static str,
    /// How to make it go away for real.
    pub fix: &'static str,
    /// Documentation the rule rests on.
    pub references: &'static [&'static str],
}
