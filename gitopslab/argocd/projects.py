"""AppProject rules (pure): permitted sources, destinations and resource kinds.

Messages as Argo CD's ``ValidatePermissions`` writes them into
InvalidSpecError conditions.
"""
from __future__ import annotations

import fnmatch

from gitopslab.argocd.clusters import Cluster
from gitopslab.argocd.gitrepo import normalize_url


def _glob(pattern: str, value: str) -> bool:
    return pattern == value or fnmatch.fnmatchcase(value, pattern)


def _matches_list(patterns: list[str], value: str, normalize=lambda x: x) -> bool:
    """Argo CD semantics: ``!pattern`` denies; any positive match allows."""
    allowed = False
    for pattern in patterns or []:
        if pattern.startswith("!"):
            if _glob(normalize(pattern[1:]), normalize(value)):
                return False
        elif _glob(normalize(pattern), normalize(value)):
            allowed = True
    return allowed


def is_source_permitted(project: dict, repo_url: str) -> bool:
    return _matches_list((project.get("spec") or {}).get("sourceRepos") or [], repo_url, normalize_url)


def is_destination_permitted(project: dict, cluster: Cluster, namespace: str) -> bool:
    for dest in (project.get("spec") or {}).get("destinations") or []:
        server_ok = ("server" in dest and _matches_list([dest.get("server") or ""], cluster.server)) or \
                    ("name" in dest and _matches_list([dest.get("name") or ""], cluster.name))
        if server_ok and _matches_list([dest.get("namespace") or ""], namespace or ""):
            return True
    return False


def is_group_kind_permitted(project: dict, group: str, kind: str, namespaced: bool) -> bool:
    spec = project.get("spec") or {}
    def listed(rules):
        return any(_glob(r.get("group", ""), group) and _glob(r.get("kind", ""), kind) for r in rules or [])
    if namespaced:
        white = spec.get("namespaceResourceWhitelist")
        if white is not None and not listed(white):
            return False
        return not listed(spec.get("namespaceResourceBlacklist"))
    if not listed(spec.get("clusterResourceWhitelist")):
        return False
    return not listed(spec.get("clusterResourceBlacklist"))


def spec_conditions(app: dict, project: dict | None, cluster: Cluster | None, destination_error: str = "") -> list[str]:
    """InvalidSpecError messages for an Application against its project."""
    spec = app.get("spec") or {}
    project_name = spec.get("project") or ""
    if project is None:
        return [f"Application referencing project {project_name} which does not exist"]
    source = spec.get("source") or {}
    if not source.get("repoURL") or not (source.get("path") or source.get("chart")):
        return ["spec.source.repoURL and either spec.source.path or spec.source.chart are required"]
    if source.get("chart") and not source.get("targetRevision"):
        return ["spec.source.targetRevision is required if the manifest source is a helm chart"]
    messages = []
    if not is_source_permitted(project, source["repoURL"]):
        messages.append(f"application repo {source['repoURL']} is not permitted in project '{project_name}'")
    if destination_error:
        return messages + [destination_error]
    dest = spec.get("destination") or {}
    if cluster is not None and not is_destination_permitted(project, cluster, dest.get("namespace") or ""):
        server = cluster.name if dest.get("name") else cluster.server
        messages.append(f"application destination server '{server}' and namespace '{dest.get('namespace', '')}' "
                        f"do not match any of the allowed destinations in project '{project_name}'")
    return messages
