//! Property tests: random and hostile policy documents never panic the
//! parser, the evaluator, the explainer or the diff, and every rejection
//! names where the problem is.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const ACTIONS: &[&str] = &["s3:GetObject", "*", "s3:*", "kms:De?rypt", "", ":", "a:b:c", "S3:get*", "\u{0}", "*:*"];
const RESOURCES: &[&str] =
    &["*", "arn:aws:s3:::b/*", "arn:aws:kms:*:*:key/*", "arn:", "${aws:username}", "${", "arn:aws:s3:::${aws:PrincipalTag/team}/*", "::::::"];
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "ArnLike",
    "Null",
    "StringEqualsIfExists",
    "BinaryEquals",
    "NoSuchOperator",
    "ForAllValues:NoSuch",
    "forallvalues:stringequals",
];
const KEYS: &[&str] = &["aws:PrincipalOrgID", "aws:SourceIp", "aws:CurrentTime", "aws:TagKeys", "s3:prefix", "aws:SecureTransport", ""];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        (0..ACTIONS.len()).prop_map(|i| Value::from(ACTIONS[i])),
        (0..RESOURCES.len()).prop_map(|i| Value::from(RESOURCES[i])),
        Just(json!("10.0.0.0/8")),
        Just(json!("2026-01-01T00:00:00Z")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("\\PC{0,6}", inner, 0..3).prop_map(|m| json!(m)),
        ]
    })
}

fn condition() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(
        (0..OPERATORS.len()).prop_map(|i| OPERATORS[i].to_owned()),
        proptest::collection::btree_map((0..KEYS.len()).prop_map(|i| KEYS[i].to_owned()), value(), 0..3),
        0..3,
    )
    .prop_map(|m| json!(m))
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!("Allow")), Just(json!("Deny")), value()],
        prop_oneof![(0..ACTIONS.len()).prop_map(|i| json!(ACTIONS[i])), value()],
        prop_oneof![(0..RESOURCES.len()).prop_map(|i| json!(RESOURCES[i])), value()],
        proptest::option::of(condition()),
        proptest::option::of(prop_oneof![
            Just(json!("*")),
            Just(json!({"AWS": "arn:aws:iam::1:root"})),
            Just(json!({"Service": ["kinesisanalytics.amazonaws.com"]})),
            value()
        ]),
        any::<bool>(),
    )
        .prop_map(|(effect, action, resource, condition, principal, negate)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), effect);
            s.insert(if negate { "NotAction" } else { "Action" }.into(), action);
            s.insert("Resource".into(), resource);
            if let Some(c) = condition {
                s.insert("Condition".into(), c);
            }
            if let Some(p) = principal {
                s.insert("Principal".into(), p);
            }
            Value::Object(s)
        })
}

fn document() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::collection::vec(statement(), 0..4).prop_map(|st| json!({"Version": "2012-10-17", "Statement": st})),
        1 => statement().prop_map(|st| json!({"Version": "2012-10-17", "Statement": st})),
        1 => value(),
    ]
}

fn request() -> Request {
    Request::new(Some("arn:aws:iam::111111111111:role/app"), "s3:GetObject", "arn:aws:s3:::code/app.jar")
        .with_resource_account("111111111111")
        .with_context("aws:PrincipalOrgID", "o-abc")
        .with_context("aws:TagKeys", ContextValue::Multi(vec!["a".into(), "b".into()]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn hostile_documents_never_panic(doc in document(), other in document()) {
        match Policy::from_value(&doc) {
            Err(err) => {
                prop_assert!(!err.message.is_empty(), "error without a message for {doc}");
            }
            Ok(policy) => {
                let policy = Arc::new(policy);
                let set = PolicySet {
                    identity: vec![NamedPolicy::new("fuzzed", policy.clone())],
                    boundaries: vec![NamedPolicy::new("fuzzed-boundary", policy.clone())],
                    scps: Some(vec![OrgLevel { target: "r-root".into(), policies: vec![NamedPolicy::new("scp", policy.clone())] }]),
                    resource: Some(NamedPolicy::new("resource", policy.clone())),
                    ..Default::default()
                };
                let decision = evaluate(&set, &request());
                let _ = decision.to_json();
                let _ = decision.to_text(&request());
                if let Ok(other) = Policy::from_value(&other) {
                    let _ = diff_policies(&policy, &other).to_string();
                }
            }
        }
    }

    #[test]
    fn random_text_is_rejected_with_a_message(text in "\\PC{0,64}") {
        if let Err(err) = Policy::parse_str(&text) {
            prop_assert!(!err.to_string().is_empty());
        }
        if let Err(err) = explain_bundle_json(&text) {
            prop_assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn a_bad_statement_is_located_by_path() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": "not-a-map"}}
    ]});
    let err = Policy::from_value(&doc).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("Statement[1]"), "{err}");
}
