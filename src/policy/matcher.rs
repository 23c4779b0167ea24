//! Wildcard matching for actions, resources and `*Like` condition values.
//!
//! Patterns are compiled once into a token list ([`Glob`]) so evaluation
//! never re-parses them. `*` matches any run of characters (including none),
//! `?` matches exactly one character. Literal `*`/`?`/`$` produced by the
//! policy-variable escapes `${*}`, `${?}`, `${$}` are stored as literal tokens
//! and therefore never act as wildcards.
//!
//! AWS: "You can use wildcard characters (* and ?) within any ARN segment" and
//! action names are case-insensitive
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>).

/// One token of a compiled wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A literal byte (UTF-8 encoded text is matched byte by byte).
    Byte(u8),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard: plain equality.
    Exact(String),
    /// `prefix*` with no other wildcard.
    Prefix(String),
    /// General pattern.
    Tokens(Vec<Tok>),
}

impl Glob {
    /// Compile `pattern`, treating `*` and `?` as wildcards. With
    /// `lowercase`, the literal parts are lower-cased (ASCII) for
    /// case-insensitive matching.
    pub(crate) fn compile(pattern: &str, lowercase: bool) -> Glob {
        let p = if lowercase { pattern.to_ascii_lowercase() } else { pattern.to_string() };
        if p == "*" {
            return Glob::Any;
        }
        let stars = p.bytes().filter(|b| *b == b'*').count();
        let quests = p.bytes().filter(|b| *b == b'?').count();
        if stars == 0 && quests == 0 {
            return Glob::Exact(p);
        }
        if stars == 1 && quests == 0 && p.ends_with('*') {
            let mut s = p;
            s.pop();
            return Glob::Prefix(s);
        }
        Glob::Tokens(tokenize(&p))
    }

    /// Build from explicit tokens (used after policy-variable substitution).
    pub(crate) fn from_tokens(toks: Vec<Tok>) -> Glob {
        if toks.len() == 1 && toks[0] == Tok::Star {
            return Glob::Any;
        }
        if toks.iter().all(|t| matches!(t, Tok::Byte(_))) {
            let bytes: Vec<u8> = toks.iter().map(|t| if let Tok::Byte(b) = t { *b } else { 0 }).collect();
            return Glob::Exact(String::from_utf8_lossy(&bytes).into_owned());
        }
        Glob::Tokens(toks)
    }

    /// Does `text` match? With `ci`, `text` is compared ASCII-case-insensitively
    /// (the pattern must have been compiled with `lowercase = true`).
    pub(crate) fn matches(&self, text: &str, ci: bool) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(s) => {
                if ci {
                    s.eq_ignore_ascii_case(text)
                } else {
                    s == text
                }
            }
            Glob::Prefix(p) => {
                text.len() >= p.len()
                    && if ci { text.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()) } else { text.as_bytes().starts_with(p.as_bytes()) }
            }
            Glob::Tokens(t) => match_tokens(t, text.as_bytes(), ci),
        }
    }

    /// Token view of the pattern (for intersection / subset tests).
    pub(crate) fn tokens(&self) -> Vec<Tok> {
        match self {
            Glob::Any => vec![Tok::Star],
            Glob::Exact(s) => s.bytes().map(Tok::Byte).collect(),
            Glob::Prefix(p) => {
                let mut v: Vec<Tok> = p.bytes().map(Tok::Byte).collect();
                v.push(Tok::Star);
                v
            }
            Glob::Tokens(t) => t.clone(),
        }
    }
}

/// Split a pattern string into tokens (`*`, `?` are wildcards).
pub(crate) fn tokenize(p: &str) -> Vec<Tok> {
    p.bytes()
        .map(|b| match b {
            b'*' => Tok::Star,
            b'?' => Tok::One,
            other => Tok::Byte(other),
        })
        .collect()
}

/// Length in bytes of the UTF-8 character starting with `b`.
fn utf8_len(b: u8) -> usize {
    if b < 0x80 {
        1
    } else if b >= 0xF0 {
        4
    } else if b >= 0xE0 {
        3
    } else if b >= 0xC0 {
        2
    } else {
        1
    }
}

fn byte_eq(p: u8, t: u8, ci: bool) -> bool {
    if ci {
        p == t.to_ascii_lowercase()
    } else {
        p == t
    }
}

/// Iterative wildcard match with single-star backtracking: O(n·m) worst case,
/// no allocation.
fn match_tokens(p: &[Tok], t: &[u8], ci: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                Tok::Star => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Tok::One => {
                    ti = (ti + utf8_len(t[ti])).min(t.len());
                    pi += 1;
                    continue;
                }
                Tok::Byte(c) => {
                    if byte_eq(c, t[ti], ci) {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                let nt = (st + utf8_len(t[st])).min(t.len());
                star = Some((sp, nt));
                pi = sp + 1;
                ti = nt;
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == Tok::Star {
        pi += 1;
    }
    pi == p.len()
}

/// Is there at least one string matched by both patterns?
///
/// Dynamic programming over (i, j) positions; `?` is treated as "any single
/// byte", which is exact for ASCII text (ARNs).
pub(crate) fn intersects(a: &[Tok], b: &[Tok]) -> bool {
    let (n, m) = (a.len(), b.len());
    // reach[i][j]: prefixes a[..i] and b[..j] can generate a common string.
    let mut reach = vec![false; (n + 1) * (m + 1)];
    let idx = |i: usize, j: usize| i * (m + 1) + j;
    reach[idx(0, 0)] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reach[idx(i, j)] {
                continue;
            }
            // A star may match the empty string.
            if i < n && a[i] == Tok::Star {
                reach[idx(i + 1, j)] = true;
            }
            if j < m && b[j] == Tok::Star {
                reach[idx(i, j + 1)] = true;
            }
            if i < n && j < m {
                match (a[i], b[j]) {
                    // A star absorbs the other side's next token; stay on the star.
                    (Tok::Star, _) => reach[idx(i, j + 1)] = true,
                    (_, Tok::Star) => reach[idx(i + 1, j)] = true,
                    (Tok::One, _) | (_, Tok::One) => reach[idx(i + 1, j + 1)] = true,
                    (Tok::Byte(x), Tok::Byte(y)) => {
                        if x == y {
                            reach[idx(i + 1, j + 1)] = true;
                        }
                    }
                }
                if let (Tok::Star, Tok::Star) = (a[i], b[j]) {
                    reach[idx(i + 1, j)] = true;
                }
            }
        }
    }
    reach[idx(n, m)]
}

/// Is every string matched by `inner` also matched by `outer`?
///
/// Sound approximation: `inner`'s wildcards are treated as opaque symbols
/// that only an `outer` `*` (or `?` for a single `?`) may cover.
pub(crate) fn covers(outer: &[Tok], inner: &[Tok]) -> bool {
    let (n, m) = (outer.len(), inner.len());
    let mut reach = vec![false; (n + 1) * (m + 1)];
    let idx = |i: usize, j: usize| i * (m + 1) + j;
    reach[idx(0, 0)] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reach[idx(i, j)] {
                continue;
            }
            if i < n {
                match outer[i] {
                    Tok::Star => {
                        reach[idx(i + 1, j)] = true; // empty
                        if j < m {
                            reach[idx(i, j + 1)] = true; // absorb one inner token
                        }
                    }
                    Tok::One => {
                        if j < m && inner[j] != Tok::Star {
                            reach[idx(i + 1, j + 1)] = true;
                        }
                    }
                    Tok::Byte(x) => {
                        if j < m && inner[j] == Tok::Byte(x) {
                            reach[idx(i + 1, j + 1)] = true;
                        }
                    }
                }
            }
        }
    }
    reach[idx(n, m)]
}

/// Split an ARN into its six colon-delimited components
/// (`arn:partition:service:region:account:resource`, the last one keeping
/// any further colons). `None` if `s` has fewer than six components.
pub(crate) fn split_arn(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    let a = [it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?];
    Some(a)
}

/// A compiled ARN / resource pattern: whole-string glob plus, when the
/// pattern has all six ARN components, one glob per component.
#[derive(Debug, Clone)]
pub(crate) struct ArnPattern {
    pub(crate) whole: Glob,
    pub(crate) parts: Option<Box<[Glob; 6]>>,
}

impl ArnPattern {
    pub(crate) fn compile(p: &str) -> ArnPattern {
        let parts = split_arn(p).map(|s| {
            Box::new([
                Glob::compile(s[0], false),
                Glob::compile(s[1], false),
                Glob::compile(s[2], false),
                Glob::compile(s[3], false),
                Glob::compile(s[4], false),
                Glob::compile(s[5], false),
            ])
        });
        ArnPattern { whole: Glob::compile(p, false), parts }
    }

    /// Case-sensitive match. When both sides are six-component ARNs each
    /// component is matched separately, so a wildcard never spans a colon
    /// into the next component; otherwise the whole string is matched.
    pub(crate) fn matches(&self, text: &str, text_parts: Option<&[&str; 6]>) -> bool {
        if let Glob::Any = self.whole {
            return true;
        }
        match (&self.parts, text_parts) {
            (Some(p), Some(t)) => p.iter().zip(t.iter()).all(|(g, s)| g.matches(s, false)),
            _ => self.whole.matches(text, false),
        }
    }

    /// Pattern-vs-pattern: could some resource match both?
    pub(crate) fn intersects_pattern(&self, req: &str) -> bool {
        match (&self.parts, split_arn(req)) {
            (Some(p), Some(r)) => p.iter().zip(r.iter()).all(|(g, s)| intersects(&g.tokens(), &tokenize(s))),
            _ => intersects(&self.whole.tokens(), &tokenize(req)),
        }
    }

    /// Pattern-vs-pattern: does this pattern match every resource the
    /// request pattern can name?
    pub(crate) fn covers_pattern(&self, req: &str) -> bool {
        if let Glob::Any = self.whole {
            return true;
        }
        match (&self.parts, split_arn(req)) {
            (Some(p), Some(r)) => p.iter().zip(r.iter()).all(|(g, s)| covers(&g.tokens(), &tokenize(s))),
            _ => covers(&self.whole.tokens(), &tokenize(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS: action names are not case-sensitive; `*` and `?` wildcards are allowed.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    #[test]
    fn action_match_is_case_insensitive_with_wildcards() {
        let g = Glob::compile("s3:Get*", true);
        assert!(g.matches("S3:GETOBJECT", true));
        assert!(g.matches("s3:getobject", true));
        assert!(!g.matches("s3:PutObject", true));
        let q = Glob::compile("iam:?etRole", true);
        assert!(q.matches("iam:GetRole", true));
        assert!(!q.matches("iam:GGetRole", true));
        assert!(Glob::compile("*", true).matches("anything:At", true));
    }

    // AWS: resource ARNs are matched case-sensitively.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    #[test]
    fn resource_match_is_case_sensitive() {
        let p = ArnPattern::compile("arn:aws:s3:::Bucket/*");
        let t = "arn:aws:s3:::bucket/key";
        assert!(!p.matches(t, split_arn(t).as_ref()));
        let t2 = "arn:aws:s3:::Bucket/key";
        assert!(p.matches(t2, split_arn(t2).as_ref()));
    }

    // AWS: "Each of the six colon-delimited components of the ARN is checked
    // separately and each can include wildcards" (ArnLike).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    #[test]
    fn arn_components_matched_separately() {
        let p = ArnPattern::compile("arn:aws:logs:*:*:log-group:*");
        let t = "arn:aws:logs:us-east-1:111111111111:log-group:app:log-stream:x";
        assert!(p.matches(t, split_arn(t).as_ref()));
        // A `*` in the region component cannot swallow the account component.
        let p2 = ArnPattern::compile("arn:aws:ec2:*:instance/*:x:y");
        let t2 = "arn:aws:ec2:us-east-1:1:instance/i-1";
        assert!(!p2.matches(t2, split_arn(t2).as_ref()));
    }

    #[test]
    fn glob_backtracking_and_unicode() {
        let g = Glob::compile("a*b*c", false);
        assert!(g.matches("aXXbYYc", false));
        assert!(g.matches("abc", false));
        assert!(!g.matches("aXXbYY", false));
        assert!(Glob::compile("?", false).matches("é", false));
        assert!(!Glob::compile("??", false).matches("é", false));
    }

    #[test]
    fn pattern_intersection_and_cover() {
        assert!(intersects(&tokenize("*/AWSLogs/*"), &tokenize("example-bucket/*")));
        assert!(!intersects(&tokenize("other-bucket/*"), &tokenize("example-bucket/*")));
        assert!(intersects(&tokenize("*"), &tokenize("x")));
        assert!(covers(&tokenize("my-bucket/*"), &tokenize("my-bucket/private/*")));
        assert!(!covers(&tokenize("my-bucket/private/*"), &tokenize("my-bucket/*")));
        assert!(covers(&tokenize("*"), &tokenize("*")));
        assert!(!covers(&tokenize("a?"), &tokenize("a*")));
    }
}
