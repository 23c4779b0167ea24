"""DescribeAlarms and the AWS Health organization calls of the emulator,
over rpc-v2-cbor as the Rust SDK sends them, each answer validated against
botocore's service model (shape by shape: no member the model lacks, every
required member present, types and enums as declared).

Run: .venv/bin/python -m pytest tests/emulator/test_runbook_calls.py -q
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request

import botocore.session
import cbor2
import pytest

from test_emulator import Emu

MODELS = botocore.session.get_session()
PROD = "111111111111"
APP = f"arn:aws:kinesisanalytics:us-east-1:{PROD}:application/orders-prod"

FLEET = {
    "organization": {"ous": [{"name": "Prod", "accounts": [PROD]}]},
    "accounts": [{"id": PROD, "name": "prod-orders", "applications": [
        {"name": "orders-prod", "region": "us-east-1", "alarms": [
            {"metric": "lastCheckpointDuration", "name": "orders-duration"},
            {"metric": "numberOfFailedCheckpoints", "name": "orders-failed", "math": True, "actions_enabled": False},
            {"metric": "fullRestarts", "name": "orders-restarts", "state": "INSUFFICIENT_DATA"}]}]}],
    "health": {"events": [
        {"id": "open-1", "region": "us-east-1", "started": 90, "accounts": ["${account:prod-orders}"],
         "entities": [{"account": "${account:prod-orders}", "value": APP}]},
        {"id": "closed-1", "region": "eu-west-1", "started": 600, "ended": 300, "accounts": ["${account:prod-orders}"]}]},
}


def check_shape(shape, value, path="$"):
    """Raises AssertionError naming the path where `value` leaves `shape`."""
    t = shape.type_name
    if t == "structure":
        assert isinstance(value, dict), f"{path}: expected a structure, got {type(value).__name__}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: members not in the model: {sorted(unknown)}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} missing"
        for name, v in value.items():
            check_shape(shape.members[name], v, f"{path}.{name}")
    elif t == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for i, v in enumerate(value):
            check_shape(shape.member, v, f"{path}[{i}]")
    elif t == "map":
        assert isinstance(value, dict), f"{path}: expected a map"
    elif t == "string":
        assert isinstance(value, str), f"{path}: expected a string, got {value!r}"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"
    elif t in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected an integer, got {value!r}"
    elif t in ("double", "float"):
        assert isinstance(value, float), f"{path}: expected a float64, got {value!r}"
    elif t == "boolean":
        assert isinstance(value, bool), f"{path}: expected a boolean"
    elif t == "timestamp":
        assert isinstance(value, dt.datetime), f"{path}: expected a CBOR tag-1 timestamp, got {value!r}"
    else:
        raise AssertionError(f"{path}: shape type {t} not handled")


def cbor(emu, service, signing, target, op, params, session=None):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    body = cbor2.dumps(params, datetime_as_timestamp=True, timezone=dt.timezone.utc)
    url = f"{emu.endpoint}/service/{target}/operation/{op}"
    req = AWSRequest(method="POST", url=url, data=body, headers={
        "smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"})
    s = session or emu.session()
    SigV4Auth(s.get_credentials().get_frozen_credentials(), signing, "us-east-1").add_auth(req)
    hreq = urllib.request.Request(url, data=body, method="POST", headers=dict(req.prepare().headers))
    try:
        with urllib.request.urlopen(hreq, timeout=30) as resp:
            status, headers, data = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, headers, data = exc.code, dict(exc.headers), exc.read()
    decoded = cbor2.loads(data)
    model = MODELS.get_service_model(service).operation_model(op)
    if status == 200:
        check_shape(model.output_shape, decoded)
    else:
        code = decoded["__type"].split("#", 1)[-1]
        decoded = {"code": code, "message": decoded.get("message")}
    return status, headers, decoded


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    path = tmp_path_factory.mktemp("fleet") / "runbook.json"
    path.write_text(json.dumps(FLEET))
    e = Emu(str(path))
    yield e
    e.stop()


def alarms(emu, params):
    return cbor(emu, "cloudwatch", "monitoring", "GraniteServiceVersion20100801", "DescribeAlarms", params, emu.member(PROD))


def test_describe_alarms_matches_the_model_and_pages(emu):
    status, headers, out = alarms(emu, {"AlarmTypes": ["MetricAlarm"], "MaxRecords": 2})
    assert status == 200 and headers["smithy-protocol"] == "rpc-v2-cbor"
    assert [a["AlarmName"] for a in out["MetricAlarms"]] == ["orders-duration", "orders-failed"]
    assert out["NextToken"] and out["CompositeAlarms"] == []
    _, _, rest = alarms(emu, {"AlarmTypes": ["MetricAlarm"], "MaxRecords": 2, "NextToken": out["NextToken"]})
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == ["orders-restarts"] and "NextToken" not in rest
    by_name = {a["AlarmName"]: a for a in out["MetricAlarms"] + rest["MetricAlarms"]}
    assert by_name["orders-duration"]["Dimensions"] == [{"Name": "Application", "Value": "orders-prod"}]
    failed = by_name["orders-failed"]
    assert failed["ActionsEnabled"] is False and "MetricName" not in failed
    assert failed["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == "numberOfFailedCheckpoints"
    assert by_name["orders-restarts"]["StateValue"] == "INSUFFICIENT_DATA"
    # another account × region has none; composite-only asks get no metric alarms
    assert alarms(emu, {"AlarmTypes": ["CompositeAlarm"]})[2]["MetricAlarms"] == []
    assert cbor(emu, "cloudwatch", "monitoring", "GraniteServiceVersion20100801", "DescribeAlarms", {})[2]["MetricAlarms"] == []


def test_describe_alarms_rejects_what_aws_rejects(emu):
    status, headers, err = alarms(emu, {"MaxRecords": 500})
    assert (status, err["code"]) == (400, "ValidationError")
    status, _, err = alarms(emu, {"NextToken": "not-a-token"})
    assert (status, err["code"]) == (400, "InvalidNextToken")


def health(emu, op, params):
    return cbor(emu, "health", "health", "AWSHealth_20160804", op, params)


def test_health_organization_calls_match_the_model(emu):
    status, headers, out = health(emu, "DescribeEventsForOrganization", {"filter": {"services": ["KINESISANALYTICS"]}, "maxResults": 100})
    assert status == 200 and headers["smithy-protocol"] == "rpc-v2-cbor"
    by_status = {e["statusCode"]: e for e in out["events"]}
    assert set(by_status) == {"open", "closed"}
    open_event = by_status["open"]
    assert open_event["region"] == "us-east-1" and "endTime" not in open_event and "endTime" in by_status["closed"]
    _, _, accounts = health(emu, "DescribeAffectedAccountsForOrganization", {"eventArn": open_event["arn"]})
    assert accounts["affectedAccounts"] == [PROD]
    _, _, entities = health(emu, "DescribeAffectedEntitiesForOrganization",
                            {"organizationEntityAccountFilters": [{"eventArn": open_event["arn"], "awsAccountId": PROD}]})
    assert [e["entityValue"] for e in entities["entities"]] == [APP]
    assert entities["entities"][0]["statusCode"] == "IMPAIRED"
    # the service filter is honoured
    assert health(emu, "DescribeEventsForOrganization", {"filter": {"services": ["EC2"]}})[2]["events"] == []


@pytest.mark.parametrize("mode,code", [("not-subscribed", "SubscriptionRequiredException"),
                                       ("org-view-disabled", "AccessDeniedException")])
def test_health_without_the_organizational_view(emu, mode, code):
    emu.control("POST", "/_fleetscan/fleet", dict(FLEET, health={"mode": mode}))
    try:
        status, headers, err = health(emu, "DescribeEventsForOrganization", {})
        assert (status, err["code"]) == (400, code)
        assert headers["smithy-protocol"] == "rpc-v2-cbor"
    finally:
        emu.control("POST", "/_fleetscan/fleet", FLEET)
