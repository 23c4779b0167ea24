"""CloudWatch GetMetricData from the fleet's per-app metric series.

Series are declared per application (see tests/fleets/README.md) as points
``[minutes_ago, value]`` or a generator ``{"every": 5, "from": 1440, "to": 0,
"value": V}`` / ``{"every": 5, "from": 1440, "to": 0, "start": A, "end": B}``
(linear).  Minutes-ago are relative to the time of each request (floored to
the minute), so lookback windows always see them.

Answers are paged as AWS pages them: at most ``page_points`` datapoints per
response (AWS: ``MaxDatapoints``, default 100,800; the emulator defaults to
far fewer so every test pages), a result cut short is ``PartialData`` and
continues on the next page under the same ``Id``, and ``NextToken`` is
returned until every datapoint was sent.  See
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
and .../API_MetricDataResult.html (StatusCode).  The token carries the first
page's clock and a digest of the queries, so later pages see the same series
and a token replayed with other queries is refused (``InvalidNextToken``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from datetime import datetime
from typing import Any

from cbor2 import CBORTag

NAMESPACE = "AWS/KinesisAnalytics"
# Datapoints per GetMetricData page unless the fleet (settings.metric_page_points),
# the launcher (--metric-page-points) or the request (MaxDatapoints) says fewer.
DEFAULT_PAGE_POINTS = 100


class InvalidNextToken(ValueError):
    """A NextToken this emulator did not issue for these queries."""


def expand_series(spec: Any) -> list[tuple[float, float]]:
    """→ [(minutes_ago, value)]"""
    if isinstance(spec, list):
        return [(float(m), float(v)) for m, v in spec]
    if isinstance(spec, dict):
        pts: list[tuple[float, float]] = []
        every = float(spec.get("every", 5))
        start_m = float(spec.get("from", 1440))
        end_m = float(spec.get("to", 0))
        if every <= 0 or start_m < end_m:
            return []
        n = int(math.floor((start_m - end_m) / every)) + 1
        for k in range(n):
            m = start_m - k * every
            if "value" in spec:
                v = float(spec["value"])
            else:
                a, b = float(spec.get("start", 0)), float(spec.get("end", 0))
                frac = 0.0 if n == 1 else k / (n - 1)
                v = a + (b - a) * frac
                if spec.get("integer"):
                    v = float(math.floor(v))
            pts.append((m, v))
        for m, v in spec.get("points", []):
            pts.append((float(m), float(v)))
        return pts
    return []


def _ts(v: Any) -> float:
    if isinstance(v, datetime):
        return v.timestamp()
    if isinstance(v, CBORTag):
        return float(v.value)
    if isinstance(v, str):
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    return float(v)


def _aggregate(values: list[float], stat: str) -> float:
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Sum":
        return float(sum(values))
    if stat == "SampleCount":
        return float(len(values))
    if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
        q = float(stat[1:]) / 100.0
        s = sorted(values)
        return s[min(len(s) - 1, max(0, int(math.ceil(q * len(s))) - 1))]
    return sum(values) / len(values)  # Average and anything else


def get_metric_data(params: dict[str, Any], apps: dict[str, dict[str, Any]],
                    now: float | None = None, page_points: int = DEFAULT_PAGE_POINTS) -> dict[str, Any]:
    """apps: application name → app record (with "metrics") for the caller's account × region.
    Raises InvalidNextToken for a token not issued for these queries."""
    digest = _queries_digest(params)
    offset = 0
    if params.get("NextToken"):
        now, offset = _read_token(params["NextToken"], digest)
    now = now if now is not None else time.time()
    now_min = math.floor(now / 60) * 60
    start = _ts(params.get("StartTime", now - 3 * 3600))
    end = _ts(params.get("EndTime", now))
    ascending = params.get("ScanBy") == "TimestampAscending"
    results = []
    for q in params.get("MetricDataQueries", []) or []:
        qid = q.get("Id", "")
        ms = q.get("MetricStat")
        if not ms:
            if q.get("ReturnData", True) is False:
                continue
            results.append({"Id": qid, "Label": q.get("Label", qid), "Timestamps": [], "Values": [],
                            "StatusCode": "Complete"})
            continue
        if q.get("ReturnData") is False:
            continue
        metric = ms.get("Metric", {})
        name = metric.get("MetricName", "")
        dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", []) or []}
        period = int(ms.get("Period", q.get("Period", 60)) or 60)
        stat = ms.get("Stat", "Average")
        points: list[tuple[float, float]] = []
        if metric.get("Namespace") == NAMESPACE and set(dims) == {"Application"}:
            app = apps.get(dims["Application"])
            if app is not None:
                series = app.get("metrics", {}).get(name)
                for m, v in expand_series(series):
                    points.append((now_min - 60 * m, v))
        buckets: dict[int, list[float]] = {}
        for t, v in points:
            if start <= t < end:
                b = int(math.floor(t / period) * period)
                buckets.setdefault(b, []).append(v)
        keys = sorted(buckets, reverse=not ascending)
        results.append({
            "Id": qid,
            "Label": q.get("Label") or name,
            "Timestamps": keys,
            "Values": [float(_aggregate(buckets[k], stat)) for k in keys],
            "StatusCode": "Complete",
        })
    limit = page_points
    if params.get("MaxDatapoints"):
        limit = min(limit, int(params["MaxDatapoints"]))
    return _page(results, offset, max(1, limit), now_min, digest)


def _page(results: list[dict[str, Any]], offset: int, limit: int, now_min: float, digest: str) -> dict[str, Any]:
    """Datapoints [offset, offset + limit) of all results laid end to end, in query order."""
    end = offset + limit
    page, more, start = [], False, 0
    for r in results:
        n = len(r["Values"])
        lo, hi = max(start, offset), min(start + n, end)
        if lo < hi or (n == 0 and offset <= start < end):
            part = dict(r, Timestamps=r["Timestamps"][lo - start:hi - start], Values=r["Values"][lo - start:hi - start])
            if start + n > end:
                part["StatusCode"] = "PartialData"
            page.append(part)
        if start + n > end or (n == 0 and start >= end):
            more = True
        start += n
    out: dict[str, Any] = {"MetricDataResults": page, "Messages": []}
    if more:
        out["NextToken"] = f"{int(now_min)}.{end}.{digest}"
    return out


def _queries_digest(params: dict[str, Any]) -> str:
    """What the pages of one paged request must keep: queries, window, order."""
    keep = {k: params.get(k) for k in ("MetricDataQueries", "StartTime", "EndTime", "ScanBy")}
    keep["StartTime"], keep["EndTime"] = (_ts(keep["StartTime"]) if keep["StartTime"] is not None else None,
                                          _ts(keep["EndTime"]) if keep["EndTime"] is not None else None)
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _read_token(token: Any, digest: str) -> tuple[float, int]:
    parts = str(token).split(".")
    if len(parts) != 3 or parts[2] != digest or not parts[0].isdigit() or not parts[1].isdigit():
        raise InvalidNextToken(f"NextToken {token!r} was not issued for these queries")
    return float(parts[0]), int(parts[1])


def to_cbor_payload(out: dict[str, Any]) -> dict[str, Any]:
    res = []
    for r in out["MetricDataResults"]:
        r = dict(r)
        r["Timestamps"] = [CBORTag(1, int(t)) for t in r["Timestamps"]]
        r["Values"] = [float(v) for v in r["Values"]]
        res.append(r)
    return dict(out, MetricDataResults=res)
