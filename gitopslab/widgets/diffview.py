"""The app's DIFF: each out-of-sync resource as ``argocd app diff`` prints it (live, then target)."""
from __future__ import annotations

from gitopslab.argocd import appdiff
from gitopslab.cli_argocd import Session
from gitopslab.lab.session import Lab


class LabArgoSession(Session):
    """The ``argocd`` CLI's session, on the notebook's own API client and lab home."""

    def __init__(self, lab: Lab):
        super().__init__(lab.context)
        self._lab_api = lab.api
        if lab.home is not None:
            self.home = lab.home

    @property
    def api(self):
        return self._lab_api


def app_diff_text(lab: Lab, app: dict) -> str:
    """What ``argocd app diff NAME`` prints for ``app`` (empty when nothing differs).

    Raises ``appdiff.DiffError`` with Argo CD's message when the manifests cannot be generated.
    """
    session = LabArgoSession(lab)
    try:
        changes = appdiff.changed_objects(session, app)
    finally:
        session.close()
    parts = []
    for change in changes:
        parts.append(f"\n===== {change.group}/{change.kind} {change.namespace}/{change.name} ======\n")
        parts.append(appdiff.external_diff(change.name, change.live, change.target))
    return "".join(parts)
