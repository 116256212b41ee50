"""Whether Argo CD is installed in the cluster a daemon serves.

The embedded controllers (applications, notifications) sleep until the
`argocd` namespace and the Application CRD exist, and stop once either is gone.
"""
from __future__ import annotations

from gitopslab.cluster.errors import ApiError

NAMESPACE = "argocd"
POLL_SECONDS = 2.0


async def installed(client) -> bool:
    try:
        return (await client.get_or_none("v1", "Namespace", NAMESPACE) is not None and
                await client.get_or_none("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                         "applications.argoproj.io") is not None)
    except ApiError:
        return False


async def wait_installed(ctx) -> None:
    while not await installed(ctx.client):
        await ctx.clock.sleep(POLL_SECONDS)


async def wait_uninstalled(client, clock) -> None:
    while await installed(client):
        await clock.sleep(POLL_SECONDS)
