"""Node heartbeats, as the kubelet sends them since 1.17.

Two signals: the node's Lease in ``kube-node-lease`` (``renewTime``
renewed every 10 s, ``leaseDurationSeconds`` 40), and the Node's
conditions (``lastHeartbeatTime`` refreshed every 5 minutes, the
``nodeStatusReportFrequency``, when nothing changed in between). Delays
follow the lab clock; timestamps are real time.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from gitopslab.cluster.errors import ApiError

log = logging.getLogger(__name__)

LEASE_DURATION_SECONDS = 40
LEASE_RENEW_SECONDS = 10            # 0.25 x the lease duration
NODE_STATUS_REPORT_SECONDS = 300    # nodeStatusReportFrequency
LEASE_NAMESPACE = "kube-node-lease"


def micro_time(now: datetime | None = None) -> str:
    """metav1.MicroTime as served: ``2026-11-28T14:31:44.123456Z``."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_time(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def lease_object(node: dict, renew_time: str) -> dict:
    """The node's Lease, owned by its Node (pure)."""
    meta = node["metadata"]
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": meta["name"], "namespace": LEASE_NAMESPACE,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"],
                                              "uid": meta.get("uid", "")}]},
            "spec": {"holderIdentity": meta["name"], "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                     "renewTime": renew_time}}


def refreshed_conditions(conditions: list[dict], heartbeat: str) -> list[dict]:
    """The node conditions with a new ``lastHeartbeatTime`` and unchanged transitions (pure)."""
    return [{**c, "lastHeartbeatTime": heartbeat} for c in conditions]


class Heartbeat:
    def __init__(self, client, clock, node_name: str):
        self.client = client
        self.clock = clock
        self.node_name = node_name

    async def renew_lease(self) -> None:
        node = await self.client.get("v1", "Node", self.node_name)
        lease = await self.client.get_or_none("coordination.k8s.io/v1", "Lease", self.node_name, LEASE_NAMESPACE)
        if lease is None:
            try:
                await self.client.create(lease_object(node, micro_time()), namespace=LEASE_NAMESPACE)
            except ApiError as e:
                if e.code != 409:
                    raise
            return
        await self.client.patch("coordination.k8s.io/v1", "Lease", self.node_name,
                                {"spec": {"renewTime": micro_time(), "holderIdentity": self.node_name}},
                                LEASE_NAMESPACE, patch_type="merge")

    async def report_status(self) -> None:
        node = await self.client.get("v1", "Node", self.node_name)
        conditions = (node.get("status") or {}).get("conditions") or []
        await self.client.patch("v1", "Node", self.node_name,
                                {"status": {"conditions": refreshed_conditions(conditions, seconds_time())}},
                                patch_type="strategic", subresource="status")

    async def run(self) -> None:
        since_report = 0.0
        while True:
            try:
                await self.renew_lease()
                if since_report >= NODE_STATUS_REPORT_SECONDS:
                    await self.report_status()
                    since_report = 0.0
            except (ApiError, OSError) as e:
                log.warning("node heartbeat: %s", e)
            await self.clock.sleep(LEASE_RENEW_SECONDS)
            since_report += LEASE_RENEW_SECONDS
