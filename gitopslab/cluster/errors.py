"""API errors as the real kube-apiserver words them (apimachinery api/errors).

Raised at the edges (registry, HTTP handlers, in-process client) and turned
into a ``Status`` body by exactly one place, ``ApiError.status()``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cause:
    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueDuplicate…
    message: str
    field: str = ""

    def to_dict(self) -> dict:
        d = {"reason": self.reason, "message": self.message}
        if self.field:
            d["field"] = self.field
        return d


@dataclass
class ApiError(Exception):
    code: int
    reason: str
    message: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"({self.code} {self.reason}) {self.message}"

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(name: str, group: str, kind: str, **extra) -> dict:
    d = {"name": name} if name else {}
    if group:
        d["group"] = group
    d["kind"] = kind
    d.update(extra)
    return d


def not_found(group: str, plural: str, name: str) -> ApiError:
    gr = f"{plural}.{group}" if group else plural
    return ApiError(404, "NotFound", f'{gr} "{name}" not found', _details(name, group, plural))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    gr = f"{plural}.{group}" if group else plural
    return ApiError(409, "AlreadyExists", f'{gr} "{name}" already exists', _details(name, group, plural))


def conflict(group: str, plural: str, name: str, why: str = "the object has been modified; please apply your changes to the latest version and try again") -> ApiError:
    gr = f"{plural}.{group}" if group else plural
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {gr} "{name}": {why}', _details(name, group, plural))


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid; message ``Kind "name" is invalid: field: msg`` (several joined as a list)."""
    gk = f"{kind}.{group}" if group else kind
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    agg = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(422, "Invalid", f'{gk} "{name}" is invalid: {agg}',
                    _details(name, group, kind, causes=[c.to_dict() for c in causes]))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(group: str, plural: str, name: str, why: str) -> ApiError:
    gr = f"{plural}.{group}" if group else plural
    return ApiError(403, "Forbidden", f'{gr} "{name}" is forbidden: {why}', _details(name, group, plural))


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message, {})


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large() -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")


def unsupported_media_type(accepted: str = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml") -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: {accepted}")


def server_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def conflict_message(message: str, *, group: str = "", plural: str = "", name: str = "",
                     causes: list[dict] | None = None) -> ApiError:
    """409 Conflict with a message of its own (server-side apply conflicts, preconditions)."""
    details = _details(name, group, plural) if plural else {}
    if causes:
        details["causes"] = causes
    return ApiError(409, "Conflict", message, details)


def internal_error(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def not_acceptable(accepted: str = "application/json, application/yaml") -> ApiError:
    return ApiError(406, "NotAcceptable", f"only the following media types are accepted: {accepted}")


def bad_request_invalid(message: str) -> ApiError:
    """400 BadRequest carrying a decoding problem (malformed body)."""
    return ApiError(400, "BadRequest", message)


def success_status(group: str, plural: str, name: str, uid: str | None = None) -> dict:
    """What DELETE answers when the object is gone at once and the kind does not return it."""
    details = _details(name, group, plural)
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def from_status(body: dict, code: int | None = None) -> ApiError:
    """Rebuild an ``ApiError`` from a Status body received over HTTP."""
    return ApiError(int(body.get("code") or code or 500), body.get("reason") or "Unknown",
                    body.get("message") or "", body.get("details") or {})
