"""Fleet loading and seeding for the fleetscan emulator.

A fleet is plain data (JSON, or a Python generator exposing ``build()``) that
describes an AWS Organization and what lives in its accounts.  The schema is
documented in ``tests/fleets/README.md``.  Seeding talks to moto's backends
in-process (never over HTTP), so it never shows up in the request log.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import time
import uuid
from typing import Any, Callable

import alarms as alarmsmod
import health as healthmod

MANAGEMENT_ACCOUNT_ID = "123456789012"
DEFAULT_AUDIT_ROLE = "OrganizationAccountAccessRole"
DEFAULT_ORG_ID = "o-fleetscan01"
DEFAULT_ROOT_ID = "r-f1ee"
ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

KEY_NAMESPACE = uuid.UUID("6f1c2d0e-6a53-4d8e-9d0b-5e0f1ee75ca1")


class FleetError(Exception):
    pass


# ---------------------------------------------------------------- loading


def load_fleet(path: str) -> dict[str, Any]:
    """Load a fleet from a .json file or a .py generator (``build()`` or ``FLEET``)."""
    if path.endswith(".py"):
        spec = importlib.util.spec_from_file_location("fleet_generator", path)
        if spec is None or spec.loader is None:
            raise FleetError(f"cannot import fleet generator {path}")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if hasattr(mod, "build"):
            return mod.build()
        if hasattr(mod, "FLEET"):
            return copy.deepcopy(mod.FLEET)
        raise FleetError(f"{path}: a generator must define build() or FLEET")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _short_id(seed: str, n: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ID_CHARS[b % len(ID_CHARS)] for b in digest[:n])


def _subst(obj: Any, ctx: dict[str, str]) -> Any:
    """Replace ${token} placeholders in every string of obj."""
    if isinstance(obj, str):
        def rep(m: re.Match) -> str:
            key = m.group(1)
            if key in ctx:
                return ctx[key]
            return m.group(0)
        return re.sub(r"\$\{([A-Za-z0-9_:.\-/]+)\}", rep, obj)
    if isinstance(obj, list):
        return [_subst(x, ctx) for x in obj]
    if isinstance(obj, dict):
        return {k: _subst(v, ctx) for k, v in obj.items()}
    return obj


def _expand(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expand entries carrying ``count`` into that many copies.

    In each copy, ``{i}`` / ``{i:02d}`` in strings is formatted with the index
    (starting at ``start``, default 1) and ``id_start`` (a 12-digit id) is
    incremented per copy into ``id``.
    """
    out: list[dict[str, Any]] = []
    for item in items:
        if "count" not in item:
            out.append(item)
            continue
        tmpl = {k: v for k, v in item.items() if k not in ("count", "start", "id_start")}
        start = int(item.get("start", 1))
        for n in range(int(item["count"])):
            i = start + n

            def fmt(o: Any) -> Any:
                if isinstance(o, str):
                    return re.sub(r"\{i(:[^}]*)?\}", lambda m: format(i, (m.group(1) or ":")[1:]), o)
                if isinstance(o, list):
                    return [fmt(x) for x in o]
                if isinstance(o, dict):
                    return {k: fmt(v) for k, v in o.items()}
                return o

            clone = fmt(copy.deepcopy(tmpl))
            if "id_start" in item:
                clone["id"] = f"{int(item['id_start']) + n:012d}"
            out.append(clone)
    return out


def _doc(value: Any) -> str:
    """A policy document given as an object or a string → JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2)


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Expand templates, fill defaults and substitute placeholders."""
    fleet = copy.deepcopy(raw)
    org = fleet.setdefault("organization", {})
    org.setdefault("id", DEFAULT_ORG_ID)
    org.setdefault("root_id", DEFAULT_ROOT_ID)
    mgmt = org.setdefault("management_account", {})
    mgmt.setdefault("id", MANAGEMENT_ACCOUNT_ID)
    mgmt.setdefault("name", "management")
    mgmt.setdefault("email", "management@example.com")
    org.setdefault("audit_role_name", DEFAULT_AUDIT_ROLE)
    org.setdefault("ous", [])
    org.setdefault("policies", [])
    fleet.setdefault("settings", {})

    accounts = _expand(fleet.get("accounts", []))
    # The management account may carry resources too: it is listed like others.
    names: dict[str, str] = {}
    seen: set[str] = set()
    for acct in accounts:
        if "id" not in acct or not re.fullmatch(r"\d{12}", str(acct["id"])):
            raise FleetError(f"account {acct.get('name')!r}: id must be 12 digits")
        if acct["id"] in seen:
            raise FleetError(f"duplicate account id {acct['id']}")
        seen.add(acct["id"])
        acct.setdefault("name", f"account-{acct['id']}")
        names[acct["name"]] = acct["id"]
    names.setdefault(mgmt["name"], mgmt["id"])

    base_ctx = {
        "org_id": org["id"],
        "root_id": org["root_id"],
        "management_account_id": mgmt["id"],
    }
    for n, i in names.items():
        base_ctx[f"account:{n}"] = i

    fleet["organization"] = _subst(org, base_ctx)
    if "health" in fleet:
        fleet["health"] = _subst(fleet["health"], base_ctx)
    out_accounts = []
    for acct in accounts:
        ctx = dict(base_ctx, account_id=acct["id"], account_name=acct["name"])
        a = {}
        for k, v in acct.items():
            if k in ("kms_keys", "s3_buckets", "kinesis_streams", "applications", "log_groups"):
                items = []
                for item in _expand(v):
                    rctx = dict(ctx)
                    if "region" in item:
                        rctx["region"] = item["region"]
                    items.append(_subst(item, rctx))
                a[k] = items
            elif k == "iam":
                iam = dict(v)
                iam["roles"] = _subst(_expand(v.get("roles", [])), ctx)
                iam["policies"] = _subst(_expand(v.get("policies", [])), ctx)
                a[k] = iam
            else:
                a[k] = _subst(v, ctx)
        out_accounts.append(a)
    fleet["accounts"] = out_accounts
    fleet["_names"] = names
    return fleet


# ---------------------------------------------------------------- seeding


class SeedResult:
    """What the middleware needs after seeding: the Flink store and indexes."""

    def __init__(self) -> None:
        self.apps: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        # CloudWatch metric alarms per (account, region): see alarms.py.
        self.alarms: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # AWS Health organizational view: see health.py.
        self.health_mode = "ok"
        self.health_events: list[dict[str, Any]] = []
        self.account_status: dict[str, str] = {}
        self.anchor = time.time()
        self.page_size = 50
        self.metric_page_points = 100  # see metrics.DEFAULT_PAGE_POINTS
        self.org_id = DEFAULT_ORG_ID


def _aws_managed_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    global _AWS_MANAGED
    try:
        return _AWS_MANAGED  # type: ignore[name-defined]
    except NameError:
        _AWS_MANAGED = json.loads(aws_managed_policies_data)
        return _AWS_MANAGED


def _ensure_aws_managed(iam: Any, arn: str, fleet: dict[str, Any]) -> None:
    from moto.iam.models import AWSManagedPolicy

    if arn in iam.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    extra = fleet.get("aws_managed_policies", {})
    if name in extra:
        data = dict(extra[name])
        data.setdefault("Path", "/")
        data.setdefault("DefaultVersionId", "v1")
        data.setdefault("CreateDate", "2020-01-01T00:00:00+00:00")
        data.setdefault("UpdateDate", "2020-01-01T00:00:00+00:00")
        if "document" in data:
            data["Document"] = data.pop("document")
    else:
        data = _aws_managed_data().get(name)
        if data is None:
            raise FleetError(
                f"AWS managed policy {arn} is unknown to moto; declare it under "
                f"top-level 'aws_managed_policies' with a document"
            )
    pol = AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, data)
    iam.aws_managed_policies.append(pol)
    iam.managed_policies[pol.arn] = pol


def _policy_arn(acct_id: str, ref: str, iam_policies: dict[str, str]) -> str:
    if ref.startswith("arn:"):
        return ref
    if ref in iam_policies:
        return iam_policies[ref]
    return f"arn:aws:iam::{acct_id}:policy/{ref}"


def _role_arn(acct_id: str, ref: str) -> str:
    if ref.startswith("arn:"):
        return ref
    return f"arn:aws:iam::{acct_id}:role/{ref}"


def reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend
    from moto.organizations.models import organizations_backends

    moto_api_backend.reset()
    organizations_backends.master_accounts.clear()


def seed(fleet_raw: dict[str, Any], page_size: int | None = None,
         metric_page_points: int | None = None) -> SeedResult:
    """Reset moto and seed it with the fleet.  Returns the Flink store."""
    import metrics
    from moto.moto_api._internal import mock_random

    fleet = normalise(fleet_raw)
    reset_moto()
    mock_random.seed(int(fleet["settings"].get("seed", 1)))
    res = SeedResult()
    res.page_size = int(page_size or fleet["settings"].get("page_size", 50))
    res.metric_page_points = int(metric_page_points or fleet["settings"].get("metric_page_points", metrics.DEFAULT_PAGE_POINTS))
    if res.page_size < 1 or res.metric_page_points < 1:
        raise FleetError("settings: page_size and metric_page_points must be at least 1")
    res.org_id = fleet["organization"]["id"]
    _seed_org(fleet, res)
    for acct in fleet["accounts"]:
        _seed_account(fleet, acct, res)
    health = fleet.get("health") or {}
    res.health_mode = health.get("mode", "ok")
    if res.health_mode not in ("ok", "not-subscribed", "org-view-disabled"):
        raise FleetError(f"health.mode {res.health_mode!r} is not ok, not-subscribed or org-view-disabled")
    res.health_events = healthmod.events_of(health, res.anchor)
    return res


def _seed_org(fleet: dict[str, Any], res: SeedResult) -> None:
    from moto.organizations import utils as org_utils
    from moto.organizations.models import FakeRoot, organizations_backends

    org = fleet["organization"]
    mgmt = org["management_account"]
    be = organizations_backends[mgmt["id"]]["aws"]
    be.create_organization(region="us-east-1", FeatureSet=org.get("feature_set", "ALL"))
    # Deterministic organisation and root ids (moto picks random ones).
    old_root = be.org.root_id
    be.org.id = org["id"]
    be.org.root_id = org["root_id"]
    be.org.master_account_email = mgmt["email"]
    be.org.available_policy_types = [
        {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
        {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"},
    ]
    root = next(ou for ou in be.ou if isinstance(ou, FakeRoot))
    root.id = org["root_id"]
    root.organization_id = org["id"]
    for p in be.policies:
        p.organization_id = org["id"]
        if p.aws_managed:
            # AWS managed policies live outside the org: PolicyArn's pattern in the
            # Organizations model is arn:aws:organizations::aws:policy/<type>/p-<id>.
            p._arn_format = "arn:{0}:organizations::aws:policy/" + p.type.lower() + "/{3}"
    for a in be.accounts:
        a.organization_id = org["id"]
        if a.parent_id == old_root:
            a.parent_id = org["root_id"]
        if a.id == mgmt["id"]:
            a.name = mgmt["name"]
            a.email = mgmt["email"]
            a.tags = dict(mgmt.get("tags", {}))
    root.tags = dict(org.get("root_tags", {}))
    for ptype in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        if not any(t["Type"] == ptype for t in root.policy_types):
            root.policy_types.append({"Type": ptype, "Status": "ENABLED"})

    targets: dict[str, str] = {"Root": root.id, root.id: root.id}
    suffix = root.id.partition("-")[2]

    def make_ous(parent_path: str, parent_id: str, ous: list[dict[str, Any]]) -> None:
        for spec in ous:
            path = f"{parent_path}/{spec['name']}"
            be.create_organizational_unit(Name=spec["name"], ParentId=parent_id,
                                          Tags=[{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()])
            ou = be.ou[-1]
            ou.id = spec.get("id") or f"ou-{suffix}-{_short_id(path, 8)}"
            ou.organization_id = org["id"]
            targets[path] = ou.id
            targets[ou.id] = ou.id
            make_ous(path, ou.id, spec.get("ous", []))

    make_ous("Root", root.id, org["ous"])
    res.ou_paths = {v: k for k, v in targets.items() if k.startswith("Root")}  # type: ignore[attr-defined]

    real_make_id = org_utils.make_random_account_id
    try:
        for acct in fleet["accounts"]:
            if acct["id"] == mgmt["id"]:
                continue
            org_utils.make_random_account_id = lambda _id=acct["id"]: _id  # type: ignore[assignment]
            role_name = acct.get("audit_role_name", org["audit_role_name"])
            kwargs: dict[str, Any] = dict(
                AccountName=acct["name"],
                Email=acct.get("email", f"{acct['name']}@example.com"),
                Tags=[{"Key": k, "Value": v} for k, v in acct.get("tags", {}).items()],
                RoleName=role_name,
            )
            be.create_account(**kwargs)
            fa = be.accounts[-1]
            assert fa.id == acct["id"]
            fa.organization_id = org["id"]
            ou_path = acct.get("ou", "Root")
            if ou_path not in targets:
                raise FleetError(f"account {acct['name']}: unknown OU path {ou_path!r}")
            fa.parent_id = targets[ou_path]
            status = acct.get("status", "ACTIVE")
            fa.status = status
            fa.state = status
            if acct.get("joined_days_ago") is not None:
                from datetime import timedelta
                fa.create_time = fa.create_time - timedelta(days=float(acct["joined_days_ago"]))
            res.account_status[acct["id"]] = status
            if acct.get("audit_role") is False:
                from moto.iam.models import iam_backends
                iam_backends[acct["id"]]["global"].roles.clear()
            targets[acct["id"]] = acct["id"]
            targets[acct["name"]] = acct["id"]
    finally:
        org_utils.make_random_account_id = real_make_id
    res.account_status[mgmt["id"]] = "ACTIVE"
    targets[mgmt["id"]] = mgmt["id"]
    targets[mgmt["name"]] = mgmt["id"]

    def target_id(ref: str) -> str:
        if ref not in targets:
            raise FleetError(f"unknown policy target {ref!r} (use an OU path like Root/A/B, an account id or name)")
        return targets[ref]

    for spec in org["policies"]:
        ptype = {"SCP": "SERVICE_CONTROL_POLICY", "RCP": "RESOURCE_CONTROL_POLICY"}.get(spec.get("type", "SCP"), spec.get("type"))
        out = be.create_policy(
            Name=spec["name"], Description=spec.get("description", spec["name"]), Type=ptype,
            Content=_doc(spec["document"]),
            Tags=[{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()],
        )
        pol = be.policies[-1]
        # 10 characters: the model's PolicyArn pattern wants p-[0-9a-z]{10,32}.
        pol.id = spec.get("id") or f"p-{_short_id(ptype + spec['name'], 10)}"
        pol.organization_id = org["id"]
        del out
        for t in spec.get("targets", []):
            be.attach_policy(PolicyId=pol.id, TargetId=target_id(t))
    for det in org.get("detach", []):
        pid = {"FullAWSAccess": org_utils.DEFAULT_SCP_POLICY_ID,
               "RCPFullAWSAccess": org_utils.DEFAULT_RCP_POLICY_ID}.get(det["policy"])
        if pid is None:
            pid = next((p.id for p in be.policies if p.name == det["policy"]), None)
        if pid is None:
            raise FleetError(f"detach: unknown policy {det['policy']!r}")
        _check_detach_allowed(be, pid, det, target_id(det["target"]))
        be.detach_policy(PolicyId=pid, TargetId=target_id(det["target"]))


def _check_detach_allowed(be: Any, policy_id: str, det: dict[str, Any], target: str) -> None:
    """Refuses the detachments AWS refuses (moto does not): RCPFullAWSAccess
    cannot be detached, and every root, OU and account keeps at least one SCP."""
    from moto.organizations import utils as org_utils

    if policy_id == org_utils.DEFAULT_RCP_POLICY_ID:
        raise FleetError("detach: RCPFullAWSAccess cannot be detached (AWS refuses it)")
    policy = be.get_policy_by_id(policy_id)
    if policy.type != "SERVICE_CONTROL_POLICY":
        return
    holders = [e for e in [*be.ou, *be.accounts] if e.id == target]
    remaining = [p for h in holders for p in h.attached_policies
                 if p.type == "SERVICE_CONTROL_POLICY" and p.id != policy_id]
    if not remaining:
        raise FleetError(f"detach: {det['policy']} is the last SCP on {det['target']!r}; "
                         "AWS requires at least one SCP on every root, OU and account, "
                         "so attach the replacement first")


def _seed_account(fleet: dict[str, Any], acct: dict[str, Any], res: SeedResult) -> None:
    from moto.iam.models import iam_backends
    from moto.kinesis.models import kinesis_backends
    from moto.kms.models import kms_backends
    from moto.logs.models import logs_backends
    from moto.s3.models import s3_backends

    aid = acct["id"]
    iam = iam_backends[aid]["global"]
    iam_spec = acct.get("iam", {})
    pol_arns: dict[str, str] = {}
    for p in iam_spec.get("policies", []):
        path = p.get("path", "/")
        mp = iam.create_policy(description=p.get("description", ""), path=path,
                               policy_document=_doc(p["document"]), policy_name=p["name"],
                               tags=[{"Key": k, "Value": v} for k, v in p.get("tags", {}).items()])
        for extra in p.get("versions", []):  # older versions → create default last
            del extra
        pol_arns[p["name"]] = mp.arn
    for r in iam_spec.get("roles", []):
        boundary = r.get("permissions_boundary")
        barn = None
        if boundary:
            barn = _policy_arn(aid, boundary, pol_arns)
            if barn.startswith("arn:aws:iam::aws:policy/"):
                _ensure_aws_managed(iam, barn, fleet)
        trust = r.get("trust_policy") or {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow",
                           "Principal": {"Service": "kinesisanalytics.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }
        iam.create_role(role_name=r["name"], assume_role_policy_document=_doc(trust),
                        path=r.get("path", "/"), permissions_boundary=barn,
                        description=r.get("description", ""),
                        tags=[{"Key": k, "Value": v} for k, v in r.get("tags", {}).items()],
                        max_session_duration=str(r.get("max_session_duration", 3600)))
        for ref in r.get("managed_policies", []):
            arn = _policy_arn(aid, ref, pol_arns)
            if arn.startswith("arn:aws:iam::aws:policy/"):
                _ensure_aws_managed(iam, arn, fleet)
            iam.attach_role_policy(arn, r["name"])
        for name, doc in r.get("inline_policies", {}).items():
            iam.put_role_policy(r["name"], name, _doc(doc))

    key_arns: dict[tuple[str, str], str] = {}
    for k in acct.get("kms_keys", []):
        region = k.get("region", "us-east-1")
        kms = kms_backends[aid][region]
        policy = k.get("policy") or {
            "Version": "2012-10-17", "Id": "key-default-1",
            "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                           "Principal": {"AWS": f"arn:aws:iam::{aid}:root"},
                           "Action": "kms:*", "Resource": "*"}],
        }
        key = kms.create_key(policy=_doc(policy), key_usage="ENCRYPT_DECRYPT",
                             key_spec="SYMMETRIC_DEFAULT", description=k.get("description", k["name"]),
                             tags=[{"TagKey": kk, "TagValue": vv} for kk, vv in k.get("tags", {}).items()])
        new_id = k.get("key_id") or str(uuid.uuid5(KEY_NAMESPACE, f"{aid}/{region}/{k['name']}"))
        kms.keys.pop(key.id, None)
        key.id = new_id
        key.arn = f"arn:aws:kms:{region}:{aid}:key/{new_id}"
        kms.keys[new_id] = key
        kms.create_alias(new_id, k.get("alias", f"alias/{k['name']}"))
        key_arns[(region, k["name"])] = key.arn

    s3 = s3_backends[aid]["aws"]
    for b in acct.get("s3_buckets", []):
        s3.create_bucket(b["name"], b.get("region", "us-east-1"))
        if b.get("policy") is not None:
            s3.put_bucket_policy(b["name"], _doc(b["policy"]).encode())
        for obj in b.get("objects", []):
            s3.put_object(b["name"], obj, b"PK\x03\x04fleetscan-emulator-placeholder")

    for s in acct.get("kinesis_streams", []):
        region = s.get("region", "us-east-1")
        kb = kinesis_backends[aid][region]
        st = kb.create_stream(s["name"], shard_count=int(s.get("shards", 1)))
        if s.get("policy") is not None:
            kb.put_resource_policy(st.arn, _doc(s["policy"]))

    for lg in acct.get("log_groups", []):
        region = lg.get("region", "us-east-1")
        lb = logs_backends[aid][region]
        if lg["name"] not in lb.groups:
            lb.create_log_group(lg["name"], {})
        for st_name in lg.get("streams", []):
            lb.create_log_stream(lg["name"], st_name)

    for app in acct.get("applications", []):
        _seed_app(aid, app, key_arns, res)


def _minutes(spec: dict[str, Any], base: str, default: float | None = None) -> float | None:
    """Read ``<base>_minutes_ago`` / ``<base>_hours_ago`` / ``<base>_days_ago``."""
    for suffix, mult in (("_minutes_ago", 1.0), ("_hours_ago", 60.0), ("_days_ago", 1440.0)):
        if f"{base}{suffix}" in spec:
            return float(spec[f"{base}{suffix}"]) * mult
    return default


def unordered(items: list[Any], ident: Callable[[Any], str], when: Callable[[Any], float]) -> list[Any]:
    """A deterministic order (by a hash of each id) that is never newest first
    nor, from three items on, oldest first: AWS documents no order for
    ListApplicationSnapshots or ListApplicationOperations, so the code under
    test must not rely on one.
    https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ListApplicationOperations.html"""
    out = sorted(items, key=lambda x: hashlib.sha256(str(ident(x)).encode()).hexdigest())
    times = [when(x) for x in out]
    if len(out) >= 2 and (times == sorted(times, reverse=True) or (len(out) >= 3 and times == sorted(times))):
        out[0], out[1] = out[1], out[0]  # with distinct times, now neither
    return out


def _seed_app(aid: str, spec: dict[str, Any], key_arns: dict[tuple[str, str], str], res: SeedResult) -> None:
    from moto.logs.models import logs_backends

    region = spec.get("region", "us-east-1")
    name = spec["name"]
    arn = f"arn:aws:kinesisanalytics:{region}:{aid}:application/{name}"
    anchor = res.anchor
    created = anchor - 60 * (_minutes(spec, "created", 30 * 1440) or 0)
    updated = anchor - 60 * (_minutes(spec, "updated", None) or (anchor - created) / 60)
    version = int(spec.get("version", 1))
    runtime = spec.get("runtime", "FLINK-1_20")
    status = spec.get("status", "RUNNING")

    cfg: dict[str, Any] = {}
    code = spec.get("code")
    if code:
        cfg["ApplicationCodeConfigurationDescription"] = {
            "CodeContentType": code.get("content_type", "ZIPFILE"),
            "CodeContentDescription": {
                # The model fixes CodeMD5's length at 128 characters (despite the name).
                "CodeMD5": hashlib.sha512(f"{code['bucket']}/{code['key']}".encode()).hexdigest(),
                "CodeSize": int(code.get("size", 52428800)),
                "S3ApplicationCodeLocationDescription": {
                    k: v for k, v in {
                        "BucketARN": f"arn:aws:s3:::{code['bucket']}",
                        "FileKey": code["key"],
                        "ObjectVersion": code.get("version"),
                    }.items() if v is not None
                },
            },
        }
    cp = spec.get("checkpoint", {"type": "DEFAULT"})
    if cp.get("type", "DEFAULT") == "DEFAULT":
        cpd = {"ConfigurationType": "DEFAULT", "CheckpointingEnabled": True,
               "CheckpointInterval": 60000, "MinPauseBetweenCheckpoints": 5000}
        # AWS reports the defaults; a fleet may override the raw fields to test
        # that the tool reports effective values for DEFAULT.
        for src, dst in (("enabled", "CheckpointingEnabled"), ("interval_ms", "CheckpointInterval"),
                         ("min_pause_ms", "MinPauseBetweenCheckpoints")):
            if src in cp:
                cpd[dst] = cp[src]
    else:
        cpd = {"ConfigurationType": "CUSTOM",
               "CheckpointingEnabled": bool(cp.get("enabled", True)),
               "CheckpointInterval": int(cp.get("interval_ms", 60000)),
               "MinPauseBetweenCheckpoints": int(cp.get("min_pause_ms", 5000))}
    mon = spec.get("monitoring", {})
    mond = {"ConfigurationType": mon.get("type", "DEFAULT"),
            "MetricsLevel": mon.get("metrics_level", "APPLICATION"),
            "LogLevel": mon.get("log_level", "INFO")}
    par = spec.get("parallelism", {})
    pard = {"ConfigurationType": par.get("type", "DEFAULT"),
            "Parallelism": int(par.get("parallelism", 1)),
            "ParallelismPerKPU": int(par.get("per_kpu", 1)),
            "CurrentParallelism": int(par.get("current", par.get("parallelism", 1))),
            "AutoScalingEnabled": bool(par.get("autoscaling", True))}
    cfg["FlinkApplicationConfigurationDescription"] = {
        "CheckpointConfigurationDescription": cpd,
        "MonitoringConfigurationDescription": mond,
        "ParallelismConfigurationDescription": pard,
    }
    if spec.get("job_plan"):
        cfg["FlinkApplicationConfigurationDescription"]["JobPlanDescription"] = spec["job_plan"]
    cfg["RunConfigurationDescription"] = {
        "ApplicationRestoreConfigurationDescription": {
            "ApplicationRestoreType": spec.get("restore_type", "RESTORE_FROM_LATEST_SNAPSHOT")},
        "FlinkRunConfigurationDescription": {"AllowNonRestoredState": bool(spec.get("allow_non_restored_state", False))},
    }
    pgs = spec.get("property_groups", {})
    if pgs:
        cfg["EnvironmentPropertyDescriptions"] = {"PropertyGroupDescriptions": [
            {"PropertyGroupId": gid, "PropertyMap": {k: str(v) for k, v in pm.items()}}
            for gid, pm in pgs.items()]}
    snap_cfg: dict[str, Any] = {"SnapshotsEnabled": bool(spec.get("snapshots_enabled", True))}
    if spec.get("snapshot_mode"):
        snap_cfg["SnapshotMode"] = spec["snapshot_mode"]
    cfg["ApplicationSnapshotConfigurationDescription"] = snap_cfg
    cfg["ApplicationSystemRollbackConfigurationDescription"] = {"RollbackEnabled": bool(spec.get("rollback_enabled", False))}
    vpc = spec.get("vpc")
    if vpc:
        cfg["VpcConfigurationDescriptions"] = [{
            "VpcConfigurationId": vpc.get("id", "1.1"),
            "VpcId": vpc["vpc_id"],
            "SubnetIds": list(vpc.get("subnets", [])),
            "SecurityGroupIds": list(vpc.get("security_groups", [])),
        }]
    enc = spec.get("encryption")
    if enc and enc.get("type", "CUSTOMER_MANAGED_KEY") == "CUSTOMER_MANAGED_KEY":
        ref = enc["key"]
        key_arn = ref if ref.startswith("arn:") else key_arns.get((region, ref))
        if key_arn is None:
            raise FleetError(f"app {name}: unknown KMS key {ref!r} in {aid}/{region}")
        encd = {"KeyType": "CUSTOMER_MANAGED_KEY", "KeyId": key_arn}
    else:
        encd = {"KeyType": "AWS_OWNED_KEY"}
    cfg["ApplicationEncryptionConfigurationDescription"] = encd

    detail: dict[str, Any] = {
        "ApplicationARN": arn,
        "ApplicationName": name,
        "RuntimeEnvironment": runtime,
        "ApplicationStatus": status,
        "ApplicationVersionId": version,
        "CreateTimestamp": round(created, 3),
        "LastUpdateTimestamp": round(updated, 3),
        "ApplicationConfigurationDescription": cfg,
        "ApplicationMode": spec.get("mode", "STREAMING"),
        "ApplicationVersionCreateTimestamp": round(updated, 3),
        "ConditionalToken": hashlib.sha1(f"{arn}/{version}".encode()).hexdigest()[:32],
    }
    if spec.get("description"):
        detail["ApplicationDescription"] = spec["description"]
    if spec.get("execution_role"):
        detail["ServiceExecutionRole"] = _role_arn(aid, spec["execution_role"])
    if spec.get("maintenance_window"):
        mw = spec["maintenance_window"]
        detail["ApplicationMaintenanceConfigurationDescription"] = {
            "ApplicationMaintenanceWindowStartTime": mw.get("start", "03:00"),
            "ApplicationMaintenanceWindowEndTime": mw.get("end", "11:00")}
    logging = spec.get("logging", True)
    if logging:
        lg = logging if isinstance(logging, dict) else {}
        group = lg.get("log_group", f"/aws/kinesis-analytics/{name}")
        stream = lg.get("log_stream", "kinesis-analytics-log-stream")
        lb = logs_backends[aid][region]
        if group not in lb.groups:
            lb.create_log_group(group, {})
        if stream not in lb.groups[group].streams:
            lb.create_log_stream(group, stream)
        detail["CloudWatchLoggingOptionDescriptions"] = [{
            "CloudWatchLoggingOptionId": "1.1",
            "LogStreamARN": f"arn:aws:logs:{region}:{aid}:log-group:{group}:log-stream:{stream}",
        }]

    snapshots = []
    for i, s in enumerate(spec.get("snapshots", [])):
        age = _minutes(s, "created", 60.0 * (i + 1))
        snapshots.append({
            "SnapshotName": s.get("name", f"{name}-snapshot-{i + 1}"),
            "SnapshotStatus": s.get("status", "READY"),
            "ApplicationVersionId": int(s.get("version", version)),
            "SnapshotCreationTimestamp": round(anchor - 60 * age, 3),
            "RuntimeEnvironment": s.get("runtime", runtime),
            "ApplicationEncryptionConfigurationDescription": dict(encd),
        })
    snapshots = unordered(snapshots, lambda x: x["SnapshotName"], lambda x: x["SnapshotCreationTimestamp"])

    operations = []
    for i, o in enumerate(spec.get("operations", [])):
        start_min = _minutes(o, "start", 60.0 * (i + 1)) or 0.0
        dur = float(o.get("duration_minutes", 3))
        st = anchor - 60 * start_min
        op = {
            "Operation": o.get("operation", "UpdateApplication"),
            "OperationId": o.get("id") or _short_id(f"{arn}/op/{i}", 12),
            "StartTime": round(st, 3),
            "OperationStatus": o.get("status", "SUCCESSFUL"),
        }
        if op["OperationStatus"] != "IN_PROGRESS":
            op["EndTime"] = round(st + 60 * dur, 3)
        # ApplicationOperationInfoDetails has no OperationId; its EndTime is required.
        details = {k: v for k, v in op.items() if k != "OperationId"}
        details.setdefault("EndTime", round(st + 60 * dur, 3))
        if o.get("version_from") is not None or op["Operation"] in ("UpdateApplication", "RollbackApplication"):
            vf = int(o.get("version_from", max(version - 1, 1)))
            details["ApplicationVersionChangeDetails"] = {
                "ApplicationVersionUpdatedFrom": vf,
                "ApplicationVersionUpdatedTo": int(o.get("version_to", version))}
        if op["OperationStatus"] == "FAILED":
            details["OperationFailureDetails"] = {
                "ErrorInfo": {"ErrorString": o.get("error", "Operation failed")}}
            if o.get("rollback_operation_id"):
                details["OperationFailureDetails"]["RollbackOperationId"] = o["rollback_operation_id"]
        operations.append({"summary": op, "details": details})
    operations = unordered(operations, lambda o: o["summary"]["OperationId"], lambda o: o["summary"]["StartTime"])

    res.alarms.setdefault((aid, region), []).extend(
        alarmsmod.build(aid, region, name, spec.get("alarms", []), res.anchor))
    res.apps.setdefault((aid, region), {})[name] = {
        "detail": detail,
        "tags": [{"Key": k, "Value": str(v)} for k, v in spec.get("tags", {}).items()],
        "snapshots": snapshots,
        "operations": operations,
        "metrics": spec.get("metrics", {}),
    }
