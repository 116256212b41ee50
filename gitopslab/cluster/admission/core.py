"""Namespaces, Secrets, ConfigMaps and CRDs: defaults and validation."""
from __future__ import annotations

import base64

from gitopslab.cluster.admission.fields import FieldError, GoValue, forbidden, immutable, invalid, not_supported, required
from gitopslab.cluster.admission.names import config_key, dns1035_label, dns1123_label, dns1123_subdomain


def default_namespace(obj: dict, operation: str) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name:
        obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    if operation == "CREATE":
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}


def default_secret(obj: dict) -> None:
    """Type Opaque; ``stringData`` is merged into ``data`` (base64) and dropped, as the server's conversion does."""
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def _validate_keys(obj: dict, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in (obj.get(field) or {}):
        errs.extend(invalid(f"{field}[{key}]", key, m) for m in config_key(key))
    return errs


def validate_secret(obj: dict, old: dict | None) -> list[FieldError]:
    errs = _validate_keys(obj, "data")
    stype = obj.get("type")
    data = obj.get("data") or {}
    if stype == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" not in data:
        errs.append(required("data[.dockerconfigjson]"))
    if stype == "kubernetes.io/tls":
        for key in ("tls.key", "tls.crt"):
            if key not in data:
                errs.append(required(f"data[{key}]"))
    if stype == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errs.append(required("data[username]"))
    if old is not None:
        if old.get("type") != obj.get("type"):
            errs.append(immutable("type", obj.get("type")))
        if old.get("immutable") and (old.get("data") != obj.get("data")):
            errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    return errs


def validate_configmap(obj: dict, old: dict | None) -> list[FieldError]:
    errs = _validate_keys(obj, "data") + _validate_keys(obj, "binaryData")
    for key in set(obj.get("data") or {}) & set(obj.get("binaryData") or {}):
        errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    if old is not None and old.get("immutable"):
        if old.get("data") != obj.get("data"):
            errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    return errs


def validate_namespace(obj: dict, old: dict | None) -> list[FieldError]:
    return []


def validate_crd(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    errs: list[FieldError] = []
    group, plural, kind = spec.get("group") or "", names.get("plural") or "", names.get("kind") or ""
    name = (obj.get("metadata") or {}).get("name") or ""
    if name and plural and group and name != f"{plural}.{group}":
        errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        errs.append(required("spec.group"))
    elif "." not in group:
        errs.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        errs.append(required("spec.names.plural"))
    else:
        errs.extend(invalid("spec.names.plural", plural, m) for m in dns1123_label(plural))
    if not kind:
        errs.append(required("spec.names.kind"))
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        errs.append(not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    versions = spec.get("versions") or []
    if not versions:
        errs.append(invalid("spec.versions", GoValue("[]apiextensions.CustomResourceDefinitionVersion(nil)"),
                            "must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errs.append(invalid("spec.versions", GoValue("[]apiextensions.CustomResourceDefinitionVersion{...}"),
                            "must have exactly one version marked as storage version"))
    for i, v in enumerate(versions):
        vname = v.get("name") or ""
        errs.extend(invalid(f"spec.versions[{i}].name", vname, m) for m in dns1035_label(vname))
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            errs.append(required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"))
    if old is not None:
        old_spec = old.get("spec") or {}
        if old_spec.get("group") != spec.get("group"):
            errs.append(immutable("spec.group", spec.get("group")))
        if old_spec.get("scope") != spec.get("scope"):
            errs.append(immutable("spec.scope", spec.get("scope")))
    return errs


def default_crd(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})
    for v in spec.get("versions") or []:
        for col in v.get("additionalPrinterColumns") or []:
            col.setdefault("type", "string")


__all__ = ["default_namespace", "default_secret", "validate_secret", "validate_configmap", "validate_namespace",
           "validate_crd", "default_crd", "dns1123_subdomain"]
