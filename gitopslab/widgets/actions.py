"""The UI's SYNC and REFRESH buttons: what they write through the API, and what the widget then says."""
from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from gitopslab.lab.apps import refresh_application, sync_application
from gitopslab.lab.session import Lab
from gitopslab.widgets.text import api_message, captured


def request_sync(lab: Lab, name: str) -> str:
    """Write the Application's ``operation`` (as ``argocd app sync``); the message to show."""
    try:
        return captured(sync_application, lab, name).strip()
    except ApiException as e:
        return f"❌ SYNC refusé : {api_message(e)}"


def request_refresh(lab: Lab, name: str) -> str:
    """Set the ``argocd.argoproj.io/refresh`` annotation; the controller removes it once done."""
    try:
        refresh_application(lab, name)
    except ApiException as e:
        return f"❌ REFRESH refusé : {api_message(e)}"
    return f"Rafraîchissement demandé pour « {name} » : Argo CD relit Git et compare au cluster."
