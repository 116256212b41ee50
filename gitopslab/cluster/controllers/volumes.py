"""PersistentVolumeClaims bound through k3s's default ``local-path`` StorageClass.

Plays the PV controller and the local-path provisioner: a claim of a
WaitForFirstConsumer class stays Pending (event ``WaitForFirstConsumer``)
until the scheduler picks a node for a pod using it
(``volume.kubernetes.io/selected-node``); then a PersistentVolume
``pvc-<uid>`` with a hostPath under the cluster folder is created and both
sides are bound. A released volume of reclaim policy Delete is deleted with
its folder; ``kubernetes.io/pvc-protection`` is lifted once no pod uses a
deleted claim.
"""
from __future__ import annotations

import copy
import logging
import shutil

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)

DEFAULT_CLASS = "local-path"
PROVISIONER = "rancher.io/local-path"
IS_DEFAULT = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
WFFC_MESSAGE = "waiting for first consumer to be created before binding"


def default_storage_class() -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": DEFAULT_CLASS, "annotations": {IS_DEFAULT: "true"}},
            "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}


def volume_for(pvc: dict, node: str, host_path: str, sc: dict) -> dict:
    """The PersistentVolume the local-path provisioner creates for ``pvc``."""
    m, spec = pvc["metadata"], pvc.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{m['uid']}",
                     "annotations": {"local.path.provisioner/selected-node": node,
                                     "pv.kubernetes.io/provisioned-by": PROVISIONER}},
        "spec": {"accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                 "capacity": {"storage": storage},
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": m["name"],
                              "namespace": m["namespace"], "resourceVersion": m.get("resourceVersion"), "uid": m["uid"]},
                 "hostPath": {"path": host_path, "type": "DirectoryOrCreate"},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
                 "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                 "storageClassName": sc["metadata"]["name"],
                 "volumeMode": spec.get("volumeMode", "Filesystem")},
    }


class VolumeController(Controller):
    name = "persistentvolume"
    component = "persistentvolume-controller"

    def __init__(self, ctx, informers, **kw):
        super().__init__(ctx, informers, **kw)
        self.provisioner = EventRecorder(ctx.client, f"{PROVISIONER}_local-path-provisioner")

    def setup(self) -> None:
        self.watch("v1", "PersistentVolumeClaim")
        self.volumes = self.watch("v1", "PersistentVolume", self._claim_key)
        self.watch("v1", "Pod", self._claims_of_pod)

    @staticmethod
    def _claim_key(pv: dict) -> list[str]:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        return [f"pv:{pv['metadata']['name']}"] + ([f"{ref.get('namespace')}/{ref.get('name')}"] if ref else [])

    @staticmethod
    def _claims_of_pod(pod: dict) -> list[str]:
        ns = pod["metadata"].get("namespace")
        return [f"{ns}/{v['persistentVolumeClaim']['claimName']}" for v in (pod.get("spec") or {}).get("volumes") or []
                if (v.get("persistentVolumeClaim") or {}).get("claimName")]

    async def start(self) -> None:
        if await self.get_or_none("storage.k8s.io/v1", "StorageClass", DEFAULT_CLASS) is None:
            try:
                await self.client.create(default_storage_class())
            except ApiError as e:
                if e.code != 409:
                    raise

    async def reconcile(self, key: str) -> None:
        if key.startswith("pv:"):
            await self._reclaim(key[3:])
            return
        ns, name = split_key(key)
        pvc = await self.get_or_none("v1", "PersistentVolumeClaim", name, ns)
        if pvc is None:
            for pv in self.volumes.items():
                ref = (pv.get("spec") or {}).get("claimRef") or {}
                if ref.get("namespace") == ns and ref.get("name") == name:
                    await self._reclaim(pv["metadata"]["name"])
            return
        if pvc["metadata"].get("deletionTimestamp"):
            await self._lift_protection(pvc)
            return
        if (pvc.get("status") or {}).get("phase") == "Bound":
            return
        sc = await self._storage_class(pvc)
        if sc is None or sc.get("provisioner") != PROVISIONER:
            return  # no class we provision for: stays Pending, as without a provisioner
        node = (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not node:
            await self._mark_pending(pvc)
            await self.recorder.event(pvc, "Normal", "WaitForFirstConsumer", WFFC_MESSAGE)
            return
        await self._provision(pvc, sc, node or self.ctx.node_name)

    async def _storage_class(self, pvc: dict) -> dict | None:
        spec = pvc.get("spec") or {}
        name = spec.get("storageClassName")
        if name is None:  # retroactive default class assignment (GA 1.28)
            name = DEFAULT_CLASS
            try:
                pvc = await self.client.patch("v1", "PersistentVolumeClaim", pvc["metadata"]["name"],
                                              {"spec": {"storageClassName": name}}, pvc["metadata"]["namespace"])
            except ApiError:
                pass
        if not name:
            return None
        return await self.get_or_none("storage.k8s.io/v1", "StorageClass", name)

    async def _mark_pending(self, pvc: dict) -> None:
        if (pvc.get("status") or {}).get("phase") == "Pending":
            return
        pvc = copy.deepcopy(pvc)
        pvc["status"] = {**(pvc.get("status") or {}), "phase": "Pending"}
        await self.client.replace(pvc, subresource="status")

    async def _provision(self, pvc: dict, sc: dict, node: str) -> None:
        m = pvc["metadata"]
        folder = self.ctx.paths.root / "volumes" / f"pvc-{m['uid']}_{m['namespace']}_{m['name']}"
        pv_name = f"pvc-{m['uid']}"
        pv = await self.get_or_none("v1", "PersistentVolume", pv_name)
        if pv is None:
            await self.recorder.event(pvc, "Normal", "ExternalProvisioning",
                                      f"Waiting for a volume to be created either by the external provisioner '{PROVISIONER}' "
                                      "or manually by the system administrator. If volume creation is delayed, please verify "
                                      "that the provisioner is running and correctly registered.")
            await self.provisioner.event(pvc, "Normal", "Provisioning",
                                         f'External provisioner is provisioning volume for claim "{m["namespace"]}/{m["name"]}"')
            folder.mkdir(parents=True, exist_ok=True)
            pv = await self.client.create(volume_for(pvc, node, str(folder), sc))
            await self.provisioner.event(pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}")
        await self._bind(pvc, pv, sc)

    async def _bind(self, pvc: dict, pv: dict, sc: dict) -> None:
        if (pv.get("status") or {}).get("phase") != "Bound":
            pv = copy.deepcopy(pv)
            pv.setdefault("kind", "PersistentVolume")
            pv.setdefault("apiVersion", "v1")
            pv["status"] = {"phase": "Bound"}
            await self.client.replace(pv, subresource="status")
        annotations = {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                       "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
                       "volume.kubernetes.io/storage-provisioner": PROVISIONER}
        bound = await self.client.patch("v1", "PersistentVolumeClaim", pvc["metadata"]["name"],
                                        {"metadata": {"annotations": annotations},
                                         "spec": {"volumeName": pv["metadata"]["name"]}},
                                        pvc["metadata"]["namespace"])
        bound.setdefault("kind", "PersistentVolumeClaim")
        bound.setdefault("apiVersion", "v1")
        bound["status"] = {"phase": "Bound", "accessModes": list(pv["spec"]["accessModes"]),
                           "capacity": dict(pv["spec"]["capacity"])}
        await self.client.replace(bound, subresource="status")

    async def _lift_protection(self, pvc: dict) -> None:
        if PVC_PROTECTION not in (pvc["metadata"].get("finalizers") or []):
            return
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        for pod in await self.list_items("v1", "Pod", ns):
            if not P.is_terminated(pod) and f"{ns}/{name}" in self._claims_of_pod(pod):
                return
        fins = [f for f in pvc["metadata"]["finalizers"] if f != PVC_PROTECTION]
        await self.client.patch("v1", "PersistentVolumeClaim", name, {"metadata": {"finalizers": fins or None}}, ns)

    async def _reclaim(self, pv_name: str) -> None:
        pv = await self.get_or_none("v1", "PersistentVolume", pv_name)
        if pv is None:
            return
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if not ref:
            return
        claim = await self.get_or_none("v1", "PersistentVolumeClaim", ref.get("name", ""), ref.get("namespace"))
        if claim is not None and claim["metadata"].get("uid") == ref.get("uid"):
            return
        if pv["spec"].get("persistentVolumeReclaimPolicy", "Delete") != "Delete":
            if (pv.get("status") or {}).get("phase") != "Released":
                pv["status"] = {"phase": "Released"}
                await self.client.replace(pv, subresource="status")
            return
        path = (pv["spec"].get("hostPath") or {}).get("path")
        await self.delete_quietly("v1", "PersistentVolume", pv_name)
        volumes_root = self.ctx.paths.root / "volumes"
        if path and str(path).startswith(str(volumes_root)):
            shutil.rmtree(path, ignore_errors=True)
