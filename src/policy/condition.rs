//! Condition operators, compiled once and evaluated per request.
//!
//! Semantics follow the IAM reference
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>):
//!
//! * several values for one key are OR-ed for positive operators; for
//!   negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...)
//!   the request value must match *none* of them (NOR);
//! * a key absent from the request context makes a positive operator false
//!   and a negated operator true; `...IfExists` makes any operator true when
//!   the key is absent; `Null` tests presence;
//! * `ForAnyValue:` is true when at least one request value satisfies the
//!   operator (false for an absent key or empty set); `ForAllValues:` is true
//!   when every request value does (true for an absent key or empty set);
//! * an operator this engine does not know, or a policy value it cannot
//!   parse (a date, number, IP range, boolean or base64 value), makes the
//!   condition [`CondOutcome::Unevaluable`]: the statement then never grants
//!   (Allow) and is assumed to apply (Deny) — fail closed both ways.

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::context::{Context, ContextValue};
use super::matcher::{split_arn, ArnPattern, Glob};
use super::variables::{parse_template, Template};

/// Result of evaluating one condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondOutcome {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// The condition cannot be evaluated (unknown operator or unparsable
    /// policy value): fail closed.
    Unevaluable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Set qualifier of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetMode {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Lower(String),
    Glob(Glob),
    Arn(ArnPattern),
    Templated(Template),
    Num(f64),
    Date(DateTime<Utc>),
    Bool(bool),
    Bytes(Vec<u8>),
    Net(IpAddr, u8),
    Bad,
}

/// One compiled `operator: { key: values }` entry.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub operator: String,
    /// The context key as written.
    pub key: String,
    /// The policy values as written (numbers and booleans as text).
    pub values: Vec<String>,
    key_lower: String,
    family: Option<Family>,
    negated: bool,
    if_exists: bool,
    set: SetMode,
    compiled: Vec<Value>,
}

fn parse_operator(op: &str) -> (SetMode, Option<(Family, bool)>, bool) {
    let (set, rest) = if let Some(r) = strip_prefix_ci(op, "ForAllValues:") {
        (SetMode::ForAllValues, r)
    } else if let Some(r) = strip_prefix_ci(op, "ForAnyValue:") {
        (SetMode::ForAnyValue, r)
    } else {
        (SetMode::Single, op)
    };
    let (base, if_exists) = match strip_suffix_ci(rest, "IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let f = match base.to_ascii_lowercase().as_str() {
        "stringequals" => Some((Family::StringEquals, false)),
        "stringnotequals" => Some((Family::StringEquals, true)),
        "stringequalsignorecase" => Some((Family::StringEqualsIgnoreCase, false)),
        "stringnotequalsignorecase" => Some((Family::StringEqualsIgnoreCase, true)),
        "stringlike" => Some((Family::StringLike, false)),
        "stringnotlike" => Some((Family::StringLike, true)),
        "numericequals" => Some((Family::Numeric(Cmp::Eq), false)),
        "numericnotequals" => Some((Family::Numeric(Cmp::Eq), true)),
        "numericlessthan" => Some((Family::Numeric(Cmp::Lt), false)),
        "numericlessthanequals" => Some((Family::Numeric(Cmp::Le), false)),
        "numericgreaterthan" => Some((Family::Numeric(Cmp::Gt), false)),
        "numericgreaterthanequals" => Some((Family::Numeric(Cmp::Ge), false)),
        "dateequals" => Some((Family::Date(Cmp::Eq), false)),
        "datenotequals" => Some((Family::Date(Cmp::Eq), true)),
        "datelessthan" => Some((Family::Date(Cmp::Lt), false)),
        "datelessthanequals" => Some((Family::Date(Cmp::Le), false)),
        "dategreaterthan" => Some((Family::Date(Cmp::Gt), false)),
        "dategreaterthanequals" => Some((Family::Date(Cmp::Ge), false)),
        "bool" => Some((Family::Bool, false)),
        "binaryequals" => Some((Family::Binary, false)),
        "ipaddress" => Some((Family::Ip, false)),
        "notipaddress" => Some((Family::Ip, true)),
        "arnequals" | "arnlike" => Some((Family::Arn, false)),
        "arnnotequals" | "arnnotlike" => Some((Family::Arn, true)),
        // `Null` has no IfExists form.
        "null" if !if_exists => Some((Family::Null, false)),
        _ => None,
    };
    (set, f, if_exists)
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    if s.len() >= p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p) {
        Some(&s[p.len()..])
    } else {
        None
    }
}

fn strip_suffix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    if s.len() > p.len() && s.is_char_boundary(s.len() - p.len()) && s[s.len() - p.len()..].eq_ignore_ascii_case(p) {
        Some(&s[..s.len() - p.len()])
    } else {
        None
    }
}

pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(n.and_utc());
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(n.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    // Epoch seconds.
    if let Ok(secs) = s.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    None
}

fn parse_num(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    if v.is_finite() {
        Some(v)
    } else {
        None
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max {
        return None;
    }
    Some((ip, len))
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len as u32) };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len as u32) };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

impl Condition {
    /// Compile one condition. `variables` is false for `2008-10-17`
    /// documents, where `${...}` is literal text.
    pub(crate) fn compile(operator: &str, key: &str, values: Vec<String>, variables: bool) -> Condition {
        let (set, fam, if_exists) = parse_operator(operator);
        let (family, negated) = match fam {
            Some((f, n)) => (Some(f), n),
            None => (None, false),
        };
        let compiled = match family {
            None => Vec::new(),
            Some(f) => values.iter().map(|v| compile_value(f, v, variables)).collect(),
        };
        Condition {
            operator: operator.to_string(),
            key: key.to_string(),
            values,
            key_lower: key.to_ascii_lowercase(),
            family,
            negated,
            if_exists,
            set,
            compiled,
        }
    }

    /// True when the operator is not one this engine knows.
    pub fn is_unknown_operator(&self) -> bool {
        self.family.is_none()
    }

    /// Evaluate against the request context.
    pub fn evaluate(&self, ctx: &Context) -> CondOutcome {
        let Some(family) = self.family else {
            return CondOutcome::Unevaluable;
        };
        let present = ctx.get_lower(&self.key_lower).filter(|v| !v.values().is_empty());
        if family == Family::Null {
            // `Null: true` holds when the key is absent; `false` when present.
            let mut any = false;
            for v in &self.compiled {
                match v {
                    Value::Bool(b) => any |= *b == present.is_none(),
                    _ => return CondOutcome::Unevaluable,
                }
            }
            return if any { CondOutcome::True } else { CondOutcome::False };
        }
        if self.compiled.iter().any(|v| matches!(v, Value::Bad)) {
            return CondOutcome::Unevaluable;
        }
        let Some(cv) = present else {
            let r = if self.if_exists {
                true
            } else {
                match self.set {
                    SetMode::ForAllValues => true,
                    SetMode::ForAnyValue => false,
                    SetMode::Single => self.negated,
                }
            };
            return if r { CondOutcome::True } else { CondOutcome::False };
        };
        let vals = cv.values();
        let per_value = |v: &str| -> bool {
            // ARN operators compare ARNs: a request value that is not an ARN
            // never matches, in the negated forms (ArnNotLike, ArnNotEquals)
            // too, unlike the string operators' negation.
            // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
            if family == Family::Arn && split_arn(v).is_none() {
                return false;
            }
            let hit = self.compiled.iter().any(|p| value_matches(family, p, v, ctx));
            hit != self.negated
        };
        let r = match (self.set, cv) {
            (SetMode::ForAllValues, _) => vals.iter().all(|v| per_value(v)),
            (SetMode::ForAnyValue, _) => vals.iter().any(|v| per_value(v)),
            (SetMode::Single, ContextValue::Single(v)) => per_value(v),
            // A multi-valued key under a single-value operator: positive
            // operators need one matching value, negated ones need none.
            (SetMode::Single, ContextValue::Multi(list)) => {
                if self.negated {
                    list.iter().all(|v| per_value(v))
                } else {
                    list.iter().any(|v| per_value(v))
                }
            }
        };
        if r {
            CondOutcome::True
        } else {
            CondOutcome::False
        }
    }
}

fn compile_value(f: Family, v: &str, variables: bool) -> Value {
    let templated = |v: &str| if variables { parse_template(v) } else { None };
    match f {
        Family::StringEquals => match templated(v) {
            Some(t) => Value::Templated(t),
            None => Value::Text(v.to_string()),
        },
        Family::StringEqualsIgnoreCase => match templated(v) {
            Some(t) => Value::Templated(t),
            None => Value::Lower(v.to_lowercase()),
        },
        Family::StringLike => match templated(v) {
            Some(t) => Value::Templated(t),
            None => Value::Glob(Glob::compile(v, false)),
        },
        Family::Arn => match templated(v) {
            Some(t) => Value::Templated(t),
            None => Value::Arn(ArnPattern::compile(v)),
        },
        Family::Numeric(_) => parse_num(v).map(Value::Num).unwrap_or(Value::Bad),
        Family::Date(_) => parse_date(v).map(Value::Date).unwrap_or(Value::Bad),
        Family::Bool | Family::Null => parse_bool(v).map(Value::Bool).unwrap_or(Value::Bad),
        Family::Binary => decode_b64(v).map(Value::Bytes).unwrap_or(Value::Bad),
        Family::Ip => parse_net(v).map(|(a, l)| Value::Net(a, l)).unwrap_or(Value::Bad),
    }
}

fn cmp_ok<T: PartialOrd>(c: Cmp, req: T, pol: T) -> bool {
    match c {
        Cmp::Eq => req == pol,
        Cmp::Lt => req < pol,
        Cmp::Le => req <= pol,
        Cmp::Gt => req > pol,
        Cmp::Ge => req >= pol,
    }
}

/// Does one request value match one policy value under the (positive form
/// of the) operator family?
fn value_matches(f: Family, p: &Value, v: &str, ctx: &Context) -> bool {
    match (f, p) {
        (Family::StringEquals, Value::Text(t)) => t == v,
        (Family::StringEquals, Value::Templated(t)) => t.resolve_text(ctx).is_some_and(|s| s == v),
        (Family::StringEqualsIgnoreCase, Value::Lower(t)) => eq_ignore_case(t, v),
        (Family::StringEqualsIgnoreCase, Value::Templated(t)) => t.resolve_text(ctx).is_some_and(|s| eq_ignore_case(&s.to_lowercase(), v)),
        (Family::StringLike, Value::Glob(g)) => g.matches(v, false),
        (Family::StringLike, Value::Templated(t)) => t.resolve_glob(ctx, false).is_some_and(|g| g.matches(v, false)),
        (Family::Arn, Value::Arn(a)) => match split_arn(v) {
            Some(parts) => a.parts.is_some() && a.matches(v, Some(&parts)),
            None => false,
        },
        (Family::Arn, Value::Templated(t)) => match (t.resolve_text(ctx), split_arn(v)) {
            (Some(s), Some(parts)) => {
                let a = ArnPattern::compile(&s);
                a.parts.is_some() && a.matches(v, Some(&parts))
            }
            _ => false,
        },
        (Family::Numeric(c), Value::Num(n)) => parse_num(v).is_some_and(|x| cmp_ok(c, x, *n)),
        (Family::Date(c), Value::Date(d)) => parse_date(v).is_some_and(|x| cmp_ok(c, x, *d)),
        (Family::Bool, Value::Bool(b)) => parse_bool(v) == Some(*b),
        (Family::Binary, Value::Bytes(b)) => match decode_b64(v) {
            Some(x) => &x == b,
            None => false,
        },
        (Family::Ip, Value::Net(net, len)) => match parse_net(v) {
            Some((ip, _)) => in_net(ip, *net, *len),
            None => false,
        },
        _ => false,
    }
}

fn eq_ignore_case(lower_policy: &str, v: &str) -> bool {
    if v.is_ascii() && lower_policy.is_ascii() {
        lower_policy.eq_ignore_ascii_case(v)
    } else {
        lower_policy == v.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(op: &str, key: &str, vals: &[&str]) -> Condition {
        Condition::compile(op, key, vals.iter().map(|s| s.to_string()).collect(), true)
    }
    fn ctx(pairs: &[(&str, ContextValue)]) -> Context {
        let mut x = Context::default();
        for (k, v) in pairs {
            x.insert(k, v.clone());
        }
        x
    }
    fn s(v: &str) -> ContextValue {
        ContextValue::Single(v.into())
    }
    fn m(v: &[&str]) -> ContextValue {
        ContextValue::Multi(v.iter().map(|x| x.to_string()).collect())
    }
    use CondOutcome::*;

    // AWS: "If the key that you specify in a policy condition is not present in
    // the request context, the values do not match and the condition is false.
    // If the policy condition requires that the key is not matched, such as
    // StringNotLike or ArnNotLike, and the right key is not present, the
    // condition is true."
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    #[test]
    fn missing_key_semantics() {
        let e = ctx(&[]);
        assert_eq!(c("StringEquals", "aws:PrincipalOrgID", &["o-1"]).evaluate(&e), False);
        assert_eq!(c("StringNotEquals", "aws:PrincipalOrgID", &["o-1"]).evaluate(&e), True);
        assert_eq!(c("ArnNotLike", "aws:SourceArn", &["arn:aws:s3:::x"]).evaluate(&e), True);
        // ...IfExists: "If the key is not present, evaluate the condition as true."
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
        assert_eq!(c("StringEqualsIfExists", "aws:PrincipalOrgID", &["o-1"]).evaluate(&e), True);
        assert_eq!(c("BoolIfExists", "aws:SecureTransport", &["true"]).evaluate(&e), True);
        let p = ctx(&[("aws:PrincipalOrgID", s("o-2"))]);
        assert_eq!(c("StringEqualsIfExists", "aws:PrincipalOrgID", &["o-1"]).evaluate(&p), False);
    }

    // AWS: multiple values for one key are evaluated with a logical OR; for
    // negated operators the request value must match none of them.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    #[test]
    fn multiple_values_or_and_nor() {
        let x = ctx(&[("aws:PrincipalTag/team", s("b"))]);
        assert_eq!(c("StringEquals", "aws:PrincipalTag/team", &["a", "b"]).evaluate(&x), True);
        assert_eq!(c("StringNotEquals", "aws:PrincipalTag/team", &["a", "b"]).evaluate(&x), False);
        assert_eq!(c("StringNotEquals", "aws:PrincipalTag/team", &["a", "c"]).evaluate(&x), True);
    }

    // AWS: ForAllValues returns true if every request value matches, and
    // also when the key is missing or the set is empty; ForAnyValue needs at
    // least one match and is false for a missing key.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    #[test]
    fn set_operators() {
        let tags = ctx(&[("aws:TagKeys", m(&["env", "team"]))]);
        assert_eq!(c("ForAllValues:StringEquals", "aws:TagKeys", &["env", "team", "x"]).evaluate(&tags), True);
        assert_eq!(c("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).evaluate(&tags), False);
        assert_eq!(c("ForAnyValue:StringEquals", "aws:TagKeys", &["team"]).evaluate(&tags), True);
        assert_eq!(c("ForAnyValue:StringEquals", "aws:TagKeys", &["nope"]).evaluate(&tags), False);
        let none = ctx(&[]);
        assert_eq!(c("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).evaluate(&none), True);
        assert_eq!(c("ForAnyValue:StringEquals", "aws:TagKeys", &["env"]).evaluate(&none), False);
        let empty = ctx(&[("aws:TagKeys", m(&[]))]);
        assert_eq!(c("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).evaluate(&empty), True);
        // Negated with a set operator: ForAllValues:StringNotEquals means no
        // request value is in the list.
        assert_eq!(c("ForAllValues:StringNotEquals", "aws:TagKeys", &["secret"]).evaluate(&tags), True);
        assert_eq!(c("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env", "team"]).evaluate(&tags), False);
    }

    // AWS: String operators; StringLike supports `*` and `?`; IgnoreCase variants.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    #[test]
    fn string_family() {
        let x = ctx(&[("s3:prefix", s("Home/Alice/"))]);
        assert_eq!(c("StringLike", "s3:prefix", &["Home/*"]).evaluate(&x), True);
        assert_eq!(c("StringLike", "s3:prefix", &["home/*"]).evaluate(&x), False);
        assert_eq!(c("StringNotLike", "s3:prefix", &["Home/?lice/"]).evaluate(&x), False);
        assert_eq!(c("StringEqualsIgnoreCase", "s3:prefix", &["home/alice/"]).evaluate(&x), True);
        assert_eq!(c("StringNotEqualsIgnoreCase", "s3:prefix", &["HOME/ALICE/"]).evaluate(&x), False);
        // Keys are case-insensitive.
        assert_eq!(c("StringEquals", "S3:PREFIX", &["Home/Alice/"]).evaluate(&x), True);
    }

    // AWS: policy variables in condition values.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    #[test]
    fn variables_in_condition_values() {
        let x = ctx(&[("aws:username", s("alice")), ("s3:prefix", s("home/alice/x"))]);
        assert_eq!(c("StringLike", "s3:prefix", &["home/${aws:username}/*"]).evaluate(&x), True);
        assert_eq!(c("StringLike", "s3:prefix", &["home/${aws:userid}/*"]).evaluate(&x), False);
        let no_vars = Condition::compile("StringEquals", "s3:prefix", vec!["${aws:username}".into()], false);
        assert_eq!(no_vars.evaluate(&ctx(&[("s3:prefix", s("${aws:username}"))])), True);
    }

    // AWS: Numeric operators.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    #[test]
    fn numeric_family() {
        let x = ctx(&[("s3:max-keys", s("10"))]);
        assert_eq!(c("NumericLessThanEquals", "s3:max-keys", &["10"]).evaluate(&x), True);
        assert_eq!(c("NumericLessThan", "s3:max-keys", &["10"]).evaluate(&x), False);
        assert_eq!(c("NumericGreaterThan", "s3:max-keys", &["9.5"]).evaluate(&x), True);
        assert_eq!(c("NumericNotEquals", "s3:max-keys", &["10"]).evaluate(&x), False);
        assert_eq!(c("NumericEquals", "s3:max-keys", &["ten"]).evaluate(&x), Unevaluable);
        let bad = ctx(&[("s3:max-keys", s("lots"))]);
        assert_eq!(c("NumericEquals", "s3:max-keys", &["10"]).evaluate(&bad), False);
    }

    // AWS: Date operators accept ISO 8601 dates and epoch seconds.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    #[test]
    fn date_family() {
        let x = ctx(&[("aws:CurrentTime", s("2024-06-01T12:00:00Z"))]);
        assert_eq!(c("DateGreaterThan", "aws:CurrentTime", &["2024-01-01T00:00:00Z"]).evaluate(&x), True);
        assert_eq!(c("DateLessThan", "aws:CurrentTime", &["2024-01-01"]).evaluate(&x), False);
        assert_eq!(c("DateLessThanEquals", "aws:CurrentTime", &["1717243200"]).evaluate(&x), True);
        assert_eq!(c("DateEquals", "aws:CurrentTime", &["not-a-date"]).evaluate(&x), Unevaluable);
        assert_eq!(c("DateNotEquals", "aws:CurrentTime", &["2024-06-01T12:00:00Z"]).evaluate(&x), False);
    }

    // AWS: Bool, BinaryEquals, IpAddress / NotIpAddress, Arn*.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    #[test]
    fn bool_binary_ip_arn() {
        let x = ctx(&[
            ("aws:SecureTransport", s("TRUE")),
            ("aws:SourceIp", s("203.0.113.7")),
            ("aws:SourceArn", s("arn:aws:kinesisanalytics:eu-west-1:111111111111:application/app")),
            ("x:bin", s("QmluYXJ5VmFsdWU=")),
        ]);
        assert_eq!(c("Bool", "aws:SecureTransport", &["true"]).evaluate(&x), True);
        assert_eq!(c("Bool", "aws:SecureTransport", &["false"]).evaluate(&x), False);
        assert_eq!(c("Bool", "aws:SecureTransport", &["yes"]).evaluate(&x), Unevaluable);
        assert_eq!(c("BinaryEquals", "x:bin", &["QmluYXJ5VmFsdWU="]).evaluate(&x), True);
        assert_eq!(c("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).evaluate(&x), True);
        assert_eq!(c("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24", "10.0.0.0/8"]).evaluate(&x), False);
        assert_eq!(c("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).evaluate(&x), False);
        assert_eq!(c("ArnLike", "aws:SourceArn", &["arn:aws:kinesisanalytics:*:111111111111:application/*"]).evaluate(&x), True);
        assert_eq!(c("ArnEquals", "aws:SourceArn", &["arn:aws:kinesisanalytics:*:222222222222:*"]).evaluate(&x), False);
        assert_eq!(c("ArnNotLike", "aws:SourceArn", &["arn:aws:s3:::*"]).evaluate(&x), True);
    }

    // AWS: Null checks key presence: "true" = key absent.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    #[test]
    fn null_operator() {
        let x = ctx(&[("aws:TokenIssueTime", s("2024-01-01T00:00:00Z"))]);
        assert_eq!(c("Null", "aws:TokenIssueTime", &["false"]).evaluate(&x), True);
        assert_eq!(c("Null", "aws:TokenIssueTime", &["true"]).evaluate(&x), False);
        assert_eq!(c("Null", "aws:MultiFactorAuthAge", &["true"]).evaluate(&x), True);
    }

    // Fail closed: an unknown operator cannot be evaluated.
    #[test]
    fn unknown_operator_is_unevaluable() {
        let x = ctx(&[("k:k", s("v"))]);
        let u = c("StringEqualsMaybe", "k:k", &["v"]);
        assert!(u.is_unknown_operator());
        assert_eq!(u.evaluate(&x), Unevaluable);
        assert_eq!(c("NullIfExists", "k:k", &["true"]).evaluate(&x), Unevaluable);
    }
}
