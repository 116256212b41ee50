"""Operations, auto-sync, self-heal back-off, retries and history (pure; Argo CD ``appcontroller.go``)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

DEFAULT_AUTO_RETRY_LIMIT = 5
RETRY_DURATION, RETRY_FACTOR, RETRY_MAX = 5.0, 2.0, 180.0
SELF_HEAL_BASE, SELF_HEAL_FACTOR, SELF_HEAL_CAP = 2.0, 3.0, 300.0
DEFAULT_HISTORY_LIMIT = 10
ROLLBACK_REFUSED = "rollback cannot be initiated when auto-sync is enabled"


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def automated(app: dict) -> dict | None:
    policy = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    if policy is None or policy.get("enabled") is False:
        return None
    return policy


def self_heal_delay(attempts: int) -> float:
    """Seconds to wait after the last sync before heal number ``attempts`` (0, 2, 6, 18, … 300)."""
    if attempts <= 0:
        return 0.0
    return min(SELF_HEAL_BASE * SELF_HEAL_FACTOR ** (attempts - 1), SELF_HEAL_CAP)


def retry_delay(retry: dict | None, retry_count: int) -> float:
    backoff = (retry or {}).get("backoff") or {}
    from gitopslab.argocd.settings import parse_duration
    duration = parse_duration(backoff.get("duration"), RETRY_DURATION)
    factor = float(backoff.get("factor") or RETRY_FACTOR)
    cap = parse_duration(backoff.get("maxDuration"), RETRY_MAX)
    return min(duration * factor ** retry_count, cap)


def retry_message(message: str, attempt: int, at: datetime) -> str:
    """``<msg>. Retrying attempt #N at 3:04PM.`` (Go's ``Kitchen`` layout, local time)."""
    kitchen = at.astimezone().strftime("%I:%M%p").lstrip("0")
    return f"{message}. Retrying attempt #{attempt} at {kitchen}."


def auto_sync_decision(app: dict, sync_status: dict, resources: list[dict], *, has_targets: bool,
                       now: datetime) -> tuple[dict | None, str, float]:
    """(operation to start, SyncError condition message, seconds to wait) — ``autoSync``."""
    policy = automated(app)
    if policy is None or app.get("operation") or (app.get("metadata") or {}).get("deletionTimestamp"):
        return None, "", 0.0
    if sync_status.get("status") != "OutOfSync":
        return None, "", 0.0
    prune = bool(policy.get("prune"))
    if not prune and all(r.get("status") == "Synced" or r.get("requiresPruning") for r in resources):
        return None, "", 0.0
    revision = sync_status.get("revision", "")
    source = (app.get("spec") or {}).get("source") or {}
    state = (app.get("status") or {}).get("operationState") or {}
    op_sync = ((state.get("operation") or {}).get("sync") or {})
    attempted = (state.get("syncResult") or {}).get("revision") == revision and \
        (state.get("syncResult") or {}).get("source", source) == source
    self_heal_count = 0
    only = None
    if attempted:
        if state.get("phase") not in ("Succeeded", "Running"):
            return None, f"Failed last sync attempt to {revision}: {state.get('message', '')}", 0.0
        if not policy.get("selfHeal"):
            return None, "", 0.0
        self_heal_count = int(op_sync.get("selfHealAttemptsCount") or 0)
        finished = parse_time(state.get("finishedAt"))
        wait = self_heal_delay(self_heal_count) - ((now - finished).total_seconds() if finished else 1e9)
        if wait > 0:
            return None, "", wait
        self_heal_count += 1
        only = [{k: r[k] for k in ("group", "kind", "name", "namespace") if r.get(k)} for r in resources
                if r.get("status") != "Synced" and (prune or not r.get("requiresPruning"))]
    if prune and not policy.get("allowEmpty") and not has_targets:
        return None, f"Skipping sync attempt to {revision}: auto-sync will wipe out all resources", 0.0
    sync = {"revision": revision, "prune": prune}
    options = ((app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions")
    if options:
        sync["syncOptions"] = list(options)
    if only is not None:
        sync["resources"] = only
        sync["selfHealAttemptsCount"] = self_heal_count
    retry = copy.deepcopy(((app.get("spec") or {}).get("syncPolicy") or {}).get("retry")) or {"limit": DEFAULT_AUTO_RETRY_LIMIT}
    return {"sync": sync, "initiatedBy": {"automated": True}, "retry": retry}, "", 0.0


def history_entry(history: list[dict], revision: str, source: dict, started: str, finished: str,
                  initiated_by: dict) -> dict:
    next_id = (max(h.get("id", 0) for h in history) + 1) if history else 0
    return {"revision": revision, "deployedAt": finished, "id": next_id, "source": source,
            "deployStartedAt": started, "initiatedBy": initiated_by}


def append_history(history: list[dict], entry: dict, limit: int | None) -> list[dict]:
    limit = DEFAULT_HISTORY_LIMIT if limit is None else limit
    out = list(history or []) + [entry]
    return out[-limit:] if limit > 0 else out


def records_history(operation: dict, phase: str) -> bool:
    """Only successful, non-dry-run, full syncs (no ``sync.resources``) add history."""
    sync = operation.get("sync") or {}
    return phase == "Succeeded" and not sync.get("dryRun") and not sync.get("resources")


def rollback_operation(app: dict, history_id: int, *, username: str = "admin", prune: bool = False) -> dict:
    """The operation ``argocd app rollback`` writes, or ValueError with Argo CD's message."""
    if automated(app) is not None:
        raise ValueError(ROLLBACK_REFUSED)
    for entry in (app.get("status") or {}).get("history") or []:
        if entry.get("id") == history_id:
            return {"sync": {"revision": entry["revision"], "source": entry.get("source"), "prune": prune},
                    "initiatedBy": {"username": username}}
    raise ValueError(f"application {app['metadata']['name']} does not have deployment with id {history_id}")


def jittered_period(period: float, jitter: float, rng) -> float:
    return period + (rng.uniform(0, jitter) if jitter > 0 else 0.0)


def later(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
