"""The lab's kube-controller-manager and kube-scheduler, as API clients.

``run(ctx)`` is what the cluster daemon awaits: it starts one shared informer
per watched kind, every controller below, and runs until cancelled (then
stops everything it started). Each controller module owns one concept; the
pure decisions live beside it (``deployment_util``, ``scheduling``,
``endpoints_util``, ``cron``…) and are tested without a server.
"""
from __future__ import annotations

import logging

from gitopslab.cluster.context import DaemonContext
from gitopslab.cluster.informer import SharedInformers

log = logging.getLogger(__name__)


def controller_classes() -> list[type]:
    from gitopslab.cluster.controllers.cronjob import CronJobController
    from gitopslab.cluster.controllers.daemonset import DaemonSetController
    from gitopslab.cluster.controllers.deployment import DeploymentController
    from gitopslab.cluster.controllers.endpoints import EndpointsController
    from gitopslab.cluster.controllers.garbagecollector import GarbageCollector
    from gitopslab.cluster.controllers.job import JobController
    from gitopslab.cluster.controllers.loadbalancer import IngressStatusController, ServiceLBController
    from gitopslab.cluster.controllers.namespace import NamespaceController
    from gitopslab.cluster.controllers.replicaset import ReplicaSetController
    from gitopslab.cluster.controllers.scheduler import Scheduler
    from gitopslab.cluster.controllers.serviceaccount import ServiceAccountController, TokenController
    from gitopslab.cluster.controllers.statefulset import StatefulSetController
    from gitopslab.cluster.controllers.volumes import VolumeController

    return [NamespaceController, ServiceAccountController, TokenController, GarbageCollector,
            DeploymentController, ReplicaSetController, StatefulSetController, DaemonSetController,
            JobController, CronJobController, EndpointsController, ServiceLBController,
            IngressStatusController, VolumeController, Scheduler]


async def run(ctx: DaemonContext, *, only: list[type] | None = None) -> None:
    """Run the controllers (all, or ``only`` these classes) until cancelled."""
    from gitopslab.cluster.controllers.base import gather_forever

    informers = SharedInformers(ctx.client)
    controllers = [cls(ctx, informers) for cls in (only or controller_classes())]
    for c in controllers:
        c.setup()
    informers.start()
    try:
        await informers.wait_synced()
        log.info("controllers started: %s", ", ".join(c.name for c in controllers))
        await gather_forever(*(c.run() for c in controllers))
    finally:
        informers.stop()
