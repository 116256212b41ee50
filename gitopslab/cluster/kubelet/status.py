"""Pod status as the kubelet computes it: phase, conditions, QoS class.

Pure functions over the pod spec and the container statuses (dicts exactly
as served), following kubelet_pods.go ``getPhase`` and
pkg/kubelet/status/generate.go.
"""
from __future__ import annotations

CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def _status_of(statuses: list[dict], name: str) -> dict | None:
    for s in statuses:
        if s.get("name") == name:
            return s
    return None


def _terminated(s: dict) -> dict | None:
    return (s.get("state") or {}).get("terminated")


def _last_terminated(s: dict) -> dict | None:
    return (s.get("lastState") or {}).get("terminated")


def pod_phase(spec: dict, init_statuses: list[dict], statuses: list[dict], pod_is_terminal: bool = False) -> str:
    pending_init = failed_init = 0
    for c in spec.get("initContainers") or []:
        s = _status_of(init_statuses, c["name"])
        state = (s or {}).get("state") or {}
        if s is None or "running" in state:
            pending_init += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode", 0) != 0:
                failed_init += 1
        elif "waiting" in state:
            last = _last_terminated(s)
            if last is not None:
                if last.get("exitCode", 0) != 0:
                    failed_init += 1
            else:
                pending_init += 1
        else:
            pending_init += 1

    unknown = running = waiting = stopped = succeeded = 0
    for c in spec.get("containers") or []:
        s = _status_of(statuses, c["name"])
        state = (s or {}).get("state") or {}
        if s is None:
            unknown += 1
        elif "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
        elif "waiting" in state:
            if _last_terminated(s) is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1

    policy = spec.get("restartPolicy") or "Always"
    if failed_init > 0 and policy == "Never":
        return "Failed"
    if (pending_init > 0 and not any_regular_started(statuses)) or waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def any_regular_started(statuses: list[dict]) -> bool:
    return any(s.get("started") or _terminated(s) or _last_terminated(s) for s in statuses)


def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def initialized_condition(spec: dict, init_statuses: list[dict], phase: str) -> dict:
    incomplete = []
    for c in spec.get("initContainers") or []:
        s = _status_of(init_statuses, c["name"])
        term = _terminated(s) if s else None
        if not (term and term.get("exitCode", 0) == 0):
            incomplete.append(c["name"])
    if not incomplete:
        return {"type": "Initialized", "status": "True"}
    if phase == "Succeeded":
        return {"type": "Initialized", "status": "True", "reason": "PodCompleted"}
    return {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
            "message": f"containers with incomplete status: {_names(incomplete)}"}


def containers_ready_condition(spec: dict, statuses: list[dict], phase: str, ctype: str) -> dict:
    unknown, unready = [], []
    for c in spec.get("containers") or []:
        s = _status_of(statuses, c["name"])
        if s is None:
            unknown.append(c["name"])
        elif not s.get("ready"):
            unready.append(c["name"])
    if phase == "Succeeded" and not unknown:
        return {"type": ctype, "status": "False", "reason": "PodCompleted"}
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_names(unready)}")
    if messages:
        return {"type": ctype, "status": "False", "reason": "ContainersNotReady", "message": ", ".join(messages)}
    return {"type": ctype, "status": "True"}


def pod_conditions(spec: dict, init_statuses: list[dict], statuses: list[dict], phase: str,
                   sandbox_ready: bool, previous: list[dict], now: str) -> list[dict]:
    """The five conditions in the order the kubelet writes them.

    ``lastTransitionTime`` is kept from ``previous`` while the status is
    unchanged; ``PodScheduled`` (the scheduler's) is kept as it is.
    """
    computed = [
        {"type": "PodReadyToStartContainers", "status": "True" if sandbox_ready else "False"},
        initialized_condition(spec, init_statuses, phase),
        containers_ready_condition(spec, statuses, phase, "Ready"),
        containers_ready_condition(spec, statuses, phase, "ContainersReady"),
    ]
    old = {c.get("type"): c for c in previous or []}
    out = []
    for cond in computed:
        before = old.get(cond["type"])
        same = before is not None and before.get("status") == cond["status"]
        cond = {"type": cond["type"], "status": cond["status"], "lastProbeTime": None,
                "lastTransitionTime": before.get("lastTransitionTime") if same else now,
                **{k: v for k, v in cond.items() if k in ("reason", "message")}}
        out.append(cond)
    scheduled = old.get("PodScheduled") or {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                            "lastTransitionTime": now}
    out.append(scheduled)
    extra = [c for t, c in old.items() if t not in CONDITION_ORDER]
    return out + extra


def _resources(c: dict) -> tuple[dict, dict]:
    res = c.get("resources") or {}
    return res.get("requests") or {}, res.get("limits") or {}


def qos_class(spec: dict) -> str:
    """Guaranteed, Burstable or BestEffort (pkg/apis/core/v1/helper/qos)."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        requests, limits = _resources(c)
        requests = {k: v for k, v in requests.items() if k in ("cpu", "memory")}
        limits = {k: v for k, v in limits.items() if k in ("cpu", "memory")}
        if requests or limits:
            any_set = True
        if set(limits) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in requests.items():
            if str(limits.get(k)) != str(v):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
