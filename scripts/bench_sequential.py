#!/usr/bin/env python3
"""The hand-written script fleetscan replaces: the same collection, one call at a time.

Walks the Organization (tree top-down, SCPs and RCPs by policy), then for every
member account: AssumeRole; per region ListApplications, then per app
DescribeApplication, ListApplicationSnapshots, ListApplicationOperations
(DescribeApplicationOperation for FAILED ones), ListTagsForResource; one
GetMetricData per account × region for all its apps; IAM: each execution role
(GetRole, ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy) and each
distinct managed policy once (GetPolicy, GetPolicyVersion); resource policies
(KMS DescribeKey + GetKeyPolicy, S3 GetBucketPolicy, Kinesis GetResourcePolicy).
Strictly sequential; boto3's standard retries.

    AWS_ENDPOINT_URL=http://127.0.0.1:PORT python scripts/bench_sequential.py \
        --regions us-east-1,eu-west-1 --role OrganizationAccountAccessRole

Prints one JSON line: {"wall_s", "calls", "accounts", "apps", "errors"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

METRICS = ["numberOfFailedCheckpoints", "lastCheckpointDuration", "lastCheckpointSize", "downtime", "fullRestarts"]
CALLS: Counter = Counter()
ERRORS: Counter = Counter()
BOTO = Config(retries={"mode": "standard", "max_attempts": 5}, s3={"addressing_style": "path"})


def call(client, op: str, **kwargs):
    CALLS[f"{client.meta.service_model.signing_name}:{op}"] += 1
    return getattr(client, _snake(op))(**kwargs)


def _snake(op: str) -> str:
    out = ""
    for i, c in enumerate(op):
        if c.isupper() and i:
            out += "_"
        out += c.lower()
    return out


def pages(client, op: str, key: str, token_in="NextToken", token_out="NextToken", **kwargs):
    token = None
    while True:
        args = dict(kwargs)
        if token:
            args[token_in] = token
        page = call(client, op, **args)
        yield from page.get(key, [])
        token = page.get(token_out)
        if not token:
            return


def org_walk(session) -> list[dict]:
    org = session.client("organizations", region_name="us-east-1", config=BOTO)
    call(org, "DescribeOrganization")
    root = call(org, "ListRoots")["Roots"][0]["Id"]
    accounts, parents = [], [root]
    while parents:
        parent = parents.pop()
        for ou in pages(org, "ListOrganizationalUnitsForParent", "OrganizationalUnits", ParentId=parent):
            parents.append(ou["Id"])
        accounts.extend(pages(org, "ListAccountsForParent", "Accounts", ParentId=parent))
    for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        for policy in pages(org, "ListPolicies", "Policies", Filter=kind):
            call(org, "DescribePolicy", PolicyId=policy["Id"])
            list(pages(org, "ListTargetsForPolicy", "Targets", PolicyId=policy["Id"]))
    return accounts


def scan_account(base, account: dict, regions: list[str], role: str, start: datetime, end: datetime) -> int:
    sts = base.client("sts", region_name="us-east-1", config=BOTO)
    creds = call(sts, "AssumeRole", RoleArn=f"arn:aws:iam::{account['Id']}:role/{role}",
                 RoleSessionName="sequential")["Credentials"]
    s = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    roles, keys, buckets, streams, apps_seen = set(), set(), set(), set(), 0
    for region in regions:
        flink = s.client("kinesisanalyticsv2", region_name=region, config=BOTO)
        names = [a["ApplicationName"] for a in pages(flink, "ListApplications", "ApplicationSummaries", Limit=50)]
        for name in names:
            apps_seen += 1
            detail = call(flink, "DescribeApplication", ApplicationName=name)["ApplicationDetail"]
            list(pages(flink, "ListApplicationSnapshots", "SnapshotSummaries", ApplicationName=name, Limit=50))
            for op in pages(flink, "ListApplicationOperations", "ApplicationOperationInfoList", ApplicationName=name, Limit=50):
                if op.get("OperationStatus") == "FAILED":
                    call(flink, "DescribeApplicationOperation", ApplicationName=name, OperationId=op["OperationId"])
            call(flink, "ListTagsForResource", ResourceARN=detail["ApplicationARN"])
            if detail.get("ServiceExecutionRole"):
                roles.add(detail["ServiceExecutionRole"])
            conf = detail.get("ApplicationConfigurationDescription", {})
            enc = conf.get("ApplicationEncryptionConfigurationDescription", {})
            if enc.get("KeyType") == "CUSTOMER_MANAGED_KEY" and enc.get("KeyId"):
                keys.add((region, enc["KeyId"]))
            loc = conf.get("ApplicationCodeConfigurationDescription", {}).get("CodeContentDescription", {}) \
                .get("S3ApplicationCodeLocationDescription")
            if loc:
                buckets.add((region, loc["BucketARN"].split(":::", 1)[1]))
            for group in conf.get("EnvironmentPropertyDescriptions", {}).get("PropertyGroupDescriptions", []):
                for value in group.get("PropertyMap", {}).values():
                    if value.startswith("arn:aws:kinesis:") and ":stream/" in value:
                        streams.add(value)
        if names:
            cw = s.client("cloudwatch", region_name=region, config=BOTO)
            queries = [{"Id": f"m{i}_{j}", "MetricStat": {"Metric": {"Namespace": "AWS/KinesisAnalytics", "MetricName": m,
                        "Dimensions": [{"Name": "Application", "Value": n}]}, "Period": 300, "Stat": "Maximum"}}
                       for i, n in enumerate(names) for j, m in enumerate(METRICS)]
            call(cw, "GetMetricData", MetricDataQueries=queries, StartTime=start, EndTime=end)

    iam = s.client("iam", region_name="us-east-1", config=BOTO)
    policies = set()
    for arn in sorted(roles):
        name = arn.rsplit("/", 1)[1]
        r = call(iam, "GetRole", RoleName=name)["Role"]
        if r.get("PermissionsBoundary"):
            policies.add(r["PermissionsBoundary"]["PermissionsBoundaryArn"])
        for p in pages(iam, "ListAttachedRolePolicies", "AttachedPolicies", token_in="Marker", token_out="Marker", RoleName=name):
            policies.add(p["PolicyArn"])
        for pn in pages(iam, "ListRolePolicies", "PolicyNames", token_in="Marker", token_out="Marker", RoleName=name):
            call(iam, "GetRolePolicy", RoleName=name, PolicyName=pn)
    for arn in sorted(policies):
        version = call(iam, "GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"]
        call(iam, "GetPolicyVersion", PolicyArn=arn, VersionId=version)
    for region, key in sorted(keys):
        kms = s.client("kms", region_name=region, config=BOTO)
        arn = call(kms, "DescribeKey", KeyId=key)["KeyMetadata"]["Arn"]
        call(kms, "GetKeyPolicy", KeyId=arn, PolicyName="default")
    for region, bucket in sorted(buckets):
        s3 = s.client("s3", region_name=region, config=BOTO)
        try:
            call(s3, "GetBucketPolicy", Bucket=bucket)
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucketPolicy":
                raise
    for arn in sorted(streams):
        kinesis = s.client("kinesis", region_name=arn.split(":")[3], config=BOTO)
        call(kinesis, "GetResourcePolicy", ResourceARN=arn)
    return apps_seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regions", required=True)
    ap.add_argument("--role", default="OrganizationAccountAccessRole")
    args = ap.parse_args()
    regions = [r for r in args.regions.split(",") if r]
    started = time.monotonic()
    base = boto3.Session()
    me = call(base.client("sts", region_name="us-east-1", config=BOTO), "GetCallerIdentity")["Account"]
    accounts = org_walk(base)
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(hours=24)
    apps = 0
    for account in accounts:
        if account["Id"] == me or account.get("Status") != "ACTIVE":
            continue
        try:
            apps += scan_account(base, account, regions, args.role, start, end)
        except ClientError as err:
            ERRORS[err.response["Error"]["Code"]] += 1
            print(f"account {account['Id']}: {err}", file=sys.stderr)
    wall = time.monotonic() - started
    print(json.dumps({"wall_s": round(wall, 2), "calls": dict(sorted(CALLS.items())), "total_calls": sum(CALLS.values()),
                      "accounts": len(accounts), "apps": apps, "errors": dict(ERRORS)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
