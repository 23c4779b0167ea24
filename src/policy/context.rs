//! Request context keys (`aws:PrincipalOrgID`, `aws:TagKeys`, ...).
//!
//! AWS: condition key names are case-insensitive, so keys are stored
//! lower-cased; values keep their case.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>

use serde::{Deserialize, Serialize};

/// The value of one context key: a single string or a list (multi-valued key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    /// A single-valued key such as `aws:PrincipalOrgID`.
    Single(String),
    /// A multi-valued key such as `aws:TagKeys`.
    Multi(Vec<String>),
}

impl ContextValue {
    /// All values as a slice-like iterator.
    pub fn values(&self) -> &[String] {
        match self {
            ContextValue::Single(s) => std::slice::from_ref(s),
            ContextValue::Multi(v) => v,
        }
    }
}

impl From<&str> for ContextValue {
    fn from(s: &str) -> Self {
        ContextValue::Single(s.to_string())
    }
}
impl From<String> for ContextValue {
    fn from(s: String) -> Self {
        ContextValue::Single(s)
    }
}
impl From<Vec<String>> for ContextValue {
    fn from(v: Vec<String>) -> Self {
        ContextValue::Multi(v)
    }
}

/// The request context: lower-cased key → value. A small vector is faster
/// than a hash map for the dozen keys a request carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(String, ContextValue)>,
}

impl Context {
    /// Set `key` (case-insensitive) to `value`, replacing any previous value.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        let k = key.to_ascii_lowercase();
        if let Some(e) = self.entries.iter_mut().find(|(ek, _)| *ek == k) {
            e.1 = value;
        } else {
            self.entries.push((k, value));
        }
    }

    /// Look up a key that is already lower-cased.
    pub(crate) fn get_lower(&self, key_lower: &str) -> Option<&ContextValue> {
        self.entries.iter().find(|(k, _)| k == key_lower).map(|(_, v)| v)
    }

    /// Look up a key (any case).
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
    }

    /// The value of a key usable as a policy variable: a single value, or a
    /// list with exactly one element.
    pub(crate) fn single(&self, key_lower: &str) -> Option<&str> {
        match self.get_lower(key_lower)? {
            ContextValue::Single(s) => Some(s),
            ContextValue::Multi(v) if v.len() == 1 => Some(&v[0]),
            ContextValue::Multi(_) => None,
        }
    }

    /// Iterate over (lower-cased key, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
