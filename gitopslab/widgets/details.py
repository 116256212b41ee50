"""What clicking a resource in the tree shows: SUMMARY, MANIFEST, EVENTS and, for a pod, LOGS.

Events and logs are the lab helpers' own output (``kubectl describe``-like
events, ``kubectl logs`` with the previous container's when it restarted).
"""
from __future__ import annotations

import copy

import yaml

from gitopslab.lab.session import Lab
from gitopslab.lab.views import show_events, show_logs
from gitopslab.widgets.text import captured, timestamp_fr
from gitopslab.lab.tree import TreeNode

HIDDEN_METADATA = ("managedFields",)   # hidden by default in the UI's live manifest


def summary_text(node: TreeNode) -> str:
    rows = [("KIND", node.kind), ("NAME", node.name), ("NAMESPACE", node.namespace or "")]
    if node.live is not None:
        rows.append(("CREATED AT", timestamp_fr(node.live["metadata"].get("creationTimestamp"))))
    if node.sync:
        rows.append(("STATUS", node.sync))
    if node.health:
        rows.append(("HEALTH", node.health + (f" — {node.health_message}" if node.health_message else "")))
    if node.kind == "Pod" and node.live is not None:
        for status in (node.live.get("status") or {}).get("containerStatuses") or []:
            rows.append((f"CONTAINER {status['name']}", container_state(status)))
    return "\n".join(f"{label:<22}{value}" for label, value in rows)


def container_state(status: dict) -> str:
    """A container's state as ``kubectl get pods`` words it, with its restarts."""
    state = status.get("state") or {}
    if state.get("waiting"):
        word = state["waiting"].get("reason") or "Waiting"
    elif state.get("terminated"):
        word = state["terminated"].get("reason") or "Terminated"
    else:
        word = "Running" if state.get("running") else "Unknown"
    ready = "prêt" if status.get("ready") else "pas prêt"
    return f"{word} ({ready}, {status.get('restartCount', 0)} redémarrage(s))"


def manifest_text(node: TreeNode) -> str:
    """The live object as YAML (without ``managedFields``), or why there is none."""
    if node.live is None:
        return f"{node.kind}/{node.name} n'existe pas dans le cluster (Missing) : une synchronisation le créera."
    obj = copy.deepcopy(node.live)
    for key in HIDDEN_METADATA:
        obj.get("metadata", {}).pop(key, None)
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)


def events_text(lab: Lab, node: TreeNode) -> str:
    if not node.namespace:
        return "Pas d'événements pour une ressource hors namespace dans cette vue."
    return captured(show_events, lab, node.namespace, name=node.name, kind=node.kind)


def restarts(node: TreeNode) -> int:
    statuses = ((node.live or {}).get("status") or {}).get("containerStatuses") or []
    return sum(s.get("restartCount") or 0 for s in statuses)


def logs_text(lab: Lab, node: TreeNode, *, tail: int = 100) -> str:
    """The pod's logs, plus the previous container's when it restarted (what a crash left)."""
    text = captured(show_logs, lab, node.namespace, node.name, tail=tail)
    if restarts(node):
        text += "\n" + captured(show_logs, lab, node.namespace, node.name, previous=True, tail=tail)
    return text
