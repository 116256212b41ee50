"""Values of GitHub Actions expressions: truthiness, coercion, comparison, built-in functions (pure).

Rules from GitHub's documentation ("Operators", "Functions"): loose equality
coerces both sides to numbers when types differ (null -> 0, true -> 1,
'' -> 0, other strings parsed or NaN); strings compare case-insensitively;
objects and arrays are equal only to themselves. Falsy values: ``false``,
``0``, ``-0``, ``''``, ``null`` and NaN.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return float("nan")
    return float("nan")


def format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def to_string(value: Any) -> str:
    """The string an interpolation inserts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(float(value))
    if isinstance(value, str):
        return value
    return "Array" if isinstance(value, list) else "Object"


def _primitive(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def equals(left: Any, right: Any) -> bool:
    if not (_primitive(left) and _primitive(right)):
        return left is right
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, str):
        return left == right
    a, b = to_number(left), to_number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return equals(left, right)
    if op == "!=":
        return not equals(left, right)
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.casefold(), right.casefold()
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def index(target: Any, key: Any) -> Any:
    """``target[key]``; missing properties and out-of-range indexes give null."""
    if isinstance(target, dict):
        if not isinstance(key, str):
            key = to_string(key)
        if key in target:
            return target[key]
        folded = key.casefold()
        for k, v in target.items():
            if isinstance(k, str) and k.casefold() == folded:
                return v
        return None
    if isinstance(target, _Filtered):
        found = (index(item, key) for item in target)
        return _Filtered(v for v in found if v is not None)
    if isinstance(target, list):
        if isinstance(key, str) and not re.fullmatch(r"\d+", key):
            return None
        n = to_number(key)
        if math.isnan(n) or n < 0:
            return None
        i = int(n)
        return target[i] if i < len(target) else None
    return None


class _Filtered(list):
    """The array an object filter (``a.*.b``) produces."""


def star(target: Any) -> Any:
    if isinstance(target, dict):
        return _Filtered(target.values())
    if isinstance(target, list):
        return _Filtered(target)
    return _Filtered()


# --- built-in functions -------------------------------------------------------------
def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(equals(x, item) for x in search)
    return to_string(item).casefold() in to_string(search).casefold()


def _starts_with(text: Any, prefix: Any) -> bool:
    return to_string(text).casefold().startswith(to_string(prefix).casefold())


def _ends_with(text: Any, suffix: Any) -> bool:
    return to_string(text).casefold().endswith(to_string(suffix).casefold())


def _format(template: Any, *args: Any) -> str:
    text = to_string(template)

    def replace(m: re.Match) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        return to_string(args[int(m.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, text)


def _join(items: Any, separator: Any = ",") -> str:
    if isinstance(items, list):
        return to_string(separator).join(to_string(i) for i in items)
    return to_string(items)


def _to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _from_json(text: Any) -> Any:
    return json.loads(to_string(text))


BUILTINS = {
    "contains": _contains,
    "startsWith": _starts_with,
    "endsWith": _ends_with,
    "format": _format,
    "join": _join,
    "toJSON": _to_json,
    "fromJSON": _from_json,
}
