"""Notification templates: the message and per-service fields rendered for one destination (pure).

A template (``template.<name>`` in argocd-notifications-cm) has a
``message`` and optional service sections; the lab renders ``slack``
(``username``, ``icon``, ``attachments``, ``blocks``, ``groupingKey``,
``notifyBroadcast``, ``deliveryPolicy``), ``webhook.<name>`` (``method``,
``path``, ``body``) and ``email`` (``subject``, ``body``). As in
notifications-engine, every template is compiled when the configuration is
loaded, the templates a trigger sends are applied in order, a non-empty
message replaces the previous one, and service fields are always rendered.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.argocd.gotemplate import Template, TemplateError, parse


class TemplateConfigError(Exception):
    pass


class TemplateNotFound(Exception):
    pass


SLACK_FIELDS = ("username", "icon", "attachments", "blocks", "groupingKey")
WEBHOOK_FIELDS = ("method", "path", "body")
EMAIL_FIELDS = ("subject", "body")


@dataclass
class Notification:
    message: str = ""
    slack: dict | None = None                 # rendered slack fields (+ notifyBroadcast, deliveryPolicy)
    webhook: dict[str, dict] = field(default_factory=dict)
    email: dict | None = None

    def preview(self) -> str:
        """First line of the message (100 characters at most), as ``Notification.Preview``."""
        text = (self.message or "").split("\n")[0]
        return text[:99] + "..." if len(text) > 100 else text


@dataclass
class _Compiled:
    message: Template
    slack: dict[str, Template] | None
    slack_flags: dict
    webhook: dict[str, tuple[str, Template, Template]]
    email: dict[str, Template] | None


def _compile(name: str, source) -> Template:
    return parse("" if source is None else str(source), name)


class NotificationTemplates:
    def __init__(self, templates: dict[str, dict]):
        self.raw = templates
        self._compiled: dict[str, _Compiled] = {}
        for name, body in templates.items():
            try:
                self._compiled[name] = self._compile(name, body)
            except TemplateError as e:
                raise TemplateConfigError(str(e)) from None

    @staticmethod
    def _compile(name: str, body: dict) -> _Compiled:
        slack = body.get("slack")
        webhook = body.get("webhook") or {}
        email = body.get("email")
        return _Compiled(
            message=_compile(name, body.get("message")),
            slack={f: _compile(name, (slack or {}).get(f)) for f in SLACK_FIELDS} if slack is not None else None,
            slack_flags={"notifyBroadcast": bool((slack or {}).get("notifyBroadcast")),
                         "deliveryPolicy": str((slack or {}).get("deliveryPolicy") or "Post")},
            webhook={k: (str((v or {}).get("method") or ""), _compile(name + k, (v or {}).get("path")),
                         _compile(name + k, (v or {}).get("body"))) for k, v in webhook.items()},
            email={f: _compile(name, (email or {}).get(f)) for f in EMAIL_FIELDS} if email is not None else None,
        )

    def names(self) -> list[str]:
        return sorted(self._compiled)

    def format(self, variables: dict, names) -> Notification:
        """Render the named templates in order into one notification; raises ``TemplateNotFound``/``TemplateError``."""
        out = Notification()
        for name in names:
            compiled = self._compiled.get(name)
            if compiled is None:
                raise TemplateNotFound(f"template '{name}' is not supported")
            message = compiled.message.execute(variables)
            if message:
                out.message = message
            if compiled.slack is not None:
                out.slack = {f: t.execute(variables) for f, t in compiled.slack.items()}
                out.slack.update(compiled.slack_flags)
            for hook, (method, path, body) in compiled.webhook.items():
                out.webhook[hook] = {"method": method, "path": path.execute(variables),
                                     "body": body.execute(variables)}
            if compiled.email is not None:
                out.email = {f: t.execute(variables) for f, t in compiled.email.items()}
        return out
