"""Diagnosing a failing application as one would in the Argo CD UI: pods, events, logs.

Clicking a pod in the UI shows its state, its events and its logs; these
helpers print the same facts, with a French reading guide around the
messages Kubernetes writes (kept verbatim). They state what is observed —
probe failures, restarts, the address the server listens on — and leave the
conclusion to the learner.
"""
from __future__ import annotations

import re
import time

from gitopslab.lab.session import Lab
from gitopslab.lab.views import show_events, show_logs

_LISTEN_RE = re.compile(r"Running on (http://\S+)")
_PROBE_RE = re.compile(r"^(Liveness|Readiness|Startup) probe failed")


def _pods(lab: Lab, namespace: str, selector: str) -> list:
    pods = lab.core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted(pods, key=lambda p: p.metadata.creation_timestamp)


def _state_of(pod) -> tuple[str, int]:
    """(STATUS column of ``kubectl get pods``, restarts) for a single-container pod."""
    statuses = (pod.status.container_statuses or []) if pod.status else []
    restarts = sum(c.restart_count or 0 for c in statuses)
    for c in statuses:
        if c.state and c.state.waiting and c.state.waiting.reason:
            return c.state.waiting.reason, restarts
        if c.state and c.state.terminated and c.state.terminated.reason:
            return c.state.terminated.reason, restarts
    return (pod.status.phase if pod.status else "Unknown") or "Unknown", restarts


EXPLANATIONS = {
    "CrashLoopBackOff": "le conteneur s'arrête sans cesse ; le kubelet le relance avec une attente croissante "
                        "(back-off).",
    "Running": "le conteneur tourne.",
    "ContainerCreating": "le conteneur est en cours de création.",
    "ErrImagePull": "l'image n'a pas pu être téléchargée : vérifiez son nom et qu'elle a bien été poussée.",
    "ImagePullBackOff": "l'image n'a pas pu être téléchargée : vérifiez son nom et qu'elle a bien été poussée.",
    "Error": "le conteneur s'est terminé en erreur.",
    "Completed": "le conteneur s'est terminé normalement.",
}


def show_pods(lab: Lab, namespace: str, selector: str) -> list:
    """``kubectl get pods -l SELECTOR`` with a French reading of each pod's state."""
    pods = _pods(lab, namespace, selector)
    if not pods:
        print(f"Aucun pod « {selector} » dans le namespace {namespace}.")
        return []
    print(f"{'NAME':<48}{'READY':<8}{'STATUS':<20}RESTARTS")
    for pod in pods:
        statuses = pod.status.container_statuses or []
        ready = f"{sum(1 for c in statuses if c.ready)}/{len(pod.spec.containers)}"
        state, restarts = _state_of(pod)
        print(f"{pod.metadata.name:<48}{ready:<8}{state:<20}{restarts}")
    for pod in pods:
        state, restarts = _state_of(pod)
        note = EXPLANATIONS.get(state)
        if note:
            print(f"  → {pod.metadata.name} : {state} — {note}")
        if restarts:
            print(f"  → redémarré {restarts} fois.")
    return pods


def wait_for_symptoms(lab: Lab, namespace: str, selector: str, *, timeout: float = 120,
                      quiet: bool = False) -> bool:
    """Wait until a pod of ``selector`` is ready or shows trouble (a restart, a pull error); ``timeout`` in lab time."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < lab.real_seconds(timeout):
        pods = _pods(lab, namespace, selector)
        summary = [(_state_of(p), any(c.ready for c in (p.status.container_statuses or []))) for p in pods]
        if summary != last and not quiet:
            shown = ", ".join(f"{s}/{r} redémarrage(s){' prêt' if ok else ''}" for (s, r), ok in summary) or "aucun pod"
            print(f"[{(time.monotonic() - start) * lab.time_scale:5.0f} s] {shown}", flush=True)
            last = summary
        if any(ok or r > 0 or s in ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff")
               for (s, r), ok in summary):
            return True
        time.sleep(0.5)
    return False


def probe_failures(events: list[dict]) -> list[str]:
    """Distinct probe-failure messages among events, in order (pure)."""
    seen: list[str] = []
    for e in events:
        msg = e.get("message") or ""
        if e.get("reason") == "Unhealthy" and _PROBE_RE.match(msg) and msg not in seen:
            seen.append(msg)
    return seen


def listening_addresses(log_text: str) -> list[str]:
    """Addresses a Flask/Werkzeug server says it listens on (``Running on http://…``), in order (pure)."""
    return list(dict.fromkeys(_LISTEN_RE.findall(log_text or "")))


def diagnose_pod(lab: Lab, namespace: str, selector: str) -> dict:
    """Print a pod's state, events and logs (current and previous container) with a French reading guide."""
    pods = show_pods(lab, namespace, selector)
    if not pods:
        return {}
    pod = pods[-1].metadata.name
    print(f"\nÉvénements du pod {pod} (onglet EVENTS de l'interface) :")
    events = show_events(lab, namespace, name=pod)
    print(f"\nJournaux du pod {pod} (onglet LOGS de l'interface) :")
    logs = show_logs(lab, namespace, pod)
    _, restarts = _state_of(pods[-1])
    previous = ""
    if restarts:
        print()
        previous = show_logs(lab, namespace, pod, previous=True)
    failures = probe_failures(events)
    addresses = listening_addresses(logs + previous)
    print("\nÀ retenir :")
    if failures:
        for msg in failures:
            print(f"  • Sonde en échec : {msg}")
    else:
        print("  • Aucun échec de sonde parmi les événements.")
    if addresses:
        print(f"  • Le serveur annonce qu'il écoute sur : {', '.join(addresses)}")
    return {"pod": pod, "events": events, "logs": logs, "previous_logs": previous,
            "probe_failures": failures, "listening": addresses}
