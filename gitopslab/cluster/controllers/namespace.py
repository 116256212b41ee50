"""Namespace controller: empties a terminating namespace, then finalizes it
(``pkg/controller/namespace/deletion``)."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import timeutil
from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key
from gitopslab.cluster.kinds import KindRegistry

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
RETRY_SECONDS = 0.25  # real seconds between checks while content remains
# events.k8s.io/v1 Events are a view of core/v1 Events: delete them once
SKIP = {("events.k8s.io/v1", "Event")}


def deletion_conditions(remaining: dict[str, int], finalizers: dict[str, int], now: str) -> list[dict]:
    """The five conditions the namespace deleter reports, upstream wording."""
    def c(type_, status, reason, message):
        return {"type": type_, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}

    conds = [c("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
             c("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
             c("NamespaceDeletionContentFailure", "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization")]
    if remaining:
        parts = ", ".join(f"{gr} has {n} resource instances" for gr, n in sorted(remaining.items()))
        conds.append(c("NamespaceContentRemaining", "True", "SomeResourcesRemain", f"Some resources are remaining: {parts}"))
    else:
        conds.append(c("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed"))
    if finalizers:
        parts = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
        conds.append(c("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain",
                       f"Some content in the namespace has finalizers remaining: {parts}"))
    else:
        conds.append(c("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"))
    return conds


class NamespaceController(Controller):
    name = "namespace"
    component = "namespace-controller"

    def setup(self) -> None:
        self.watch("v1", "Namespace")

    async def _namespaced_kinds(self) -> list[tuple[str, str, str]]:
        """(apiVersion, kind, group/resource) of every namespaced kind, CRDs included."""
        kinds = [(r.api_version, r.kind, r.group_resource) for r in KindRegistry().all() if r.namespaced]
        for crd in await self.list_items("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
            spec = crd.get("spec") or {}
            if spec.get("scope") != "Namespaced":
                continue
            versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
            if versions:
                v = next((v for v in versions if v.get("storage")), versions[0])
                kinds.append((f"{spec['group']}/{v['name']}", spec["names"]["kind"], f"{spec['names']['plural']}.{spec['group']}"))
        return [k for k in kinds if (k[0], k[1]) not in SKIP]

    async def reconcile(self, key: str) -> None:
        name = split_key(key)[1]
        ns = await self.get_or_none("v1", "Namespace", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return
        remaining, finalizers = await self._delete_content(name)
        await self._report(ns, remaining, finalizers)
        if remaining:
            self.queue.add_after(key, RETRY_SECONDS)
            return
        ns = await self.get_or_none("v1", "Namespace", name)
        if ns is None:
            return
        ns["spec"]["finalizers"] = [f for f in ns["spec"].get("finalizers") or [] if f != FINALIZER]
        await self.client.replace(ns, subresource="finalize")

    async def _delete_content(self, ns: str) -> tuple[dict[str, int], dict[str, int]]:
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for api_version, kind, gr in await self._namespaced_kinds():
            try:
                items = await self.list_items(api_version, kind, ns)
            except ApiError:
                continue
            for obj in items:
                remaining[gr] = remaining.get(gr, 0) + 1
                for f in obj["metadata"].get("finalizers") or []:
                    finalizers[f] = finalizers.get(f, 0) + 1
                if not obj["metadata"].get("deletionTimestamp"):
                    await self.delete_quietly(api_version, kind, obj["metadata"]["name"], ns,
                                              propagation_policy="Background")
        return remaining, finalizers

    async def _report(self, ns: dict, remaining: dict, finalizers: dict) -> None:
        status = copy.deepcopy(ns.get("status") or {})
        old = {c["type"]: c for c in status.get("conditions") or []}
        conds = []
        for c in deletion_conditions(remaining, finalizers, timeutil.now_str()):
            prev = old.get(c["type"])
            if prev and prev.get("status") == c["status"]:
                c["lastTransitionTime"] = prev.get("lastTransitionTime", c["lastTransitionTime"])
            conds.append(c)
        if conds == status.get("conditions"):
            return
        status["conditions"] = conds
        status["phase"] = "Terminating"
        ns = copy.deepcopy(ns)
        ns["status"] = status
        try:
            await self.client.replace(ns, subresource="status")
        except ApiError as e:
            if e.code not in (404, 409):
                raise
