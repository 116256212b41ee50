"""Where built-in kinds deviate from "maps merge, lists are replaced".

Strategic merge patch (SMP) and server-side apply (SSA) both need to know,
for a given path inside an object, how a list is merged (by which key, as a
set, or replaced whole) and whether a map is merged key by key. Upstream
reads this from struct tags (`patchStrategy`, `patchMergeKey`) and OpenAPI
markers (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`) of
k8s.io/api; here it is a small table, per kind family, of the paths that
deviate from the default (see ``openapi_data/patch_meta.json`` for the
markers it was written from).

Paths are dotted field names with ``[]`` for "any element of this list",
e.g. ``spec.template.spec.containers[].ports``. Anything not in the table
is a granular map (merged key by key) or an atomic list (replaced whole).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gitopslab.cluster import kinds

ITEM = "[]"


@dataclass(frozen=True)
class ListRule:
    """How one list field is merged.

    ``smp_key``: the SMP merge key; ``None`` with ``smp_merge`` means a
    list of scalars merged as a set (finalizers). ``ssa``: ``"map"`` (keyed
    by ``keys``), ``"set"`` or ``"atomic"``. ``key_defaults``: values the
    OpenAPI schema defaults a missing key field to (``protocol: TCP``).
    """
    smp_merge: bool
    smp_key: str | None = None
    ssa: str = "atomic"
    keys: tuple[str, ...] = ()
    retain_keys: bool = False
    key_defaults: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class MapRule:
    """How one map field is merged: ``smp`` is ``merge``, ``replace`` or
    ``retainKeys``; ``ssa_atomic`` makes SSA own the map as a single value."""
    smp: str = "merge"
    ssa_atomic: bool = False


ATOMIC_LIST = ListRule(smp_merge=False)
GRANULAR_MAP = MapRule()


def keyed(*keys: str, smp_key: str | None = None, retain_keys: bool = False) -> ListRule:
    """A list merged by key in both SMP (first key unless told) and SSA."""
    defaults = (("protocol", "TCP"),) if "protocol" in keys else ()
    return ListRule(True, smp_key or keys[0], "map", keys, retain_keys, defaults)


def smp_keyed_only(key: str) -> ListRule:
    """Merged by key in SMP, but atomic for SSA (``+listType=atomic``)."""
    return ListRule(True, key, "atomic")


def ssa_keyed_only(*keys: str) -> ListRule:
    """Keyed for SSA only; SMP replaces it (no ``patchStrategy`` tag)."""
    return ListRule(False, None, "map", keys)


SET = ListRule(True, None, "set")  # finalizers, podCIDRs
ATOMIC_MAP = MapRule("merge", True)  # +mapType=atomic / +structType=atomic
RETAIN_KEYS = MapRule("retainKeys")

# ObjectMeta, wherever it appears (object root, pod templates).
OBJECT_META = {
    "finalizers": SET,
    "ownerReferences": keyed("uid"),
}

CONTAINER = {
    "ports": keyed("containerPort", "protocol"),
    "env": keyed("name"),
    "volumeMounts": keyed("mountPath"),
    "volumeDevices": keyed("devicePath"),
    "resources.claims": ssa_keyed_only("name"),
}

POD_SPEC = {
    "containers": keyed("name"),
    "initContainers": keyed("name"),
    "ephemeralContainers": keyed("name"),
    "volumes": keyed("name", retain_keys=True),
    "imagePullSecrets": keyed("name"),
    "hostAliases": keyed("ip"),
    "topologySpreadConstraints": keyed("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": keyed("name", retain_keys=True),
    "schedulingGates": keyed("name"),
    "nodeSelector": ATOMIC_MAP,
    **{f"{c}[].{path}": rule for c in ("containers", "initContainers", "ephemeralContainers")
       for path, rule in CONTAINER.items()},
}

POD_STATUS = {
    "conditions": keyed("type"),
    "podIPs": keyed("ip"),
    "hostIPs": smp_keyed_only("ip"),
    "resourceClaimStatuses": keyed("name", retain_keys=True),
}

CONDITIONS = {"status.conditions": keyed("type")}
LABEL_SELECTOR = {"spec.selector": ATOMIC_MAP}

# Where a PodSpec sits in each kind that carries one.
POD_TEMPLATE_ROOTS = {
    ("", "Pod"): "spec",
    ("", "PodTemplate"): "template.spec",
    ("", "ReplicationController"): "spec.template.spec",
    ("apps", "Deployment"): "spec.template.spec",
    ("apps", "ReplicaSet"): "spec.template.spec",
    ("apps", "StatefulSet"): "spec.template.spec",
    ("apps", "DaemonSet"): "spec.template.spec",
    ("batch", "Job"): "spec.template.spec",
    ("batch", "CronJob"): "spec.jobTemplate.spec.template.spec",
}

# (group, kind) -> {path: rule}, on top of OBJECT_META and the pod spec.
KIND_RULES: dict[tuple[str, str], dict] = {
    ("", "Pod"): {**{f"status.{p}": r for p, r in POD_STATUS.items()}},
    ("", "Service"): {
        "spec.ports": keyed("port", "protocol"),
        "spec.selector": ATOMIC_MAP,
        **CONDITIONS,
    },
    ("", "Node"): {
        "spec.podCIDRs": SET,
        "status.conditions": keyed("type"),
        "status.addresses": keyed("type"),
    },
    ("", "Namespace"): CONDITIONS,
    ("", "PersistentVolumeClaim"): CONDITIONS,
    ("", "ReplicationController"): {"spec.selector": ATOMIC_MAP, **CONDITIONS},
    ("", "ServiceAccount"): {"secrets": keyed("name")},
    ("apps", "Deployment"): {"spec.strategy": RETAIN_KEYS, **LABEL_SELECTOR, **CONDITIONS},
    ("apps", "ReplicaSet"): {**LABEL_SELECTOR, **CONDITIONS},
    ("apps", "StatefulSet"): {**LABEL_SELECTOR, **CONDITIONS},
    ("apps", "DaemonSet"): {**LABEL_SELECTOR, **CONDITIONS},
    ("batch", "Job"): {**LABEL_SELECTOR, "status.conditions": smp_keyed_only("type")},
    ("autoscaling", "HorizontalPodAutoscaler"): CONDITIONS,
    ("policy", "PodDisruptionBudget"): {"spec.selector": MapRule("replace", True), **CONDITIONS},
    ("storage.k8s.io", "CSINode"): {"spec.drivers": keyed("name")},
}

# Kinds served by kube-apiserver itself (not CRDs) that the lab does not
# list as resources but that still accept strategic merge patches.
EXTRA_BUILTINS = {("autoscaling/v1", "Scale"), ("v1", "PodTemplate")}


def _split(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.replace("[]", ".[]").split(".") if part)


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@dataclass(frozen=True)
class Schema:
    """The deviating paths of one kind, as tuples of keys with ``[]`` items."""
    lists: dict
    maps: dict

    def list_rule(self, path: tuple[str, ...]) -> ListRule:
        return self.lists.get(path, ATOMIC_LIST)

    def map_rule(self, path: tuple[str, ...]) -> MapRule:
        return self.maps.get(path, GRANULAR_MAP)


@lru_cache(maxsize=None)
def schema_for(api_version: str, kind: str) -> Schema:
    group = _group(api_version)
    table: dict[str, object] = {f"metadata.{p}": r for p, r in OBJECT_META.items()}
    pod_root = POD_TEMPLATE_ROOTS.get((group, kind))
    if pod_root:
        table.update({f"{pod_root}.{p}": r for p, r in POD_SPEC.items()})
        if pod_root != "spec":
            template_meta = pod_root.rsplit(".", 1)[0] + ".metadata"
            table.update({f"{template_meta}.{p}": r for p, r in OBJECT_META.items()})
    table.update(KIND_RULES.get((group, kind), {}))
    lists = {_split(p): r for p, r in table.items() if isinstance(r, ListRule)}
    maps = {_split(p): r for p, r in table.items() if isinstance(r, MapRule)}
    return Schema(lists, maps)


CUSTOM_SCHEMA = Schema({_split(f"metadata.{p}"): r for p, r in OBJECT_META.items()}, {})


def supports_strategic_merge(api_version: str, kind: str) -> bool:
    """Whether kube-apiserver accepts a strategic merge patch for this kind
    (built-in types only; custom resources answer 415)."""
    return (api_version, kind) in _builtin_kinds()


@lru_cache(maxsize=1)
def _builtin_kinds() -> frozenset:
    builtins = {(r.api_version, r.kind) for r in kinds.BUILTINS if not r.custom}
    return frozenset(builtins | EXTRA_BUILTINS)


def schema_or_default(api_version: str, kind: str) -> Schema:
    """The table for a built-in kind; custom resources only get ObjectMeta's
    rules (their own lists are atomic unless their CRD says otherwise)."""
    if supports_strategic_merge(api_version, kind):
        return schema_for(api_version, kind)
    return CUSTOM_SCHEMA
