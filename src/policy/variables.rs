//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, the
//! escapes `${*}`, `${?}`, `${$}` and defaults `${aws:x, 'default'}`.
//!
//! AWS: variables are only recognised in documents with
//! `"Version": "2012-10-17"`; in `2008-10-17` documents (also the default
//! when `Version` is absent) `${...}` is literal text. A variable whose key
//! is absent from the request context (and has no default) cannot be
//! resolved, and the value containing it matches nothing.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>

use super::context::Context;
use super::matcher::{tokenize, Glob, Tok};

/// One piece of a value containing policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Literal text; `*`/`?` in it are wildcards where the element allows them.
    Text(String),
    /// An escaped character (`${*}`, `${?}`, `${$}`): always literal.
    Escaped(char),
    /// A variable reference: lower-cased context key and optional default.
    Var { key: String, default: Option<String> },
}

/// A policy string with at least one `${...}` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pub(crate) parts: Vec<Part>,
}

/// Parse `s` into a template if it contains a recognised `${...}`; `None`
/// means the string is plain text.
pub(crate) fn parse_template(s: &str) -> Option<Template> {
    if !s.contains("${") {
        return None;
    }
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    let mut any = false;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim();
        let part = match inner {
            "*" => Some(Part::Escaped('*')),
            "?" => Some(Part::Escaped('?')),
            "$" => Some(Part::Escaped('$')),
            _ => parse_var(inner),
        };
        match part {
            Some(p) => {
                lit.push_str(&rest[..start]);
                if !lit.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                }
                parts.push(p);
                any = true;
            }
            None => {
                lit.push_str(&rest[..start + 2 + end + 1]);
            }
        }
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(Part::Text(lit));
    }
    if any {
        Some(Template { parts })
    } else {
        None
    }
}

fn parse_var(inner: &str) -> Option<Part> {
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'').and_then(|x| x.strip_suffix('\''))?;
            (k.trim(), Some(d.to_string()))
        }
        None => (inner, None),
    };
    // A context key is `prefix:name` with no spaces.
    if key.is_empty() || !key.contains(':') || key.contains(char::is_whitespace) {
        return None;
    }
    Some(Part::Var { key: key.to_ascii_lowercase(), default })
}

impl Template {
    fn lookup<'a>(key: &str, default: &'a Option<String>, ctx: &'a Context) -> Option<&'a str> {
        match ctx.single(key) {
            Some(v) => Some(v),
            None => default.as_deref(),
        }
    }

    /// Resolve to plain text (for equality-style comparisons).
    pub(crate) fn resolve_text(&self, ctx: &Context) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Escaped(c) => out.push(*c),
                Part::Var { key, default } => out.push_str(Self::lookup(key, default, ctx)?),
            }
        }
        Some(out)
    }

    /// Resolve to a wildcard pattern: wildcards in literal text stay
    /// wildcards, substituted values and escapes are literal.
    pub(crate) fn resolve_glob(&self, ctx: &Context, lowercase: bool) -> Option<Glob> {
        let mut toks: Vec<Tok> = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => {
                    if lowercase {
                        toks.extend(tokenize(&t.to_ascii_lowercase()))
                    } else {
                        toks.extend(tokenize(t))
                    }
                }
                Part::Escaped(c) => {
                    let mut b = [0u8; 4];
                    toks.extend(c.encode_utf8(&mut b).bytes().map(Tok::Byte));
                }
                Part::Var { key, default } => {
                    let v = Self::lookup(key, default, ctx)?;
                    if lowercase {
                        toks.extend(v.to_ascii_lowercase().bytes().map(Tok::Byte))
                    } else {
                        toks.extend(v.bytes().map(Tok::Byte))
                    }
                }
            }
        }
        Some(Glob::from_tokens(toks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::context::ContextValue;

    fn ctx() -> Context {
        let mut c = Context::default();
        c.insert("aws:username", ContextValue::Single("alice".into()));
        c.insert("aws:PrincipalTag/team", ContextValue::Single("data".into()));
        c
    }

    // AWS: `${aws:username}` is replaced by the request's value.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    #[test]
    fn substitutes_variables() {
        let t = parse_template("home/${aws:username}/*").unwrap();
        assert_eq!(t.resolve_text(&ctx()).unwrap(), "home/alice/*");
        let g = t.resolve_glob(&ctx(), false).unwrap();
        assert!(g.matches("home/alice/x", false));
        assert!(!g.matches("home/bob/x", false));
        // Key names are case-insensitive.
        let t2 = parse_template("${aws:principaltag/TEAM}").unwrap();
        assert_eq!(t2.resolve_text(&ctx()).unwrap(), "data");
    }

    // AWS: `${*}`, `${?}`, `${$}` stand for the literal characters.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
    #[test]
    fn escapes_are_literal() {
        let t = parse_template("a${*}b").unwrap();
        let g = t.resolve_glob(&ctx(), false).unwrap();
        assert!(g.matches("a*b", false));
        assert!(!g.matches("aXb", false));
        assert_eq!(parse_template("${$}x").unwrap().resolve_text(&ctx()).unwrap(), "$x");
        assert_eq!(parse_template("${?}").unwrap().resolve_text(&ctx()).unwrap(), "?");
    }

    // AWS: `${aws:x, 'default'}` uses the default when the key is absent.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-default-values
    #[test]
    fn default_values_and_missing_keys() {
        let t = parse_template("${aws:PrincipalTag/cost, 'shared'}").unwrap();
        assert_eq!(t.resolve_text(&ctx()).unwrap(), "shared");
        let m = parse_template("${aws:PrincipalTag/cost}").unwrap();
        assert!(m.resolve_text(&ctx()).is_none());
    }

    #[test]
    fn non_variables_stay_text() {
        assert!(parse_template("plain").is_none());
        assert!(parse_template("${not a var}").is_none());
        assert!(parse_template("${unterminated").is_none());
    }
}
