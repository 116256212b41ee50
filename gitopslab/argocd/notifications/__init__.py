"""Embedded Argo CD notifications controller (argocd-notifications-controller).

Go templates and Go time values come from ``gitopslab.argocd.gotemplate`` and
``gitopslab.argocd.gotime`` (shared with the ApplicationSet controller).

Parts, one concept per module (pure unless noted):

- ``expr``: the ``expr`` language subset trigger conditions are written in;
- ``triggers``: conditions evaluated to results (``[i].hash(when)`` keys, ``oncePer``);
- ``state``: the ``notified.notifications.argoproj.io`` dedup annotation;
- ``subscriptions``: destinations from annotations and ``subscriptions``;
- ``config``: ``argocd-notifications-cm`` + ``argocd-notifications-secret``;
- ``templates``: notifications rendered from templates (message, slack, webhook);
- ``variables``: what templates and conditions see (``.app``, ``.context``, ``.repo``…);
- ``slack``, ``webhook``: the delivery services (HTTP, I/O);
- ``controller``: the daemon component (``run(ctx)``), I/O through ``ctx.client``.
"""
