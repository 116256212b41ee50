"""Typed knowledge of built-in kinds for the diff (pure, no I/O after import).

gitops-engine decides per GVK whether an object is "typed" (in client-go's
scheme: strategic merge patch, remarshal, scheme defaults) or not (CRs and
aggregated APIs: JSON merge patch). Field types come from the official
``kubernetes`` client models (copied into ``model_types.json``, see
model_types.py); strategic-merge metadata (patch strategy and
merge key) from the lab API server's ``patch_meta.json`` (k8s.io/api tags).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from gitopslab.argocd.diff.model_types import model_types

# API groups of client-go's kubernetes/scheme (no apiextensions, no apiregistration).
SCHEME_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "policy",
    "storage.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "scheduling.k8s.io",
    "node.k8s.io", "admissionregistration.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io",
    "extensions",
})

_PATCH_META = Path(__file__).resolve().parents[2] / "cluster" / "apiserver" / "openapi_data" / "patch_meta.json"
_MODEL_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?")
_LIST = re.compile(r"^List\[(.+)\]$")
_DICT = re.compile(r"^Dict\[str, (.+)\]$")


@dataclass(frozen=True)
class FieldType:
    """What a JSON field holds: a struct (``model``), a list, a map, or a scalar."""

    kind: str  # "struct", "list", "map", "scalar"
    model: str = ""  # kubernetes client model name for structs
    item: "FieldType | None" = None  # list items / map values
    scalar: str = ""  # "str", "int", "bool", "object" (IntOrString...), "datetime"
    strategy: str = "atomic"  # lists: "merge" (keyed), "set" (primitive merge) or "atomic"
    merge_key: str = ""

    def field(self, name: str) -> "FieldType | None":
        """Type of a struct field (or of any value of a map), None when unknown."""
        if self.kind == "map":
            return self.item
        return struct_fields(self.model).get(name) if self.kind == "struct" else None


def typed_root(obj: dict) -> FieldType | None:
    """Root type of a built-in object (e.g. ``V1Deployment``), or None for CRs."""
    api_version = str(obj.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    if group not in SCHEME_GROUPS or not version:
        return None
    name = version[0].upper() + version[1:] + str(obj.get("kind") or "")
    return FieldType("struct", model=name) if name in model_types() else None


@functools.lru_cache(maxsize=None)
def struct_fields(model: str) -> dict[str, FieldType]:
    types = model_types().get(model)
    if types is None:
        return {}
    patch_meta = _struct_patch_meta(_MODEL_PREFIX.sub("", model))
    return {json_name: _parse_type(text, patch_meta.get(json_name, {})) for json_name, text in types.items()}


def _parse_type(text: str, meta: dict) -> FieldType:
    if match := _LIST.match(text):
        strategy, key = "atomic", ""
        if meta.get("x-kubernetes-patch-strategy", "").split(",")[0] == "merge":
            key = meta.get("x-kubernetes-patch-merge-key", "")
            strategy = "merge" if key else "set"
        return FieldType("list", item=_parse_type(match.group(1), {}), strategy=strategy, merge_key=key)
    if match := _DICT.match(text):
        return FieldType("map", item=_parse_type(match.group(1), {}))
    if text in model_types():
        return FieldType("struct", model=text)
    return FieldType("scalar", scalar=text)


@functools.lru_cache(maxsize=None)
def _all_patch_meta() -> dict:
    return json.loads(_PATCH_META.read_text())["packages"]


def _struct_patch_meta(struct: str) -> dict:
    packages = _all_patch_meta()
    for name in ["core/v1", "meta/v1", *sorted(packages)]:
        found = packages.get(name, {}).get("fields", {}).get(struct)
        if found:
            return found
    return {}
