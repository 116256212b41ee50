"""Field errors worded as apimachinery's ``field.Error`` (``ErrorBody()``).

A validator returns a list of :class:`FieldError`; :func:`causes` turns them
into the ``details.causes`` of a 422 Invalid.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from gitopslab.cluster.errors import Cause

OMIT = object()  # a bad value that is not printed (field.Forbidden / Required …)

_TYPES = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueNotFound": "Not found",
    "FieldValueTooLong": "Too long",
}


class GoValue:
    """A value printed verbatim (what Go's ``%#v`` shows for structs)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def go_quote(s: str) -> str:
    """Go's ``%q`` for the strings we meet (JSON escaping is the same for printable text)."""
    return json.dumps(s, ensure_ascii=False)


def go_map(m: dict | None) -> str:
    """``%#v`` of a ``map[string]string``."""
    if m is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(m.items())) + "}"


def go_string_slice(values: list | None) -> str:
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"


def go_label_selector(sel: dict | None) -> str:
    """``%#v`` of a ``v1.LabelSelector``."""
    sel = sel or {}
    exprs = sel.get("matchExpressions")
    if exprs is None:
        exprs_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = ", ".join(
            f'v1.LabelSelectorRequirement{{Key:{go_quote(e.get("key", ""))}, Operator:{go_quote(e.get("operator", ""))}, '
            f'Values:{go_string_slice(e.get("values"))}}}' for e in exprs)
        exprs_text = "[]v1.LabelSelectorRequirement{" + items + "}"
    return f"v1.LabelSelector{{MatchLabels:{go_map(sel.get('matchLabels'))}, MatchExpressions:{exprs_text}}}"


def _format_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, GoValue):
        return value.text
    if isinstance(value, dict):
        return go_map(value)
    if isinstance(value, list):
        return go_string_slice(value)
    return str(value)


@dataclass
class FieldError:
    reason: str
    field: str
    value: object = OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPES[self.reason]
        if self.reason not in ("FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong") and self.value is not OMIT:
            text += ": " + _format_value(self.value)
        if self.detail:
            text += ": " + self.detail
        return text

    def cause(self) -> Cause:
        return Cause(self.reason, self.body(), self.field)


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", path, OMIT, detail)


def invalid(path: str, value, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, value, detail)


def not_supported(path: str, value, valid: list[str]) -> FieldError:
    return FieldError("FieldValueNotSupported", path, value, "supported values: " + ", ".join(go_quote(v) for v in valid))


def duplicate(path: str, value) -> FieldError:
    return FieldError("FieldValueDuplicate", path, value)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", path, OMIT, detail)


def not_found(path: str, value) -> FieldError:
    return FieldError("FieldValueNotFound", path, value)


def immutable(path: str, value) -> FieldError:
    return invalid(path, value, "field is immutable")


def causes(errors: list[FieldError]) -> list[Cause]:
    return [e.cause() for e in errors]
