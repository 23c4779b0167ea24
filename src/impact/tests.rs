use std::collections::BTreeSet;
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::checks::testkit::{Fleet, MGMT};
use crate::checks::{Context, Index, Sink};
use crate::config::Config;
use crate::findings::AccessOutcome;
use crate::inventory::{Inventory, OrgPolicyKind};

fn fleet() -> Inventory {
    fleet_builder().build()
}

/// Two OUs (dev, prod) with two accounts each and one app per account
/// writing a stream; an exempt role in dev-b.
fn fleet_builder() -> Fleet {
    let stream = |acct: &str| format!("arn:aws:kinesis:eu-west-1:{acct}:stream/out");
    let mut fleet = Fleet::new()
        .account(MGMT, "management", "r-root")
        .ou("ou-work", "Workloads", "r-root")
        .ou("ou-dev", "Dev", "ou-work")
        .ou("ou-prod", "Prod", "ou-work")
        .scp(
            "p-guard",
            "ProdGuard",
            json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoKinesisDelete", "Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*"}]}),
            &["ou-prod"],
        );
    for (id, name, ou) in [
        ("111111111111", "dev-a", "ou-dev"),
        ("222222222222", "dev-b", "ou-dev"),
        ("333333333333", "prod-a", "ou-prod"),
        ("444444444444", "prod-b", "ou-prod"),
    ] {
        let arn = stream(id);
        fleet = fleet.account(id, name, ou).app(id, "eu-west-1", &format!("{name}-app"), move |a| {
            a.stream_arns = vec![arn];
            a.property_groups = vec![crate::inventory::PropertyGroup {
                id: "sink".into(),
                properties: [("output.stream".into(), a.stream_arns[0].as_str().into())].into_iter().collect(),
            }];
        });
    }
    fleet.role("222222222222", "dev-b-app-role", |r| {
        r.tags.insert("kinesis-exempt".into(), "yes".into());
    })
}

fn write(dir: &tempfile::TempDir, name: &str, doc: &Value) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, doc.to_string()).expect("write policy");
    path
}

fn deny_kinesis_writes() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoKinesisWrites", "Effect": "Deny", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalTag/kinesis-exempt": "yes"}}}]})
}

fn impact_of(inv: &Inventory, changes: &[Change]) -> Impact {
    let applied = apply(inv, changes).expect("changes apply");
    analyse(inv, &applied, &Config::default())
}

#[test]
fn a_deny_on_kinesis_writes_at_the_dev_ou_breaks_exactly_the_dev_apps_not_exempted() {
    let inv = fleet();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "DenyKinesisWrites.json", &deny_kinesis_writes());
    let impact = impact_of(&inv, &[Change::Attach { file, target: "Root/Workloads/Dev".into(), kind: OrgPolicyKind::ServiceControlPolicy }]);
    let apps: BTreeSet<&str> = impact.changes.iter().map(|r| r.application.as_str()).collect();
    assert_eq!(apps, BTreeSet::from(["dev-a-app"]), "{:#?}", impact.changes);
    assert!(impact
        .changes
        .iter()
        .all(|r| r.loses() && r.after == AccessOutcome::ExplicitlyDenied && r.action.starts_with("kinesis:Put")));
    assert_eq!((impact.summary.apps_losing, impact.summary.actions_losing), (1, 2));
    assert!(impact.breaks_something());
    assert_eq!(impact.apps_evaluated, 2, "only the dev OU's apps are decided again");
    assert!(
        cause(&impact.changes[0]).contains("DenyKinesisWrites") && cause(&impact.changes[0]).contains("Root/Workloads/Dev"),
        "{}",
        cause(&impact.changes[0])
    );
}

#[test]
fn detaching_the_blocking_scp_makes_the_actions_allowed() {
    let deny = deny_kinesis_writes();
    let inv = fleet_builder().scp("p-nokw", "DenyKinesisWrites", deny, &["ou-prod"]).build();
    let before = impact_of(&inv, &[Change::Detach { policy: "DenyKinesisWrites".into(), target: "ou-prod".into() }]);
    assert!(!before.breaks_something());
    assert_eq!((before.summary.apps_gaining, before.summary.actions_gaining), (2, 4), "{:#?}", before.changes);
    assert!(before.changes.iter().all(|r| r.before == AccessOutcome::ExplicitlyDenied && r.after == AccessOutcome::Allowed));
}

#[test]
fn replacing_a_boundary_changes_exactly_the_roles_that_use_it() {
    let boundary = "arn:aws:iam::333333333333:policy/flink-boundary";
    let inv = fleet_builder()
        .managed_policy(
            "333333333333",
            boundary,
            "flink-boundary",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        .role("333333333333", "prod-a-app-role", |r| r.permissions_boundary_arn = Some(boundary.into()))
        .build();
    let dir = tempfile::tempdir().expect("tempdir");
    let narrower = write(
        &dir,
        "boundary-v2.json",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "kinesis:*", "Resource": "*"}]}),
    );
    let impact = impact_of(&inv, &[Change::Replace { policy: boundary.into(), file: narrower }]);
    let apps: BTreeSet<&str> = impact.changes.iter().map(|r| r.application.as_str()).collect();
    assert_eq!(apps, BTreeSet::from(["prod-a-app"]));
    assert!(impact.changes.iter().all(|r| r.action.starts_with("kinesis:") && r.after == AccessOutcome::ImplicitlyDenied));
    assert_eq!(impact.apps_evaluated, 1);
}

#[test]
fn bad_changes_are_refused_and_nothing_is_applied() {
    let inv = fleet();
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(&dir, "Good.json", &deny_kinesis_writes());
    let broken = dir.path().join("Broken.json");
    std::fs::write(&broken, "{\"Statement\": [").expect("write");
    let attach =
        |file: &PathBuf, target: &str| Change::Attach { file: file.clone(), target: target.into(), kind: OrgPolicyKind::ServiceControlPolicy };
    let cases: Vec<(Vec<Change>, &str)> = vec![
        (vec![attach(&good, "Root/NoSuchOu")], "Root/NoSuchOu: no root, OU or account"),
        (vec![attach(&broken, "ou-dev")], "Broken.json: not a valid IAM policy"),
        (vec![Change::Detach { policy: "NoSuchPolicy".into(), target: "ou-dev".into() }], "NoSuchPolicy: no organization policy"),
        (vec![Change::Detach { policy: "ProdGuard".into(), target: "ou-dev".into() }], "ProdGuard is not attached to Root/Workloads/Dev (ou-dev)"),
        (vec![Change::Detach { policy: "FullAWSAccess".into(), target: "ou-dev".into() }], "last SCP attached to Root/Workloads/Dev"),
        (vec![Change::Detach { policy: "RCPFullAWSAccess".into(), target: "r-root".into() }], "RCPFullAWSAccess cannot be detached"),
        (vec![Change::Replace { policy: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(), file: good.clone() }], "AWS managed policy"),
        // A good change first, then a bad one: the error, and no half-applied state.
        (vec![attach(&good, "ou-dev"), attach(&good, "dev-zzz")], "dev-zzz: no root, OU or account"),
    ];
    for (changes, want) in cases {
        let err = apply(&inv, &changes).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(want), "{changes:?}: got {err:?}, want {want:?}");
    }
}

/// Every access decision of every app, keyed.
fn all_decisions(inv: &Inventory) -> std::collections::BTreeMap<(String, String, String, String), AccessOutcome> {
    let index = Index::new(inv);
    let config = Config::default();
    let mut out = std::collections::BTreeMap::new();
    for app in inv.apps() {
        let mut sink = Sink::new();
        crate::checks::access::check(&Context::new(inv, &index, &config, app), &mut sink);
        for d in sink.into_parts().1 {
            out.insert((app.app.arn.clone(), d.principal, d.action.to_string(), d.resource), d.outcome);
        }
    }
    out
}

fn scp_docs() -> Vec<Value> {
    vec![
        deny_kinesis_writes(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": ["kinesis:*"], "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}]}),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    ]
}

const TARGETS: [&str; 9] = ["r-root", "ou-work", "ou-dev", "ou-prod", "111111111111", "222222222222", "333333333333", "444444444444", MGMT];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `impact` decides only the apps the changes can touch; the answer must
    /// be what deciding every app of the changed snapshot from scratch says.
    #[test]
    fn impact_agrees_with_evaluating_the_changed_snapshot_from_scratch(
        steps in proptest::collection::vec((0usize..3, 0usize..4, 0usize..TARGETS.len(), any::<bool>()), 1..5)
    ) {
        let inv = fleet();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut changes = Vec::new();
        for (n, (op, doc, target, rcp)) in steps.iter().enumerate() {
            let target = TARGETS[*target].to_owned();
            match op {
                0 | 1 => {
                    let kind = if *rcp { OrgPolicyKind::ResourceControlPolicy } else { OrgPolicyKind::ServiceControlPolicy };
                    let mut d = scp_docs()[*doc].clone();
                    if *rcp {
                        d["Statement"][0]["Principal"] = json!("*");
                    }
                    changes.push(Change::Attach { file: write(&dir, &format!("P{n}.json"), &d), target, kind });
                }
                _ => changes.push(Change::Detach { policy: if *rcp { "ProdGuard".into() } else { "FullAWSAccess".into() }, target }),
            }
        }
        let Ok(applied) = apply(&inv, &changes) else { return Ok(()) };
        let impact = analyse(&inv, &applied, &Config::default());
        let before = all_decisions(&inv);
        let after = all_decisions(&applied.inventory);
        let expected: BTreeSet<_> = after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), *v)).collect();
        let got: BTreeSet<_> = impact.changes.iter().map(|r| ((r.application_arn.clone(), r.principal.clone(), r.action.clone(), r.resource.clone()), r.after)).collect();
        prop_assert_eq!(got, expected);
    }
}
