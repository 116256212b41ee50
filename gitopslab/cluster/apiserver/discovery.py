"""Discovery documents: /version, /api, /apis, /apis/<g>, the resource lists
and aggregated discovery (apidiscovery.k8s.io/v2), as kube-apiserver 1.32
(k3s flavour) serves them.

Pure functions of the kind registry; the HTTP layer only serialises them.
"""
from __future__ import annotations

import base64
import hashlib
import platform
import re

from gitopslab.cluster.kinds import KindRegistry, ResourceDef

K8S_MAJOR, K8S_MINOR, K8S_PATCH = "1", "32", "5"
GIT_VERSION = f"v{K8S_MAJOR}.{K8S_MINOR}.{K8S_PATCH}+k3s1"

# Content type a server answers with when it serves aggregated discovery;
# client-go decides on this header, not on the body.
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm"}


def version_info() -> dict:
    """The ``/version`` body (all nine fields the Python ``VersionInfo`` requires)."""
    arch = _ARCH.get(platform.machine().lower(), "amd64")
    return {
        "major": K8S_MAJOR,
        "minor": K8S_MINOR,
        "gitVersion": GIT_VERSION,
        "gitCommit": "8e8f2a4726fdb4ca628eb62b2a526b64d0e6a763",
        "gitTreeState": "clean",
        "buildDate": "2025-05-26T22:11:35Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": f"linux/{arch}",
    }


def api_versions(server_address: str) -> dict:
    """``/api``: the legacy core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


# --- groups -----------------------------------------------------------------

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def _version_priority(version: str) -> tuple:
    """Sort key of apimachinery ``CompareKubeAwareVersionStrings``: GA > beta > alpha, then higher numbers."""
    m = _KUBE_VERSION.match(version)
    if not m:
        return (3, 0, 0, version)  # non kube-like versions come last, alphabetically
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor, "")


def sorted_versions(versions) -> list[str]:
    return sorted(set(versions), key=_version_priority)


def _group_versions(kinds: KindRegistry) -> dict[str, list[str]]:
    return {g: sorted_versions(vs) for g, vs in kinds.group_versions().items()}


def _version_entry(group: str, version: str) -> dict:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _api_group(group: str, versions: list[str]) -> dict:
    return {
        "name": group,
        "versions": [_version_entry(group, v) for v in versions],
        "preferredVersion": _version_entry(group, versions[0]),
    }


def api_group_list(kinds: KindRegistry) -> dict:
    """``/apis``: every named group (the core group is served under /api)."""
    groups = [_api_group(g, vs) for g, vs in _group_versions(kinds).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(kinds: KindRegistry, group: str) -> dict | None:
    """``/apis/<group>``, or None when the group is not served."""
    versions = _group_versions(kinds).get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(group, versions)}


# --- resources ----------------------------------------------------------------

# (verbs, (group, version, kind) of the answer or None for the parent's kind)
_SUBRESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, str, str] | None]] = {
    "status": (("get", "patch", "update"), None),
    "scale": (("get", "patch", "update"), ("autoscaling", "v1", "Scale")),
    "log": (("get",), None),
    "binding": (("create",), ("", "v1", "Binding")),
    "eviction": (("create",), ("policy", "v1", "Eviction")),
    "ephemeralcontainers": (("get", "patch", "update"), None),
    "exec": (("create", "get"), ("", "v1", "PodExecOptions")),
    "attach": (("create", "get"), ("", "v1", "PodAttachOptions")),
    "portforward": (("create", "get"), ("", "v1", "PodPortForwardOptions")),
    "proxy": (("create", "delete", "get", "patch", "update"), ("", "v1", "ServiceProxyOptions")),
    "finalize": (("update",), None),
    "token": (("create",), ("authentication.k8s.io", "v1", "TokenRequest")),
    "approval": (("get", "patch", "update"), None),
}


def storage_version_hash(res: ResourceDef) -> str:
    """apiserver ``discovery.StorageVersionHash``: base64 of the first 8 bytes of sha256("group/version/kind")."""
    digest = hashlib.sha256(f"{res.group}/{res.version}/{res.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def subresource_kind(res: ResourceDef, sub: str) -> tuple[str, str, str]:
    """(group, version, kind) of what ``<plural>/<sub>`` answers with."""
    gvk = _SUBRESOURCES.get(sub, ((), None))[1]
    return gvk if gvk else (res.group, res.version, res.kind)


def subresource_verbs(sub: str) -> list[str]:
    return list(_SUBRESOURCES.get(sub, (("get", "patch", "update"), None))[0])


def _resource_entry(res: ResourceDef) -> dict:
    entry = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    entry["storageVersionHash"] = storage_version_hash(res)
    return entry


def _subresource_entry(res: ResourceDef, sub: str) -> dict:
    group, version, kind = subresource_kind(res, sub)
    entry = {"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": res.namespaced}
    if (group, version) != (res.group, res.version):
        entry["group"] = group
        entry["version"] = version
    entry["kind"] = kind
    entry["verbs"] = subresource_verbs(sub)
    return entry


def api_resource_list(kinds: KindRegistry, group: str, version: str) -> dict | None:
    """``/api/v1`` or ``/apis/<g>/<v>``: resources and subresources, sorted by name as the real server."""
    resources = kinds.resources_in(group, version)
    if not resources:
        return None
    entries = []
    for res in resources:
        entries.append(_resource_entry(res))
        entries.extend(_subresource_entry(res, sub) for sub in res.subresources)
    entries.sort(key=lambda e: e["name"])
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }


# --- aggregated discovery (apidiscovery.k8s.io/v2) ---------------------------

def _gvk(group: str, version: str, kind: str) -> dict:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_resource(res: ResourceDef) -> dict:
    entry = {
        "resource": res.plural,
        "responseKind": _gvk(res.group, res.version, res.kind),
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    if res.subresources:
        entry["subresources"] = [
            {"subresource": sub, "responseKind": _gvk(*subresource_kind(res, sub)), "verbs": subresource_verbs(sub)}
            for sub in sorted(res.subresources)
        ]
    return entry


def _aggregated_group(kinds: KindRegistry, group: str, versions: list[str]) -> dict:
    metadata = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
    return {
        "metadata": metadata,
        "versions": [
            {
                "version": v,
                "resources": [_aggregated_resource(r)
                              for r in sorted(kinds.resources_in(group, v), key=lambda r: r.plural)],
                "freshness": "Current",
            }
            for v in versions
        ],
    }


def aggregated_discovery(kinds: KindRegistry, legacy: bool) -> dict:
    """``APIGroupDiscoveryList`` for /api (``legacy``) or /apis.

    Served only when the request's Accept asks for it (with
    ``AGGREGATED_CONTENT_TYPE`` as the response Content-Type); kubectl 1.32
    then skips the per-group/version requests. Plain ``application/json``
    requests keep the legacy documents above.
    """
    groups = _group_versions(kinds)
    if legacy:
        items = [_aggregated_group(kinds, "", groups.get("", ["v1"]))]
    else:
        items = [_aggregated_group(kinds, g, vs) for g, vs in groups.items() if g]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
