"""Components the cluster daemon runs next to its API server, in order.

Each entry is ``"module:function"`` naming an ``async def run(ctx: DaemonContext)``.
A module that does not exist (yet) is skipped; one that crashes is logged
and restarted after a short delay, never taking the daemon down.
"""
COMPONENTS = [
    "gitopslab.cluster.controllers:run",
    "gitopslab.cluster.kubelet:run",
    "gitopslab.argocd.controller:run",
    "gitopslab.argocd.notifications.controller:run",
    "gitopslab.argocd.applicationset.controller:run",
    "gitopslab.ci.trigger:run",
]
