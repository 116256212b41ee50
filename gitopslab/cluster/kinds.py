"""Resource definitions served by the lab cluster: built-in kinds and CRDs.

A ``ResourceDef`` is what discovery lists for one resource of one
group/version; ``KindRegistry`` holds the built-ins plus the resources that
CustomResourceDefinitions add at run time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_ONLY_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class ResourceDef:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # "status", "scale", "log", "finalize", "binding", "eviction", "token", "approval"…
    subresources: tuple[str, ...] = ()
    # CRD additionalPrinterColumns (dicts as in the CRD), empty for built-ins
    printer_columns: tuple = field(default=(), compare=False)
    # CRD openAPIV3Schema of this version, None for built-ins
    schema: dict | None = field(default=None, compare=False, hash=False)
    custom: bool = False

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` / ``pods``: the name used in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def storage_key(self) -> str:
        """Where objects of this resource are stored: one key for all versions
        (and for the two views of Events)."""
        group = STORAGE_ALIASES.get((self.group, self.plural), self.group)
        return f"{group}/{self.plural}"

    @property
    def has_generation(self) -> bool:
        """Whether the apiserver maintains ``metadata.generation`` for this kind."""
        return self.custom or (self.group, self.kind) in GENERATION_KINDS


def _r(group, version, kind, plural, namespaced, short=(), cats=(), subs=(), verbs=ALL_VERBS) -> ResourceDef:
    return ResourceDef(group, version, kind, plural, namespaced, tuple(short), tuple(cats), tuple(verbs), tuple(subs))


ALL = ("all",)

BUILTINS: tuple[ResourceDef, ...] = (
    # core/v1
    _r("", "v1", "Namespace", "namespaces", False, ["ns"], subs=["status", "finalize"],
       verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    _r("", "v1", "Node", "nodes", False, ["no"], subs=["status"]),
    _r("", "v1", "Pod", "pods", True, ["po"], ALL, ["status", "log", "binding", "eviction", "ephemeralcontainers", "exec", "portforward", "attach"]),
    _r("", "v1", "Service", "services", True, ["svc"], ALL, ["status"],
       verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
    _r("", "v1", "Endpoints", "endpoints", True, ["ep"]),
    _r("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    _r("", "v1", "Secret", "secrets", True),
    _r("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"], subs=["token"]),
    _r("", "v1", "Event", "events", True, ["ev"]),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ["pvc"], subs=["status"]),
    _r("", "v1", "PersistentVolume", "persistentvolumes", False, ["pv"], subs=["status"]),
    _r("", "v1", "ResourceQuota", "resourcequotas", True, ["quota"], subs=["status"]),
    _r("", "v1", "LimitRange", "limitranges", True, ["limits"]),
    _r("", "v1", "ReplicationController", "replicationcontrollers", True, ["rc"], ALL, ["status", "scale"]),
    # apps/v1
    _r("apps", "v1", "Deployment", "deployments", True, ["deploy"], ALL, ["status", "scale"]),
    _r("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"], ALL, ["status", "scale"]),
    _r("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"], ALL, ["status", "scale"]),
    _r("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"], ALL, ["status"]),
    _r("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    # batch/v1
    _r("batch", "v1", "Job", "jobs", True, (), ALL, ["status"]),
    _r("batch", "v1", "CronJob", "cronjobs", True, ["cj"], ALL, ["status"]),
    # autoscaling
    _r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["hpa"], ALL, ["status"]),
    # networking.k8s.io/v1
    _r("networking.k8s.io", "v1", "Ingress", "ingresses", True, ["ing"], subs=["status"]),
    _r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ["netpol"]),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    # events.k8s.io/v1
    _r("events.k8s.io", "v1", "Event", "events", True, ["ev"]),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ["sc"]),
    # policy/v1
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"], subs=["status"]),
    # scheduling.k8s.io/v1
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ["pc"]),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "Lease", "leases", True),
    # apiextensions.k8s.io/v1
    _r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False, ["crd", "crds"], ("api-extensions",), ["status"]),
)

# Resources stored under another group's key (one object, several views).
STORAGE_ALIASES = {("events.k8s.io", "events"): ""}

# Built-in kinds whose strategy sets and bumps metadata.generation (v1.32).
GENERATION_KINDS = frozenset({
    ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
    ("batch", "Job"), ("batch", "CronJob"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "NetworkPolicy"), ("policy", "PodDisruptionBudget"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("", "ReplicationController"),
})

# Preferred order of groups in /apis, as kube-apiserver lists them.
GROUP_ORDER = (
    "", "apps", "events.k8s.io", "autoscaling", "batch", "networking.k8s.io", "policy",
    "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
    "discovery.k8s.io",
)


class KindRegistry:
    """Built-in resources plus those added by CRDs, indexed every useful way."""

    def __init__(self) -> None:
        self._builtin = list(BUILTINS)
        self._custom: dict[str, list[ResourceDef]] = {}  # CRD name -> its served versions
        self.revision = 0  # bumped whenever the set of resources changes
        self._reindex()

    def _reindex(self) -> None:
        self._all = self._builtin + [r for defs in self._custom.values() for r in defs]
        self._by_path = {(r.group, r.version, r.plural): r for r in self._all}
        self._by_kind = {(r.group, r.version, r.kind): r for r in self._all}
        self.revision += 1

    def all(self) -> list[ResourceDef]:
        return list(self._all)

    def lookup(self, group: str, version: str, plural: str) -> ResourceDef | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceDef | None:
        group, _, version = api_version.rpartition("/")
        return self._by_kind.get((group, version, kind))

    def versions_of(self, group: str, plural: str) -> list[ResourceDef]:
        return [r for r in self._all if r.group == group and r.plural == plural]

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions, preferred version first."""
        out: dict[str, list[str]] = {}
        for r in self._all:
            out.setdefault(r.group, [])
            if r.version not in out[r.group]:
                out[r.group].append(r.version)
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    def resources_in(self, group: str, version: str) -> list[ResourceDef]:
        return [r for r in self._all if r.group == group and r.version == version]

    def has_group_version(self, group: str, version: str) -> bool:
        return any(r.group == group and r.version == version for r in self._all)

    def resolve(self, name: str) -> list[ResourceDef]:
        """Resources a kubectl-style name designates: plural, singular, short name or Kind,
        optionally qualified with its group (``deployments.apps``)."""
        name = name.lower()
        out = []
        for r in self._all:
            names = {r.plural, r.singular, r.kind.lower(), *r.short_names}
            qualified = {f"{n}.{r.group}" for n in names} if r.group else set()
            if name in names or name in qualified:
                out.append(r)
        return out

    def storage_keys(self) -> set[str]:
        return {r.storage_key for r in self._all}

    # --- CRDs -------------------------------------------------------------
    def add_crd(self, crd: dict) -> list[ResourceDef]:
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        defs = []
        for v in spec.get("versions", []):
            if not v.get("served", True):
                continue
            subs = tuple(s for s in ("status", "scale") if s in (v.get("subresources") or {}))
            defs.append(ResourceDef(
                group=spec.get("group", ""),
                version=v["name"],
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=subs,
                printer_columns=tuple(v.get("additionalPrinterColumns") or ()),
                schema=(v.get("schema") or {}).get("openAPIV3Schema"),
                custom=True,
            ))
        self._custom[crd["metadata"]["name"]] = defs
        self._reindex()
        return defs

    def remove_crd(self, crd_name: str) -> None:
        if self._custom.pop(crd_name, None) is not None:
            self._reindex()

    def crd_resources(self, crd_name: str) -> list[ResourceDef]:
        return list(self._custom.get(crd_name, ()))
