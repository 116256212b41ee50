"""Typed round trip of built-in objects before diffing (gitops-engine ``remarshal``), pure.

Go decodes a built-in object into its struct and re-encodes it: empty
``omitempty`` lists and maps and null fields disappear, numbers lose their
float/int distinction, resource quantities become strings. If the object does
not fit its type (unknown field, string where a number is expected), Go keeps
the object as it was, so ``"80"`` vs ``80`` still differs.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import schema


class _DoesNotFit(Exception):
    pass


def canonical_numbers(value: Any) -> Any:
    """JSON round trip: integral floats become ints (1.0 == 1), as Go's unstructured JSON does."""
    if isinstance(value, dict):
        return {k: canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def remarshal(obj: dict) -> dict:
    obj = canonical_numbers(obj)
    root = schema.typed_root(obj)
    if root is None:
        return obj
    try:
        return _struct(obj, root)
    except _DoesNotFit:
        return obj


# Maps of resource.Quantity (typed Dict[str, str] by the Python client).
_QUANTITY_MAPS = {
    ("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
    ("V1VolumeResourceRequirements", "limits"), ("V1VolumeResourceRequirements", "requests"),
    ("V1ResourceQuotaSpec", "hard"), ("V1PersistentVolumeSpec", "capacity"),
    ("V1LimitRangeItem", "default"), ("V1LimitRangeItem", "defaultRequest"), ("V1LimitRangeItem", "max"),
    ("V1LimitRangeItem", "min"), ("V1LimitRangeItem", "maxLimitRequestRatio"), ("V1PodSpec", "overhead"),
}
_PLAIN_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def quantity(value: Any) -> Any:
    """A plain-number quantity as Go's resource.Quantity prints it (1 -> "1", 0.5 -> "500m")."""
    if isinstance(value, bool):
        raise _DoesNotFit
    if isinstance(value, str) and _PLAIN_DECIMAL.match(value):
        value = float(value) if "." in value else int(value)
    if isinstance(value, (int, float)):
        milli = round(value * 1000)
        return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"
    if not isinstance(value, str):
        raise _DoesNotFit
    return value


def _struct(value: Any, field_type: schema.FieldType) -> dict:
    if not isinstance(value, dict):
        raise _DoesNotFit
    fields = schema.struct_fields(field_type.model)
    result = {}
    for key, item in value.items():
        sub = fields.get(key)
        if sub is None:
            raise _DoesNotFit  # DisallowUnknownFields
        if (field_type.model, key) in _QUANTITY_MAPS and isinstance(item, dict):
            if item:
                result[key] = {name: quantity(v) for name, v in item.items()}
            continue
        converted = _value(item, sub)
        if converted is not _OMIT:
            result[key] = converted
    return result


_OMIT = object()


def _value(value: Any, field_type: schema.FieldType) -> Any:
    if value is None:
        return _OMIT
    if field_type.kind == "struct":
        return _struct(value, field_type)
    if field_type.kind == "list":
        if not isinstance(value, list):
            raise _DoesNotFit
        return [_value(v, field_type.item) for v in value] if value else _OMIT
    if field_type.kind == "map":
        if not isinstance(value, dict):
            raise _DoesNotFit
        return {k: _map_value(v, field_type.item) for k, v in value.items()} if value else _OMIT
    return _scalar(value, field_type.scalar)


def _map_value(value: Any, field_type: schema.FieldType) -> Any:
    converted = _value(value, field_type)
    return copy.deepcopy(value) if converted is _OMIT else converted


def _scalar(value: Any, kind: str) -> Any:
    if kind == "str":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise _DoesNotFit
        if not isinstance(value, str):
            raise _DoesNotFit
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _DoesNotFit
    elif kind == "bool" and not isinstance(value, bool):
        raise _DoesNotFit
    return value
