"""What the apiextensions controllers write into a CRD's status (pure)."""
from __future__ import annotations

NAMES_ACCEPTED = ("NamesAccepted", "NoConflicts", "no conflicts found")
ESTABLISHED = ("Established", "InitialNamesAccepted", "the initial names have been accepted")
TERMINATING = ("Terminating", "InstanceDeletionInProgress", "CustomResource deletion is in progress")
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def accepted_names(crd: dict) -> dict:
    names = dict((crd.get("spec") or {}).get("names") or {})
    kind = names.get("kind", "")
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    return names


def storage_version(crd: dict) -> str | None:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("storage"):
            return v.get("name")
    versions = (crd.get("spec") or {}).get("versions") or []
    return versions[0].get("name") if versions else None


def _condition(ctype: str, reason: str, message: str, previous: list, now: str, status: str = "True") -> dict:
    for c in previous:
        if c.get("type") == ctype and c.get("status") == status:
            return {**c, "reason": reason, "message": message}
    return {"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}


def crd_status(crd: dict, now: str, *, terminating: bool = False) -> dict:
    """The status of an accepted, established CRD (plus Terminating while it is deleted)."""
    old = crd.get("status") or {}
    previous = old.get("conditions") or []
    stored = list(old.get("storedVersions") or [])
    sv = storage_version(crd)
    if sv and sv not in stored:
        stored.append(sv)
    conditions = [_condition(*NAMES_ACCEPTED, previous, now), _condition(*ESTABLISHED, previous, now)]
    if terminating:
        conditions.append(_condition(*TERMINATING, previous, now))
    return {"conditions": conditions, "acceptedNames": accepted_names(crd), "storedVersions": stored}
