"""Pure helpers about pods and owners shared by the workload controllers."""
from __future__ import annotations

import copy
from datetime import datetime

from gitopslab.cluster.controllers import timeutil


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def controller_ref(owner: dict) -> dict:
    """``metav1.NewControllerRef``: controller=true, blockOwnerDeletion=true."""
    m = owner.get("metadata") or {}
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": m.get("name"),
            "uid": m.get("uid"), "controller": True, "blockOwnerDeletion": True}


def controller_of(obj: dict) -> dict | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_owned_by(obj: dict, owner: dict) -> bool:
    ref = controller_of(obj)
    return bool(ref) and ref.get("uid") == (owner.get("metadata") or {}).get("uid")


def is_terminating(obj: dict) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def is_terminated(pod: dict) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def is_active(pod: dict) -> bool:
    """``controller.IsPodActive``: not finished and not being deleted."""
    return not is_terminated(pod) and not is_terminating(pod)


def condition(obj: dict, type_: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


def is_ready(pod: dict) -> bool:
    c = condition(pod, "Ready")
    return bool(c) and c.get("status") == "True"


def is_available(pod: dict, min_ready_seconds: float, at: datetime | None = None) -> bool:
    """``podutil.IsPodAvailable``: Ready for at least ``min_ready_seconds`` (already lab-scaled)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    age = timeutil.age_seconds((condition(pod, "Ready") or {}).get("lastTransitionTime"), at)
    return age is not None and age >= min_ready_seconds


def ready_remaining(pod: dict, min_ready_seconds: float, at: datetime | None = None) -> float | None:
    """Seconds until a Ready pod becomes available, None if not Ready or already available."""
    if not is_ready(pod) or min_ready_seconds <= 0:
        return None
    age = timeutil.age_seconds((condition(pod, "Ready") or {}).get("lastTransitionTime"), at) or 0.0
    left = min_ready_seconds - age
    return left if left > 0 else None


def pod_from_template(template: dict, owner: dict, *, name: str | None = None,
                      generate_name: str | None = None, extra_labels: dict | None = None) -> dict:
    """``controller.GetPodFromTemplate``: labels, annotations and spec copied, controller ref set."""
    tmeta = template.get("metadata") or {}
    pmeta: dict = {"namespace": (owner.get("metadata") or {}).get("namespace")}
    if name:
        pmeta["name"] = name
    else:
        pmeta["generateName"] = generate_name or f"{owner['metadata']['name']}-"
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    if labels:
        pmeta["labels"] = labels
    if tmeta.get("annotations"):
        pmeta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        pmeta["finalizers"] = list(tmeta["finalizers"])
    pmeta["ownerReferences"] = [controller_ref(owner)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pmeta, "spec": copy.deepcopy(template.get("spec") or {})}


def set_condition(conditions: list[dict], new: dict) -> list[dict]:
    """Replace the condition of ``new['type']``; keep lastTransitionTime when status is unchanged."""
    out, found = [], False
    for c in conditions:
        if c.get("type") == new["type"]:
            found = True
            if c.get("status") == new.get("status") and "lastTransitionTime" in c and "lastTransitionTime" in new:
                new = {**new, "lastTransitionTime": c["lastTransitionTime"]}
            out.append(new)
        else:
            out.append(c)
    if not found:
        out.append(new)
    return out


def remove_condition(conditions: list[dict], type_: str) -> list[dict]:
    return [c for c in conditions if c.get("type") != type_]


def int_or_percent(value, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        scaled = pct * total
        return -(-scaled // 100) if round_up else scaled // 100
    return int(s)


def min_ready_seconds_scaled(obj: dict, scale: float = 1.0) -> float:
    """``spec.minReadySeconds`` in lab seconds (divided by the time scale)."""
    return float((obj.get("spec") or {}).get("minReadySeconds") or 0) / scale
