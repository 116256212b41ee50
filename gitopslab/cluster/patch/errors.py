"""Patch failures, carrying the status code, reason and message that
kube-apiserver answers with (apiserver ``handlers/patch.go``,
apimachinery ``mergepatch/errors.go`` and ``managedfields/internal/conflict.go``).
"""
from __future__ import annotations

import json

from gitopslab.cluster.errors import ApiError

# Messages of apimachinery's mergepatch sentinel errors.
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
NO_LIST_OF_LISTS = "lists of lists are not supported"
# What NewGenericServerResponse(422, …) says whatever the cause.
GENERIC_INVALID = "the server rejected our request due to an error in our request"


class PatchError(ApiError):
    """A patch the API server refuses. ``message`` is the Status message.

    400 BadRequest for malformed patches and directives, 422 Invalid for
    patches that do not apply (a failed JSON patch ``test``), 500 with an
    empty reason for the errors upstream returns unwrapped.
    """

    def __init__(self, message: str, code: int = 400, reason: str = "BadRequest", detail: str = ""):
        super().__init__(code, reason, message)
        self.detail = detail or message  # the underlying cause, for logs

    @classmethod
    def bad_request(cls, message: str) -> "PatchError":
        return cls(message, 400, "BadRequest")

    @classmethod
    def invalid(cls, detail: str) -> "PatchError":
        return cls(GENERIC_INVALID, 422, "Invalid", detail)

    @classmethod
    def internal(cls, message: str) -> "PatchError":
        # Errors upstream does not convert to a Status: 500, reason "".
        return cls(message, 500, "")


class ApplyConflict(ApiError):
    """Server-side apply found fields owned by other managers.

    ``conflicts`` lists ``(manager, field_path)`` with the plain manager
    name; ``message`` is worded as kube-apiserver words it.
    """

    def __init__(self, conflicts: list[tuple[dict, str]]):
        self.conflicts = [(identity["manager"], path) for identity, path in conflicts]
        causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {describe_manager(i)}",
                   "field": path} for i, path in conflicts]
        super().__init__(409, "Conflict", conflict_message(conflicts), {"causes": causes})


def describe_manager(identity: dict) -> str:
    """``"kubectl-client-side-apply" using apps/v1`` as printManager prints it."""
    text = go_quote(identity["manager"])
    if identity.get("subresource"):
        text += f" with subresource {go_quote(identity['subresource'])}"
    if identity["operation"] == "Update":
        text += f" using {identity['apiVersion']}"
    return text


def conflict_message(conflicts: list[tuple[dict, str]]) -> str:
    if len(conflicts) == 1:
        identity, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {describe_manager(identity)}: {path}"
    by_manager: dict[str, tuple[dict, list[str]]] = {}
    for identity, path in conflicts:
        by_manager.setdefault(manager_identifier(identity), (identity, []))[1].append(path)
    lines = []
    for key in sorted(by_manager):  # upstream sorts by manager identifier
        identity, paths = by_manager[key]
        lines.append(f"conflicts with {describe_manager(identity)}:")
        lines.extend(f"- {path}" for path in paths)
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def manager_identifier(identity: dict) -> str:
    """BuildManagerIdentifier: the entry without time and fields, as JSON
    (appliers without apiVersion, so re-applying at another version is the
    same manager)."""
    parts = {"manager": identity["manager"], "operation": identity["operation"]}
    if identity["operation"] != "Apply":
        parts["apiVersion"] = identity["apiVersion"]
    if identity.get("subresource"):
        parts["subresource"] = identity["subresource"]
    return json.dumps(parts, separators=(",", ":"))


def go_quote(text: str) -> str:
    """Go's %q for ordinary strings."""
    return json.dumps(text, ensure_ascii=False)


def go_value(value) -> str:
    """Go's %v of a decoded JSON value (maps print with sorted keys)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) or abs(value) >= 1e21 else str(int(value))
    return str(value)


def go_type(value) -> str:
    """The Go type name reflect prints for a decoded JSON value."""
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>"
