"""PersistentVolumeClaim defaults (incl. k3s's DefaultStorageClass ``local-path``) and validation."""
from __future__ import annotations

from gitopslab.cluster.admission.fields import FieldError, forbidden, not_supported, required

DEFAULT_STORAGE_CLASS = "local-path"
ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def default_pvc_spec(spec: dict) -> None:
    spec.setdefault("volumeMode", "Filesystem")


def default_pvc(obj: dict, operation: str) -> None:
    spec = obj.setdefault("spec", {})
    default_pvc_spec(spec)
    # DefaultStorageClass admission: only a claim with no class at all (None, not "") gets the default one.
    if operation == "CREATE" and spec.get("storageClassName") is None and \
            "volume.beta.kubernetes.io/storage-class" not in ((obj.get("metadata") or {}).get("annotations") or {}):
        spec["storageClassName"] = DEFAULT_STORAGE_CLASS
    if operation == "CREATE":
        obj["status"] = {"phase": "Pending"}


def validate_pvc(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(required("spec.accessModes", "at least 1 access mode is required"))
    for i, m in enumerate(modes):
        if m not in ACCESS_MODES:
            errs.append(not_supported(f"spec.accessModes[{i}]", m, ACCESS_MODES))
    if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
        errs.append(required("spec.resources[storage]"))
    if old is not None:
        old_spec = dict(old.get("spec") or {})
        new_spec = dict(spec)
        for s in (old_spec, new_spec):
            s.pop("resources", None)
            s.pop("volumeAttributesClassName", None)
        if old_spec.get("volumeName") and not new_spec.get("volumeName"):
            new_spec["volumeName"] = old_spec["volumeName"]
        if not old_spec.get("volumeName") and new_spec.get("volumeName"):
            old_spec["volumeName"] = new_spec["volumeName"]  # binding sets it once (upstream clears it first)
        if new_spec != old_spec:
            errs.append(forbidden("spec", "spec is immutable after creation except resources.requests and "
                                          "volumeAttributesClassName for bound claims"))
    return errs
