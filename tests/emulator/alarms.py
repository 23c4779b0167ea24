"""CloudWatch DescribeAlarms from the fleet's per-app alarm declarations.

An application may declare ``"alarms"``: a list of objects, each one metric
alarm on the app's ``Application`` dimension::

    {"metric": "lastCheckpointDuration", "name": "orders-duration",   # name optional
     "state": "OK", "actions_enabled": true,                          # defaults
     "actions": ["arn:aws:sns:${region}:${account_id}:oncall"],         # default: that topic
     "math": false, "threshold": 0}                                   # math: RATE(metric) > threshold

Answers follow botocore's ``DescribeAlarms`` output shape (tests validate
them against it): ``MetricAlarms`` (``CompositeAlarms`` empty), paging with
``MaxRecords`` (1..100, default 50) and ``NextToken``, filters
``AlarmNamePrefix``, ``AlarmNames``, ``StateValue`` and ``AlarmTypes``.
"""

from __future__ import annotations

from typing import Any

from cbor2 import CBORTag

NAMESPACE = "AWS/KinesisAnalytics"
STATES = {"OK", "ALARM", "INSUFFICIENT_DATA"}


class AlarmError(ValueError):
    """A request the real service would reject (rendered as a 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def build(account: str, region: str, app: str, specs: list[dict[str, Any]], anchor: float) -> list[dict[str, Any]]:
    """The MetricAlarm records of one app."""
    out = []
    for i, spec in enumerate(specs):
        metric = spec["metric"]
        name = spec.get("name") or f"{app}-{metric}-{i}"
        state = spec.get("state", "OK")
        if state not in STATES:
            raise ValueError(f"alarm {name}: state must be one of {sorted(STATES)}")
        actions = spec.get("actions", [f"arn:aws:sns:{region}:{account}:oncall"])
        dims = [{"Name": "Application", "Value": app}]
        alarm: dict[str, Any] = {
            "AlarmName": name,
            "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
            "AlarmConfigurationUpdatedTimestamp": anchor - 86400,
            "ActionsEnabled": bool(spec.get("actions_enabled", True)),
            "OKActions": [],
            "AlarmActions": list(actions),
            "InsufficientDataActions": [],
            "StateValue": state,
            "StateReason": f"Threshold Crossed: emulator state {state}",
            "StateUpdatedTimestamp": anchor - 3600,
            "StateTransitionedTimestamp": anchor - 3600,
            "EvaluationPeriods": 1,
            "Threshold": float(spec.get("threshold", 0)),
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "missing",
        }
        if spec.get("math"):
            alarm["Metrics"] = [
                {"Id": "m", "ReturnData": False, "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                    "Period": 300, "Stat": "Maximum"}},
                {"Id": "increase", "Expression": "RATE(m)", "Label": f"{metric} increase", "ReturnData": True},
            ]
        else:
            alarm.update({"MetricName": metric, "Namespace": NAMESPACE, "Dimensions": dims,
                          "Statistic": "Maximum", "Period": 300})
        out.append(alarm)
    return out


def describe_alarms(params: dict[str, Any], alarms: list[dict[str, Any]]) -> dict[str, Any]:
    """alarms: every metric alarm of the caller's account × region."""
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    for t in types:
        if t not in ("MetricAlarm", "CompositeAlarm"):
            raise AlarmError("ValidationError", f"AlarmTypes member {t!r} is not MetricAlarm or CompositeAlarm")
    limit = params.get("MaxRecords", 50)
    if not isinstance(limit, int) or not 1 <= limit <= 100:
        raise AlarmError("ValidationError", "MaxRecords must be between 1 and 100")
    selected = sorted((a for a in alarms), key=lambda a: a["AlarmName"]) if "MetricAlarm" in types else []
    if params.get("AlarmNames"):
        names = set(params["AlarmNames"])
        selected = [a for a in selected if a["AlarmName"] in names]
    if params.get("AlarmNamePrefix"):
        selected = [a for a in selected if a["AlarmName"].startswith(params["AlarmNamePrefix"])]
    if params.get("StateValue"):
        selected = [a for a in selected if a["StateValue"] == params["StateValue"]]
    start = 0
    if params.get("NextToken"):
        token = str(params["NextToken"])
        if not token.isdigit() or int(token) > len(selected):
            raise AlarmError("InvalidNextToken", "The service couldn't process your request because the NextToken is invalid")
        start = int(token)
    page = selected[start:start + limit]
    out: dict[str, Any] = {"MetricAlarms": page, "CompositeAlarms": []}
    if start + limit < len(selected):
        out["NextToken"] = str(start + limit)
    return out


TIMESTAMPS = ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp", "StateTransitionedTimestamp")


def to_cbor_payload(out: dict[str, Any]) -> dict[str, Any]:
    """rpc-v2-cbor: timestamps as tag 1 (epoch seconds)."""
    def conv(a: dict[str, Any]) -> dict[str, Any]:
        a = dict(a)
        for k in TIMESTAMPS:
            if k in a:
                a[k] = CBORTag(1, float(a[k]))
        return a
    return dict(out, MetricAlarms=[conv(a) for a in out["MetricAlarms"]])
