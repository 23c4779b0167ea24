"""AWS Health organizational view from the fleet's top-level ``"health"``.

::

    "health": {"mode": "ok",              # or "not-subscribed", "org-view-disabled"
               "events": [{"id": "ops-1", "service": "KINESISANALYTICS", "region": "us-east-1",
                           "event_type": "AWS_KINESISANALYTICS_OPERATIONAL_ISSUE", "category": "issue",
                           "status": "open", "started": 120, "ended": null,    # minutes ago
                           "accounts": ["${account:prod-orders}"],
                           "entities": [{"account": "${account:prod-orders}", "value": "<app ARN>"}]}]}

Served over rpc-v2-cbor (``/service/AWSHealth_20160804/operation/<Op>``: what
the Rust SDK and botocore 1.44 send) and awsJson1_1 (``X-Amz-Target:
AWSHealth_20160804.<Op>``). Only the three organization calls fleetscan makes.

Errors: ``not-subscribed`` answers ``SubscriptionRequiredException`` as AWS
documents for accounts without a Business, Enterprise On-Ramp or Enterprise
Support plan
(https://docs.aws.amazon.com/health/latest/APIReference/API_EnableHealthServiceAccessForOrganization.html).
AWS documents no dedicated code for "organizational view not enabled";
``org-view-disabled`` answers ``AccessDeniedException`` with a message saying
so (fleetscan records whatever code comes back).
"""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

OPERATIONS = ("DescribeEventsForOrganization", "DescribeAffectedAccountsForOrganization",
              "DescribeAffectedEntitiesForOrganization")


class HealthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def events_of(spec: dict[str, Any] | None, anchor: float) -> list[dict[str, Any]]:
    """The fleet's events with ARNs and epoch times."""
    out = []
    for e in (spec or {}).get("events", []):
        region = e.get("region", "us-east-1")
        service = e.get("service", "KINESISANALYTICS")
        etype = e.get("event_type", f"AWS_{service}_OPERATIONAL_ISSUE")
        arn = f"arn:aws:health:{region}::event/{service}/{etype}/{etype}_{e['id']}"
        start = anchor - 60 * float(e.get("started", 60))
        ended = e.get("ended")
        status = e.get("status", "open" if ended is None else "closed")
        ev: dict[str, Any] = {"arn": arn, "service": service, "eventTypeCode": etype,
                              "eventTypeCategory": e.get("category", "issue"),
                              "eventScopeCode": "ACCOUNT_SPECIFIC", "region": region,
                              "startTime": start, "lastUpdatedTime": anchor - 60 * float(e.get("updated", 5)),
                              "statusCode": status}
        if ended is not None:
            ev["endTime"] = anchor - 60 * float(ended)
        out.append({"event": ev, "accounts": [str(a) for a in e.get("accounts", [])],
                    "entities": [{"entityArn": f"arn:aws:health:{region}:{x['account']}:entity/{e['id']}-{i}",
                                  "eventArn": arn, "entityValue": x["value"], "awsAccountId": str(x["account"]),
                                  "lastUpdatedTime": ev["lastUpdatedTime"],
                                  "statusCode": x.get("status", "IMPAIRED" if status == "open" else "RESOLVED")}
                                 for i, x in enumerate(e.get("entities", []))]})
    return out


def _page(items: list[Any], params: dict[str, Any], key: str, default: int, lo: int, hi: int) -> dict[str, Any]:
    limit = params.get("maxResults", default)
    if not isinstance(limit, int) or not lo <= limit <= hi:
        raise HealthError("ValidationException", f"maxResults must be between {lo} and {hi}")
    start = 0
    if params.get("nextToken"):
        tok = str(params["nextToken"])
        if not tok.isdigit() or int(tok) > len(items):
            raise HealthError("InvalidPaginationToken", "Invalid pagination token")
        start = int(tok)
    out: dict[str, Any] = {key: items[start:start + limit]}
    if start + limit < len(items):
        out["nextToken"] = str(start + limit)
    return out


def _ts(v: Any) -> float:
    if isinstance(v, CBORTag):
        return float(v.value)
    if hasattr(v, "timestamp"):
        return float(v.timestamp())
    return float(v)


def handle(op: str, params: dict[str, Any], mode: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    if mode == "not-subscribed":
        raise HealthError("SubscriptionRequiredException",
                          "The requested operation requires a Business, Enterprise On-Ramp, or Enterprise Support plan.")
    if mode == "org-view-disabled":
        raise HealthError("AccessDeniedException",
                          "The organizational view is not enabled: call EnableHealthServiceAccessForOrganization from the management account.")
    if op == "DescribeEventsForOrganization":
        f = params.get("filter") or {}
        selected = []
        for e in events:
            ev = e["event"]
            if f.get("services") and ev["service"] not in f["services"]:
                continue
            if f.get("regions") and ev["region"] not in f["regions"]:
                continue
            if f.get("eventStatusCodes") and ev["statusCode"] not in f["eventStatusCodes"]:
                continue
            if f.get("awsAccountIds") and not set(f["awsAccountIds"]) & set(e["accounts"]):
                continue
            lu = f.get("lastUpdatedTime") or {}
            if lu.get("from") is not None and ev["lastUpdatedTime"] < _ts(lu["from"]):
                continue
            if lu.get("to") is not None and ev["lastUpdatedTime"] > _ts(lu["to"]):
                continue
            selected.append(ev)
        selected.sort(key=lambda ev: -ev["lastUpdatedTime"])
        return _page(selected, params, "events", 100, 1, 100)
    if op == "DescribeAffectedAccountsForOrganization":
        arn = params.get("eventArn", "")
        for e in events:
            if e["event"]["arn"] == arn:
                out = _page(sorted(e["accounts"]), params, "affectedAccounts", 100, 10, 100)
                out["eventScopeCode"] = e["event"]["eventScopeCode"]
                return out
        return {"affectedAccounts": [], "eventScopeCode": "NONE"}
    if op == "DescribeAffectedEntitiesForOrganization":
        filters = params.get("organizationEntityAccountFilters") or params.get("organizationEntityFilters") or []
        if not filters:
            raise HealthError("ValidationException", "organizationEntityAccountFilters or organizationEntityFilters is required")
        entities = []
        for flt in filters:
            for e in events:
                for x in e["entities"]:
                    if x["eventArn"] == flt.get("eventArn") and flt.get("awsAccountId") in (None, x["awsAccountId"]):
                        entities.append(x)
        out = _page(entities, params, "entities", 100, 1, 100)
        out["failedSet"] = []
        return out
    raise HealthError("UnknownOperationException", f"fleetscan emulator does not implement Health {op}")


TIMES = ("startTime", "endTime", "lastUpdatedTime")


def to_cbor_payload(out: dict[str, Any]) -> dict[str, Any]:
    def conv(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: (CBORTag(1, float(v)) if k in TIMES and v is not None else conv(v)) for k, v in d.items()}
        if isinstance(d, list):
            return [conv(x) for x in d]
        return d
    return conv(out)
