"""argocd-notifications-cm and argocd-notifications-secret, parsed (pure; NE ``api/config.go``).

Keys: ``service.<type>[.<name>]`` (YAML options; every ``$key`` in a string
is replaced by that key of the Secret, unknown keys are left as is),
``template.<name>``, ``trigger.<name>``, ``defaultTriggers``,
``defaultTriggers.<service>``, ``subscriptions`` and ``context``.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import yaml

from gitopslab.argocd.notifications.subscriptions import DefaultSubscription, parse_default_subscriptions
from gitopslab.argocd.notifications.templates import NotificationTemplates, TemplateConfigError
from gitopslab.argocd.notifications.triggers import Condition, TriggerError, Triggers

CONFIGMAP = "argocd-notifications-cm"
SECRET = "argocd-notifications-secret"
_SECRET_REF = re.compile(r"[$][\w-]+")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    type: str
    options: dict


@dataclass
class NotificationsConfig:
    namespace: str = "argocd"
    services: dict[str, ServiceConfig] = field(default_factory=dict)
    templates: NotificationTemplates = field(default_factory=lambda: NotificationTemplates({}))
    triggers: Triggers = field(default_factory=lambda: Triggers({}))
    subscriptions: list[DefaultSubscription] = field(default_factory=list)
    default_triggers: list[str] = field(default_factory=list)
    service_default_triggers: dict[str, list[str]] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def secret_values(secret: dict | None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for key, value in ((secret or {}).get("data") or {}).items():
        try:
            out[key] = base64.b64decode(value or "")
        except ValueError:
            continue
    for key, value in ((secret or {}).get("stringData") or {}).items():
        out[key] = str(value).encode()
    return out


def replace_secret_refs(value, secrets: dict[str, bytes], warnings: list[str]):
    """Every ``$key`` of every string in ``value`` replaced by the Secret's value (recursively)."""
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            found = secrets.get(m.group()[1:])
            if found is None:
                warnings.append(f"config referenced '{value}', but key does not exist in secret")
                return m.group()
            return found.decode(errors="replace")
        return _SECRET_REF.sub(sub, value)
    if isinstance(value, dict):
        return {replace_secret_refs(k, secrets, warnings) if isinstance(k, str) else k:
                replace_secret_refs(v, secrets, warnings) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_secret_refs(v, secrets, warnings) for v in value]
    return value


def _yaml(text: str, what: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"failed to unmarshal {what}: {e}") from None


def parse_config(configmap: dict | None, secret: dict | None) -> NotificationsConfig:
    """``ParseConfig``: raises ``ConfigError`` with upstream's wording when something is invalid."""
    data = (configmap or {}).get("data") or {}
    cfg = NotificationsConfig(namespace=((configmap or {}).get("metadata") or {}).get("namespace", "argocd"))
    cfg.secrets = secret_values(secret)
    if "subscriptions" in data:
        cfg.subscriptions = parse_default_subscriptions(_yaml(data["subscriptions"], "subscriptions") or [])
    if "defaultTriggers" in data:
        cfg.default_triggers = [str(t) for t in _yaml(data["defaultTriggers"], "defaultTriggers") or []]
    if "context" in data:
        context = _yaml(data["context"], "context") or {}
        if not isinstance(context, dict):
            raise ConfigError("failed to unmarshal context: expected a map")
        cfg.context = {str(k): "" if v is None else str(v) for k, v in context.items()}
    templates: dict[str, dict] = {}
    triggers: dict[str, list[Condition]] = {}
    for key in sorted(data):
        value = data[key]
        parts = key.split(".")
        if key.startswith("template."):
            name = ".".join(parts[1:])
            body = _yaml(value, f"template {name}") or {}
            if not isinstance(body, dict):
                raise ConfigError(f"failed to unmarshal template {name}: expected a map")
            templates[name] = body
        elif key.startswith("service."):
            if len(parts) == 3:
                type_, name = parts[1], parts[2]
            elif len(parts) == 2:
                type_, name = parts[1], parts[1]
            else:
                raise ConfigError(f"invalid service key; expected 'service.<type>(.<name>)' but got '{key}'")
            options = _yaml(value, f"service configuration {type_}") or {}
            if not isinstance(options, dict):
                raise ConfigError(f"failed to render service configuration {type_}: expected a map")
            cfg.services[name] = ServiceConfig(name, type_, replace_secret_refs(options, cfg.secrets, cfg.warnings))
        elif key.startswith("trigger."):
            name = ".".join(parts[1:])
            conditions = _yaml(value, f"trigger {name}") or []
            if not isinstance(conditions, list):
                raise ConfigError(f"failed to unmarshal trigger {name}: expected a list")
            triggers[name] = [Condition.from_dict(c or {}) for c in conditions]
        elif key.startswith("defaultTriggers."):
            name = ".".join(parts[1:])
            cfg.service_default_triggers[name] = [str(t) for t in _yaml(value, f"default trigger {name}") or []]
    try:
        cfg.triggers = Triggers(triggers)
        cfg.templates = NotificationTemplates(templates)
    except (TriggerError, TemplateConfigError) as e:
        raise ConfigError(str(e)) from None
    return cfg
