//! Placeholders for what legitimately differs between a baseline and a
//! target: account ids and names, and the paired app names. Applied to ARNs
//! and to every string inside policy documents before comparing, so only
//! real differences show.
//!
//! Account ids (12 digits) are replaced wherever they occur; names are
//! replaced only as whole tokens (not preceded or followed by a letter or
//! digit), longest first, so `dev` in `devices` is left alone.

use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    /// (text, placeholder, whole-token only), longest text first.
    rules: Vec<(String, &'static str, bool)>,
}

pub const ACCOUNT: &str = "{account}";
pub const ACCOUNT_NAME: &str = "{account-name}";
pub const APP: &str = "{app}";

impl Normalizer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn account(mut self, id: &str, name: &str) -> Self {
        if !id.is_empty() {
            self.rules.push((id.to_owned(), ACCOUNT, false));
        }
        if name.len() >= 3 && name != id {
            self.rules.push((name.to_owned(), ACCOUNT_NAME, true));
        }
        self.sort()
    }

    pub fn app(mut self, name: &str) -> Self {
        if name.len() >= 3 {
            self.rules.push((name.to_owned(), APP, true));
        }
        self.sort()
    }

    fn sort(mut self) -> Self {
        self.rules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        self.rules.dedup_by(|a, b| a.0 == b.0);
        self
    }

    pub fn text(&self, input: &str) -> String {
        let mut out = input.to_owned();
        for (needle, placeholder, whole) in &self.rules {
            out = replace(&out, needle, placeholder, *whole);
        }
        out
    }

    pub fn json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (self.text(k), self.json(v))).collect()),
            other => other.clone(),
        }
    }
}

fn replace(haystack: &str, needle: &str, placeholder: &str, whole: bool) -> String {
    if needle.is_empty() || !haystack.contains(needle) {
        return haystack.to_owned();
    }
    let mut out = String::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(pos) = rest.find(needle) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + needle.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&rest[..pos]);
        if !whole || (boundary(before) && boundary(after)) {
            out.push_str(placeholder);
        } else {
            out.push_str(needle);
        }
        rest = &rest[pos + needle.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_everywhere_names_as_tokens() {
        let n = Normalizer::new().account("111111111111", "dev").app("orders-dev");
        assert_eq!(n.text("arn:aws:iam::111111111111:role/orders-dev-role"), "arn:aws:iam::{account}:role/{app}-role");
        assert_eq!(n.text("arn:aws:s3:::code-dev/devices.jar"), "arn:aws:s3:::code-{account-name}/devices.jar");
        let json = serde_json::json!({"Resource": ["arn:aws:kms:eu-west-1:111111111111:key/k"]});
        assert_eq!(n.json(&json)["Resource"][0], "arn:aws:kms:eu-west-1:{account}:key/k");
    }
}
