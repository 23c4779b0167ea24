"""CloudWatch GetMetricData from the fleet's per-app metric series.

Series are declared per application (see tests/fleets/README.md) as points
``[minutes_ago, value]`` or a generator ``{"every": 5, "from": 1440, "to": 0,
"value": V}`` / ``{"every": 5, "from": 1440, "to": 0, "start": A, "end": B}``
(linear).  Minutes-ago are relative to the time of each request (floored to
the minute), so lookback windows always see them.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from cbor2 import CBORTag

NAMESPACE = "AWS/KinesisAnalytics"


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
                    now: float | None = None) -> dict[str, Any]:
    """apps: application name → app record (with "metrics") for the caller's account × region."""
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
    return {"MetricDataResults": results, "Messages": []}


def to_cbor_payload(out: dict[str, Any]) -> dict[str, Any]:
    res = []
    for r in out["MetricDataResults"]:
        r = dict(r)
        r["Timestamps"] = [CBORTag(1, int(t)) for t in r["Timestamps"]]
        r["Values"] = [float(v) for v in r["Values"]]
        res.append(r)
    return {"MetricDataResults": res, "Messages": out.get("Messages", [])}
