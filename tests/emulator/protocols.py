"""Wire-format helpers: identify a request and render protocol-correct errors.

Services are named in the request log and in fault configs by the name of the
Rust SDK crate (``aws-sdk-<name>``); the SigV4 signing name is accepted too.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs

import cbor2

# SigV4 signing name -> SDK name used in logs and fault configs.
SIGNING_TO_SDK = {
    "organizations": "organizations",
    "sts": "sts",
    "iam": "iam",
    "kinesisanalytics": "kinesisanalyticsv2",
    "monitoring": "cloudwatch",
    "kms": "kms",
    "s3": "s3",
    "kinesis": "kinesis",
    "logs": "logs",
    "health": "health",
}
ALIASES = {"kinesisanalytics": "kinesisanalyticsv2", "monitoring": "cloudwatch",
           "cloudwatchlogs": "logs"}

# Which wire protocol each service speaks (for error rendering).
PROTOCOL = {
    "iam": "query", "sts": "query",
    "organizations": "json", "kinesisanalyticsv2": "json", "kms": "json",
    "kinesis": "json", "logs": "json",
    "s3": "restxml",
    "cloudwatch": "cbor",
    "health": "cbor",
}
GLOBAL_SERVICES = {"iam", "organizations", "health"}
# Smithy namespace of each rpc-v2-cbor service (error `__type`).
CBOR_NAMESPACE = {"cloudwatch": "com.amazonaws.cloudwatch", "health": "com.amazonaws.health"}

QUERY_NS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

# Error codes per kind of fault, per service.
THROTTLE_CODE = {
    "iam": ("Throttling", 400), "sts": ("Throttling", 400),
    "organizations": ("TooManyRequestsException", 400),
    "kinesisanalyticsv2": ("ThrottlingException", 400),
    "kms": ("ThrottlingException", 400),
    "kinesis": ("LimitExceededException", 400),
    "logs": ("ThrottlingException", 400),
    "s3": ("SlowDown", 503),
    "cloudwatch": ("Throttling", 400),
    "health": ("ThrottlingException", 400),
}
DENIED_CODE = {
    "iam": ("AccessDenied", 403), "sts": ("AccessDenied", 403),
    "organizations": ("AccessDeniedException", 400),
    "kinesisanalyticsv2": ("AccessDeniedException", 400),
    "kms": ("AccessDeniedException", 400),
    "kinesis": ("AccessDeniedException", 400),
    "logs": ("AccessDeniedException", 400),
    "s3": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
    "health": ("AccessDeniedException", 400),
}
REGION_DISABLED_CODE = {
    "query": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
    "json": ("UnrecognizedClientException", 400, "The security token included in the request is invalid."),
    "cbor": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
    "restxml": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
}
EXPIRED_TOKEN_CODE = {
    "query": ("ExpiredToken", 403),
    "json": ("ExpiredTokenException", 400),
    "cbor": ("ExpiredToken", 403),
    "restxml": ("ExpiredToken", 400),
}
SERVER_ERROR_CODE = {
    "query": ("ServiceUnavailable", 503),
    "json": ("InternalFailure", 500),
    "cbor": ("ServiceUnavailable", 503),
    "restxml": ("InternalError", 500),
}


def sdk_name(name: str) -> str:
    name = name.lower()
    return ALIASES.get(name, SIGNING_TO_SDK.get(name, name))


def new_request_id() -> str:
    return str(uuid.uuid4())


class RequestInfo:
    """What the middleware knows about one AWS request."""

    def __init__(self) -> None:
        self.service = "unknown"
        self.operation = "Unknown"
        self.region = "us-east-1"
        self.access_key: str | None = None
        self.account = ""
        self.params: dict[str, Any] = {}
        self.protocol = "json"
        self.body = b""
        self.request_id = new_request_id()


def parse_request(environ: dict[str, Any], body: bytes) -> RequestInfo:
    info = RequestInfo()
    info.body = body
    auth = environ.get("HTTP_AUTHORIZATION", "")
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    signing = None
    if "Credential=" in auth:
        try:
            cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
            akid, _date, region, signing, _term = cred.split("/")
            info.access_key = akid
            info.region = region
        except ValueError:
            pass
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    ctype = environ.get("CONTENT_TYPE", "")
    if path.startswith("/service/") and "/operation/" in path:
        # rpc-v2-cbor: /service/<ServiceShape>/operation/<Op>
        info.operation = path.rsplit("/", 1)[-1]
        info.protocol = "cbor"
        if signing is None and "GraniteServiceVersion20100801" in path:
            signing = "monitoring"
        if signing is None and "AWSHealth_20160804" in path:
            signing = "health"
        try:
            info.params = cbor2.loads(body) if body else {}
        except Exception:  # noqa: BLE001
            info.params = {}
    elif target:
        info.operation = target.split(".", 1)[-1]
        info.protocol = "json"
        try:
            info.params = json.loads(body) if body else {}
        except ValueError:
            info.params = {}
    elif ctype.startswith("application/x-www-form-urlencoded") or "Action=" in query:
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        form.update(parse_qs(query))
        info.params = {k: v[0] for k, v in form.items()}
        info.operation = info.params.get("Action", "Unknown")
        info.protocol = "query"
    if signing:
        info.service = sdk_name(signing)
    info.protocol = PROTOCOL.get(info.service, info.protocol)
    if info.service in ("cloudwatch", "health") and info.protocol == "cbor" and target:
        info.protocol = "json"  # awsJson1_0 (CloudWatch) / awsJson1_1 (Health) variant
    if info.service == "s3":
        info.operation = s3_operation(environ.get("REQUEST_METHOD", "GET"), path, query)
    return info


def s3_operation(method: str, path: str, query: str) -> str:
    parts = [p for p in path.split("/") if p]
    q = {k for k in parse_qs(query, keep_blank_values=True)}
    if not parts:
        return "ListBuckets"
    sub = {"policy": "BucketPolicy", "location": "BucketLocation", "versioning": "BucketVersioning",
           "encryption": "BucketEncryption", "tagging": "BucketTagging", "acl": "BucketAcl",
           "publicAccessBlock": "PublicAccessBlock", "ownershipControls": "BucketOwnershipControls"}
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}.get(method, method)
    if len(parts) == 1:
        for k, name in sub.items():
            if k in q:
                return f"{verb}{name}"
        if method == "GET":
            return "ListObjectsV2" if "list-type" in q else "ListObjects"
        if method == "HEAD":
            return "HeadBucket"
        return f"{verb}Bucket"
    if "tagging" in q:
        return f"{verb}ObjectTagging"
    return f"{verb}Object"


# ---------------------------------------------------------------- errors


def error_response(info: RequestInfo, code: str, message: str, status: int,
                   sender: bool = True) -> tuple[int, list[tuple[str, str]], bytes]:
    """A protocol-correct error for info.service."""
    rid = info.request_id
    proto = info.protocol
    if proto == "query":
        ns = QUERY_NS.get(info.service, "https://sts.amazonaws.com/doc/2011-06-15/")
        typ = "Sender" if sender else "Receiver"
        body = (f'<ErrorResponse xmlns="{ns}">\n  <Error>\n    <Type>{typ}</Type>\n'
                f"    <Code>{code}</Code>\n    <Message>{_xml(message)}</Message>\n  </Error>\n"
                f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    elif proto == "restxml":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message>"
                f"<RequestId>{rid}</RequestId><HostId>fleetscan-emulator</HostId></Error>").encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", rid),
                   ("x-amz-id-2", "fleetscan-emulator"), ("x-amzn-RequestId", rid)]
    elif proto == "cbor":
        body = cbor2.dumps({"__type": f"{CBOR_NAMESPACE.get(info.service, 'com.amazonaws.cloudwatch')}#{code}", "message": message})
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                   ("x-amzn-RequestId", rid)]
        if info.service == "cloudwatch":  # awsQuery-compatible service
            headers.append(("x-amzn-query-error", f"{code};{'Sender' if sender else 'Receiver'}"))
    else:
        ctype = "application/x-amz-json-1.0" if info.service == "cloudwatch" else "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", ctype), ("x-amzn-RequestId", rid),
                   ("x-amzn-ErrorType", f"{code}:")]
        if info.service == "cloudwatch":
            headers.append(("x-amzn-query-error", f"{code};{'Sender' if sender else 'Receiver'}"))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_response(info: RequestInfo, payload: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(payload).encode()
    ctype = "application/x-amz-json-1.0" if info.service == "cloudwatch" else "application/x-amz-json-1.1"
    return 200, [("Content-Type", ctype), ("x-amzn-RequestId", info.request_id),
                 ("Content-Length", str(len(body)))], body


def cbor_response(info: RequestInfo, payload: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = cbor2.dumps(payload)
    return 200, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                 ("x-amzn-RequestId", info.request_id), ("Content-Length", str(len(body)))], body
