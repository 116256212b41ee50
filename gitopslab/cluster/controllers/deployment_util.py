"""Pure Deployment logic, after ``pkg/controller/deployment/util/deployment_util.go``,
``sync.go calculateStatus`` and ``progress.go``. No I/O: objects in, values out.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta

from gitopslab.cluster.controllers import timeutil
from gitopslab.cluster.controllers.hashing import compute_hash, without_nulls
from gitopslab.cluster.controllers.pods import int_or_percent

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# annotations never copied from a Deployment to its ReplicaSets
SKIP_COPY = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
             DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}

PROGRESSING, AVAILABLE, REPLICA_FAILURE = "Progressing", "Available", "ReplicaFailure"
NEW_RS_CREATED, FOUND_NEW_RS = "NewReplicaSetCreated", "FoundNewReplicaSet"
RS_UPDATED, NEW_RS_AVAILABLE, TIMED_OUT = "ReplicaSetUpdated", "NewReplicaSetAvailable", "ProgressDeadlineExceeded"
PAUSED, RESUMED = "DeploymentPaused", "DeploymentResumed"
MIN_AVAILABLE, MIN_UNAVAILABLE = "MinimumReplicasAvailable", "MinimumReplicasUnavailable"


# --- spec accessors with API defaults ----------------------------------------
def replicas(d: dict) -> int:
    r = (d.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def rs_replicas(rs: dict) -> int:
    return int((rs.get("spec") or {}).get("replicas") or 0)


def rs_status(rs: dict, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def strategy_type(d: dict) -> str:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type") or "RollingUpdate"


def _rolling(d: dict) -> dict:
    return ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}


def progress_deadline(d: dict) -> int | None:
    """Seconds, or None when disabled (math.MaxInt32 means no deadline)."""
    v = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    return None if v is None or v >= 2**31 - 1 else int(v)


def revision_history_limit(d: dict) -> int:
    v = (d.get("spec") or {}).get("revisionHistoryLimit")
    return 10 if v is None else int(v)


def min_ready_seconds(obj: dict) -> int:
    return int((obj.get("spec") or {}).get("minReadySeconds") or 0)


def resolve_fenceposts(d: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for RollingUpdate; surge rounds up, unavailable down."""
    if strategy_type(d) != "RollingUpdate":
        return 0, 0
    ru, n = _rolling(d), replicas(d)
    surge = int_or_percent(ru.get("maxSurge", "25%"), n, True)
    unavailable = int_or_percent(ru.get("maxUnavailable", "25%"), n, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # validation forbids 0/0; upstream keeps the rollout moving
    return surge, unavailable


def max_unavailable(d: dict) -> int:
    if strategy_type(d) != "RollingUpdate" or replicas(d) == 0:
        return 0
    return min(resolve_fenceposts(d)[1], replicas(d))


def max_surge(d: dict) -> int:
    return resolve_fenceposts(d)[0]


# --- ReplicaSets ---------------------------------------------------------------
def template_hash(d: dict) -> str:
    return compute_hash((d.get("spec") or {}).get("template") or {}, (d.get("status") or {}).get("collisionCount"))


def _without_hash(template: dict) -> dict:
    t = without_nulls(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
        if not labels:
            t["metadata"].pop("labels")
    if "metadata" in t and not t["metadata"]:
        t.pop("metadata")
    return t


def equal_ignore_hash(a: dict, b: dict) -> bool:
    return _without_hash(a) == _without_hash(b)


def find_new_rs(d: dict, rss: list[dict]) -> dict | None:
    """The oldest ReplicaSet whose template equals the Deployment's (``FindNewReplicaSet``)."""
    tpl = (d.get("spec") or {}).get("template") or {}
    for rs in sorted(rss, key=creation_key):
        if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, tpl):
            return rs
    return None


def creation_key(obj: dict) -> tuple:
    m = obj.get("metadata") or {}
    return (m.get("creationTimestamp") or "", m.get("name") or "")


def revision(obj: dict) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def max_revision(rss: list[dict]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def new_rs_template(d: dict, hash_: str) -> dict:
    tpl = copy.deepcopy((d.get("spec") or {}).get("template") or {})
    tpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hash_
    return tpl


def new_rs_selector(d: dict, hash_: str) -> dict:
    sel = copy.deepcopy((d.get("spec") or {}).get("selector") or {})
    sel.setdefault("matchLabels", {})[HASH_LABEL] = hash_
    return sel


def replica_annotations(d: dict, new_replicas: int) -> dict:
    """desired-replicas / max-replicas, as ``SetReplicasAnnotations``."""
    return {DESIRED_REPLICAS: str(replicas(d)), MAX_REPLICAS: str(replicas(d) + max_surge(d))}


def new_rs_annotations(d: dict, rs: dict, new_revision: int, exists: bool) -> dict:
    """Annotations for the new ReplicaSet (``SetNewReplicaSetAnnotations``)."""
    current = dict((rs.get("metadata") or {}).get("annotations") or {})
    out = dict(current)
    for k, v in ((d.get("metadata") or {}).get("annotations") or {}).items():
        if k not in SKIP_COPY:
            out[k] = v
    old_rev = current.get(REVISION)
    if old_rev is None or int(old_rev or 0) < new_revision:
        out[REVISION] = str(new_revision)
        if old_rev:
            history = [h for h in (current.get(REVISION_HISTORY) or "").split(",") if h] + [old_rev]
            out[REVISION_HISTORY] = ",".join(history)
    if not exists:
        out.update(replica_annotations(d, 0))
    return out


def count(rss: list[dict], field: str | None = None) -> int:
    """Σ spec.replicas (field None) or Σ status.<field>."""
    if field is None:
        return sum(rs_replicas(rs) for rs in rss)
    return sum(rs_status(rs, field) for rs in rss)


def active(rss: list[dict]) -> list[dict]:
    return [rs for rs in rss if rs_replicas(rs) > 0]


def new_rs_new_replicas(d: dict, all_rss: list[dict], new_rs: dict) -> int:
    """``NewRSNewReplicas``: how far the new ReplicaSet may scale up now."""
    if strategy_type(d) == "Recreate":
        return replicas(d)
    current = count(all_rss)
    max_total = replicas(d) + max_surge(d)
    if current >= max_total:
        return rs_replicas(new_rs)
    up = min(max_total - current, replicas(d) - rs_replicas(new_rs))
    return rs_replicas(new_rs) + max(up, 0)


def scale_down_plan_unhealthy(old_rss: list[dict], max_cleanup: int) -> list[tuple[dict, int]]:
    """``cleanupUnhealthyReplicas``: (rs, new replicas) scaling away unavailable old pods first."""
    plan, total = [], 0
    for rs in sorted(old_rss, key=creation_key):
        if total >= max_cleanup:
            break
        if rs_replicas(rs) == 0:
            continue
        unhealthy = rs_replicas(rs) - rs_status(rs, "availableReplicas")
        if unhealthy <= 0:
            continue
        down = min(max_cleanup - total, unhealthy)
        plan.append((rs, rs_replicas(rs) - down))
        total += down
    return plan


def scale_down_plan_rolling(all_rss: list[dict], old_rss: list[dict], d: dict) -> list[tuple[dict, int]]:
    """``scaleDownOldReplicaSetsForRollingUpdate``: keep at least minAvailable available pods."""
    min_available = replicas(d) - max_unavailable(d)
    available = count(all_rss, "availableReplicas")
    if available <= min_available:
        return []
    budget, plan = available - min_available, []
    for rs in sorted(old_rss, key=creation_key):
        if budget <= 0:
            break
        if rs_replicas(rs) == 0:
            continue
        down = min(rs_replicas(rs), budget)
        plan.append((rs, rs_replicas(rs) - down))
        budget -= down
    return plan


def rolling_max_scaled_down(d: dict, all_rss: list[dict], new_rs: dict | None) -> int:
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = (rs_replicas(new_rs) - rs_status(new_rs, "availableReplicas")) if new_rs else 0
    return count(all_rss) - min_available - new_unavailable


def cleanup_candidates(d: dict, old_rss: list[dict]) -> list[dict]:
    """Old ReplicaSets beyond revisionHistoryLimit, oldest revision first."""
    limit = revision_history_limit(d)
    idle = [rs for rs in old_rss
            if rs_replicas(rs) == 0 and rs_status(rs, "replicas") == 0
            and not (rs.get("metadata") or {}).get("deletionTimestamp")]
    diff = len(idle) - limit
    if diff <= 0:
        return []
    return sorted(idle, key=lambda rs: (revision(rs), creation_key(rs)))[:diff]


# --- status ------------------------------------------------------------------------
def new_condition(type_: str, status: str, reason: str, message: str, now: str) -> dict:
    return {"type": type_, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def get_condition(status: dict, type_: str) -> dict | None:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


def set_condition(status: dict, cond: dict) -> None:
    """``SetDeploymentCondition``: no-op on same status and reason; keep lastTransitionTime on same status."""
    current = get_condition(status, cond["type"])
    if current and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: dict, type_: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]


def calculate_status(d: dict, all_rss: list[dict], new_rs: dict | None, now: str) -> dict:
    available = count(all_rss, "availableReplicas")
    unavailable = max(count(all_rss) - available, 0)
    old = d.get("status") or {}
    status = {
        "observedGeneration": (d.get("metadata") or {}).get("generation", 1),
        "replicas": count(all_rss, "replicas"),
        "updatedReplicas": rs_status(new_rs, "replicas") if new_rs else 0,
        "readyReplicas": count(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "conditions": copy.deepcopy(old.get("conditions") or []),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= replicas(d) - max_unavailable(d):
        set_condition(status, new_condition(AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition(AVAILABLE, "False", MIN_UNAVAILABLE,
                                            "Deployment does not have minimum availability.", now))
    for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
        if status[k] == 0:
            del status[k]  # omitempty, as the real API serves it
    return status


def deployment_complete(d: dict, status: dict) -> bool:
    n = replicas(d)
    return (status.get("updatedReplicas", 0) == n and status.get("replicas", 0) == n
            and status.get("availableReplicas", 0) == n
            and status.get("observedGeneration", 0) >= (d.get("metadata") or {}).get("generation", 1))


def deployment_progressing(d: dict, status: dict) -> bool:
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = status.get("replicas", 0) - status.get("updatedReplicas", 0)
    return (status.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or status.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or status.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def timed_out(d: dict, status: dict, now: datetime, scale: float = 1.0) -> bool:
    """``DeploymentTimedOut``; the deadline elapses on the lab clock (``scale``)."""
    deadline = progress_deadline(d)
    cond = get_condition(status, PROGRESSING)
    if deadline is None or cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = timeutil.parse(cond.get("lastUpdateTime"))
    return since is not None and since + timedelta(seconds=deadline / scale) < now


def seconds_until_deadline(d: dict, status: dict, now: datetime, scale: float = 1.0) -> float | None:
    """Real seconds until the progress deadline passes (``requeueStuckDeployment``)."""
    deadline = progress_deadline(d)
    cond = get_condition(status, PROGRESSING)
    if deadline is None or cond is None or cond.get("status") != "True" or cond.get("reason") == NEW_RS_AVAILABLE:
        return None
    since = timeutil.parse(cond.get("lastUpdateTime"))
    if since is None:
        return None
    return max((since + timedelta(seconds=deadline / scale) - now).total_seconds(), 0.0) + 1.0 / scale


def rollout_status(d: dict, all_rss: list[dict], new_rs: dict | None, now_dt: datetime, scale: float = 1.0,
                   replica_failure: dict | None = None) -> dict:
    """``syncRolloutStatus``: counters plus the Available/Progressing/ReplicaFailure conditions."""
    now = timeutil.fmt(now_dt)
    status = calculate_status(d, all_rss, new_rs, now)
    if progress_deadline(d) is None:
        remove_condition(status, PROGRESSING)
    current = get_condition(status, PROGRESSING)
    complete = (status.get("replicas", 0) == status.get("updatedReplicas", 0) and current is not None
                and current.get("reason") == NEW_RS_AVAILABLE)
    rs_name = (new_rs.get("metadata") or {}).get("name") if new_rs else None
    dname = (d.get("metadata") or {}).get("name")
    if progress_deadline(d) is not None and not complete:
        if deployment_complete(d, status):
            msg = f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name else f'Deployment "{dname}" has successfully progressed.'
            set_condition(status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, msg, now))
        elif deployment_progressing(d, status):
            msg = f'ReplicaSet "{rs_name}" is progressing.' if rs_name else f'Deployment "{dname}" is progressing.'
            cond = new_condition(PROGRESSING, "True", RS_UPDATED, msg, now)
            if current is not None and current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, PROGRESSING)
            status["conditions"].append(cond)
        elif timed_out(d, status, now_dt, scale):
            msg = f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name else f'Deployment "{dname}" has timed out progressing.'
            set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT, msg, now))
    if replica_failure:
        set_condition(status, replica_failure)
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def paused_conditions(d: dict, now: str) -> dict | None:
    """``checkPausedConditions``: the status to write, or None when nothing changes."""
    status = copy.deepcopy(d.get("status") or {})
    if progress_deadline(d) is None:
        return None
    cond = get_condition(status, PROGRESSING)
    if cond and cond.get("reason") == TIMED_OUT:
        return None
    paused = bool((d.get("spec") or {}).get("paused"))
    is_paused_cond = bool(cond) and cond.get("reason") == PAUSED
    if paused and not is_paused_cond:
        set_condition(status, new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused", now))
    elif not paused and is_paused_cond:
        set_condition(status, new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", now))
    else:
        return None
    return status


def status_equal(a: dict, b: dict) -> bool:
    """Equality ignoring condition timestamps that only move with a real change."""
    return a == b
