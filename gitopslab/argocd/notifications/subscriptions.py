"""Who gets notified of what: destinations by trigger (pure; NE ``pkg/subscriptions``, ``api/config.go``).

Sources, merged then de-duplicated:

- annotations ``notifications.argoproj.io/subscribe.<trigger>.<service>: r1;r2``
  (empty value = one empty recipient, e.g. for webhooks; no trigger part
  = the default triggers) on the Application and on its AppProject;
- the ``notifications.argoproj.io/subscriptions`` annotation, YAML
  ``[{trigger: [..], destinations: [{service, recipients: [..]}]}]``;
- ``subscriptions`` of argocd-notifications-cm: ``[{recipients: [service:recipient],
  triggers: [..], selector: <label selector>}]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

PREFIX = "notifications.argoproj.io"
SUBSCRIBE = PREFIX + "/subscribe."
SUBSCRIPTIONS = PREFIX + "/subscriptions"


@dataclass(frozen=True)
class Destination:
    service: str
    recipient: str

    def __str__(self) -> str:  # Go's %v of the struct
        return f"{{{self.service} {self.recipient}}}"


Destinations = dict  # trigger -> list[Destination]


def subscribe_annotation(trigger: str, service: str) -> str:
    return f"{SUBSCRIBE}{trigger}.{service}"


def parse_recipients(value: str) -> list[str]:
    return [r.strip() for r in value.split(";") if r.strip()]


def _add(dests: Destinations, triggers: list[str], service: str, recipients: list[str]) -> None:
    for recipient in recipients:
        for trigger in triggers:
            dests.setdefault(trigger, []).append(Destination(service, recipient))


def from_annotations(annotations: dict | None, default_triggers: list[str],
                     service_default_triggers: dict[str, list[str]]) -> tuple[Destinations, list[str]]:
    """Destinations an object's annotations ask for, and the problems found (for the log)."""
    dests: Destinations = {}
    problems: list[str] = []

    def triggers_for(trigger: str, service: str) -> list[str]:
        if trigger:
            return [trigger]
        return list(service_default_triggers.get(service, default_triggers))

    for key in sorted(annotations or {}):
        value = (annotations or {})[key]
        if key.startswith(SUBSCRIBE):
            parts = key[len(SUBSCRIBE):].split(".")
            trigger, service = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
            recipients = [""] if value == "" else parse_recipients(value)
            _add(dests, triggers_for(trigger, service), service, recipients)
        elif key.startswith(SUBSCRIPTIONS):
            try:
                subs = yaml.safe_load(value) if value else None
            except yaml.YAMLError as e:
                problems.append(f"Notification subscription unmarshal error: {e}")
                continue
            if not value:
                problems.append("Subscription is not defined")
                continue
            if not isinstance(subs, list):
                problems.append("Notification subscription unmarshal error: expected a list")
                continue
            for sub in subs:
                sub = sub or {}
                triggers = list(sub.get("trigger") or [])
                for destination in sub.get("destinations") or []:
                    service = str((destination or {}).get("service") or "")
                    recipients = [str(r) for r in (destination or {}).get("recipients") or []]
                    for trigger in triggers or [""]:
                        _add(dests, triggers_for(trigger, service), service, recipients)
    return dests, problems


@dataclass(frozen=True)
class DefaultSubscription:
    recipients: tuple[str, ...]
    triggers: tuple[str, ...]
    selector: str = ""


def parse_default_subscriptions(raw) -> list[DefaultSubscription]:
    out = []
    for item in raw or []:
        item = item or {}
        out.append(DefaultSubscription(tuple(str(r) for r in item.get("recipients") or []),
                                       tuple(str(t) for t in item.get("triggers") or []),
                                       str(item.get("selector") or "")))
    return out


def global_destinations(subscriptions: list[DefaultSubscription], default_triggers: list[str],
                        labels: dict | None) -> Destinations:
    """``GetGlobalDestinations``: the config's subscriptions that match the object's labels."""
    from gitopslab.cluster.selectors import parse_label_selector

    dests: Destinations = {}
    for sub in subscriptions:
        try:
            selector = parse_label_selector(sub.selector)
        except Exception:  # noqa: BLE001 - an invalid selector matches nothing
            continue
        if not selector.matches(labels or {}):
            continue
        for trigger in list(sub.triggers) or list(default_triggers):
            for recipient in sub.recipients:
                parts = recipient.split(":")
                dests.setdefault(trigger, []).append(Destination(parts[0], parts[1] if len(parts) > 1 else ""))
    return dests


def merge(*sources: Destinations) -> Destinations:
    """Merge destination maps, keeping the first occurrence of each destination per trigger."""
    out: Destinations = {}
    for source in sources:
        for trigger, items in source.items():
            bucket = out.setdefault(trigger, [])
            for item in items:
                if item not in bucket:
                    bucket.append(item)
    return out
