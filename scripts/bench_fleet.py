"""Fleet of the emulator benchmark (a generator for tests/emulator/fleetemu.py).

300 accounts in 30 OUs, 3 regions, one Flink application per account, each
with an execution role (customer managed + AWS managed + inline policy, a
boundary on every other one), a code bucket, an input stream, metrics, and a
customer managed KMS key on every fourth app. Sizes from the environment:
BENCH_ACCOUNTS (300), BENCH_OUS (30), BENCH_REGIONS (us-east-1,eu-west-1,ap-southeast-2).
"""

from __future__ import annotations

import os

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "300"))
OUS = int(os.environ.get("BENCH_OUS", "30"))
REGIONS = [r.strip() for r in os.environ.get("BENCH_REGIONS", "us-east-1,eu-west-1,ap-southeast-2").split(",") if r.strip()]
FAMILIES = ["orders", "payments", "clickstream", "fraud", "inventory", "search", "ledger", "alerts"]
ENVS = ["Prod", "Dev", "Stage"]


def ou_paths(n: int) -> list[tuple[str, dict]]:
    """n OUs: Root/Workloads/{Prod,Dev,Stage}/Team-NN, plus Infrastructure, Security, Sandbox."""
    fixed = ["Infrastructure", "Security", "Sandbox"]
    teams = max(n - len(fixed) - 1 - len(ENVS), 0)
    envs = {e: [] for e in ENVS}
    for t in range(teams):
        envs[ENVS[t % len(ENVS)]].append(f"Team-{t + 1:02d}")
    tree = [{"name": "Workloads", "ous": [{"name": e, "ous": [{"name": t} for t in envs[e]]} for e in ENVS]}]
    tree += [{"name": f} for f in fixed]
    leaves = [f"Root/Workloads/{e}/{t}" for e in ENVS for t in envs[e]] or ["Root/Sandbox"]
    return tree, leaves


def build() -> dict:
    tree, leaves = ou_paths(OUS)
    accounts = []
    for i in range(1, ACCOUNTS + 1):
        ou = leaves[i % len(leaves)] if i % 25 else "Root/Infrastructure"
        env = ou.split("/")[2].lower() if ou.startswith("Root/Workloads/") else "infra"
        family = FAMILIES[i % len(FAMILIES)]
        name = f"{family}-{i:04d}-{env}"
        region = REGIONS[i % len(REGIONS)]
        acct = f"{500000000000 + i:012d}"
        bucket = f"flink-code-{acct}-{region}"
        stream = f"{name}-in"
        cmk = i % 4 == 1
        app = {
            "name": name,
            "region": region,
            "runtime": ["FLINK-1_18", "FLINK-1_19", "FLINK-1_15", "FLINK-1_20"][i % 4],
            "status": "RUNNING",
            "execution_role": f"flink-{name}",
            "code": {"bucket": bucket, "key": f"{name}/app.jar"},
            "checkpoint": {"type": "CUSTOM", "enabled": i % 9 != 3, "interval_ms": 60000, "min_pause_ms": 5000},
            "snapshots_enabled": i % 11 != 4,
            "property_groups": {"FlinkApplicationProperties": {
                "input.stream.arn": f"arn:aws:kinesis:{region}:${{account_id}}:stream/{stream}"}},
            "tags": {"team": f"team-{i % 30}"},
            "snapshots": [{"name": f"{name}-s{j}", "status": "READY", "created_hours_ago": 6 + 24 * j} for j in range(3)],
            "operations": [
                {"operation": "UpdateApplication", "status": "FAILED" if i % 10 == 0 else "SUCCESSFUL",
                 "start_hours_ago": 2, "duration_minutes": 3,
                 **({"error": "CheckpointException: checkpoint declined"} if i % 10 == 0 else {})},
                {"operation": "StartApplication", "status": "SUCCESSFUL", "start_hours_ago": 30, "duration_minutes": 2},
            ],
            "metrics": {
                "numberOfFailedCheckpoints": [[1440, 0], [60, 3 if i % 10 == 0 else 0], [1, 5 if i % 10 == 0 else 0]],
                "lastCheckpointDuration": {"every": 5, "from": 1435, "to": 0, "start": 800, "end": 1500 + 10 * (i % 50)},
                "lastCheckpointSize": {"every": 5, "from": 1435, "to": 0, "value": 50_000_000},
                "downtime": [[60, 0]],
                "fullRestarts": [[60, i % 3]],
            },
        }
        if cmk:
            app["encryption"] = {"type": "CUSTOMER_MANAGED_KEY", "key": f"{name}-state"}
        role = {
            "name": f"flink-{name}",
            "path": "/service-role/",
            "managed_policies": ["flink-common", "arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess"],
            "inline_policies": {"app-access": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"arn:aws:s3:::{bucket}/*"},
                {"Effect": "Allow", "Action": ["kinesis:*"], "Resource": f"arn:aws:kinesis:{region}:{acct}:stream/{stream}"},
            ]}},
        }
        if i % 2 == 0:
            role["permissions_boundary"] = "flink-boundary"
        account = {
            "id": acct,
            "name": f"acct-{i:04d}-{env}",
            "ou": ou,
            "tags": {"env": env},
            "iam": {
                "policies": [
                    {"name": "flink-common", "document": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"], "Resource": "*"}]}},
                    {"name": "flink-boundary", "document": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": ["s3:*", "logs:*", "kinesis:*", "kms:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]}},
                ],
                "roles": [role],
            },
            "s3_buckets": [{"name": bucket, "region": region, "objects": [f"{name}/app.jar"],
                            **({"policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}} if i % 3 else {})}],
            "kinesis_streams": [{"name": stream, "region": region, "shards": 1}],
            "applications": [app],
        }
        if cmk:
            account["kms_keys"] = [{"name": f"{name}-state", "region": region}]
        accounts.append(account)
    return {
        "settings": {"seed": 7},
        "organization": {
            "id": "o-bench000001",
            "root_id": "r-be01",
            "management_account": {"id": "123456789012", "name": "management"},
            "ous": tree,
            "policies": [
                {"name": "DenyLeave", "type": "SCP", "targets": ["Root"], "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}},
                {"name": "RegionGuard", "type": "SCP", "targets": ["Root/Workloads"], "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
                     "Condition": {"StringNotEquals": {"aws:RequestedRegion": REGIONS}}}]}},
                {"name": "DevNoProdStreams", "type": "SCP", "targets": ["Root/Workloads/Dev"], "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*:*:stream/*-prod-in"}]}},
                {"name": "OrgPerimeter", "type": "RCP", "targets": ["Root"], "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": ["s3:*", "kms:*"], "Resource": "*",
                     "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-bench000001"},
                                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}},
            ],
        },
        "accounts": accounts,
    }
