"""WSGI middleware in front of moto: fills its gaps, injects faults, logs requests.

Order for every AWS request: identify (service, operation, account, region) →
expired session token → latency → disabled region → AssumeRole denial → denied operation → throttle →
5xx → own handlers (kinesisanalyticsv2, CloudWatch GetMetricData and DescribeAlarms, AssumeRole
checks) → moto.  ``/_fleetscan/*`` is the unsigned control API and is never
faulted nor logged.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import re
from datetime import datetime, timezone
from typing import Any, Callable

import alarms as alarmsmod
import fleet as fleetmod
import health as healthmod
import metrics
from protocols import (
    DENIED_CODE, EXPIRED_TOKEN_CODE, GLOBAL_SERVICES, REGION_DISABLED_CODE, SERVER_ERROR_CODE, THROTTLE_CODE,
    RequestInfo, cbor_response, error_response, json_response, parse_request, sdk_name,
)

Response = tuple[int, list[tuple[str, str]], bytes]

# Every (service, operation) whose success response this middleware writes, or
# rewrites, itself. test_shapes.py validates each against botocore's model and
# fails when one here has no validation case: adding an operation is one line
# here and one in its CASES.
HAND_WRITTEN = {
    ("kinesisanalyticsv2", "ListApplications"),
    ("kinesisanalyticsv2", "DescribeApplication"),
    ("kinesisanalyticsv2", "ListApplicationSnapshots"),
    ("kinesisanalyticsv2", "DescribeApplicationSnapshot"),
    ("kinesisanalyticsv2", "ListApplicationOperations"),
    ("kinesisanalyticsv2", "DescribeApplicationOperation"),
    ("kinesisanalyticsv2", "ListTagsForResource"),
    ("cloudwatch", "GetMetricData"),
    ("sts", "AssumeRole"),  # Expiration rewritten under session_ttl_secs
    ("iam", "GetRolePolicy"),  # malformed_policies fault
    ("cloudwatch", "DescribeAlarms"),  # alarms.py
    ("health", "DescribeEventsForOrganization"),  # health.py
    ("health", "DescribeAffectedAccountsForOrganization"),
    ("health", "DescribeAffectedEntitiesForOrganization"),
}

STATUS_TEXT = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
               409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}


class Faults:
    """The fault configuration (see README)."""

    KEYS = {"seed", "latency_ms", "throttle_rate", "error_5xx_rate", "assume_role_denied",
            "disabled_regions", "deny_operations", "vanish_apps", "session_ttl_secs",
            "malformed_policies"}

    def __init__(self, cfg: dict[str, Any] | None = None) -> None:
        cfg = dict(cfg or {})
        unknown = set(cfg) - self.KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        self.raw = cfg
        self.seed = int(cfg.get("seed", 0))
        self.latency = cfg.get("latency_ms", 0)
        self.throttle = cfg.get("throttle_rate", 0)
        self.err5xx = cfg.get("error_5xx_rate", 0)
        self.assume_denied = {str(a) for a in cfg.get("assume_role_denied", [])}
        self.disabled = {(str(d["account"]), d["region"]) for d in cfg.get("disabled_regions", [])}
        self.deny = [dict(d, service=sdk_name(d["service"])) for d in cfg.get("deny_operations", [])]
        self.vanish = {(str(v["account"]), v["region"], v["application"]) for v in cfg.get("vanish_apps", [])}
        ttl = cfg.get("session_ttl_secs")
        self.session_ttl = float(ttl) if ttl is not None else None
        self.malformed = {(str(m["account"]), m["role"], m["policy"]): m.get("text", '{"Version": "2012-10-17", "Statement": [')
                          for m in cfg.get("malformed_policies", [])}
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    @staticmethod
    def per_service(value: Any, service: str) -> float:
        """A number, or {service: number, "default": number}."""
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "default" and sdk_name(k) == service:
                    return float(v)
            return float(value.get("default", 0))
        return float(value or 0)

    def roll(self, kind: str, info: RequestInfo) -> float:
        """Deterministic per (seed, kind, request identity, attempt number)."""
        ident = f"{info.service}|{info.operation}|{info.account}|{info.region}|" \
                f"{hashlib.sha1(info.body).hexdigest()}"
        with self.lock:
            n = self.attempts.get(kind + ident, 0)
            self.attempts[kind + ident] = n + 1
        h = hashlib.sha256(f"{self.seed}|{kind}|{ident}|{n}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2 ** 64


class FleetMiddleware:
    def __init__(self, moto_app: Callable, fleet_raw: dict[str, Any],
                 page_size: int | None = None, faults: dict[str, Any] | None = None,
                 metric_page_points: int | None = None) -> None:
        self.moto_app = moto_app
        self.page_size_override = page_size
        self.metric_page_points_override = metric_page_points
        self.lock = threading.RLock()
        self.log: list[dict[str, Any]] = []
        self.log_lock = threading.Lock()
        self.faults = Faults(faults)
        # Every credential set AssumeRole handed out, by access key id:
        # {AccessKeyId, SecretAccessKey, SessionToken, Expiration (ISO), expires_at (epoch), account}.
        self.issued: dict[str, dict[str, Any]] = {}
        self.issued_lock = threading.Lock()
        self.apply_fleet(fleet_raw)

    # ------------------------------------------------------------ state

    def apply_fleet(self, fleet_raw: dict[str, Any]) -> None:
        with self.lock:
            self.fleet_raw = fleet_raw
            self.store = fleetmod.seed(fleet_raw, self.page_size_override, self.metric_page_points_override)

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fleetscan/"):
            status, headers, body = self.control(environ, path)
            start_response(f"{status} {STATUS_TEXT.get(status, 'OK')}", headers)
            return [body]

        body = _read_body(environ)
        info = parse_request(environ, body)
        if info.access_key:
            from moto.iam.models import get_account_id_from
            info.account = get_account_id_from(info.access_key)
        entry: dict[str, Any] = {"service": info.service, "operation": info.operation,
                                 "account": info.account, "region": info.region,
                                 "request_id": info.request_id,
                                 "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        fault, resp = self.inject(info)
        if resp is None:
            try:
                resp = self.handle(info, environ, entry)
            except Exception as exc:  # noqa: BLE001 - never kill the server
                resp = error_response(info, SERVER_ERROR_CODE[info.protocol][0],
                                      f"emulator error: {exc!r}", 500, sender=False)
        if fault:
            entry["injected_fault"] = fault
        if resp is not None:
            status, headers, out = resp
            entry["status"] = status
            self._record(entry)
            start_response(f"{status} {STATUS_TEXT.get(status, 'OK')}", headers)
            return [out]

        # Pass through to moto, capturing status and headers (the response is
        # buffered so AssumeRole answers can be recorded and rewritten).
        captured: dict[str, Any] = {}

        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status_line"] = status
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = list(headers)
            for k, v in headers:
                if k.lower() in ("x-amzn-requestid", "x-amz-request-id"):
                    captured["request_id"] = v
            return lambda _data: None

        result = self.moto_app(environ, sr)
        data = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        headers = captured.get("headers", [])
        if info.service == "sts" and info.operation == "AssumeRole" and captured.get("status") == 200:
            data = self.record_assumed(info, data)
            headers = [(k, str(len(data)) if k.lower() == "content-length" else v) for k, v in headers]
        entry["status"] = captured.get("status", 0)
        if captured.get("request_id"):
            entry["request_id"] = captured["request_id"]
        self._record(entry)
        start_response(captured.get("status_line", "500 Internal Server Error"), headers)
        return [data]

    def record_assumed(self, info: RequestInfo, data: bytes) -> bytes:
        """Records the credentials moto issued; with ``session_ttl_secs`` their
        expiration is rewritten to now + ttl (and enforced, see ``inject``)."""
        text = data.decode("utf-8", "replace")

        def field(name: str) -> str:
            m = re.search(f"<{name}>(.*?)</{name}>", text, re.S)
            return m.group(1).strip() if m else ""

        ttl = self.faults.session_ttl
        expires_at = None
        if ttl is not None:
            expires_at = time.time() + ttl
            iso = datetime.fromtimestamp(expires_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            iso = iso[:-4] + "Z"  # milliseconds
            text = re.sub("<Expiration>.*?</Expiration>", f"<Expiration>{iso}</Expiration>", text, flags=re.S)
        cred = {"AccessKeyId": field("AccessKeyId"), "SecretAccessKey": field("SecretAccessKey"),
                "SessionToken": field("SessionToken"), "Expiration": field("Expiration"),
                "expires_at": expires_at, "account": _arn_account(info.params.get("RoleArn", ""))}
        if cred["AccessKeyId"]:
            with self.issued_lock:
                self.issued[cred["AccessKeyId"]] = cred
        return text.encode()

    def _record(self, entry: dict[str, Any]) -> None:
        with self.log_lock:
            self.log.append(entry)

    # ------------------------------------------------------------ faults

    def inject(self, info: RequestInfo) -> tuple[str | None, Response | None]:
        f = self.faults
        if info.access_key:
            with self.issued_lock:
                cred = self.issued.get(info.access_key)
            if cred and cred.get("expires_at") is not None and time.time() >= cred["expires_at"]:
                code, status = EXPIRED_TOKEN_CODE[info.protocol]
                return "expired_token", error_response(
                    info, code, "The security token included in the request is expired", status)
        lat = f.per_service(f.latency, info.service)
        if lat > 0:
            time.sleep(lat / 1000.0)
        if (info.account, info.region) in f.disabled and info.service not in GLOBAL_SERVICES:
            # CloudWatch is awsQuery-compatible: same code whatever the wire protocol.
            code, status, msg = REGION_DISABLED_CODE["cbor" if info.service == "cloudwatch" else info.protocol]
            return "region_disabled", error_response(info, code, msg, status)
        if info.service == "sts" and info.operation == "AssumeRole":
            target = _arn_account(info.params.get("RoleArn", ""))
            if target in f.assume_denied:
                return "assume_role_denied", self._assume_denied(info)
        for d in f.deny:
            if d["service"] == info.service and d.get("operation", info.operation) == info.operation \
                    and str(d.get("account", info.account)) == info.account \
                    and d.get("region", info.region) == info.region:
                code, status = DENIED_CODE.get(info.service, ("AccessDeniedException", 400))
                return "deny_operation", error_response(
                    info, code, _denied_message(info), status)
        rate = f.per_service(f.throttle, info.service)
        if rate > 0 and f.roll("throttle", info) < rate:
            code, status = THROTTLE_CODE.get(info.service, ("ThrottlingException", 400))
            return "throttle", error_response(info, code, "Rate exceeded", status)
        rate = f.per_service(f.err5xx, info.service)
        if rate > 0 and f.roll("5xx", info) < rate:
            code, status = SERVER_ERROR_CODE[info.protocol]
            return "5xx", error_response(info, code, "We encountered an internal error. Please try again.",
                                         status, sender=False)
        return None, None

    def _assume_denied(self, info: RequestInfo) -> Response:
        role = info.params.get("RoleArn", "")
        return error_response(
            info, "AccessDenied",
            f"User: arn:aws:iam::{info.account}:user/fleetscan is not authorized to perform: "
            f"sts:AssumeRole on resource: {role}", 403)

    # ------------------------------------------------------------ handlers

    def handle(self, info: RequestInfo, environ: dict[str, Any], entry: dict[str, Any]) -> Response | None:
        if info.service == "kinesisanalyticsv2":
            return self.kda(info, entry)
        if info.service == "cloudwatch" and info.operation == "GetMetricData" and info.protocol in ("cbor", "json"):
            apps = self.store.apps.get((info.account, info.region), {})
            try:
                out = metrics.get_metric_data(info.params, apps, page_points=self.store.metric_page_points)
            except metrics.InvalidNextToken as exc:
                return error_response(info, "InvalidNextToken", str(exc), 400)
            if info.protocol == "cbor":
                return cbor_response(info, metrics.to_cbor_payload(out))
            return json_response(info, out)
        if info.service == "cloudwatch" and info.operation == "DescribeAlarms" and info.protocol in ("cbor", "json"):
            try:
                out = alarmsmod.describe_alarms(info.params, self.store.alarms.get((info.account, info.region), []))
            except alarmsmod.AlarmError as exc:
                return error_response(info, exc.code, str(exc), 400)
            if info.protocol == "cbor":
                return cbor_response(info, alarmsmod.to_cbor_payload(out))
            return json_response(info, out)
        if info.service == "cloudwatch" and info.protocol == "cbor":
            return error_response(info, "UnknownOperationException",
                                  f"fleetscan emulator serves only GetMetricData and DescribeAlarms over rpc-v2-cbor, not {info.operation}", 400)
        if info.service == "health":
            try:
                out = healthmod.handle(info.operation, info.params, self.store.health_mode, self.store.health_events)
            except healthmod.HealthError as exc:
                return error_response(info, exc.code, str(exc), 400)
            if info.protocol == "cbor":
                return cbor_response(info, healthmod.to_cbor_payload(out))
            return json_response(info, out)
        if info.service == "sts" and info.operation == "AssumeRole":
            return self.assume_role_checks(info)
        if info.service == "s3" and info.operation == "GetBucketPolicy":
            return self.bucket_owner_check(info, environ)
        if info.service == "iam" and info.operation == "GetRolePolicy":
            key = (info.account, info.params.get("RoleName", ""), info.params.get("PolicyName", ""))
            text = self.faults.malformed.get(key)
            if text is not None:
                entry["injected_fault"] = "malformed_policy"
                return _get_role_policy_response(info, key[1], key[2], text)
        return None

    def bucket_owner_check(self, info: RequestInfo, environ: dict[str, Any]) -> Response | None:
        """AWS answers GetBucketPolicy only to the bucket owner's account
        ("the calling identity must ... belong to the bucket owner's account",
        https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html);
        moto finds a bucket of any account and answers anyone."""
        from moto.s3.models import s3_backends

        bucket = next((p for p in environ.get("PATH_INFO", "").split("/") if p), "")
        owner = s3_backends.bucket_accounts.get(bucket)
        if owner is None or owner[1] == info.account:
            return None
        return error_response(info, "AccessDenied", "Access Denied", 403)

    def assume_role_checks(self, info: RequestInfo) -> Response | None:
        """AWS refuses AssumeRole into a role that does not exist (moto does not
        check) and into a suspended account."""
        from moto.iam.models import iam_backends

        arn = info.params.get("RoleArn", "")
        target = _arn_account(arn)
        if not target:
            return None  # malformed: let moto answer
        role_name = arn.split(":role/", 1)[-1].rsplit("/", 1)[-1]
        roles = iam_backends[target]["global"].roles.values() if target in iam_backends else []
        exists = role_name in {r.name for r in roles}
        if self.store.account_status.get(target, "ACTIVE") != "ACTIVE" or not exists:
            return self._assume_denied(info)
        return None

    def kda(self, info: RequestInfo, entry: dict[str, Any]) -> Response:
        p = info.params
        apps = self.store.apps.get((info.account, info.region), {})
        op = info.operation
        page = self.store.page_size

        def not_found(name: str) -> Response:
            return error_response(info, "ResourceNotFoundException",
                                  f"Application {name} is not found", 400)

        def limit() -> int:
            lim = int(p.get("Limit") or page)
            return max(1, min(lim, page))

        if op == "ListApplications":
            names = sorted(apps)
            start = 0
            if p.get("NextToken"):
                tok = p["NextToken"]
                if tok not in apps:  # the one error ListApplications declares
                    return error_response(info, "InvalidRequestException", "Invalid NextToken", 400)
                start = names.index(tok)
            chunk = names[start:start + limit()]
            out: dict[str, Any] = {"ApplicationSummaries": [_summary(apps[n]["detail"]) for n in chunk]}
            if start + len(chunk) < len(names):
                out["NextToken"] = names[start + len(chunk)]
            return json_response(info, out)

        if op == "ListTagsForResource":
            arn = p.get("ResourceARN", "")
            for app in apps.values():
                if app["detail"]["ApplicationARN"] == arn:
                    # The model's Tags list has min 1: an untagged app's answer leaves it out.
                    return json_response(info, {"Tags": app["tags"]} if app["tags"] else {})
            return error_response(info, "ResourceNotFoundException", f"Resource {arn} is not found", 400)

        name = p.get("ApplicationName", "")
        app = apps.get(name)
        if app is None:
            return not_found(name)

        if op == "DescribeApplication":
            if (info.account, info.region, name) in self.faults.vanish:
                entry["injected_fault"] = "vanish_app"
                return not_found(name)
            return json_response(info, {"ApplicationDetail": app["detail"]})
        if op == "ListApplicationSnapshots":
            return _paged(app["snapshots"], p, limit(), "SnapshotSummaries", info)
        if op == "DescribeApplicationSnapshot":
            for s in app["snapshots"]:
                if s["SnapshotName"] == p.get("SnapshotName"):
                    return json_response(info, {"SnapshotDetails": s})
            return error_response(info, "ResourceNotFoundException",
                                  f"Snapshot {p.get('SnapshotName')} is not found", 400)
        if op == "ListApplicationOperations":
            ops = [o["summary"] for o in app["operations"]
                   if (not p.get("Operation") or o["summary"]["Operation"] == p["Operation"])
                   and (not p.get("OperationStatus") or o["summary"]["OperationStatus"] == p["OperationStatus"])]
            return _paged(ops, p, limit(), "ApplicationOperationInfoList", info)
        if op == "DescribeApplicationOperation":
            for o in app["operations"]:
                if o["summary"]["OperationId"] == p.get("OperationId"):
                    return json_response(info, {"ApplicationOperationInfoDetails": o["details"]})
            return error_response(info, "ResourceNotFoundException",
                                  f"Operation {p.get('OperationId')} is not found", 400)
        return error_response(info, "UnsupportedOperationException",
                              f"fleetscan emulator does not implement {op} (it only reads)", 400)

    # ------------------------------------------------------------ control API

    def control(self, environ: dict[str, Any], path: str) -> Response:
        method = environ.get("REQUEST_METHOD", "GET")
        body = _read_body(environ)

        def ok(obj: Any, status: int = 200) -> Response:
            data = json.dumps(obj, indent=1).encode()
            return status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data

        try:
            if path == "/_fleetscan/health":
                return ok({"status": "ok", "requests": len(self.log),
                           "org_id": self.store.org_id, "page_size": self.store.page_size,
                           "metric_page_points": self.store.metric_page_points})
            if path == "/_fleetscan/requests" and method == "GET":
                with self.log_lock:
                    return ok(list(self.log))
            if path == "/_fleetscan/requests/clear" and method == "POST":
                with self.log_lock:
                    self.log.clear()
                return ok({"cleared": True})
            if path == "/_fleetscan/credentials" and method == "GET":
                with self.issued_lock:
                    return ok(list(self.issued.values()))
            if path == "/_fleetscan/faults":
                if method == "POST":
                    cfg = json.loads(body or b"{}")
                    self.faults = Faults(cfg)
                return ok(self.faults.raw)
            if path == "/_fleetscan/fleet" and method == "POST":
                doc = json.loads(body or b"{}")
                if set(doc) == {"path"}:
                    doc = fleetmod.load_fleet(doc["path"])
                self.apply_fleet(doc)
                return ok({"applied": True, "accounts": len(self.store.account_status)})
        except (ValueError, KeyError, fleetmod.FleetError) as exc:
            return ok({"error": str(exc)}, 400)
        return ok({"error": f"no control endpoint {method} {path}"}, 404)


def _summary(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("ApplicationName", "ApplicationARN", "ApplicationStatus",
                              "ApplicationVersionId", "RuntimeEnvironment", "ApplicationMode") if k in d}


def _paged(items: list[dict[str, Any]], p: dict[str, Any], limit: int, key: str,
           info: RequestInfo) -> Response:
    """One page of ``items`` in their stored order (see fleet.unordered); the
    token is the next index, and a token not issued here is refused."""
    start = 0
    if p.get("NextToken"):
        tok = str(p["NextToken"])
        if not tok.isdigit() or not 0 < int(tok) < len(items):
            return error_response(info, "InvalidArgumentException", f"Invalid NextToken {tok!r}", 400)
        start = int(tok)
    chunk = items[start:start + limit]
    out: dict[str, Any] = {key: chunk}
    if start + len(chunk) < len(items):
        out["NextToken"] = str(start + len(chunk))
    return json_response(info, out)


def _get_role_policy_response(info: RequestInfo, role: str, policy: str, text: str) -> Response:
    """IAM GetRolePolicy answered with ``text`` as the document, URL-encoded as AWS does."""
    from urllib.parse import quote
    from protocols import QUERY_NS
    body = (f'<GetRolePolicyResponse xmlns="{QUERY_NS["iam"]}">\n  <GetRolePolicyResult>\n'
            f"    <PolicyName>{_xml_text(policy)}</PolicyName>\n    <RoleName>{_xml_text(role)}</RoleName>\n"
            f"    <PolicyDocument>{quote(text, safe='')}</PolicyDocument>\n  </GetRolePolicyResult>\n"
            f"  <ResponseMetadata>\n    <RequestId>{info.request_id}</RequestId>\n  </ResponseMetadata>\n"
            f"</GetRolePolicyResponse>\n").encode()
    return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", info.request_id),
                 ("Content-Length", str(len(body)))], body


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _denied_message(info: RequestInfo) -> str:
    svc = {"kinesisanalyticsv2": "kinesisanalytics", "cloudwatch": "cloudwatch"}.get(info.service, info.service)
    return (f"User: arn:aws:sts::{info.account}:assumed-role/fleetscan/session is not authorized to "
            f"perform: {svc}:{info.operation} with an explicit deny in a service control policy")


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
