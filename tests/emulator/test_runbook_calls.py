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

import cbor2
import pytest

import shapes
from test_emulator import Emu

# The hand-written operations whose answers this module validates (with
# shapes.validate); test_shapes checks every one in middleware.HAND_WRITTEN
# has a case here or there.
VALIDATED_HERE = {
    ("cloudwatch", "DescribeAlarms"),
    ("health", "DescribeEventsForOrganization"),
    ("health", "DescribeAffectedAccountsForOrganization"),
    ("health", "DescribeAffectedEntitiesForOrganization"),
}
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
    if status == 200:
        errors = shapes.validate(service, op, decoded, "cbor")
        assert not errors, f"{service}:{op} does not match botocore's model: {errors}"

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
