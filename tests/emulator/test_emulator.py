"""Self-test of the fleetscan emulator (run: .venv/bin/python -m pytest tests/emulator -q).

Starts the launcher as a subprocess on the integration fleet and talks to it
with boto3 (whose CloudWatch client speaks rpc-v2-cbor, like the Rust SDK).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import cbor2
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FLEETS = os.path.join(ROOT, "tests", "fleets")
MGMT = "123456789012"
PROD = "111111111111"
DEV = "222222222222"
NO_RETRY = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


class Emu:
    def __init__(self, fleet: str, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fleetemu.py"), "--port", "0", "--fleet", fleet, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:"), (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.endpoint = line.split()[1]

    def control(self, method: str, path: str, body: object | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def faults(self, cfg: dict) -> None:
        self.control("POST", "/_fleetscan/faults", cfg)

    def requests(self) -> list[dict]:
        return self.control("GET", "/_fleetscan/requests")  # type: ignore[return-value]

    def session(self, key: str = "AKIAMANAGEMENT00001", secret: str = "x", token: str | None = None,
                region: str = "us-east-1") -> boto3.Session:
        return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                             aws_session_token=token, region_name=region)

    def client(self, service: str, session: boto3.Session | None = None, **kw: object):
        s = session or self.session()
        return s.client(service, endpoint_url=self.endpoint, config=kw.pop("config", NO_RETRY), **kw)

    def member(self, account: str, region: str = "us-east-1") -> boto3.Session:
        c = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="fleetscan-test")["Credentials"]
        return self.session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], region)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()



def _paginate(fn, key, **kw):
    out, tok = [], None
    pages = 0
    while True:
        r = fn(**kw, **({"NextToken": tok} if tok else {}))
        pages += 1
        out += r.get(key, [])
        tok = r.get("NextToken")
        if not tok:
            return out, pages


# ------------------------------------------------------------ organizations


def test_org_tree_and_account_ids(emu):
    org = emu.client("organizations")
    o = org.describe_organization()["Organization"]
    assert o["Id"] == "o-integ00001" and o["MasterAccountId"] == MGMT
    root = org.list_roots()["Roots"][0]
    assert root["Id"] == "r-in01"
    assert {t["Type"] for t in root["PolicyTypes"]} == {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}

    paths, accounts = {}, {}

    def walk(pid, path, depth):
        for ou in _paginate(org.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=pid)[0]:
            paths[f"{path}/{ou['Name']}"] = (ou["Id"], depth + 1)
            walk(ou["Id"], f"{path}/{ou['Name']}", depth + 1)
        accts, pages = _paginate(org.list_accounts_for_parent, "Accounts", ParentId=pid)
        for a in accts:
            accounts[a["Id"]] = (a["Name"], path, a["Status"], pages)

    walk(root["Id"], "Root", 0)
    assert max(d for _, d in paths.values()) >= 3
    assert accounts[PROD][:2] == ("prod-payments", "Root/Workloads/Prod/Payments")
    assert accounts[DEV][:2] == ("dev-payments", "Root/Workloads/Dev/Payments")
    assert accounts["444444444444"][2] == "SUSPENDED"
    teams = [a for a, v in accounts.items() if v[1] == "Root/Workloads/Shared/Teams"]
    assert len(teams) == 22 and "300000000001" in teams and "300000000022" in teams
    assert accounts["300000000001"][3] == 2, "22 accounts need two ListAccountsForParent pages"
    assert accounts[MGMT][:2] == ("management", "Root")
    tags = org.list_tags_for_resource(ResourceId=PROD)["Tags"]
    assert {"Key": "team", "Value": "payments"} in tags


def test_scp_rcp_targets(emu):
    org = emu.client("organizations")
    ou_ids = {}

    def walk(pid, path):
        for ou in org.list_organizational_units_for_parent(ParentId=pid)["OrganizationalUnits"]:
            ou_ids[f"{path}/{ou['Name']}"] = ou["Id"]
            walk(ou["Id"], f"{path}/{ou['Name']}")

    walk("r-in01", "Root")
    found = {}
    for ptype in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        for p in _paginate(org.list_policies, "Policies", Filter=ptype)[0]:
            targets = {t["TargetId"] for t in org.list_targets_for_policy(PolicyId=p["Id"])["Targets"]}
            doc = json.loads(org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"])
            found[p["Name"]] = (ptype, targets, doc, p["AwsManaged"])
    assert found["FullAWSAccess"][3] and found["RCPFullAWSAccess"][3]
    # attached everywhere as AWS does, except where the fleet detached it
    assert {"r-in01", PROD, *ou_ids.values()} <= found["FullAWSAccess"][1]
    assert "444444444444" not in found["FullAWSAccess"][1]
    assert found["SandboxReadOnlyAllowList"][1] == {"444444444444"}
    assert "444444444444" in found["RCPFullAWSAccess"][1]
    assert found["DenyLeaveOrganization"][1] == {"r-in01"}
    assert found["ProdRegionGuard"][1] == {ou_ids["Root/Workloads/Prod"]}
    assert found["ProdPaymentsKinesisGuard"][1] == {ou_ids["Root/Workloads/Prod/Payments"]}
    assert found["AccountDenyStreamDelete"][1] == {PROD}
    assert found["RCPDataPerimeter"][0] == "RESOURCE_CONTROL_POLICY"
    assert found["RCPDataPerimeter"][2]["Statement"][0]["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == "o-integ00001"
    assert found["RCPDevKmsGuard"][1] == {DEV}
    pols = org.list_policies_for_target(TargetId=PROD, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert {p["Name"] for p in pols} == {"FullAWSAccess", "AccountDenyStreamDelete"}


# ------------------------------------------------------------ STS / IAM / resources


def test_assume_role_maps_to_member(emu):
    m = emu.member(PROD)
    ident = emu.client("sts", m).get_caller_identity()
    assert ident["Account"] == PROD
    assert emu.client("sts").get_caller_identity()["Account"] == MGMT
    # suspended account and missing role are refused
    for arn in ("arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
                f"arn:aws:iam::{PROD}:role/NoSuchRole"):
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            emu.client("sts").assume_role(RoleArn=arn, RoleSessionName="fleetscan-test")
        assert ei.value.response["Error"]["Code"] == "AccessDenied"


def test_iam_kms_s3_kinesis(emu):
    m = emu.member(PROD)
    iam = emu.client("iam", m)
    role = iam.get_role(RoleName="payments-flink-role")["Role"]
    assert role["Path"] == "/service-role/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == f"arn:aws:iam::{PROD}:policy/payments-boundary"
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="payments-flink-role")["AttachedPolicies"]}
    assert attached == {f"arn:aws:iam::{PROD}:policy/payments-flink-access",
                        "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"}
    aws_pol = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")["Policy"]
    assert iam.get_policy_version(PolicyArn=aws_pol["Arn"], VersionId=aws_pol["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert iam.list_role_policies(RoleName="payments-flink-role")["PolicyNames"] == ["kinesis-io"]
    app = emu.client("kinesisanalyticsv2", m).describe_application(ApplicationName="payments-prod")["ApplicationDetail"]
    key_arn = app["ApplicationConfigurationDescription"]["ApplicationEncryptionConfigurationDescription"]["KeyId"]
    kp = json.loads(emu.client("kms", m).get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    assert {s["Sid"] for s in kp["Statement"]} >= {"AllowFlinkService", "AllowFlinkInfra"}
    bp = json.loads(emu.client("s3", m, config=botocore.config.Config(s3={"addressing_style": "path"}))
                    .get_bucket_policy(Bucket="payments-prod-code-111111111111")["Policy"])
    assert bp["Statement"][0]["Sid"] == "DenyInsecure"
    props = app["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"]["PropertyGroupDescriptions"]
    stream_arn = next(g["PropertyMap"]["stream.arn"] for g in props if g["PropertyGroupId"] == "kinesis.source")
    sp = json.loads(emu.client("kinesis", m).get_resource_policy(ResourceARN=stream_arn)["Policy"])
    assert sp["Statement"][0]["Sid"] == "AllowFlinkRead"


def test_bucket_policy_is_answered_only_to_the_owner(emu):
    # AWS: GetBucketPolicy needs the caller to belong to the bucket owner's account.
    path = botocore.config.Config(s3={"addressing_style": "path"})
    bucket = "payments-prod-code-111111111111"
    assert emu.client("s3", emu.member(PROD), config=path).get_bucket_policy(Bucket=bucket)["Policy"]
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("s3", emu.member(DEV), config=path).get_bucket_policy(Bucket=bucket)
    assert ei.value.response["Error"]["Code"] == "AccessDenied"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Each account lists only the buckets it owns.
    names = {b["Name"] for b in emu.client("s3", emu.member(DEV), config=path).list_buckets()["Buckets"]}
    assert bucket not in names


# ------------------------------------------------------------ kinesisanalyticsv2


def test_describe_application_shape_and_epoch_timestamps(emu):
    m = emu.member(PROD)
    raw = {}

    def grab(http_response, **_):
        raw["body"] = http_response.content

    kda = emu.client("kinesisanalyticsv2", m)
    kda.meta.events.register(f"after-call.{kda.meta.service_model.service_id.hyphenize()}.DescribeApplication", lambda **kw: grab(kw["http_response"]))
    d = kda.describe_application(ApplicationName="payments-prod")["ApplicationDetail"]
    body = json.loads(raw["body"])["ApplicationDetail"]
    assert isinstance(body["CreateTimestamp"], (int, float)) and isinstance(body["LastUpdateTimestamp"], (int, float))
    assert d["ApplicationStatus"] == "RUNNING" and d["RuntimeEnvironment"] == "FLINK-1_18"
    assert d["ServiceExecutionRole"] == f"arn:aws:iam::{PROD}:role/service-role/payments-flink-role"
    cfg = d["ApplicationConfigurationDescription"]
    flink = cfg["FlinkApplicationConfigurationDescription"]
    assert flink["CheckpointConfigurationDescription"] == {
        "ConfigurationType": "CUSTOM", "CheckpointingEnabled": True, "CheckpointInterval": 30000,
        "MinPauseBetweenCheckpoints": 5000}
    assert flink["MonitoringConfigurationDescription"]["ConfigurationType"] == "DEFAULT"
    assert flink["ParallelismConfigurationDescription"]["Parallelism"] == 4
    assert cfg["ApplicationSnapshotConfigurationDescription"]["SnapshotsEnabled"] is True
    assert cfg["ApplicationCodeConfigurationDescription"]["CodeContentDescription"]["S3ApplicationCodeLocationDescription"] == {
        "BucketARN": "arn:aws:s3:::payments-prod-code-111111111111", "FileKey": "payments/app-1.4.2.jar"}
    assert cfg["VpcConfigurationDescriptions"][0]["VpcId"] == "vpc-0a1b2c3d"
    assert cfg["ApplicationEncryptionConfigurationDescription"]["KeyType"] == "CUSTOMER_MANAGED_KEY"
    assert d["CloudWatchLoggingOptionDescriptions"][0]["LogStreamARN"].startswith(f"arn:aws:logs:us-east-1:{PROD}:log-group:")
    other = kda.describe_application(ApplicationName="fraud-prod")["ApplicationDetail"]
    assert other["ApplicationStatus"] == "ROLLED_BACK"
    assert other["ApplicationConfigurationDescription"]["ApplicationEncryptionConfigurationDescription"] == {"KeyType": "AWS_OWNED_KEY"}
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        kda.describe_application(ApplicationName="nope")
    assert ei.value.response["Error"]["Code"] == "ResourceNotFoundException"
    tags = kda.list_tags_for_resource(ResourceARN=d["ApplicationARN"])["Tags"]
    assert {"Key": "team", "Value": "payments"} in tags


def test_list_applications_paging_and_regions(emu):
    kda = emu.client("kinesisanalyticsv2", emu.member(PROD))
    apps, pages = _paginate(kda.list_applications, "ApplicationSummaries")
    assert pages == 2 and len(apps) == 4  # fleet page_size is 3
    assert {a["ApplicationName"] for a in apps} == {"payments-prod", "ledger-prod", "fraud-prod", "reports-prod"}
    eu = emu.client("kinesisanalyticsv2", emu.member(PROD, "eu-west-1"))
    assert [a["ApplicationName"] for a in eu.list_applications()["ApplicationSummaries"]] == ["payments-eu-prod"]
    dev = emu.client("kinesisanalyticsv2", emu.member(DEV))
    assert [a["ApplicationName"] for a in dev.list_applications()["ApplicationSummaries"]] == ["payments-dev"]
    assert emu.client("kinesisanalyticsv2", emu.member("300000000005")).list_applications()["ApplicationSummaries"] == []


def test_snapshots_and_operations(emu):
    kda = emu.client("kinesisanalyticsv2", emu.member(PROD))
    snaps = kda.list_application_snapshots(ApplicationName="payments-prod")["SnapshotSummaries"]
    newest = max(snaps, key=lambda s: s["SnapshotCreationTimestamp"])
    assert newest["SnapshotName"] == "payments-prod-manual"
    ready = [s for s in snaps if s["SnapshotStatus"] == "READY"]
    newest_ready = max(s["SnapshotCreationTimestamp"] for s in ready)
    age_h = (dt.datetime.now(dt.timezone.utc) - newest_ready).total_seconds() / 3600
    assert 19.5 < age_h < 21
    ops = kda.list_application_operations(ApplicationName="fraud-prod")["ApplicationOperationInfoList"]
    failed = [o for o in ops if o["OperationStatus"] == "FAILED"]
    assert len(failed) == 1 and failed[0]["Operation"] == "UpdateApplication"
    det = kda.describe_application_operation(ApplicationName="fraud-prod", OperationId=failed[0]["OperationId"])
    assert "CheckpointException" in det["ApplicationOperationInfoDetails"]["OperationFailureDetails"]["ErrorInfo"]["ErrorString"]
    only = kda.list_application_operations(ApplicationName="fraud-prod", OperationStatus="SUCCESSFUL")["ApplicationOperationInfoList"]
    assert [o["Operation"] for o in only] == ["RollbackApplication"]


def test_lists_without_a_documented_order_are_not_in_time_order(emu):
    """AWS documents no order for ListApplicationSnapshots / ListApplicationOperations:
    the emulator answers neither newest nor oldest first, the same order on every
    call and across pages (so only code that reads every page gets every item)."""
    kda = emu.client("kinesisanalyticsv2", emu.member(PROD))
    for call, key, when, app in (
            (kda.list_application_snapshots, "SnapshotSummaries", "SnapshotCreationTimestamp", "payments-prod"),
            (kda.list_application_operations, "ApplicationOperationInfoList", "StartTime", "payments-prod"),
            (kda.list_application_operations, "ApplicationOperationInfoList", "StartTime", "fraud-prod")):
        whole = call(ApplicationName=app)[key]
        times = [x[when] for x in whole]
        assert len(times) >= 2 and times != sorted(times, reverse=True), (app, key, times)
        if len(times) >= 3:
            assert times != sorted(times), (app, key, times)
        paged, pages = _paginate(call, key, ApplicationName=app, Limit=1)
        assert paged == whole and pages == len(whole)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        kda.list_application_operations(ApplicationName="payments-prod", NextToken="99")
    assert ei.value.response["Error"]["Code"] == "InvalidArgumentException"


# ------------------------------------------------------------ CloudWatch over CBOR


def _mdq(app, metric, qid, stat="Maximum", period=300):
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/KinesisAnalytics", "MetricName": metric,
            "Dimensions": [{"Name": "Application", "Value": app}]}, "Period": period, "Stat": stat}}


def cbor_call(emu, session, params, region="us-east-1", raw=False, operation="GetMetricData"):
    """A CloudWatch operation (GetMetricData by default) over rpc-v2-cbor exactly
    as the Rust SDK sends it (botocore 1.44 prefers awsJson for CloudWatch, so
    the request is built by hand and signed with botocore's SigV4)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    body = cbor2.dumps(params, datetime_as_timestamp=True, timezone=dt.timezone.utc)
    url = emu.endpoint + f"/service/GraniteServiceVersion20100801/operation/{operation}"
    req = AWSRequest(method="POST", url=url, data=body, headers={
        "smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"})
    SigV4Auth(session.get_credentials().get_frozen_credentials(), "monitoring", region).add_auth(req)
    prepared = req.prepare()
    hreq = urllib.request.Request(url, data=body, method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(hreq, timeout=30) as resp:
            status, headers, data = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, headers, data = exc.code, dict(exc.headers), exc.read()
    if raw:
        return status, headers, data
    return status, headers, cbor2.loads(data)


def cbor_pages(emu, session, params):
    """Every page of a GetMetricData over rpc-v2-cbor: (pages, results merged by Id)."""
    pages, merged, token = [], {}, None
    while True:
        status, headers, r = cbor_call(emu, session, dict(params, **({"NextToken": token} if token else {})))
        assert status == 200 and headers["smithy-protocol"] == "rpc-v2-cbor", r
        pages.append(r)
        for x in r["MetricDataResults"]:
            if x["Id"] in merged:
                merged[x["Id"]]["Timestamps"] += x["Timestamps"]
                merged[x["Id"]]["Values"] += x["Values"]
                merged[x["Id"]]["StatusCode"] = x["StatusCode"]
            else:
                merged[x["Id"]] = dict(x, Timestamps=list(x["Timestamps"]), Values=list(x["Values"]))
        token = r.get("NextToken")
        if not token:
            return pages, merged
        assert len(pages) < 200


def test_get_metric_data_cbor(emu):
    m = emu.member(PROD)
    now = dt.datetime.now(dt.timezone.utc)
    pages, res = cbor_pages(emu, m, {"MetricDataQueries": [
        _mdq("payments-prod", "numberOfFailedCheckpoints", "f0"),
        _mdq("payments-prod", "lastCheckpointDuration", "d0", period=3600),
        _mdq("ledger-prod", "numberOfFailedCheckpoints", "f1"),
        _mdq("no-such-app", "numberOfFailedCheckpoints", "f2")],
        "StartTime": now - dt.timedelta(hours=24), "EndTime": now})
    assert len(pages) > 1  # 24 h of 5-minute points do not fit the default 100-point page
    f0 = res["f0"]
    assert f0["StatusCode"] == "Complete" and f0["Label"] == "numberOfFailedCheckpoints"
    assert all(isinstance(t, dt.datetime) for t in f0["Timestamps"])  # tag 1 decodes to datetime
    assert f0["Timestamps"] == sorted(f0["Timestamps"], reverse=True)  # TimestampDescending
    assert f0["Values"][0] == 12.0 and min(f0["Values"]) == 0.0  # increased in the window
    assert max(res["d0"]["Values"]) >= 20000 and len(res["d0"]["Values"]) in (24, 25)
    assert set(res["f1"]["Values"]) == {0.0}
    assert res["f2"]["Values"] == [] and res["f2"]["Timestamps"] == []
    # ascending + a narrow window: only the newest points
    _, _, r = cbor_call(emu, m, {"MetricDataQueries": [_mdq("payments-prod", "numberOfFailedCheckpoints", "a", period=60)],
                                 "StartTime": now - dt.timedelta(minutes=30), "EndTime": now + dt.timedelta(minutes=1),
                                 "ScanBy": "TimestampAscending"})
    assert r["MetricDataResults"][0]["Values"] == [9.0, 12.0]
    # the same through boto3 (awsJson1_0 variant), its paginator following NextToken
    values = []
    for page in emu.client("cloudwatch", m).get_paginator("get_metric_data").paginate(
            MetricDataQueries=[_mdq("payments-prod", "numberOfFailedCheckpoints", "f0")],
            StartTime=now - dt.timedelta(hours=24), EndTime=now):
        values += page["MetricDataResults"][0]["Values"] if page["MetricDataResults"] else []
    assert values == f0["Values"]


def test_get_metric_data_pages_like_aws(emu):
    """At most page-size datapoints per answer (MaxDatapoints lowers it); a
    result cut short is PartialData and goes on, same Id, on the next page;
    the pages together are the unpaged answer; a foreign token is refused."""
    import metrics  # noqa: PLC0415

    assert emu.control("GET", "/_fleetscan/health")["metric_page_points"] == metrics.DEFAULT_PAGE_POINTS
    m = emu.member(PROD)
    now = dt.datetime.now(dt.timezone.utc)
    queries = [_mdq("payments-prod", n, f"q{i}") for i, n in enumerate(
        ["numberOfFailedCheckpoints", "lastCheckpointDuration", "lastCheckpointSize", "downtime", "fullRestarts"])]
    queries.insert(2, _mdq("no-such-app", "downtime", "empty"))
    params = {"MetricDataQueries": queries, "StartTime": now - dt.timedelta(hours=3), "EndTime": now,
              "ScanBy": "TimestampAscending", "MaxDatapoints": 7}
    pages, merged = cbor_pages(emu, m, params)
    sizes = [sum(len(x["Values"]) for x in p["MetricDataResults"]) for p in pages]
    assert len(pages) > 3 and all(n <= 7 for n in sizes) and all(n == 7 for n in sizes[:-1]), sizes
    for p in pages[:-1]:
        assert p["MetricDataResults"][-1]["StatusCode"] in ("PartialData", "Complete")
        assert all(x["StatusCode"] == "Complete" for x in p["MetricDataResults"][:-1])
    assert any(x["StatusCode"] == "PartialData" for p in pages for x in p["MetricDataResults"])
    assert set(merged) == {q["Id"] for q in queries} and merged["empty"]["Values"] == []
    assert all(x["StatusCode"] == "Complete" for x in merged.values())
    # the same series as one in-process answer that needs no paging
    apps = {n: {"metrics": a.get("metrics", {})} for n, a in emu_apps(PROD).items()}
    whole = metrics.get_metric_data(dict(params, MaxDatapoints=None), apps, now=pages_clock(pages), page_points=10 ** 6)
    assert "NextToken" not in whole
    for x in whole["MetricDataResults"]:
        assert [int(t.timestamp()) for t in merged[x["Id"]]["Timestamps"]] == x["Timestamps"], x["Id"]
        assert merged[x["Id"]]["Values"] == x["Values"], x["Id"]
    # a token is only good for the queries it was issued for
    token = pages[0]["NextToken"]
    status, _, err = cbor_call(emu, m, dict(params, MetricDataQueries=queries[:1], NextToken=token))
    assert status == 400 and err["__type"].endswith("#InvalidNextToken")


def emu_apps(account):
    """The integration fleet's apps of one account (us-east-1), as seeded."""
    sys.path.insert(0, HERE)
    import fleet as fleetmod  # noqa: PLC0415

    doc = fleetmod.normalise(fleetmod.load_fleet(os.path.join(FLEETS, "integration.json")))
    acct = next(a for a in doc["accounts"] if a["id"] == account)
    return {a["name"]: a for a in acct["applications"] if a.get("region", "us-east-1") == "us-east-1"}


def pages_clock(pages):
    """The request clock the emulator put in the first page's token."""
    return float(pages[0]["NextToken"].split(".")[0])


def test_get_metric_data_raw_cbor_wire(emu):
    """The exact bytes: tag-1 timestamps, float64 values, rpc-v2-cbor headers and errors."""
    m = emu.member(PROD)
    now = dt.datetime.now(dt.timezone.utc)
    status, headers, data = cbor_call(emu, m, {"MetricDataQueries": [_mdq("payments-prod", "downtime", "x")],
                                               "StartTime": now - dt.timedelta(hours=1), "EndTime": now}, raw=True)
    assert status == 200 and headers["Content-Type"] == "application/cbor"
    decoded = cbor2.loads(data)
    ts = decoded["MetricDataResults"][0]["Timestamps"][0]
    assert isinstance(ts, dt.datetime)
    assert b"\xc1\x1a" + int(ts.timestamp()).to_bytes(4, "big") in data  # tag 1 + uint32 epoch seconds
    assert data.count(b"\xfb") >= 1  # float64 values
    emu.faults({"throttle_rate": {"cloudwatch": 1.0}})
    status, headers, err = cbor_call(emu, m, {"MetricDataQueries": [], "StartTime": now, "EndTime": now})
    assert status == 400 and err["__type"].endswith("#Throttling")
    assert headers["x-amzn-query-error"] == "Throttling;Sender" and headers["x-amzn-RequestId"]


# ------------------------------------------------------------ faults


def test_fault_throttle_and_5xx_per_service(emu):
    m = emu.member(PROD)
    emu.faults({"seed": 3, "throttle_rate": {"kinesisanalyticsv2": 1.0}})
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("kinesisanalyticsv2", m).list_applications()
    assert ei.value.response["Error"]["Code"] == "ThrottlingException"
    assert ei.value.response["ResponseMetadata"]["RequestId"]
    emu.client("sts", m).get_caller_identity()  # other services unaffected
    s3 = emu.client("s3", m, config=botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    emu.faults({"throttle_rate": {"s3": 1.0, "iam": 1.0, "cloudwatch": 1.0, "organizations": 1.0}})
    for call, code in ((lambda: s3.get_bucket_policy(Bucket="payments-prod-code-111111111111"), "SlowDown"),
                       (lambda: emu.client("iam", m).get_role(RoleName="payments-flink-role"), "Throttling"),
                       (lambda: emu.client("organizations").list_roots(), "TooManyRequestsException"),
                       (lambda: emu.client("cloudwatch", m).get_metric_data(
                           MetricDataQueries=[_mdq("payments-prod", "downtime", "x")],
                           StartTime=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1),
                           EndTime=dt.datetime.now(dt.timezone.utc)), "Throttling")):
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            call()
        assert ei.value.response["Error"]["Code"] == code
    emu.faults({"error_5xx_rate": 1.0})
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("kms", m).list_keys()
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # partial rates with retries: the standard retry mode gets through, deterministically
    emu.faults({"seed": 11, "throttle_rate": 0.5})
    kda = emu.client("kinesisanalyticsv2", m, config=botocore.config.Config(retries={"max_attempts": 10, "mode": "standard"}))
    assert len(kda.list_applications()["ApplicationSummaries"]) == 3
    log = [r for r in emu.requests() if r.get("injected_fault") == "throttle"]
    assert log, "throttles must be logged"


def test_fault_latency(emu):
    m = emu.member(PROD)
    emu.faults({"latency_ms": {"kinesisanalyticsv2": 300}})
    kda = emu.client("kinesisanalyticsv2", m)
    t = time.monotonic()
    kda.list_applications()
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    emu.control("GET", "/_fleetscan/health")
    assert time.monotonic() - t < 0.3


def test_fault_assume_role_denied(emu):
    emu.faults({"assume_role_denied": [DEV]})
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.member(DEV)
    err = ei.value.response
    assert err["Error"]["Code"] == "AccessDenied" and err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["ResponseMetadata"]["RequestId"]
    emu.member(PROD)


def test_fault_disabled_region(emu):
    emu.faults({"disabled_regions": [{"account": PROD, "region": "eu-west-1"}]})
    eu = emu.member(PROD, "eu-west-1")  # STS itself is called in us-east-1 here
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("kinesisanalyticsv2", eu).list_applications()
    assert ei.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("cloudwatch", eu).get_metric_data(
            MetricDataQueries=[_mdq("x", "downtime", "x")],
            StartTime=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1), EndTime=dt.datetime.now(dt.timezone.utc))
    assert ei.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert emu.client("kinesisanalyticsv2", emu.member(PROD)).list_applications()["ApplicationSummaries"]
    assert emu.client("kinesisanalyticsv2", emu.member(DEV, "eu-west-1")).list_applications()["ApplicationSummaries"] == []


def test_fault_deny_operations_and_vanish(emu):
    m = emu.member(PROD)
    emu.faults({"deny_operations": [{"account": PROD, "service": "kms", "operation": "GetKeyPolicy"},
                                    {"service": "kinesisanalyticsv2", "operation": "ListApplicationOperations", "region": "us-east-1"}],
                "vanish_apps": [{"account": PROD, "region": "us-east-1", "application": "ledger-prod"}]})
    kda = emu.client("kinesisanalyticsv2", m)
    names = [a["ApplicationName"] for a in _paginate(kda.list_applications, "ApplicationSummaries")[0]]
    assert "ledger-prod" in names
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        kda.describe_application(ApplicationName="ledger-prod")
    assert ei.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        kda.list_application_operations(ApplicationName="payments-prod")
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        emu.client("kms", m).get_key_policy(KeyId="arn:aws:kms:us-east-1:111111111111:key/x", PolicyName="default")
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"
    dev = emu.member(DEV)
    app = emu.client("kinesisanalyticsv2", dev).describe_application(ApplicationName="payments-dev")["ApplicationDetail"]
    key = app["ApplicationConfigurationDescription"]["ApplicationEncryptionConfigurationDescription"]["KeyId"]
    assert emu.client("kms", dev).get_key_policy(KeyId=key, PolicyName="default")["Policy"]


def test_faults_never_touch_control_api(emu):
    emu.faults({"throttle_rate": 1.0, "error_5xx_rate": 1.0})
    assert emu.control("GET", "/_fleetscan/health")["status"] == "ok"
    assert isinstance(emu.requests(), list)


# ------------------------------------------------------------ request log and fleet apply


def test_request_log(emu):
    emu.control("POST", "/_fleetscan/requests/clear", {})
    m = emu.member(PROD)
    emu.client("kinesisanalyticsv2", m).list_applications()
    emu.faults({"throttle_rate": {"kinesisanalyticsv2": 1.0}})
    with pytest.raises(botocore.exceptions.ClientError):
        emu.client("kinesisanalyticsv2", m).describe_application(ApplicationName="payments-prod")
    log = emu.requests()
    ops = [(r["service"], r["operation"], r["account"], r["region"], r["status"]) for r in log]
    assert ops[0] == ("sts", "AssumeRole", MGMT, "us-east-1", 200)
    assert ("kinesisanalyticsv2", "ListApplications", PROD, "us-east-1", 200) in ops
    last = log[-1]
    assert last["operation"] == "DescribeApplication" and last["status"] == 400
    assert last["injected_fault"] == "throttle" and last["request_id"] and last["time"].endswith("Z")


def test_apply_fleet(emu, tmp_path):
    with open(os.path.join(FLEETS, "integration.json")) as fh:
        doc = json.load(fh)
    prod = next(a for a in doc["accounts"] if a.get("id") == PROD)
    prod["applications"].append({"name": "zeta-prod", "region": "us-east-1", "runtime": "FLINK-1_20"})
    pol = next(p for p in doc["organization"]["policies"] if p["name"] == "ProdRegionGuard")
    pol["document"]["Statement"][0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] = ["us-east-1"]
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc))
    try:
        emu.control("POST", "/_fleetscan/fleet", {"path": str(path)})
        kda = emu.client("kinesisanalyticsv2", emu.member(PROD))
        names = [a["ApplicationName"] for a in _paginate(kda.list_applications, "ApplicationSummaries")[0]]
        assert "zeta-prod" in names
        org = emu.client("organizations")
        pid = next(p["Id"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if p["Name"] == "ProdRegionGuard")
        content = json.loads(org.describe_policy(PolicyId=pid)["Policy"]["Content"])
        assert content["Statement"][0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == ["us-east-1"]
        # ids are stable across re-seeding
        assert org.list_roots()["Roots"][0]["Id"] == "r-in01"
    finally:
        emu.control("POST", "/_fleetscan/fleet", {"path": os.path.join(FLEETS, "integration.json")})


def test_demo_fleet_seeds():
    """The demo fleet loads and seeds (in-process, no server)."""
    sys.path.insert(0, HERE)
    import fleet as fleetmod  # noqa: PLC0415

    res = fleetmod.seed(fleetmod.load_fleet(os.path.join(FLEETS, "demo.json")))
    assert sum(len(v) for v in res.apps.values()) >= 6
    assert len(res.account_status) >= 24


def test_fleet_refuses_detachments_aws_refuses():
    """A fleet cannot describe an organization AWS would not allow: an entity
    without any SCP, or RCPFullAWSAccess detached."""
    sys.path.insert(0, HERE)
    import fleet as fleetmod  # noqa: PLC0415

    def fleet_with(detach, policies=()):
        raw = fleetmod.load_fleet(os.path.join(FLEETS, "integration.json"))
        raw["organization"]["policies"] = [*raw["organization"]["policies"], *policies]
        raw["organization"]["detach"] = detach
        return raw

    with pytest.raises(fleetmod.FleetError, match="last SCP on 'security-audit'"):
        fleetmod.seed(fleet_with([{"policy": "FullAWSAccess", "target": "security-audit"}]))
    with pytest.raises(fleetmod.FleetError, match="RCPFullAWSAccess cannot be detached"):
        fleetmod.seed(fleet_with([{"policy": "RCPFullAWSAccess", "target": "security-audit"}]))
    replacement = {"name": "AuditAllowList", "type": "SCP", "targets": ["security-audit"],
                   "document": {"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}
    fleetmod.seed(fleet_with([{"policy": "FullAWSAccess", "target": "security-audit"}], [replacement]))


# ------------------------------------------------------------ session expiry, issued credentials, malformed policies


def test_short_sessions_expire_and_are_listed(emu):
    emu.faults({"session_ttl_secs": 1.5})
    c = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole",
        RoleSessionName="fleetscan-test")["Credentials"]
    left = (c["Expiration"] - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 0 < left <= 2, left
    issued = {x["AccessKeyId"]: x for x in emu.control("GET", "/_fleetscan/credentials")}
    assert issued[c["AccessKeyId"]]["SecretAccessKey"] == c["SecretAccessKey"]
    assert issued[c["AccessKeyId"]]["SessionToken"] == c["SessionToken"]
    assert issued[c["AccessKeyId"]]["account"] == PROD
    m = emu.session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert emu.client("sts", m).get_caller_identity()["Account"] == PROD
    time.sleep(1.6)
    for service, call, code in (("sts", lambda cl: cl.get_caller_identity(), "ExpiredToken"),
                                ("kinesisanalyticsv2", lambda cl: cl.list_applications(), "ExpiredTokenException")):
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            call(emu.client(service, m))
        assert ei.value.response["Error"]["Code"] == code
    assert any(r.get("injected_fault") == "expired_token" for r in emu.requests())


def test_malformed_inline_policy(emu):
    emu.faults({"malformed_policies": [{"account": PROD, "role": "payments-flink-role", "policy": "kinesis-io",
                                        "text": "{\"Statement\": [</script>"}]})
    iam = emu.client("iam", emu.member(PROD))
    doc = iam.get_role_policy(RoleName="payments-flink-role", PolicyName="kinesis-io")["PolicyDocument"]
    # URL-encoded as AWS does; boto3 decodes only text that then parses as JSON.
    assert urllib.parse.unquote(doc) == "{\"Statement\": [</script>"
    assert any(r.get("injected_fault") == "malformed_policy" for r in emu.requests())
