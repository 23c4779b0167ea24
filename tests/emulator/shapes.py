"""Checks a response body against botocore's service model of its operation.

The emulator writes some responses by hand (see middleware.py); this module
is what keeps them in AWS's own shapes. It is driven only by the JSON models
botocore ships, never by a schema written here:

    errors = validate_body("kinesisanalyticsv2", "DescribeApplication", body, "json")
    # ["DescribeApplication.ApplicationDetail.ApplicationName: required member missing", ...]

It checks, recursively, what a strict SDK relies on: required members
present, no member the model does not have, each value's type
(structure/list/map/string/integer/long/float/double/boolean/timestamp/blob),
enum values, the model's min/max/pattern constraints, and timestamps in the
protocol's own representation:

* ``json`` (awsJson1_0/1_1): epoch seconds as a JSON number (or the member's
  ``timestampFormat``); blobs base64 text.
* ``cbor`` (smithy-rpc-v2-cbor): CBOR tag 1 (cbor2 decodes it, and only it
  or tag 0, to ``datetime``); doubles as CBOR floats; blobs byte strings.
* ``query`` (awsQuery XML): ``<Op>Response``/``<Op>Result`` in the model's
  namespace, ISO 8601 timestamps, lists of ``<member>``; every scalar is text
  that must parse as its type.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import botocore.session
from botocore.model import Shape

PROTOCOLS = ("json", "cbor", "query")


@functools.lru_cache(maxsize=None)
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str) -> Shape:
    shape = service_model(service).operation_model(operation).output_shape
    if shape is None:
        raise ValueError(f"{service}:{operation} has no output shape in botocore's model")
    return shape


class ShapeError(AssertionError):
    """A response that does not match the model; the message lists every mismatch."""


def validate(service: str, operation: str, value: Any, protocol: str) -> list[str]:
    """Mismatches between an already-decoded response and the model (empty when it matches)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (one of {PROTOCOLS})")
    errors: list[str] = []
    _check(output_shape(service, operation), value, operation, protocol, errors)
    return errors


def decode(service: str, operation: str, body: bytes, protocol: str) -> tuple[Any, list[str]]:
    """The response body decoded the way its protocol is (XML read through the model)."""
    if protocol == "json":
        return json.loads(body or b"{}"), []
    if protocol == "cbor":
        import cbor2
        return (cbor2.loads(body) if body else {}), []
    errors: list[str] = []
    return _from_query_xml(service, operation, body, errors), errors


def validate_body(service: str, operation: str, body: bytes, protocol: str) -> list[str]:
    value, errors = decode(service, operation, body, protocol)
    return errors + validate(service, operation, value, protocol)


def assert_valid(service: str, operation: str, body: bytes, protocol: str) -> Any:
    """Decodes ``body``, raises :class:`ShapeError` listing every mismatch, returns the value."""
    value, errors = decode(service, operation, body, protocol)
    errors += validate(service, operation, value, protocol)
    if errors:
        raise ShapeError(f"{service}:{operation} does not match botocore's model:\n  " + "\n  ".join(errors))
    return value


# ---------------------------------------------------------------- the walk


def _check(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    kind = shape.type_name
    checker = _CHECKERS.get(kind)
    if checker is None:
        errors.append(f"{path}: model type {kind!r} is not supported by this validator")
        return
    checker(shape, value, path, protocol, errors)


def _structure(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected a structure ({shape.name}), got {_kind(value)}")
        return
    members = shape.members
    for key in value:
        if key not in members:
            errors.append(f"{path}.{key}: not a member of {shape.name}")
    present = [name for name in members if value.get(name) is not None]
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(f"{path}.{name}: required member missing")
    if shape.metadata.get("union") and len(present) != 1:
        errors.append(f"{path}: union {shape.name} must set exactly one member, has {present}")
    for name in present:
        _check(members[name], value[name], f"{path}.{name}", protocol, errors)


def _list(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if not isinstance(value, list):
        errors.append(f"{path}: expected a list ({shape.name}), got {_kind(value)}")
        return
    _bounds(shape, len(value), path, "length", errors)
    for i, item in enumerate(value):
        if item is None:
            errors.append(f"{path}[{i}]: null list element")
            continue
        _check(shape.member, item, f"{path}[{i}]", protocol, errors)


def _map(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected a map ({shape.name}), got {_kind(value)}")
        return
    _bounds(shape, len(value), path, "size", errors)
    for key, item in value.items():
        _check(shape.key, key, f"{path}{{key {key!r}}}", protocol, errors)
        if item is None:
            errors.append(f"{path}[{key!r}]: null map value")
            continue
        _check(shape.value, item, f"{path}[{key!r}]", protocol, errors)


def _string(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if not isinstance(value, str):
        errors.append(f"{path}: expected a string ({shape.name}), got {_kind(value)}")
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        errors.append(f"{path}: {value!r} is not one of {shape.name}'s values {enum}")
    _bounds(shape, len(value), path, "length", errors)
    pattern = shape.metadata.get("pattern")
    if pattern:
        try:
            # Smithy patterns are not anchored (ECMA-262 search semantics).
            if re.search(pattern, value) is None:
                errors.append(f"{path}: {value!r} does not match {shape.name}'s pattern {pattern}")
        except re.error:
            pass  # a pattern Python's re cannot read: not checked


def _integer(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if protocol == "query":
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value.strip()):
            errors.append(f"{path}: expected {shape.type_name} text, got {value!r}")
            return
        value = int(value)
    elif isinstance(value, bool) or not isinstance(value, int):
        article = "an" if shape.type_name == "integer" else "a"
        errors.append(f"{path}: expected {article} {shape.type_name} ({shape.name}), got {_kind(value)} {value!r}")
        return
    _bounds(shape, value, path, "value", errors)


def _double(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if protocol == "query":
        try:
            float(value)
        except (TypeError, ValueError):
            errors.append(f"{path}: expected {shape.type_name} text, got {value!r}")
        return
    if protocol == "cbor":
        # rpc-v2-cbor encodes doubles as CBOR floats.
        if not isinstance(value, float):
            errors.append(f"{path}: expected a CBOR float ({shape.name}), got {_kind(value)} {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if not (isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity")):
            errors.append(f"{path}: expected a number ({shape.name}), got {_kind(value)} {value!r}")


def _boolean(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    ok = value in ("true", "false") if protocol == "query" else isinstance(value, bool)
    if not ok:
        errors.append(f"{path}: expected a boolean ({shape.name}), got {_kind(value)} {value!r}")


def _timestamp(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if protocol == "cbor":
        if not isinstance(value, dt.datetime):
            errors.append(f"{path}: expected a CBOR tag-1 timestamp, got {_kind(value)} {value!r}")
        return
    default = "iso8601" if protocol == "query" else "unixTimestamp"
    fmt = shape.serialization.get("timestampFormat", default)
    if fmt == "unixTimestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected epoch seconds (a number), got {_kind(value)} {value!r}")
        return
    if not isinstance(value, str) or not _parses_as(fmt, value):
        errors.append(f"{path}: expected a {fmt} timestamp, got {_kind(value)} {value!r}")


def _blob(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    if protocol == "cbor":
        if not isinstance(value, bytes):
            errors.append(f"{path}: expected a CBOR byte string, got {_kind(value)}")
        return
    try:
        base64.b64decode(value, validate=True)
    except (TypeError, ValueError):
        errors.append(f"{path}: expected base64 text, got {_kind(value)} {value!r}")


def _document(shape: Shape, value: Any, path: str, protocol: str, errors: list[str]) -> None:
    pass  # any JSON value


_CHECKERS = {
    "structure": _structure, "list": _list, "map": _map, "string": _string,
    "integer": _integer, "long": _integer, "short": _integer, "byte": _integer,
    "double": _double, "float": _double, "boolean": _boolean, "timestamp": _timestamp,
    "blob": _blob, "document": _document,
}


def _bounds(shape: Shape, n: int, path: str, what: str, errors: list[str]) -> None:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and n < lo:
        errors.append(f"{path}: {what} {n} below {shape.name}'s min {lo}")
    if hi is not None and n > hi:
        errors.append(f"{path}: {what} {n} above {shape.name}'s max {hi}")


def _parses_as(fmt: str, text: str) -> bool:
    try:
        if fmt == "iso8601":
            # AWS writes e.g. 2026-12-01T18:00:00Z or with .123Z fractions.
            return re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text) is not None \
                and dt.datetime.fromisoformat(text.replace("Z", "+00:00")) is not None
        if fmt == "rfc822":
            from email.utils import parsedate_to_datetime
            return parsedate_to_datetime(text) is not None
    except (TypeError, ValueError):
        return False
    return False


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# ---------------------------------------------------------------- awsQuery XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_query_xml(service: str, operation: str, body: bytes, errors: list[str]) -> Any:
    """``<Op>Response xmlns=..><Op>Result>..</Op>Result><ResponseMetadata>..`` → a dict
    keyed by member name (scalars stay text); structural mismatches go to ``errors``."""
    model = service_model(service)
    op = model.operation_model(operation)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        errors.append(f"{operation}: response is not XML: {exc}")
        return None
    ns = model.metadata.get("xmlNamespace")
    if _local(root.tag) != f"{operation}Response":
        errors.append(f"{operation}: root element <{_local(root.tag)}>, expected <{operation}Response>")
    if ns and root.tag != f"{{{ns}}}{_local(root.tag)}":
        errors.append(f"{operation}: root namespace {root.tag.partition('}')[0][1:]!r}, expected {ns!r}")
    wrapper = op.output_shape.serialization.get("resultWrapper") if op.output_shape else None
    result = None
    for child in root:
        name = _local(child.tag)
        if name == "ResponseMetadata":
            if not any(_local(c.tag) == "RequestId" and (c.text or "").strip() for c in child):
                errors.append(f"{operation}.ResponseMetadata.RequestId: missing")
        elif name == wrapper:
            result = child
        else:
            errors.append(f"{operation}: unexpected element <{name}> in <{operation}Response>")
    if result is None:
        errors.append(f"{operation}: no <{wrapper}> element")
        return {}
    return _xml_value(result, op.output_shape, operation, errors)


def _xml_value(elem: ET.Element, shape: Shape, path: str, errors: list[str]) -> Any:
    kind = shape.type_name
    if kind == "structure":
        by_tag = {m.serialization.get("name", name): name for name, m in shape.members.items()}
        out: dict[str, Any] = {}
        for child in elem:
            tag = _local(child.tag)
            name = by_tag.get(tag)
            if name is None:
                errors.append(f"{path}.{tag}: not a member of {shape.name}")
                continue
            member = shape.members[name]
            if member.type_name == "list" and member.serialization.get("flattened"):
                out.setdefault(name, []).append(_xml_value(child, member.member, f"{path}.{name}", errors))
            else:
                out[name] = _xml_value(child, member, f"{path}.{name}", errors)
        return out
    if kind == "list":
        item_tag = shape.member.serialization.get("name", "member")
        items = []
        for i, child in enumerate(elem):
            if _local(child.tag) != item_tag:
                errors.append(f"{path}[{i}]: element <{_local(child.tag)}>, expected <{item_tag}>")
                continue
            items.append(_xml_value(child, shape.member, f"{path}[{i}]", errors))
        return items
    if kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        out = {}
        for entry in elem:
            key = value = None
            for part in entry:
                if _local(part.tag) == key_tag:
                    key = part.text or ""
                elif _local(part.tag) == value_tag:
                    value = _xml_value(part, shape.value, f"{path}[{key!r}]", errors)
            if key is None:
                errors.append(f"{path}: map entry without <{key_tag}>")
                continue
            out[key] = value
        return out
    return elem.text or ""
