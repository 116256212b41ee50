"""The app's DIFF: each out-of-sync resource as ``argocd app diff`` prints it (live, then target)."""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

import yaml

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


def external_diff(name: str, live: dict | None, target: dict | None) -> str:
    """``diff LIVE TARGET`` of the two YAML files, as ``argocd app diff`` runs it (``KUBECTL_EXTERNAL_DIFF``)."""
    with tempfile.TemporaryDirectory(prefix="argocd-diff") as tmp:
        target_file, live_file = Path(tmp) / name, Path(tmp) / f"{name}-live.yaml"
        target_file.write_text(yaml.safe_dump(target, sort_keys=True) if target is not None else "")
        live_file.write_text(yaml.safe_dump(live, sort_keys=True) if live is not None else "")
        command = shlex.split(os.environ.get("KUBECTL_EXTERNAL_DIFF", "")) or ["diff"]
        done = subprocess.run(command + [str(live_file), str(target_file)], capture_output=True, text=True)
        return done.stdout + done.stderr


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
        parts.append(external_diff(change.name, change.live, change.target))
    return "".join(parts)
