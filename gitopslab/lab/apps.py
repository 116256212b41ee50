"""Argo CD Applications, driven declaratively through the Kubernetes API.

Creating an app writes an ``argoproj.io/v1alpha1`` Application; syncing
writes its ``operation`` field (what ``argocd app sync`` does); refreshing
sets the ``argocd.argoproj.io/refresh`` annotation. Works the same with the
embedded controller and with the real Argo CD.
"""
from __future__ import annotations

import time

from kubernetes.client.exceptions import ApiException

from gitopslab.lab.session import Lab

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"


def application_manifest(name: str, repo_url: str, path: str, *, namespace: str = "default",
                         target_revision: str = "HEAD", project: str = "default",
                         server: str = IN_CLUSTER, destination_name: str | None = None,
                         automated: bool = False, prune: bool = False, self_heal: bool = False,
                         create_namespace: bool = False, helm_parameters: dict | None = None,
                         value_files: list[str] | None = None) -> dict:
    """The Application manifest the NEW APP form would create."""
    source: dict = {"repoURL": repo_url, "path": path, "targetRevision": target_revision}
    if helm_parameters or value_files:
        helm: dict = {}
        if helm_parameters:
            helm["parameters"] = [{"name": k, "value": str(v)} for k, v in helm_parameters.items()]
        if value_files:
            helm["valueFiles"] = list(value_files)
        source["helm"] = helm
    destination = {"name": destination_name} if destination_name else {"server": server}
    destination["namespace"] = namespace
    sync_policy: dict = {}
    if automated:
        sync_policy["automated"] = {"prune": prune, "selfHeal": self_heal}
    if create_namespace:
        sync_policy["syncOptions"] = ["CreateNamespace=true"]
    spec = {"project": project, "source": source, "destination": destination}
    if sync_policy:
        spec["syncPolicy"] = sync_policy
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Application",
            "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE}, "spec": spec}


def apply_application(lab: Lab, manifest: dict, *, quiet: bool = False) -> dict:
    """Create the Application, or replace its spec if it exists (like ``kubectl apply``)."""
    name = manifest["metadata"]["name"]
    ns = manifest["metadata"].get("namespace", ARGOCD_NAMESPACE)
    try:
        obj = lab.custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, manifest)
        verb = "créée"
    except ApiException as e:
        if e.status != 409:
            raise
        obj = lab.custom.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name,
                                                        {"spec": manifest["spec"]})
        verb = "mise à jour"
    if not quiet:
        print(f"application.argoproj.io/{name} {verb}")
    return obj


def get_application(lab: Lab, name: str, namespace: str = ARGOCD_NAMESPACE) -> dict | None:
    try:
        return lab.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def sync_application(lab: Lab, name: str, *, prune: bool = False, revision: str | None = None,
                     namespace: str = ARGOCD_NAMESPACE) -> None:
    """Ask for a sync, as ``argocd app sync`` does: write the Application's ``operation``."""
    sync: dict = {"prune": prune, "syncStrategy": {"hook": {}}}
    if revision:
        sync["revision"] = revision
    op = {"initiatedBy": {"username": "admin"}, "sync": sync}
    lab.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, {"operation": op})
    print(f"Synchronisation demandée pour « {name} »")


def refresh_application(lab: Lab, name: str, *, hard: bool = False, namespace: str = ARGOCD_NAMESPACE) -> None:
    """Ask for a refresh (the REFRESH button): the controller removes the annotation once done."""
    value = "hard" if hard else "normal"
    patch = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": value}}}
    lab.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, patch)


def app_state(app: dict | None) -> tuple[str, str]:
    """(sync status, health status) as the UI shows them; ``("", "")`` before the first reconcile."""
    status = (app or {}).get("status") or {}
    return (status.get("sync") or {}).get("status", ""), (status.get("health") or {}).get("status", "")


def wait_for_application(lab: Lab, name: str, *, sync: str = "Synced", health: str = "Healthy",
                         timeout: float = 300, interval: float = 1.0,
                         namespace: str = ARGOCD_NAMESPACE) -> bool:
    """Wait until the app reaches ``sync``/``health``, printing each change of state (in French).

    ``timeout`` is in lab time: with an accelerated lab clock the real wait is shorter.
    """
    timeout_real = lab.real_seconds(timeout)
    start = time.monotonic()
    last = None
    while True:
        app = get_application(lab, name, namespace)
        state = app_state(app)
        elapsed = time.monotonic() - start
        if state != last:
            shown = " / ".join(s or "—" for s in state) if app else "application introuvable"
            print(f"[{elapsed * lab.time_scale:5.0f} s] {name} : {shown}", flush=True)
            last = state
        if app is None:
            print(f"❌ Application « {name} » introuvable dans le namespace {namespace} : rien à attendre.")
            return False
        if state == (sync, health):
            print(f"✅ « {name} » est {sync} et {health}.")
            return True
        if elapsed > timeout_real:
            print(f"❌ « {name} » n'a pas atteint {sync}/{health} en {timeout:.0f} s "
                  f"(état : {' / '.join(s or '—' for s in state)}).")
            for line in why_not_converged(app):
                print("   " + line)
            return False
        time.sleep(interval)


def why_not_converged(app: dict) -> list[str]:
    """What Argo CD itself says about a stuck app: conditions, the last operation and its failed resources."""
    status = app.get("status") or {}
    lines = [f"condition {c.get('type')} : {c.get('message', '')}" for c in status.get("conditions") or []]
    op = status.get("operationState") or {}
    if op:
        lines.append(f"dernière opération : {op.get('phase', '')} — {op.get('message', '')}")
        for r in (op.get("syncResult") or {}).get("resources") or []:
            if r.get("status") not in (None, "Synced", "Pruned"):
                lines.append(f"  {r.get('kind')}/{r.get('name')} ({r.get('status')}) : {r.get('message', '')}")
    return lines
