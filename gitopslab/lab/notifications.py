"""Argo CD notifications from a notebook, declaratively through the Kubernetes API.

What the course does with ``kubectl apply``/``kubectl patch``: a token in
``argocd-notifications-secret``, a ``service.slack`` in
``argocd-notifications-cm``, triggers and templates of the notifications
catalog (which Argo CD does not install by default), and a subscription
annotation on an Application. Works the same against the real Argo CD.
"""
from __future__ import annotations

import json

import yaml
from kubernetes.client.exceptions import ApiException

from gitopslab.lab.apps import ARGOCD_NAMESPACE, GROUP, PLURAL, VERSION, get_application
from gitopslab.lab.session import Lab

CONFIGMAP = "argocd-notifications-cm"
SECRET = "argocd-notifications-secret"
NOTIFIED = "notified.notifications.argoproj.io"
ONCE_PER_REVISION = "app.status.operationState?.syncResult?.revision"

_SLACK_FIELDS = """
[{
  "title": "{{ .app.metadata.name}}",
  "title_link":"{{.context.argocdUrl}}/applications/{{.app.metadata.name}}",
  "color": "COLOR",
  "fields": [
  {
    "title": "FIELD",
    "value": "VALUE",
    "short": true
  },
  {
    "title": {{- if .app.spec.source }} "Repository" {{- else if .app.spec.sources }} "Repositories" {{- end }},
    "value": {{- if .app.spec.source }} ":arrow_heading_up: {{ .app.spec.source.repoURL }}" {{- else if .app.spec.sources }} "{{- range $index, $source := .app.spec.sources }}{{ if $index }}\\n{{ end }}:arrow_heading_up: {{ $source.repoURL }}{{- end }}" {{- end }},
    "short": true
  }
  {{range $index, $c := .app.status.conditions}}
  ,
  {
    "title": "{{$c.type}}",
    "value": "{{$c.message}}",
    "short": true
  }
  {{end}}
  ]
}]
"""


def _attachments(color: str, field_title: str, value: str) -> str:
    return _SLACK_FIELDS.replace("COLOR", color).replace("FIELD", field_title).replace("VALUE", value).lstrip("\n")


# The part of Argo CD's notifications catalog (notifications_catalog/) the workshops use.
CATALOG_TRIGGERS = {
    "on-sync-succeeded": [{"description": "Application syncing has succeeded", "oncePer": ONCE_PER_REVISION,
                           "send": ["app-sync-succeeded"],
                           "when": "app.status.operationState != nil and app.status.operationState.phase in "
                                   "['Succeeded']"}],
    "on-sync-failed": [{"description": "Application syncing has failed", "oncePer": ONCE_PER_REVISION,
                        "send": ["app-sync-failed"],
                        "when": "app.status.operationState != nil and app.status.operationState.phase in "
                                "['Error', 'Failed']"}],
    "on-health-degraded": [{"description": "Application has degraded", "oncePer": ONCE_PER_REVISION,
                            "send": ["app-health-degraded"], "when": "app.status.health.status == 'Degraded'"}],
    "on-deployed": [{"description": "Application is synced and healthy. Triggered once per commit.",
                     "oncePer": ONCE_PER_REVISION, "send": ["app-deployed"],
                     "when": "app.status.operationState != nil and app.status.operationState.phase in "
                             "['Succeeded'] and app.status.health.status == 'Healthy' and "
                             "(!time.Parse(app.status.health.lastTransitionTime).Add(1 * time.Minute)"
                             ".Before(time.Parse(app.status.operationState.finishedAt)) or "
                             "time.Parse(app.status.health.lastTransitionTime)"
                             ".Before(time.Parse(app.status.operationState.startedAt)))"}],
}

CATALOG_TEMPLATES = {
    "app-sync-succeeded": {
        "message": '{{if eq .serviceType "slack"}}:white_check_mark:{{end}} Application {{.app.metadata.name}} '
                   "has been successfully synced at {{.app.status.operationState.finishedAt}}.\n"
                   "Sync operation details are available at: "
                   "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true .\n",
        "slack": {"attachments": _attachments("#18be52", "Sync Status", "{{.app.status.sync.status}}")},
    },
    "app-sync-failed": {
        "message": '{{if eq .serviceType "slack"}}:exclamation:{{end}}  The sync operation of application '
                   "{{.app.metadata.name}} has failed at {{.app.status.operationState.finishedAt}} with the "
                   "following error: {{.app.status.operationState.message}}\n"
                   "Sync operation details are available at: "
                   "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true .\n",
        "slack": {"attachments": _attachments("#E96D76", "Sync Status", "{{.app.status.sync.status}}")},
    },
    "app-health-degraded": {
        "message": '{{if eq .serviceType "slack"}}:exclamation:{{end}} Application {{.app.metadata.name}} '
                   "has degraded.\nApplication details: {{.context.argocdUrl}}/applications/"
                   "{{.app.metadata.name}}.\n",
        "slack": {"attachments": _attachments("#f4c030", "Health Status", "{{.app.status.health.status}}")},
    },
    "app-deployed": {
        "message": '{{if eq .serviceType "slack"}}:white_check_mark:{{end}} Application {{.app.metadata.name}} '
                   "is now running new version of deployments manifests.\n",
        "slack": {"attachments": _attachments("#18be52", "Sync Status", "{{.app.status.sync.status}}")},
    },
}


def _literal_yaml(value) -> str:
    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, text):
        style = "|" if "\n" in text else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def _patch_configmap(lab: Lab, data: dict) -> None:
    body = {"data": data}
    try:
        lab.core.patch_namespaced_config_map(CONFIGMAP, ARGOCD_NAMESPACE, body)
    except ApiException as e:
        if e.status != 404:
            raise
        lab.core.create_namespaced_config_map(ARGOCD_NAMESPACE, {"metadata": {"name": CONFIGMAP}, "data": data})


def set_secret_value(lab: Lab, key: str, value: str, *, quiet: bool = False) -> None:
    """Add ``key`` to argocd-notifications-secret (``kubectl patch secret … stringData``)."""
    body = {"stringData": {key: value}}
    try:
        lab.core.patch_namespaced_secret(SECRET, ARGOCD_NAMESPACE, body)
    except ApiException as e:
        if e.status != 404:
            raise
        lab.core.create_namespaced_secret(ARGOCD_NAMESPACE, {"metadata": {"name": SECRET}, "type": "Opaque",
                                                             **body})
    if not quiet:
        print(f"secret/{SECRET} patched (clé « {key} »)")


def configure_slack(lab: Lab, *, token: str, api_url: str | None = None, username: str | None = None,
                    token_key: str = "slack-token", quiet: bool = False) -> dict:
    """``service.slack`` with a bot token kept in the Secret (``token: $slack-token``); returns the service."""
    set_secret_value(lab, token_key, token, quiet=quiet)
    service = {"token": f"${token_key}"}
    if api_url:
        service["apiURL"] = api_url
    if username:
        service["username"] = username
    _patch_configmap(lab, {"service.slack": _literal_yaml(service)})
    if not quiet:
        print(f"configmap/{CONFIGMAP} patched (service.slack)")
    return service


def install_catalog(lab: Lab, triggers=("on-sync-succeeded",), *, quiet: bool = False) -> list[str]:
    """Add catalog triggers and the templates they send to argocd-notifications-cm; returns the keys written."""
    data = {}
    for name in triggers:
        conditions = CATALOG_TRIGGERS[name]
        data[f"trigger.{name}"] = _literal_yaml(conditions)
        for condition in conditions:
            for template in condition["send"]:
                data[f"template.{template}"] = _literal_yaml(CATALOG_TEMPLATES[template])
    _patch_configmap(lab, data)
    if not quiet:
        print(f"configmap/{CONFIGMAP} patched ({', '.join(sorted(data))})")
    return sorted(data)


def subscribe(lab: Lab, app: str, trigger: str, service: str, recipients: str | list[str] = "", *,
              namespace: str = ARGOCD_NAMESPACE, quiet: bool = False) -> str:
    """``kubectl patch app APP -p '{"metadata": {"annotations": {"notifications.argoproj.io/subscribe.T.S": "R"}}}'``."""
    value = recipients if isinstance(recipients, str) else ";".join(recipients)
    key = f"notifications.argoproj.io/subscribe.{trigger}.{service}"
    lab.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, app,
                                              {"metadata": {"annotations": {key: value}}})
    if not quiet:
        print(f"application.argoproj.io/{app} patched")
    return key


def notified_state(lab: Lab, app: str, *, namespace: str = ARGOCD_NAMESPACE, quiet: bool = False) -> dict:
    """What the notifications controller already sent for ``app`` (its ``notified…`` annotation)."""
    obj = get_application(lab, app, namespace) or {}
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(NOTIFIED, "")
    state = json.loads(raw) if raw else {}
    if not quiet:
        if not state:
            print(f"Aucune notification enregistrée pour « {app} ».")
        for key in sorted(state):
            print(f"{key}  (envoyée le {_when(state[key])})")
    return state


def _when(unix: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(unix).strftime("%d/%m/%Y à %H:%M:%S")
