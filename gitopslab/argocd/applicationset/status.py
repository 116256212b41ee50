"""ApplicationSet status: conditions, health and ``status.resources`` (pure).

As AC v3.4 ``setApplicationSetStatusCondition`` + ``ApplicationSetStatus.SetConditions``
/ ``CalculateHealth`` (``pkg/apis/application/v1alpha1/applicationset_types.go``) and
``applicationset/status/resource_status.go``:

- each reconcile outcome sets one condition; ``ParametersGenerated`` is set beside it
  (True "Successfully generated parameters for all Applications", or False with the
  error); an ``ErrorOccurred=True`` brings ``ResourcesUpToDate=False`` (reason
  ``ErrorOccurred``), a ``ResourcesUpToDate=True`` brings ``ErrorOccurred=False``;
- a condition whose status, reason and message did not change keeps its
  ``lastTransitionTime``; conditions are sorted by type, status, reason, message;
- ``health``: Degraded on ``ErrorOccurred=True`` (its message), Progressing on
  ``RolloutProgressing=True``, Healthy on ``ResourcesUpToDate=True``, else Unknown;
- ``resources``: one entry per generated Application (group ``argoproj.io``,
  version, kind, name, namespace, sync ``status``, ``health.status``), by name.
"""
from __future__ import annotations

ERROR_OCCURRED = "ErrorOccurred"
PARAMETERS_GENERATED = "ParametersGenerated"
RESOURCES_UP_TO_DATE = "ResourcesUpToDate"
ROLLOUT_PROGRESSING = "RolloutProgressing"

# reasons (ApplicationSetReason*)
REASON_ERROR_OCCURRED = "ErrorOccurred"
REASON_UP_TO_DATE = "ApplicationSetUpToDate"
REASON_PARAMETERS_GENERATED = "ParametersGenerated"
REASON_UPDATE_APPLICATION_ERROR = "UpdateApplicationError"
REASON_PARAMS_GENERATION_ERROR = "ApplicationGenerationFromParamsError"
REASON_RENDER_TEMPLATE_PARAMS_ERROR = "RenderTemplateParamsError"
REASON_CREATE_APPLICATION_ERROR = "CreateApplicationError"
REASON_DELETE_APPLICATION_ERROR = "DeleteApplicationError"
REASON_REFRESH_APPLICATION_ERROR = "RefreshApplicationError"
REASON_VALIDATION_ERROR = "ApplicationValidationError"

UP_TO_DATE_MESSAGE = "All applications have been generated successfully"
PARAMETERS_GENERATED_MESSAGE = "Successfully generated parameters for all Applications"


def condition(type_: str, status: str, reason: str, message: str) -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def error_condition(reason: str, message: str) -> dict:
    return condition(ERROR_OCCURRED, "True", reason, message)


def up_to_date_condition() -> dict:
    return condition(RESOURCES_UP_TO_DATE, "True", REASON_UP_TO_DATE, UP_TO_DATE_MESSAGE)


def _parameters_generated(generated: bool, message: str) -> dict:
    if generated:
        return condition(PARAMETERS_GENERATED, "True", REASON_PARAMETERS_GENERATED, PARAMETERS_GENERATED_MESSAGE)
    return condition(PARAMETERS_GENERATED, "False", REASON_ERROR_OCCURRED, message)


def with_condition(current: list[dict] | None, new: dict, parameters_generated: bool, now: str, *,
                   rolling_sync: bool = False) -> list[dict]:
    """The conditions after ``setApplicationSetStatusCondition(new, parametersGenerated)``."""
    evaluated = {PARAMETERS_GENERATED: True, ERROR_OCCURRED: False, RESOURCES_UP_TO_DATE: False,
                 ROLLOUT_PROGRESSING: False}
    evaluated[new["type"]] = True
    incoming = [dict(new)]
    if not rolling_sync:
        evaluated[ROLLOUT_PROGRESSING] = True
    if new["type"] != PARAMETERS_GENERATED:
        incoming.append(_parameters_generated(parameters_generated, new["message"]))
    if new["type"] == RESOURCES_UP_TO_DATE and new["status"] == "True":
        evaluated[ERROR_OCCURRED] = True
        incoming.append(condition(ERROR_OCCURRED, "False", new["reason"], new["message"]))
    elif new["type"] == ERROR_OCCURRED and new["status"] == "True":
        evaluated[RESOURCES_UP_TO_DATE] = True
        incoming.append(condition(RESOURCES_UP_TO_DATE, "False", REASON_ERROR_OCCURRED, new["message"]))
    elif new["type"] == ROLLOUT_PROGRESSING and not rolling_sync:
        evaluated[ROLLOUT_PROGRESSING] = False
    return set_conditions(current or [], incoming, evaluated, now)


def set_conditions(current: list[dict], incoming: list[dict], evaluated: dict[str, bool], now: str) -> list[dict]:
    """``ApplicationSetStatus.SetConditions``."""
    out = []
    for existing in current:
        if not evaluated.get(existing.get("type"), False):
            kept = dict(existing)
            kept.setdefault("lastTransitionTime", now)
            out.append(kept)
    for cond in incoming:
        if not evaluated.get(cond["type"], False):
            continue
        previous = next((c for c in current if c.get("type") == cond["type"]), None)
        if previous is not None and all(previous.get(k) == cond[k] for k in ("message", "reason", "status")):
            out.append(dict(previous))
        else:
            out.append(dict(cond, lastTransitionTime=cond.get("lastTransitionTime") or now))
    out.sort(key=lambda c: (c.get("type", ""), c.get("status", ""), c.get("reason", ""), c.get("message", ""),
                            c.get("lastTransitionTime") or ""))
    return out


def conditions_changed(before: list[dict] | None, after: list[dict]) -> bool:
    """Whether the controller writes the conditions (any type, reason, status or message differs)."""
    before = before or []
    if len(before) != len(after):
        return True
    return any(a.get(k) != b.get(k) for a, b in zip(after, before) for k in ("type", "reason", "status", "message"))


def health(conditions: list[dict]) -> dict:
    """``CalculateHealth``."""
    if not conditions:
        return {"status": "Unknown", "message": "No status conditions found for ApplicationSet"}
    progressing = healthy = None
    for cond in conditions:
        if cond.get("status") != "True":
            continue
        if cond.get("type") == ERROR_OCCURRED:
            return _health("Degraded", cond.get("message", ""))
        if cond.get("type") == ROLLOUT_PROGRESSING:
            progressing = cond
        elif cond.get("type") == RESOURCES_UP_TO_DATE:
            healthy = cond
    if progressing is not None:
        return _health("Progressing", progressing.get("message", ""))
    if healthy is not None:
        return _health("Healthy", healthy.get("message", ""))
    return {"status": "Unknown", "message": "Waiting for health status to be determined"}


def _health(status: str, message: str) -> dict:
    return {"status": status, "message": message} if message else {"status": status}


def resources(apps: list[dict]) -> list[dict]:
    """``BuildResourceStatus`` for the ApplicationSet's current Applications, sorted by name."""
    out = []
    for app in apps:
        meta, app_status = app.get("metadata") or {}, app.get("status") or {}
        group, _, version = (app.get("apiVersion") or "argoproj.io/v1alpha1").rpartition("/")
        entry = {"group": group, "version": version, "kind": app.get("kind") or "Application",
                 "namespace": meta.get("namespace", ""), "name": meta.get("name", "")}
        sync = (app_status.get("sync") or {}).get("status")
        if sync:
            entry["status"] = sync
        health_status = (app_status.get("health") or {}).get("status")
        entry["health"] = {"status": health_status} if health_status else {}
        out.append({k: v for k, v in entry.items() if v != ""})
    out.sort(key=lambda r: r["name"])
    return out
