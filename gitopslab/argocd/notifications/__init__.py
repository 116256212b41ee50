"""Embedded Argo CD notifications controller (argocd-notifications-controller).

Parts, one concept per module (pure unless noted):

- ``gotime``: Go ``time.Time``/``time.Duration`` values and their printing;
- ``expr``: the ``expr`` language subset trigger conditions are written in;
- ``gotemplate``: the Go ``text/template`` subset message templates use;
- ``triggers``: conditions evaluated to results (``[i].hash(when)`` keys, ``oncePer``);
- ``state``: the ``notified.notifications.argoproj.io`` dedup annotation;
- ``subscriptions``: destinations from annotations and ``subscriptions``;
- ``config``: ``argocd-notifications-cm`` + ``argocd-notifications-secret``;
- ``templates``: notifications rendered from templates (message, slack, webhook);
- ``variables``: what templates and conditions see (``.app``, ``.context``, ``.repo``…);
- ``slack``, ``webhook``: the delivery services (HTTP, I/O);
- ``controller``: the daemon component (``run(ctx)``), I/O through ``ctx.client``.
"""
