"""Delivery services by type.

The lab delivers ``slack`` and ``webhook``. The other types upstream knows
are accepted in the configuration (as upstream does) but fail at delivery
with an explicit error; an unknown type fails the whole configuration with
upstream's ``service type '<t>' is not supported``.
"""
from __future__ import annotations

from gitopslab.argocd.notifications.config import ServiceConfig
from gitopslab.argocd.notifications.slack import DeliveryError, SlackService
from gitopslab.argocd.notifications.webhook import WebhookService

KNOWN_UPSTREAM = {"awssqs", "email", "mattermost", "rocketchat", "grafana", "opsgenie", "telegram", "github",
                  "teams", "teams-workflows", "googlechat", "pushover", "alertmanager", "pagerduty", "pagerdutyv2",
                  "newrelic", "webex", "nats", "gcppubsub"}


class UnsupportedService(Exception):
    pass


class UndeliverableService:
    """A service type the lab has no network peer for (e-mail, Teams…)."""

    def __init__(self, type_: str):
        self.type = type_

    async def send(self, notification, dest, session):
        raise DeliveryError(f"le labo ne sait pas livrer les notifications de type « {self.type} » "
                            f"(services disponibles : slack, webhook)")


def make_service(config: ServiceConfig, sleep=None):
    """The service for one ``service.<type>[.<name>]`` entry; ``sleep`` paces webhook retries."""
    if config.type == "webhook":
        return WebhookService(config.options, sleep) if sleep else WebhookService(config.options)
    if config.type == "slack":
        return SlackService(config.options)
    if config.type in KNOWN_UPSTREAM:
        return UndeliverableService(config.type)
    raise UnsupportedService(f"service type '{config.type}' is not supported")
