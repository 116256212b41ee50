"""An Application's resource tree, as the UI draws it: its resources (``status.resources``) and
what they own (ReplicaSets of a Deployment, Pods of a ReplicaSet…), found by owner references.

Live objects are read through the API of the app's destination cluster;
health is computed on them with the controller's pure rules.
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from kubernetes import dynamic
from kubernetes.client.exceptions import ApiException

from gitopslab.argocd.destination import destination_api
from gitopslab.argocd.health import resource_health
from gitopslab.lab.session import Lab

CHILD_KINDS = {"Deployment": [("apps/v1", "ReplicaSet")], "ReplicaSet": [("v1", "Pod")],
               "StatefulSet": [("v1", "Pod")], "DaemonSet": [("v1", "Pod")], "Job": [("v1", "Pod")],
               "CronJob": [("batch/v1", "Job")]}
_NOT_FOUND = (ApiException, dynamic.exceptions.NotFoundError, dynamic.exceptions.ResourceNotFoundError)


@dataclass
class TreeNode:
    kind: str
    name: str
    namespace: str
    api_version: str
    live: dict | None               # None: Missing (in Git, not in the cluster)
    sync: str = ""                  # only the app's own resources have a sync status
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def health(self) -> str:
        return health_of(self.live)[0]

    @property
    def health_message(self) -> str:
        return health_of(self.live)[1]


def health_of(obj: dict | None) -> tuple[str, str]:
    """(status, message) with the controller's rules; ``("Missing", "")`` for an absent object."""
    if obj is None:
        return "Missing", ""
    found = resource_health(obj)
    return (found.status, found.message or "") if found else ("", "")


@contextmanager
def destination_lab(lab: Lab, app: dict) -> Iterator[Lab]:
    """``lab`` itself for an in-cluster app, else the same Lab talking to the app's destination cluster."""
    with destination_api(app, lab.api) as api:
        yield lab if api is lab.api else dataclasses.replace(lab, api=api)


def live_object(dyn: dynamic.DynamicClient, api_version: str, kind: str, name: str,
                namespace: str | None) -> dict | None:
    try:
        resource = dyn.resources.get(api_version=api_version, kind=kind)
        found = resource.get(name=name, namespace=namespace) if resource.namespaced else resource.get(name=name)
    except _NOT_FOUND:
        return None
    obj = found.to_dict()
    obj.setdefault("kind", kind)
    obj.setdefault("apiVersion", api_version)
    return obj


def owned_by(dyn: dynamic.DynamicClient, owner: dict) -> list[dict]:
    """The objects ``owner`` owns among the kinds its controller creates, oldest first."""
    uid, namespace = owner["metadata"]["uid"], owner["metadata"].get("namespace")
    found = []
    for api_version, kind in CHILD_KINDS.get(owner.get("kind"), []):
        items = dyn.resources.get(api_version=api_version, kind=kind).get(namespace=namespace).to_dict()
        for item in items.get("items") or []:
            if any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or []):
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", api_version)
                found.append(item)
    return sorted(found, key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"]))


def node_of(dyn: dynamic.DynamicClient, obj: dict, sync: str = "") -> TreeNode:
    meta = obj["metadata"]
    node = TreeNode(obj["kind"], meta["name"], meta.get("namespace") or "", obj.get("apiVersion", ""), obj, sync)
    if obj["kind"] == "ReplicaSet" and not (obj.get("spec") or {}).get("replicas"):
        return node   # an old ReplicaSet scaled to 0: no pods to show
    node.children = [node_of(dyn, child) for child in owned_by(dyn, obj)]
    return node


def app_tree(dyn: dynamic.DynamicClient, app: dict) -> list[TreeNode]:
    """The app's resources, each with what it owns (what the UI's tree shows under the app)."""
    roots = []
    for res in (app.get("status") or {}).get("resources") or []:
        api_version = f"{res['group']}/{res['version']}" if res.get("group") else res.get("version", "v1")
        live = live_object(dyn, api_version, res["kind"], res["name"], res.get("namespace") or None)
        if live is None:
            roots.append(TreeNode(res["kind"], res["name"], res.get("namespace", ""), api_version, None,
                                  res.get("status", "")))
        else:
            roots.append(node_of(dyn, live, res.get("status", "")))
    return roots


def walk(nodes: list[TreeNode], depth: int = 0) -> Iterator[tuple[int, TreeNode]]:
    """Every node with its depth, parents before children."""
    for node in nodes:
        yield depth, node
        yield from walk(node.children, depth + 1)
