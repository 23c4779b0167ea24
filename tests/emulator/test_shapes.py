"""The emulator answers in AWS's own shapes: every response it writes (or
rewrites) by hand, and the moto answers it seeds by hand (Organizations with
RCPs), is read over HTTP from the real launcher and checked against
botocore's service model of its operation (shapes.py).

Adding an operation: one line in middleware.HAND_WRITTEN and one Case below.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import botocore.config
import pytest
from botocore import xform_name

import shapes
from middleware import HAND_WRITTEN
from test_emulator import DEV, FLEETS, HERE, PROD, Emu, _mdq, cbor_call

ROOT_ID = "r-in01"  # integration fleet
MAX_PAGES = 100



# ------------------------------------------------------------ sending


def sdk_bodies(emu: Emu, service: str, operation: str, params: dict[str, Any],
               session: Any) -> list[tuple[bytes, str]]:
    """Every page's raw body (and its protocol), through a boto3 client; the
    client's own parsing is bypassed for the check, it is lenient."""
    client = emu.client(service, session, config=botocore.config.Config(
        retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    captured: list[tuple[bytes, str]] = []

    def grab(http_response: Any, **_: Any) -> None:
        captured.append((http_response.content, _protocol(http_response.headers.get("Content-Type", ""), http_response.content)))

    client.meta.events.register(f"after-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", grab)
    call = getattr(client, xform_name(operation))
    pageable = "NextToken" in (client.meta.service_model.operation_model(operation).input_shape.members
                               if client.meta.service_model.operation_model(operation).input_shape else {})
    token = None
    for _ in range(MAX_PAGES):
        out = call(**params, **({"NextToken": token} if token else {}))
        token = out.get("NextToken") if pageable else None
        if not token:
            return captured
    raise AssertionError(f"{operation}: more than {MAX_PAGES} pages")


def cbor_bodies(emu: Emu, session: Any, params: dict[str, Any], operation: str = "GetMetricData",
                region: str = "us-east-1") -> list[tuple[bytes, str]]:
    """A CloudWatch operation over rpc-v2-cbor as the Rust SDK sends it, every page."""
    import cbor2

    out, token = [], None
    for _ in range(MAX_PAGES):
        status, _headers, body = cbor_call(emu, session, dict(params, **({"NextToken": token} if token else {})),
                                           region=region, raw=True, operation=operation)
        assert status == 200, cbor2.loads(body)
        out.append((body, "cbor"))
        token = cbor2.loads(body).get("NextToken")
        if not token:
            return out
    raise AssertionError(f"{operation}: more than {MAX_PAGES} pages")


def _protocol(content_type: str, body: bytes) -> str:
    """The wire protocol of one answer (moto labels some JSON answers text/html)."""
    if "cbor" in content_type:
        return "cbor"
    return "query" if body.lstrip().startswith(b"<") else "json"


# ------------------------------------------------------------ cases


Params = dict[str, Any] | Callable[[Emu, Any], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    service: str
    operation: str
    params: Params = field(default_factory=dict)
    account: str | None = PROD  # None: the management account's own keys
    region: str = "us-east-1"
    faults: dict[str, Any] | None = None
    wire: str = "sdk"  # "sdk": boto3's protocol for the service; "cbor": CloudWatch over rpc-v2-cbor by hand
    label: str = ""

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}" + (f"[{self.label}]" if self.label else "")

    def bodies(self, emu: Emu) -> list[tuple[bytes, str]]:
        if self.faults:
            emu.faults(self.faults)
        session = emu.member(self.account, self.region) if self.account else emu.session(region=self.region)
        params = self.params(emu, session) if callable(self.params) else self.params
        if self.wire == "cbor":
            return cbor_bodies(emu, session, params, self.operation, self.region)
        return sdk_bodies(emu, self.service, self.operation, params, session)


def _kda(emu: Emu, session: Any) -> Any:
    return emu.client("kinesisanalyticsv2", session)


def _failed_operation(emu: Emu, session: Any) -> dict[str, Any]:
    ops = _kda(emu, session).list_application_operations(ApplicationName="fraud-prod")["ApplicationOperationInfoList"]
    return {"ApplicationName": "fraud-prod", "OperationId": next(o["OperationId"] for o in ops if o["OperationStatus"] == "FAILED")}


def _update_operation(emu: Emu, session: Any) -> dict[str, Any]:
    ops = _kda(emu, session).list_application_operations(ApplicationName="payments-prod")["ApplicationOperationInfoList"]
    return {"ApplicationName": "payments-prod", "OperationId": next(o["OperationId"] for o in ops if o["Operation"] == "UpdateApplication")}


def _app_arn(emu: Emu, session: Any) -> dict[str, Any]:
    return {"ResourceARN": _kda(emu, session).describe_application(ApplicationName="payments-prod")["ApplicationDetail"]["ApplicationARN"]}


def _metrics(apps: list[str]) -> Callable[[Emu, Any], dict[str, Any]]:
    names = ["numberOfFailedCheckpoints", "lastCheckpointDuration", "lastCheckpointSize", "downtime", "fullRestarts"]

    def params(_emu: Emu, _session: Any) -> dict[str, Any]:
        now = dt.datetime.now(dt.timezone.utc)
        return {"MetricDataQueries": [_mdq(app, m, f"a{i}m{j}", period=900) for i, app in enumerate(apps) for j, m in enumerate(names)],
                "StartTime": now - dt.timedelta(hours=24), "EndTime": now, "ScanBy": "TimestampAscending"}
    return params


def _policy(kind: str, name: str) -> Callable[[Emu, Any], dict[str, Any]]:
    def params(emu: Emu, session: Any) -> dict[str, Any]:
        pols = emu.client("organizations", session).list_policies(Filter=kind)["Policies"]
        return {"PolicyId": next(p["Id"] for p in pols if p["Name"] == name)}
    return params


PROD_APPS = ["payments-prod", "ledger-prod", "fraud-prod", "reports-prod"]

CASES = [
    # kinesisanalyticsv2: written by middleware.kda
    Case("kinesisanalyticsv2", "ListApplications"),
    Case("kinesisanalyticsv2", "DescribeApplication", {"ApplicationName": "payments-prod"}, label="CMK, VPC, code"),
    Case("kinesisanalyticsv2", "DescribeApplication", {"ApplicationName": "fraud-prod"}, label="rolled back"),
    Case("kinesisanalyticsv2", "DescribeApplication", {"ApplicationName": "reports-prod"}, label="ready"),
    Case("kinesisanalyticsv2", "DescribeApplication", {"ApplicationName": "payments-dev"}, account=DEV, label="dev"),
    Case("kinesisanalyticsv2", "ListApplicationSnapshots", {"ApplicationName": "payments-prod"}),
    Case("kinesisanalyticsv2", "DescribeApplicationSnapshot", {"ApplicationName": "payments-prod", "SnapshotName": "payments-prod-manual"}),
    Case("kinesisanalyticsv2", "ListApplicationOperations", {"ApplicationName": "fraud-prod"}),
    Case("kinesisanalyticsv2", "DescribeApplicationOperation", _failed_operation, label="failed"),
    Case("kinesisanalyticsv2", "DescribeApplicationOperation", _update_operation, label="update"),
    Case("kinesisanalyticsv2", "ListTagsForResource", _app_arn),
    # CloudWatch GetMetricData: written by metrics.py, both wire protocols, every page
    Case("cloudwatch", "GetMetricData", _metrics(PROD_APPS + ["no-such-app"]), wire="cbor", label="rpc-v2-cbor"),
    Case("cloudwatch", "GetMetricData", _metrics(PROD_APPS), label="awsJson1_0"),
    # rewritten / faulted answers
    Case("sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole", "RoleSessionName": "shape"},
         account=None, faults={"session_ttl_secs": 600}, label="session_ttl_secs"),
    Case("iam", "GetRolePolicy", {"RoleName": "payments-flink-role", "PolicyName": "kinesis-io"},
         faults={"malformed_policies": [{"account": PROD, "role": "payments-flink-role", "policy": "kinesis-io"}]},
         label="malformed_policies"),
    # Organizations: moto's answers over what fleet.py seeds by hand (ids, RCPs, policy types, status)
    Case("organizations", "DescribeOrganization", account=None),
    Case("organizations", "ListRoots", account=None),
    Case("organizations", "ListOrganizationalUnitsForParent", {"ParentId": ROOT_ID}, account=None),
    Case("organizations", "ListAccountsForParent", {"ParentId": ROOT_ID}, account=None),
    Case("organizations", "ListAccounts", account=None),
    Case("organizations", "ListPolicies", {"Filter": "RESOURCE_CONTROL_POLICY"}, account=None, label="RCP"),
    Case("organizations", "ListPolicies", {"Filter": "SERVICE_CONTROL_POLICY"}, account=None, label="SCP"),
    Case("organizations", "DescribePolicy", _policy("RESOURCE_CONTROL_POLICY", "RCPDataPerimeter"), account=None),
    Case("organizations", "ListTargetsForPolicy", _policy("RESOURCE_CONTROL_POLICY", "RCPFullAWSAccess"), account=None),
    Case("organizations", "ListPoliciesForTarget", {"TargetId": PROD, "Filter": "RESOURCE_CONTROL_POLICY"}, account=None),
    Case("organizations", "ListTagsForResource", {"ResourceId": PROD}, account=None),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_response_matches_botocore_model(emu, case):
    bodies = case.bodies(emu)
    assert bodies, f"{case}: no response captured"
    for body, protocol in bodies:
        shapes.assert_valid(case.service, case.operation, body, protocol)


def test_every_hand_written_operation_has_a_case():
    from test_runbook_calls import VALIDATED_HERE as RUNBOOK_CASES

    missing = HAND_WRITTEN - {(c.service, c.operation) for c in CASES} - RUNBOOK_CASES
    assert not missing, f"hand-written operations without a model-validation case: {sorted(missing)}"


def test_paged_answers_were_validated(emu):
    """The GetMetricData cases above really span several pages (so every page shape is checked)."""
    case = next(c for c in CASES if c.wire == "cbor")
    assert len(case.bodies(emu)) >= 3


# ------------------------------------------------------------ the whole fleet


@pytest.mark.parametrize("fleet_file", ["integration.json", "demo.json"])
def test_every_flink_answer_of_a_fleet_matches_model(fleet_file):
    """Every app of the fleet: describe, snapshots, operations (each described),
    tags, and all its metrics over rpc-v2-cbor, every page."""
    sys.path.insert(0, HERE)
    import fleet as fleetmod  # noqa: PLC0415

    fleet = fleetmod.normalise(fleetmod.load_fleet(os.path.join(FLEETS, fleet_file)))
    targets = sorted({(a["id"], app.get("region", "us-east-1")) for a in fleet["accounts"] for app in a.get("applications", [])})
    e = Emu(os.path.join(FLEETS, fleet_file), "--page-size", "2", "--metric-page-points", "37")
    checked = 0
    try:
        for account, region in targets:
            session = e.member(account, region)
            kda = "kinesisanalyticsv2"

            def check(operation: str, params: dict[str, Any]) -> list[Any]:
                nonlocal checked
                values = []
                for body, protocol in sdk_bodies(e, kda, operation, params, session):
                    values.append(shapes.assert_valid(kda, operation, body, protocol))
                    checked += 1
                return values

            names = [s["ApplicationName"] for page in check("ListApplications", {}) for s in page["ApplicationSummaries"]]
            assert names, (account, region)
            for name in names:
                detail = check("DescribeApplication", {"ApplicationName": name})[0]["ApplicationDetail"]
                check("ListTagsForResource", {"ResourceARN": detail["ApplicationARN"]})
                for page in check("ListApplicationSnapshots", {"ApplicationName": name}):
                    for snap in page["SnapshotSummaries"]:
                        check("DescribeApplicationSnapshot", {"ApplicationName": name, "SnapshotName": snap["SnapshotName"]})
                for page in check("ListApplicationOperations", {"ApplicationName": name}):
                    for op in page["ApplicationOperationInfoList"]:
                        check("DescribeApplicationOperation", {"ApplicationName": name, "OperationId": op["OperationId"]})
            for body, protocol in cbor_bodies(e, session, _metrics(names)(e, session)):
                shapes.assert_valid("cloudwatch", "GetMetricData", body, protocol)
                checked += 1
    finally:
        e.stop()
    assert checked > 3 * len(targets)


# ------------------------------------------------------------ the validator itself


def _described(emu: Emu) -> dict[str, Any]:
    (body, protocol), = sdk_bodies(emu, "kinesisanalyticsv2", "DescribeApplication",
                                   {"ApplicationName": "payments-prod"}, emu.member(PROD))
    assert protocol == "json"
    return json.loads(body)


def test_validator_catches_a_dropped_required_member(emu):
    doc = _described(emu)
    assert shapes.validate("kinesisanalyticsv2", "DescribeApplication", doc, "json") == []
    del doc["ApplicationDetail"]["ApplicationName"]
    assert shapes.validate("kinesisanalyticsv2", "DescribeApplication", doc, "json") == [
        "DescribeApplication.ApplicationDetail.ApplicationName: required member missing"]
    with pytest.raises(shapes.ShapeError, match="ApplicationDetail.ApplicationName: required member missing"):
        shapes.assert_valid("kinesisanalyticsv2", "DescribeApplication", json.dumps(doc).encode(), "json")


def test_validator_catches_types_enums_timestamps_and_unknown_members(emu):
    good = _described(emu)
    cfg = "ApplicationDetail.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription"

    def errors_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
        doc = copy.deepcopy(good)
        change(doc)
        return shapes.validate("kinesisanalyticsv2", "DescribeApplication", doc, "json")

    assert errors_after(lambda d: d["ApplicationDetail"].update(ApplicationStatus="HAPPY")) == [
        "DescribeApplication.ApplicationDetail.ApplicationStatus: 'HAPPY' is not one of ApplicationStatus's values "
        "['DELETING', 'STARTING', 'STOPPING', 'READY', 'RUNNING', 'UPDATING', 'AUTOSCALING', 'FORCE_STOPPING', "
        "'ROLLING_BACK', 'MAINTENANCE', 'ROLLED_BACK']"]
    assert errors_after(lambda d: d["ApplicationDetail"].update(ApplicationVersionId="4")) == [
        "DescribeApplication.ApplicationDetail.ApplicationVersionId: expected a long (ApplicationVersionId), got str '4'"]
    # awsJson timestamps are epoch numbers, not ISO text
    errors = errors_after(lambda d: d["ApplicationDetail"].update(CreateTimestamp="2026-12-01T00:00:00Z"))
    assert errors == ["DescribeApplication.ApplicationDetail.CreateTimestamp: expected epoch seconds (a number), got str '2026-12-01T00:00:00Z'"]
    assert errors_after(lambda d: d["ApplicationDetail"].update(Colour="blue")) == [
        "DescribeApplication.ApplicationDetail.Colour: not a member of ApplicationDetail"]
    errors = errors_after(lambda d: d["ApplicationDetail"]["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
                          ["CheckpointConfigurationDescription"].update(CheckpointingEnabled="true"))
    assert errors == [f"DescribeApplication.{cfg}.CheckpointConfigurationDescription.CheckpointingEnabled: "
                      "expected a boolean (BooleanObject), got str 'true'"]
    errors = errors_after(lambda d: d["ApplicationDetail"]["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"]
                          ["PropertyGroupDescriptions"][0]["PropertyMap"].update(bad=7))
    assert errors == ["DescribeApplication.ApplicationDetail.ApplicationConfigurationDescription.EnvironmentPropertyDescriptions"
                      ".PropertyGroupDescriptions[0].PropertyMap['bad']: expected a string (PropertyValue), got int"]


def test_validator_checks_the_cbor_and_query_representations():
    now = dt.datetime.now(dt.timezone.utc)
    good = {"MetricDataResults": [{"Id": "a", "Timestamps": [now], "Values": [1.0], "StatusCode": "Complete"}], "Messages": []}
    assert shapes.validate("cloudwatch", "GetMetricData", good, "cbor") == []
    epoch = copy.deepcopy(good)
    epoch["MetricDataResults"][0].update(Timestamps=[int(now.timestamp())], Values=[1])
    assert shapes.validate("cloudwatch", "GetMetricData", epoch, "cbor") == [
        f"GetMetricData.MetricDataResults[0].Timestamps[0]: expected a CBOR tag-1 timestamp, got int {int(now.timestamp())}",
        "GetMetricData.MetricDataResults[0].Values[0]: expected a CBOR float (DatapointValue), got int 1"]
    partial = copy.deepcopy(good)
    partial["MetricDataResults"][0]["StatusCode"] = "Partial"
    assert "is not one of StatusCode's values" in shapes.validate("cloudwatch", "GetMetricData", partial, "cbor")[0]

    ns = "https://iam.amazonaws.com/doc/2010-05-08/"
    xml = ('<GetRolePolicyResponse xmlns="{ns}"><GetRolePolicyResult><PolicyName>p</PolicyName>'
           '<RoleName>r</RoleName>{doc}</GetRolePolicyResult>'
           '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetRolePolicyResponse>')
    assert shapes.validate_body("iam", "GetRolePolicy", xml.format(ns=ns, doc="<PolicyDocument>%7B%7D</PolicyDocument>").encode(), "query") == []
    assert shapes.validate_body("iam", "GetRolePolicy", xml.format(ns=ns, doc="").encode(), "query") == [
        "GetRolePolicy.PolicyDocument: required member missing"]
    assert shapes.validate_body("iam", "GetRolePolicy", xml.format(ns="https://sts.amazonaws.com/doc/2011-06-15/",
                                                                   doc="<PolicyDocument>x</PolicyDocument>").encode(), "query") == [
        "GetRolePolicy: root namespace 'https://sts.amazonaws.com/doc/2011-06-15/', expected 'https://iam.amazonaws.com/doc/2010-05-08/'"]
