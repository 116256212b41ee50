"""What the Argo CD UI shows, printed for a notebook: app summary, resource tree, events, logs.

Live objects are read through the Kubernetes API, on the application's
destination cluster (with its cluster Secret's credentials when remote, as
argocd-server does); per-resource health is computed on them with the same
pure rules as the controller (Argo CD 3.x does not persist it in the
Application either).
"""
from __future__ import annotations

from datetime import datetime, timezone

from kubernetes import dynamic
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from gitopslab.argocd.destination import DestinationError, destination_api
from gitopslab.lab import tree
from gitopslab.lab.apps import ARGOCD_NAMESPACE, get_application
from gitopslab.lab.session import Lab

HEALTH_ICONS = {"Healthy": "💚", "Progressing": "🔄", "Degraded": "💔", "Suspended": "⏸",
                "Missing": "👻", "Unknown": "❓"}
SYNC_ICONS = {"Synced": "✅", "OutOfSync": "🟡", "Unknown": "❓"}


def show_application(lab: Lab, name: str, *, namespace: str = ARGOCD_NAMESPACE) -> None:
    """Print what ``argocd app get`` and the UI's tree view show for an application."""
    app = get_application(lab, name, namespace)
    if app is None:
        print(f"❌ Application « {name} » introuvable dans le namespace {namespace}.")
        return
    spec, status = app.get("spec", {}), app.get("status") or {}
    src = spec.get("source") or {}
    dest = spec.get("destination") or {}
    sync = (status.get("sync") or {}).get("status", "")
    health = (status.get("health") or {}).get("status", "")
    auto = (spec.get("syncPolicy") or {}).get("automated")
    policy = "Automated" + (" (Prune)" if auto and auto.get("prune") else "") if auto is not None else "Manual"
    rows = [("Name", f"{namespace}/{name}"), ("Project", spec.get("project", "")),
            ("Server", dest.get("server") or dest.get("name", "")), ("Namespace", dest.get("namespace", "")),
            ("Repo", src.get("repoURL", "")), ("Target", src.get("targetRevision", "")),
            ("Path", src.get("path", "")), ("Sync Policy", policy),
            ("Sync Status", f"{sync} to {src.get('targetRevision', '')} ({(status.get('sync') or {}).get('revision', '')[:7]})"),
            ("Health Status", health)]
    for k, v in rows:
        print(f"{k + ':':<20}{v}")
    for cond in status.get("conditions") or []:
        print(f"⚠️  {cond.get('type')}: {cond.get('message')}")
    op = status.get("operationState")
    if op:
        print(f"{'Last Sync:':<20}{op.get('phase')} — {op.get('message', '')}")
    print()
    print(f"Arbre des ressources de « {name} » :")
    try:
        with destination_api(app, lab.api) as api:
            _print_resources(dynamic.DynamicClient(api), app)
    except DestinationError as e:
        print(f"❌ Destination invalide : {e}")
    except HTTPError as e:
        print(f"❌ Cluster de destination injoignable ({(dest.get('server') or dest.get('name'))}) : {e}")


def _print_resources(dyn: dynamic.DynamicClient, app: dict) -> None:
    """The app's resources as read on its destination cluster, each with what it owns."""
    for depth, node in tree.walk(tree.app_tree(dyn, app)):
        health = node.health + (f" ({node.health_message})" if node.health_message else "")
        icon = HEALTH_ICONS.get(node.health, "  ") if node.health else "  "
        sync = f"{SYNC_ICONS.get(node.sync, '')} {node.sync}" if node.sync else ""
        print(f"{'    ' * depth}└─ {icon} {node.kind}/{node.name}  {health}  {sync}".rstrip())


def _age(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    from gitopslab.cluster.apiserver.tables import human_duration

    then = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return human_duration((datetime.now(timezone.utc) - then).total_seconds())


def show_events(lab: Lab, namespace: str, *, name: str | None = None, kind: str | None = None) -> list[dict]:
    """Print the events of a namespace (or of one object), as ``kubectl describe`` lists them."""
    selectors = []
    if name:
        selectors.append(f"involvedObject.name={name}")
    if kind:
        selectors.append(f"involvedObject.kind={kind}")
    events = lab.core.list_namespaced_event(namespace, field_selector=",".join(selectors) or None).items
    events.sort(key=lambda e: (e.last_timestamp or e.event_time or e.first_timestamp or datetime.min.replace(tzinfo=timezone.utc)))
    if not events:
        print("Aucun événement.")
        return []
    print(f"{'Type':<9}{'Reason':<20}{'Age':<10}{'From':<20}{'Object':<45}Message")
    for e in events:
        ts = e.last_timestamp or e.event_time or e.first_timestamp
        age = _age(ts.isoformat() if ts else None)
        if e.count and e.count > 1:
            age += f" (x{e.count})"
        src = (e.source.component if e.source else "") or (e.reporting_component or "")
        obj = f"{e.involved_object.kind.lower()}/{e.involved_object.name}"
        print(f"{e.type:<9}{e.reason:<20}{age:<10}{src:<20}{obj:<45}{e.message}")
    return [e.to_dict() for e in events]


def show_logs(lab: Lab, namespace: str, pod: str | None = None, *, selector: str | None = None,
              container: str | None = None, previous: bool = False, tail: int | None = 50) -> str:
    """Print a pod's logs (``kubectl logs``); with ``selector``, the first matching pod's."""
    if pod is None:
        pods = lab.core.list_namespaced_pod(namespace, label_selector=selector).items
        if not pods:
            print(f"Aucun pod ne correspond à « {selector} » dans {namespace}.")
            return ""
        pod = sorted(pods, key=lambda p: p.metadata.creation_timestamp)[-1].metadata.name
    try:
        text = lab.core.read_namespaced_pod_log(pod, namespace, container=container,
                                                previous=previous, tail_lines=tail)
    except ApiException as e:
        import json

        try:
            msg = json.loads(e.body).get("message", e.reason)
        except (ValueError, TypeError):
            msg = e.reason
        print(f"Journaux indisponibles pour le pod {pod} : {msg}")
        return ""
    label = "précédent conteneur" if previous else "conteneur actuel"
    print(f"--- journaux du pod {pod} ({label}) ---")
    print(text, end="" if text.endswith("\n") else "\n")
    return text
