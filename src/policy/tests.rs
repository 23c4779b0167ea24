//! Evaluation semantics, one behaviour per test, each citing the AWS
//! documentation it encodes.

use std::sync::Arc;

use serde_json::json;

use super::*;

const ACCT: &str = "111111111111";
const ROLE: &str = "arn:aws:iam::111111111111:role/app";
const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/app/s1";

fn pol(name: &str, v: serde_json::Value) -> NamedPolicy {
    NamedPolicy::new(name, Arc::new(Policy::from_value(&v).expect("valid policy")))
}
fn allow(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}
fn deny(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource}]})
}
fn req(principal: &str, action: &str, resource: &str) -> Request {
    Request::new(Some(principal), action, resource).with_resource_account(ACCT)
}
fn level(target: &str, p: Vec<NamedPolicy>) -> OrgLevel {
    OrgLevel { target: Arc::from(target), policies: p }
}

// AWS: "An explicit deny in any of these policies overrides the allow."
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
#[test]
fn explicit_deny_anywhere_wins() {
    let set = PolicySet {
        identity: vec![pol("allow", allow("s3:*", "*")), pol("deny", deny("s3:GetObject", "arn:aws:s3:::b/*"))],
        ..Default::default()
    };
    let d = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(d.decision, Outcome::ExplicitlyDenied);
    assert_eq!(d.blocked_by, vec![PolicyKind::Identity]);
    assert_eq!(d.explanation[0].policy.as_deref(), Some("deny"));
    assert_eq!(d.explanation[0].statement_index, Some(0));
    // The same Deny in a resource policy wins over an identity Allow.
    let set2 = PolicySet {
        identity: vec![pol("allow", allow("s3:*", "*"))],
        resource: Some(pol(
            "bucket",
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoGet", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
        )),
        ..Default::default()
    };
    let d2 = evaluate(&set2, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(d2.decision, Outcome::ExplicitlyDenied);
    assert_eq!(d2.blocked_by, vec![PolicyKind::Resource]);
    assert_eq!(d2.explanation[0].sid.as_deref(), Some("NoGet"));
}

// AWS: SCPs — "the permissions are the intersection of the SCPs at every
// level"; an Allow is needed at each level from root to account.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
#[test]
fn scps_need_allow_at_every_level() {
    let full = || pol("FullAWSAccess", allow("*", "*"));
    let mut set = PolicySet {
        identity: vec![pol("id", allow("s3:GetObject", "*"))],
        scps: Some(vec![level("r-root", vec![full()]), level("ou-1", vec![]), level(ACCT, vec![full()])]),
        ..Default::default()
    };
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
    let d = evaluate(&set, &r);
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(d.blocked_by, vec![PolicyKind::Scp]);
    assert_eq!(d.explanation[0].level.as_deref(), Some("ou-1"));
    set.scps = Some(vec![level("r-root", vec![full()]), level("ou-1", vec![full()]), level(ACCT, vec![full()])]);
    assert_eq!(evaluate(&set, &r).decision, Outcome::Allowed);
    // No SCP data at all = no Organizations policy applies.
    set.scps = None;
    assert_eq!(evaluate(&set, &r).decision, Outcome::Allowed);
    // SCPs do not govern service principals or anonymous callers.
    set.scps = Some(vec![level("r-root", vec![])]);
    set.resource = Some(pol(
        "bucket",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "kinesisanalytics.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"}]}),
    ));
    let svc = Request::new(Some("kinesisanalytics.amazonaws.com"), "s3:GetObject", "arn:aws:s3:::b/k").with_resource_account(ACCT);
    assert_eq!(evaluate(&set, &svc).decision, Outcome::Allowed);
}

// AWS: RCPs apply to the resource's account, need an Allow at every level,
// and AWS attaches RCPFullAWSAccess everywhere (the engine does not).
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
#[test]
fn rcps_need_allow_at_every_level_and_are_not_invented() {
    let set = PolicySet {
        identity: vec![pol("id", allow("s3:GetObject", "*"))],
        rcps: Some(vec![level("r-root", vec![])]),
        ..Default::default()
    };
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
    let d = evaluate(&set, &r);
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(d.blocked_by, vec![PolicyKind::Rcp]);
    let rcp_full = pol(
        "RCPFullAWSAccess",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
    );
    let rcp_deny = pol(
        "DataPerimeter",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}),
    );
    let set2 = PolicySet { rcps: Some(vec![level("r-root", vec![rcp_full, rcp_deny])]), ..set };
    assert_eq!(evaluate(&set2, &r.clone().with_context("aws:PrincipalOrgID", "o-1")).decision, Outcome::Allowed);
    let d2 = evaluate(&set2, &r.with_context("aws:PrincipalOrgID", "o-2"));
    assert_eq!(d2.decision, Outcome::ExplicitlyDenied);
    assert_eq!(d2.blocked_by, vec![PolicyKind::Rcp]);
}

// AWS: effective permissions are identity ∩ boundary ∩ session policy.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
#[test]
fn identity_boundary_session_intersection() {
    let r = req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k");
    let mut set = PolicySet {
        identity: vec![pol("id", allow("s3:*", "*"))],
        boundaries: vec![pol("pb", allow("s3:GetObject", "*"))],
        session: Some(pol("sess", allow("s3:Get*", "*"))),
        ..Default::default()
    };
    assert_eq!(evaluate(&set, &r).decision, Outcome::Allowed);
    set.boundaries = vec![pol("pb", allow("ec2:*", "*"))];
    let d = evaluate(&set, &r);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Boundary]));
    set.boundaries = vec![pol("pb", allow("s3:*", "*"))];
    set.session = Some(pol("sess", allow("kms:*", "*")));
    let d = evaluate(&set, &r);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Session]));
    set.session = None;
    set.identity = vec![pol("id", allow("kms:*", "*"))];
    let d = evaluate(&set, &r);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Identity]));
}

// AWS: within one account a resource policy naming the principal grants on
// its own; cross-account both sides must allow; an account principal
// delegates to the account's IAM policies.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
#[test]
fn resource_policies_same_and_cross_account() {
    let bucket = |p: serde_json::Value| {
        pol(
            "bucket",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
        )
    };
    let same = req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k");
    let set = PolicySet { resource: Some(bucket(json!(ROLE))), ..Default::default() };
    assert_eq!(evaluate(&set, &same).decision, Outcome::Allowed);
    let acct_only = PolicySet { resource: Some(bucket(json!(ACCT))), ..Default::default() };
    assert_eq!(evaluate(&acct_only, &same).decision, Outcome::ImplicitlyDenied);

    let cross = Request::new(Some("arn:aws:iam::222222222222:role/x"), "s3:GetObject", "arn:aws:s3:::b/k").with_resource_account(ACCT);
    let id = pol("id", allow("s3:GetObject", "*"));
    let only_rp = PolicySet { resource: Some(bucket(json!("arn:aws:iam::222222222222:root"))), ..Default::default() };
    let d = evaluate(&only_rp, &cross);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Identity]));
    let both = PolicySet { identity: vec![id.clone()], ..only_rp };
    assert_eq!(evaluate(&both, &cross).decision, Outcome::Allowed);
    let only_id = PolicySet { identity: vec![id], ..Default::default() };
    let d = evaluate(&only_id, &cross);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Resource]));
}

// AWS: "If the key policy doesn't allow ... IAM policies alone are not
// sufficient"; the default key policy delegates to the account root.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
#[test]
fn kms_key_policy_must_delegate_to_account_root() {
    let key = "arn:aws:kms:eu-west-1:111111111111:key/1234";
    let r = req(ROLE, "kms:Decrypt", key);
    let id = pol("id", allow("kms:Decrypt", key));
    let delegating = pol(
        "key",
        json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}]}),
    );
    let closed = pol(
        "key",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/admin"}, "Action": "kms:*", "Resource": "*"}]}),
    );
    let ok = PolicySet { identity: vec![id.clone()], resource: Some(delegating), ..Default::default() };
    assert_eq!(evaluate(&ok, &r).decision, Outcome::Allowed);
    let no = PolicySet { identity: vec![id.clone()], resource: Some(closed), ..Default::default() };
    let d = evaluate(&no, &r);
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Resource]));
    // A key always has a key policy: none supplied = nothing delegated.
    let missing = PolicySet { identity: vec![id], ..Default::default() };
    assert_eq!(evaluate(&missing, &r).decision, Outcome::ImplicitlyDenied);
}

// AWS: a role trust policy must name the caller (or its account, plus an
// identity Allow) for sts:AssumeRole, even within one account.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_compare-resource-policies.html
#[test]
fn role_trust_policy_rules() {
    let target = "arn:aws:iam::111111111111:role/target";
    let r = req(ROLE, "sts:AssumeRole", target);
    let trust = |p: &str| {
        pol(
            "trust",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"}]}),
        )
    };
    let by_arn = PolicySet { resource: Some(trust(ROLE)), ..Default::default() };
    assert_eq!(evaluate(&by_arn, &r).decision, Outcome::Allowed);
    let by_acct = PolicySet { resource: Some(trust(ACCT)), ..Default::default() };
    assert_eq!(evaluate(&by_acct, &r).decision, Outcome::ImplicitlyDenied);
    let by_acct_id = PolicySet { identity: vec![pol("id", allow("sts:AssumeRole", target))], ..by_acct };
    assert_eq!(evaluate(&by_acct_id, &r).decision, Outcome::Allowed);
    let other = PolicySet {
        identity: vec![pol("id", allow("sts:AssumeRole", target))],
        resource: Some(trust("arn:aws:iam::111111111111:role/other")),
        ..Default::default()
    };
    assert_eq!(evaluate(&other, &r).decision, Outcome::ImplicitlyDenied);
}

// AWS: VPC endpoint policies must allow; a Deny in them denies.
// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
#[test]
fn endpoint_policies() {
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
    let mut set = PolicySet {
        identity: vec![pol("id", allow("s3:*", "*"))],
        endpoints: vec![pol(
            "vpce",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
        )],
        ..Default::default()
    };
    assert_eq!(evaluate(&set, &r).decision, Outcome::Allowed);
    let d = evaluate(&set, &req(ROLE, "s3:PutObject", "arn:aws:s3:::b/k"));
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Endpoint]));
    set.endpoints.push(pol("vpce-deny", deny("s3:GetObject", "*")));
    assert_eq!(evaluate(&set, &r).decision, Outcome::ExplicitlyDenied);
}

// AWS: an action with no resource-level permissions is matched only by
// statements whose Resource is "*".
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
#[test]
fn wildcard_only_actions() {
    let r = req(ROLE, "cloudwatch:PutMetricData", "*").with_wildcard_only_action(true);
    let specific = PolicySet {
        identity: vec![pol("id", allow("cloudwatch:PutMetricData", "arn:aws:cloudwatch:*:*:*"))],
        ..Default::default()
    };
    assert_eq!(evaluate(&specific, &r).decision, Outcome::ImplicitlyDenied);
    let star = PolicySet { identity: vec![pol("id", allow("cloudwatch:PutMetricData", "*"))], ..Default::default() };
    assert_eq!(evaluate(&star, &r).decision, Outcome::Allowed);
}

// AWS: action names are case-insensitive; resource ARNs case-sensitive.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
#[test]
fn action_case_insensitive_resource_case_sensitive() {
    let set = PolicySet { identity: vec![pol("id", allow("S3:get?bject", "arn:aws:s3:::Code/*"))], ..Default::default() };
    assert_eq!(evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::Code/a")).decision, Outcome::Allowed);
    assert_eq!(evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::code/a")).decision, Outcome::ImplicitlyDenied);
}

// AWS: policy variables in Resource, e.g. arn:aws:s3:::b/home/${aws:username}/*.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
#[test]
fn variables_in_resource() {
    let set = PolicySet {
        identity: vec![pol("id", allow("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"))],
        ..Default::default()
    };
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/data/x");
    assert_eq!(evaluate(&set, &r.clone().with_context("aws:PrincipalTag/team", "data")).decision, Outcome::Allowed);
    assert_eq!(evaluate(&set, &r.clone().with_context("aws:PrincipalTag/team", "web")).decision, Outcome::ImplicitlyDenied);
    // Missing variable: the resource entry matches nothing.
    assert_eq!(evaluate(&set, &r).decision, Outcome::ImplicitlyDenied);
}

// Fail closed: an unknown operator never grants, and a Deny carrying one applies.
// AWS rejects unknown operators at policy creation; this engine documents its
// conservative choice for documents that bypassed validation.
#[test]
fn unknown_operator_fails_closed() {
    let allow_unknown = pol(
        "id",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualsFuzzy": {"aws:PrincipalOrgID": "o-1"}}}]}),
    );
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k").with_context("aws:PrincipalOrgID", "o-1");
    let set = PolicySet { identity: vec![allow_unknown], ..Default::default() };
    assert_eq!(evaluate(&set, &r).decision, Outcome::ImplicitlyDenied);
    let deny_unknown = pol(
        "deny",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateEqualz": {"aws:CurrentTime": "x"}}}]}),
    );
    let set2 = PolicySet { identity: vec![pol("id", allow("*", "*")), deny_unknown], ..Default::default() };
    let d = evaluate(&set2, &r);
    assert_eq!(d.decision, Outcome::ExplicitlyDenied);
    assert!(d.explanation[0].why.contains("could not be evaluated"), "{}", d.explanation[0].why);
}

// AWS: NotPrincipal with Deny always applies to principals with a boundary.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
#[test]
fn not_principal_deny_with_boundary() {
    let rp = pol(
        "bucket",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"}]}),
    );
    let r = req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k");
    let mut set = PolicySet { identity: vec![pol("id", allow("s3:*", "*"))], resource: Some(rp), ..Default::default() };
    assert_eq!(evaluate(&set, &r).decision, Outcome::Allowed);
    set.boundaries = vec![pol("pb", allow("s3:*", "*"))];
    assert_eq!(evaluate(&set, &r).decision, Outcome::ExplicitlyDenied);
}

#[test]
fn explanation_names_policy_level_statement_and_why() {
    let set = PolicySet {
        identity: vec![pol(
            "AppPolicy",
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]}),
        )],
        scps: Some(vec![level("r-root", vec![pol("p-full", allow("*", "*"))])]),
        ..Default::default()
    };
    let d = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k").with_context("aws:PrincipalOrgID", "o-1"));
    assert_eq!(d.decision, Outcome::Allowed);
    let id = d.explanation.iter().find(|e| e.policy_type == PolicyKind::Identity).unwrap();
    assert_eq!(id.sid.as_deref(), Some("Read"));
    assert!(id.why.contains("\"s3:Get*\"") && id.why.contains("conditions held: StringEquals aws:PrincipalOrgID"), "{}", id.why);
    let scp = d.explanation.iter().find(|e| e.policy_type == PolicyKind::Scp).unwrap();
    assert_eq!(scp.level.as_deref(), Some("r-root"));
    assert!(d.to_text(&req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k")).contains("Decision: Allowed"));
}

#[test]
fn policy_is_send_sync_and_hostile_input_does_not_panic() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<PolicySet>();
    assert_send_sync::<Decision>();
    for doc in [
        json!(null),
        json!({"Statement": [null]}),
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::é?*${${aws:x}", "Condition": {"IpAddress": {"aws:SourceIp": "999.1.1.1/99"}}}]}),
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": ["?*?*"], "Resource": ["${*}${?}${$}"], "Principal": {"AWS": []}}}),
    ] {
        if let Ok(p) = Policy::from_value(&doc) {
            let set = PolicySet {
                identity: vec![NamedPolicy::new("x", p.clone())],
                resource: Some(NamedPolicy::new("r", p)),
                ..Default::default()
            };
            let _ = evaluate(&set, &Request::new(Some("é"), "s3:ö", "arn:aws:s3:::é*"));
            let _ = evaluate(&set, &Request::new(None, ":", ""));
        }
    }
}

// AWS: permissions a resource-based policy grants to the session ARN are
// not limited by an implicit deny in the session policy (within one account).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
#[test]
fn resource_policy_naming_the_session_is_not_limited_by_the_session_policy() {
    let bucket = |principal: &str| {
        pol(
            "bucket",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
        )
    };
    let session_policy = Some(pol("session", allow("s3:ListBucket", "*")));
    let set = PolicySet { session: session_policy.clone(), resource: Some(bucket(SESSION)), ..Default::default() };
    assert_eq!(evaluate(&set, &req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k")).decision, Outcome::Allowed);
    // Naming the role (not the session): the session policy limits it.
    let set = PolicySet { session: session_policy.clone(), resource: Some(bucket(ROLE)), ..Default::default() };
    let d = evaluate(&set, &req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!((d.decision, d.blocked_by), (Outcome::ImplicitlyDenied, vec![PolicyKind::Session]));
    // An explicit Deny in the session policy still wins.
    let set = PolicySet {
        session: Some(pol("session", deny("s3:GetObject", "*"))),
        resource: Some(bucket(SESSION)),
        ..Default::default()
    };
    assert_eq!(evaluate(&set, &req(SESSION, "s3:GetObject", "arn:aws:s3:::b/k")).decision, Outcome::ExplicitlyDenied);
}

// AWS: ARN condition operators compare ARNs; a value that is not an ARN
// does not match, for ArnNotLike too.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
#[test]
fn arn_operators_never_match_a_value_that_is_not_an_arn() {
    let guarded = |op: &str| {
        pol(
            "deny",
            json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {op: {"aws:SourceArn": "arn:aws:s3:::trusted"}}}]}),
        )
    };
    let request = |value: &str| req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k").with_context("aws:SourceArn", value);
    let set = PolicySet { identity: vec![guarded("ArnNotLike")], ..Default::default() };
    assert_eq!(evaluate(&set, &request("not-an-arn")).decision, Outcome::Allowed);
    assert_eq!(evaluate(&set, &request("arn:aws:s3:::other")).decision, Outcome::ExplicitlyDenied);
    let set = PolicySet { identity: vec![guarded("ArnNotEquals")], ..Default::default() };
    assert_eq!(evaluate(&set, &request("not-an-arn")).decision, Outcome::Allowed);
}

// RCPs govern only the services AWS lists, never service-linked roles; SCPs
// do not affect service-linked roles either. See `scope`.
#[test]
fn organizations_policies_apply_only_within_their_scope() {
    let deny_everything = pol(
        "Perimeter",
        json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "All", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}),
    );
    let set = PolicySet {
        identity: vec![pol("allow", allow("*", "*"))],
        rcps: Some(vec![level("r-root", vec![deny_everything.clone()])]),
        ..Default::default()
    };
    let d = evaluate(&set, &req(ROLE, "kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:111111111111:stream/s"));
    assert_eq!(d.decision, Outcome::Allowed);
    assert!(
        d.explanation.iter().any(|s| s.policy_type == PolicyKind::Rcp && s.why.starts_with("RCPs do not apply to kinesis")),
        "{:?}",
        d.explanation
    );
    let d = evaluate(&set, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!((d.decision, d.blocked_by), (Outcome::ExplicitlyDenied, vec![PolicyKind::Rcp]));

    let slr = "arn:aws:iam::111111111111:role/aws-service-role/kinesisanalytics.amazonaws.com/AWSServiceRoleForKinesisAnalytics";
    let set = PolicySet {
        identity: vec![pol("allow", allow("*", "*"))],
        scps: Some(vec![level("r-root", vec![pol("DenyAll", deny("*", "*"))])]),
        rcps: Some(vec![level("r-root", vec![deny_everything])]),
        ..Default::default()
    };
    assert_eq!(evaluate(&set, &req(slr, "s3:GetObject", "arn:aws:s3:::b/k")).decision, Outcome::Allowed);
    assert_eq!(evaluate(&set, &req(ROLE, "ec2:DescribeVpcs", "*")).decision, Outcome::ExplicitlyDenied);
}

// Missing inputs: decided when both extreme completions agree, else Unknown.
#[test]
fn bounds_decide_when_the_completions_agree_and_say_unknown_otherwise() {
    let allow_all = pol("(unread) x", allow("*", "*"));
    let deny_all = pol("(unread) x", deny("*", "*"));
    let known = pol("allow-s3", allow("s3:GetObject", "*"));
    let low = PolicySet { identity: vec![known.clone(), deny_all], ..Default::default() };
    let high = PolicySet { identity: vec![known.clone(), allow_all], ..Default::default() };
    let d = evaluate_bounds(&low, &high, &req(ROLE, "s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(d.decision, Outcome::Unknown);
    assert!(d.explanation.iter().all(|s| !s.policy.as_deref().unwrap_or("").starts_with(COMPLETION_PREFIX)));
    // A missing SCP level's policy that only allows: a known identity gap
    // decides whatever it says.
    let scp_low = PolicySet { identity: vec![known.clone()], scps: Some(vec![level("r-root", vec![])]), ..Default::default() };
    let scp_high = PolicySet {
        identity: vec![known],
        scps: Some(vec![level("r-root", vec![pol("(unread) full", allow("*", "*"))])]),
        ..Default::default()
    };
    let d = evaluate_bounds(&scp_low, &scp_high, &req(ROLE, "kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:111111111111:stream/s"));
    assert_eq!((d.decision, d.blocked_by.clone()), (Outcome::ImplicitlyDenied, vec![PolicyKind::Identity]));
    assert!(d.explanation.iter().all(|s| s.policy_type != PolicyKind::Scp), "only the real blocker is named: {:?}", d.explanation);
}
