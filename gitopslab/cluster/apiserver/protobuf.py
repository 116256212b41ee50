"""Decoding ``application/vnd.kubernetes.protobuf`` request bodies.

Typed client-go clients — ``kubectl create namespace|configmap|secret|
deployment…``, ``kubectl create token`` — send protobuf, and do not fall
back to JSON. The body is ``k8s\\x00`` + a ``runtime.Unknown`` envelope
(TypeMeta + raw object bytes); the object is decoded with the field-number
table in ``protobuf_data/schema.json`` into the JSON shape the server would
have decoded (Go's ``omitempty``: empty strings, zero numbers, false and
empty lists/maps are dropped; empty structs are kept).
"""
from __future__ import annotations

import base64
import json
import struct
from functools import lru_cache
from pathlib import Path

MAGIC = b"k8s\x00"
META = "k8s.io.apimachinery.pkg.apis.meta.v1"
UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
GROUP_PACKAGES = {
    "": "core", "apps": "apps", "batch": "batch", "rbac.authorization.k8s.io": "rbac",
    "networking.k8s.io": "networking", "policy": "policy", "scheduling.k8s.io": "scheduling",
    "storage.k8s.io": "storage", "coordination.k8s.io": "coordination", "discovery.k8s.io": "discovery",
    "events.k8s.io": "events", "autoscaling": "autoscaling", "authentication.k8s.io": "authentication",
}
# Pointer fields where an explicit zero means something (kept when decoded).
MEANINGFUL_ZERO = frozenset({"replicas", "parallelism", "completions", "backoffLimit", "exitCode",
                             "terminationGracePeriodSeconds", "activeDeadlineSeconds", "ttlSecondsAfterFinished",
                             "minAvailable", "maxUnavailable", "successfulJobsHistoryLimit",
                             "failedJobsHistoryLimit", "expirationSeconds"})


class ProtobufError(ValueError):
    pass


@lru_cache(maxsize=1)
def _messages() -> dict:
    path = Path(__file__).parent / "protobuf_data" / "schema.json"
    return json.loads(path.read_text())["messages"]


def is_protobuf(content_type: str) -> bool:
    return "vnd.kubernetes.protobuf" in (content_type or "")


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(data):
            raise ProtobufError("truncated varint")
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def _fields(data: bytes):
    """``(number, wire_type, value)`` for each field of a message."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length, i = _varint(data, i)
            value, i = data[i:i + length], i + length
            if i > len(data):
                raise ProtobufError("truncated field")
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _rfc3339(seconds: int, nanos: int, micro: bool) -> str | None:
    import time
    if not seconds and not nanos:
        return None
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{base}.{nanos // 1000:06d}Z" if micro else f"{base}Z"


def _go_duration(ns: int) -> str:
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    h, rem = divmod(ns, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    s = rem / 10**9
    out = ""
    if h:
        out += f"{h}h"
    if h or m:
        out += f"{m}m"
    out += f"{s:g}s"
    return sign + out


def _scalar(typ: str, wire: int, value):
    if typ == "string":
        return value.decode("utf-8", errors="replace")
    if typ == "bytes":
        return base64.b64encode(value).decode()
    if typ == "bool":
        return bool(value)
    if typ in ("int32", "int64", "uint32", "uint64"):
        return _signed(value) if typ in ("int32", "int64") else value
    if typ in ("sint32", "sint64"):
        return (value >> 1) ^ -(value & 1)
    if typ == "double":
        return struct.unpack("<d", value)[0]
    if typ == "float":
        return struct.unpack("<f", value)[0]
    if typ in ("fixed32", "fixed64", "sfixed32", "sfixed64"):
        fmt = {"fixed32": "<I", "fixed64": "<Q", "sfixed32": "<i", "sfixed64": "<q"}[typ]
        return struct.unpack(fmt, value)[0]
    raise ProtobufError(f"unknown scalar type {typ}")


def _packed(typ: str, value: bytes) -> list:
    out, i = [], 0
    while i < len(value):
        v, i = _varint(value, i)
        out.append(_scalar(typ, 0, v))
    return out


def _special(typ: str, data: bytes):
    """Messages that JSON renders as a scalar."""
    if typ in (f"{META}.Time", f"{META}.MicroTime", f"{META}.Timestamp"):
        f = {n: v for n, _, v in _fields(data)}
        return _rfc3339(_signed(f.get(1, 0)), _signed(f.get(2, 0)), micro=typ.endswith("MicroTime"))
    if typ == f"{META}.Duration":
        f = {n: v for n, _, v in _fields(data)}
        return _go_duration(_signed(f.get(1, 0)))
    if typ in ("k8s.io.apimachinery.pkg.api.resource.Quantity", "k8s.io.apimachinery.pkg.api.resource.QuantityValue"):
        f = {n: v for n, _, v in _fields(data)}
        return f.get(1, b"").decode()
    if typ == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        f = {n: v for n, _, v in _fields(data)}
        if f.get(1, 0) == 1:
            return f.get(3, b"").decode()
        value = _signed(f.get(2, 0))
        return value if value else None
    if typ in ("k8s.io.apimachinery.pkg.runtime.RawExtension", f"{META}.FieldsV1"):
        f = {n: v for n, _, v in _fields(data)}
        raw = f.get(1, b"")
        return json.loads(raw) if raw else None
    return _MISSING


_MISSING = object()


def _empty(value, name: str) -> bool:
    if value is None or value == "" or value is False or value == []:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return name not in MEANINGFUL_ZERO
    return False


def decode_message(typ: str, data: bytes) -> object:
    special = _special(typ, data)
    if special is not _MISSING:
        return special
    schema = _messages().get(typ)
    if schema is None:
        raise ProtobufError(f"no protobuf schema for {typ}")
    out: dict = {}
    for number, wire, value in _fields(data):
        field = schema.get(str(number))
        if field is None:
            continue
        name = field["name"]
        if "map" in field:
            key_t, val_t = field["map"]
            entry = {n: (w, v) for n, w, v in _fields(value)}
            k = _value(key_t, *entry[1]) if 1 in entry else ""
            v = _value(val_t, *entry[2]) if 2 in entry else ("" if val_t in ("string", "bytes") else None)
            out.setdefault(name, {})[k] = v
            continue
        typ_f = field["type"]
        if field["label"] == "repeated":
            items = out.setdefault(name, [])
            if wire == 2 and typ_f not in ("string", "bytes") and typ_f in _NUMERIC:
                items.extend(_packed(typ_f, value))
            else:
                items.append(_value(typ_f, wire, value))
            continue
        out[name] = _value(typ_f, wire, value)
    return {k: v for k, v in out.items() if not _empty(v, k)}


_NUMERIC = {"bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "double", "float", "fixed32",
            "fixed64", "sfixed32", "sfixed64"}


def _value(typ: str, wire: int, value):
    if typ in _NUMERIC or typ in ("string", "bytes"):
        return _scalar(typ, wire, value)
    return decode_message(typ, value)


def message_type(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    package = GROUP_PACKAGES.get(group)
    if package is None:
        raise ProtobufError(f"no protobuf schema for group {group!r}")
    return f"k8s.io.api.{package}.{version}.{kind}"


def decode(body: bytes) -> dict:
    """The JSON-shaped object of a protobuf request body (with apiVersion and kind)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("provided object does not start with the protobuf magic number")
    envelope = {n: v for n, _, v in _fields(body[len(MAGIC):])}
    type_meta = {n: v.decode() for n, _, v in _fields(envelope.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    if not kind:
        raise ProtobufError("object has no kind")
    obj = decode_message(message_type(api_version, kind), envelope.get(2, b""))
    if not isinstance(obj, dict):
        raise ProtobufError("object is not a message")
    return {"apiVersion": api_version, "kind": kind, **obj}
