"""``argocd app diff``: target manifests against live objects, resource by resource.

Renders the app's source with a repo server of its own (credentials from
the repository Secrets), sets tracking as the controller does, reads each
live object through the API and keeps the resources whose normalized live
state differs from the predicted live state (gitops-engine ``Diff``), plus
missing ones and live ones requiring pruning. Live objects are read on the
destination cluster, with its cluster Secret's credentials when remote.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from gitopslab.argocd import compare, repocreds, settings as settingsmod, tracking
from gitopslab.argocd import diff as differ
from gitopslab.argocd.destination import DestinationError
from gitopslab.argocd.gitrepo import GitRepos
from gitopslab.argocd.manifesterrors import ManifestError
from gitopslab.argocd.reposerver import ManifestRequest, RepoServer

HIDDEN_METADATA = ("managedFields",)


class DiffError(Exception):
    pass


@dataclass
class Change:
    group: str
    kind: str
    namespace: str
    name: str
    live: dict | None
    target: dict | None


def _settings(session) -> settingsmod.Settings:
    def cm(name):
        try:
            return session.api.sanitize_for_serialization(session.core.read_namespaced_config_map(name, "argocd"))
        except Exception:  # noqa: BLE001
            return None
    return settingsmod.from_configmaps(cm("argocd-cm"), cm("argocd-cmd-params-cm"))


def _for_display(obj: dict | None) -> dict | None:
    if obj is None:
        return None
    obj = dict(obj)
    meta = dict(obj.get("metadata") or {})
    for key in HIDDEN_METADATA:
        meta.pop(key, None)
    obj["metadata"] = meta
    return obj


def changed_objects(session, app: dict, *, revision: str = "") -> list[Change]:
    spec = app.get("spec") or {}
    source = spec.get("source") or {}
    dest_ns = (spec.get("destination") or {}).get("namespace") or ""
    try:
        api = session.destination_api(app)
    except DestinationError as e:  # argocd-server's getApplicationClusterConfig
        raise DiffError(f"rpc error: code = Unknown desc = error validating destination: {e}") from None
    settings = _settings(session)
    server = RepoServer(GitRepos(session.home.root / "argocd-cli" / "repos", session.home.gitconfig))
    request = ManifestRequest(source=source, app_name=app["metadata"]["name"], namespace=dest_ns,
                              credentials=repocreds.credentials_for(source.get("repoURL") or "", session.secrets()),
                              revision=revision)
    try:
        response = server.generate(request)
    except ManifestError as e:
        raise DiffError(e.rpc_text()) from None
    instance = tracking.instance_name(app["metadata"]["name"], app["metadata"].get("namespace", ""))
    targets, _ = compare.normalize_targets(response.objects, dest_ns, instance, settings)
    rules = [differ.IgnoreDifference.from_spec(r) for r in spec.get("ignoreDifferences") or []]
    changes: list[Change] = []
    seen = set()
    for target in targets:
        from gitopslab.argocd import synctasks
        if synctasks.is_hook(target):
            continue
        group, kind, ns, name = compare.key_of(target)
        seen.add((group, kind, ns, name))
        live = session.live_object(group, compare.version_of(target), kind, ns, name, api=api)
        system = settingsmod.system_ignore_rules(settings, group, kind)
        result = differ.diff(target, live, ignore_differences=rules + system)
        if live is None or result.modified:
            changes.append(Change(group, kind, ns, name, _for_display(result.normalized_live),
                                  _for_display(result.predicted_live)))
    for res in (app.get("status") or {}).get("resources") or []:
        key = (res.get("group", ""), res["kind"], res.get("namespace", ""), res["name"])
        if key in seen or not res.get("requiresPruning"):
            continue
        live = session.live_object(key[0], res.get("version", ""), key[1], key[2], key[3], api=api)
        if live is not None:
            normalized = differ.normalize(live, ignore_differences=rules)
            changes.append(Change(*key, _for_display(normalized), None))
    changes.sort(key=lambda c: "/".join((c.group, c.kind, c.namespace, c.name)))
    return changes


def external_diff(name: str, live: dict | None, target: dict | None) -> str:
    """``diff LIVE TARGET`` of the two YAML files, as ``argocd app diff`` runs it (``KUBECTL_EXTERNAL_DIFF``)."""
    with tempfile.TemporaryDirectory(prefix="argocd-diff") as tmp:
        target_file, live_file = Path(tmp) / name, Path(tmp) / f"{name}-live.yaml"
        target_file.write_text(yaml.safe_dump(target, sort_keys=True) if target is not None else "")
        live_file.write_text(yaml.safe_dump(live, sort_keys=True) if live is not None else "")
        command = shlex.split(os.environ.get("KUBECTL_EXTERNAL_DIFF", "")) or ["diff"]
        done = subprocess.run(command + [str(live_file), str(target_file)], capture_output=True, text=True)
        return done.stdout + done.stderr
