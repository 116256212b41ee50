"""Applying one manifest the way ``kubectl apply`` does (gitops-engine shells out to it).

Default: client-side apply. The object is created with the
``kubectl.kubernetes.io/last-applied-configuration`` annotation, or patched
with a three-way patch (original = last-applied, modified = config,
current = live): fields that differ are set, fields dropped from the config
since the last apply are removed, server-set fields are left alone. An empty
patch prints ``unchanged``. ``ServerSideApply=true`` → ``apply`` patch with
field manager ``argocd-controller`` (``serverside-applied``); ``Replace=true``
→ PUT (``replaced``). Messages are kubectl's: ``deployment.apps/web configured``.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from gitopslab.cluster.errors import ApiError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
FIELD_MANAGER = "argocd-controller"
BUILT_IN_GROUPS = {"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
                   "storage.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
                   "admissionregistration.k8s.io", "scheduling.k8s.io", "certificates.k8s.io", "node.k8s.io"}
MERGE_KEYS = ("name", "containerPort", "mountPath", "ip", "type", "port")


@dataclass
class ApplyResult:
    verb: str        # created | configured | unchanged | serverside-applied | replaced
    message: str
    object: dict | None = None


def resource_ref(obj: dict) -> str:
    """kubectl's ``kind.group/name`` (``deployment.apps/web``, ``service/web``)."""
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    kind = str(obj.get("kind") or "").lower()
    return f"{kind}.{group}/{obj['metadata']['name']}" if group else f"{kind}/{obj['metadata']['name']}"


def last_applied_text(config: dict) -> str:
    """The annotation value kubectl stores: the config without the annotation, compact JSON + newline."""
    stripped = copy.deepcopy(config)
    annotations = (stripped.get("metadata") or {}).get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations and "annotations" in stripped.get("metadata", {}):
        del stripped["metadata"]["annotations"]
    return json.dumps(stripped, separators=(",", ":"), sort_keys=True) + "\n"


def with_last_applied(config: dict) -> dict:
    obj = copy.deepcopy(config)
    obj.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = last_applied_text(config)
    return obj


async def apply(client, config: dict, live: dict | None, *, dry_run: bool = False,
                server_side: bool = False, replace: bool = False) -> ApplyResult:
    ref = resource_ref(config)
    api_version, kind, meta = config["apiVersion"], config["kind"], config["metadata"]
    namespace = meta.get("namespace")
    if server_side:
        obj = await client.patch(api_version, kind, meta["name"], _for_ssa(config), namespace,
                                 patch_type="apply", field_manager=FIELD_MANAGER, force=True, dry_run=dry_run)
        return ApplyResult("serverside-applied", f"{ref} serverside-applied", obj)
    if live is None:
        try:
            obj = await client.create(with_last_applied(config), namespace=namespace, dry_run=dry_run)
            return ApplyResult("created", f"{ref} created", obj)
        except ApiError as e:
            if e.code != 409:
                raise
            live = await client.get(api_version, kind, meta["name"], namespace)
    if replace and kind not in ("CustomResourceDefinition", "Namespace"):
        body = with_last_applied(config)
        body["metadata"]["resourceVersion"] = live["metadata"].get("resourceVersion")
        obj = await client.replace(body, dry_run=dry_run)
        return ApplyResult("replaced", f"{ref} replaced", obj)
    modified = with_last_applied(config)
    original = _last_applied(live)
    patch_type = "strategic" if _group(config) in BUILT_IN_GROUPS else "merge"
    patch = three_way_patch(original, modified, live, strategic=patch_type == "strategic")
    if not patch:
        return ApplyResult("unchanged", f"{ref} unchanged", live)
    obj = await client.patch(api_version, kind, meta["name"], patch, namespace,
                             patch_type=patch_type, dry_run=dry_run)
    return ApplyResult("configured", f"{ref} configured", obj)


def _for_ssa(config: dict) -> dict:
    obj = copy.deepcopy(config)
    (obj.get("metadata") or {}).pop("resourceVersion", None)
    return obj


def _group(obj: dict) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _last_applied(live: dict) -> dict:
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}


def three_way_patch(original: dict, modified: dict, current: dict, *, strategic: bool = False) -> dict:
    """A merge patch taking ``current`` to ``modified`` and deleting what ``original`` had and ``modified`` drops.

    Values only the server set (present in ``current`` only) are kept; lists
    are replaced when their items differ (items compared as subsets of the
    live items, so defaulted fields inside containers don't count). In a
    strategic merge patch a list of objects would be merged by its merge key
    (an 8080 port kept beside the new 5000 one), so such a list carries the
    ``$patch: replace`` directive: the result is the configured list, as
    ``kubectl apply``'s delete directives make it.
    """
    patch: dict = {}
    original = original if isinstance(original, dict) else {}
    current = current if isinstance(current, dict) else {}
    for key, want in modified.items():
        have = current.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            sub = three_way_patch(original.get(key) or {}, want, have, strategic=strategic)
            if sub:
                patch[key] = sub
        elif isinstance(want, list) and isinstance(have, list):
            if not _list_subset(want, have) or _list_dropped(original.get(key), want):
                replace_all = strategic and any(isinstance(item, dict) for item in want + have)
                patch[key] = want + [{"$patch": "replace"}] if replace_all else want
        elif key not in current or want != have:
            patch[key] = want
    for key in original:
        if key not in modified and key in current:
            patch[key] = None
    return patch


def _subset(want, have) -> bool:
    if isinstance(want, dict) and isinstance(have, dict):
        return all(k in have and _subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list) and isinstance(have, list):
        return _list_subset(want, have)
    return want == have or (isinstance(want, (int, float)) and isinstance(have, (int, float))
                            and not isinstance(want, bool) and float(want) == float(have))


def _list_subset(want: list, have: list) -> bool:
    return len(want) == len(have) and all(_subset(w, h) for w, h in zip(want, have))


def _list_dropped(original, want: list) -> bool:
    """Items (or fields of items) removed from the config since the last apply."""
    if not isinstance(original, list):
        return False
    if len(original) != len(want):
        return True
    return any(isinstance(o, dict) and isinstance(w, dict) and _dropped_keys(o, w)
               for o, w in zip(original, want))


def _dropped_keys(original: dict, want: dict) -> bool:
    for key, value in original.items():
        if key not in want:
            return True
        if isinstance(value, dict) and isinstance(want[key], dict) and _dropped_keys(value, want[key]):
            return True
    return False


async def prune(client, live: dict, *, dry_run: bool = False, propagation: str = "foreground") -> str:
    meta = live["metadata"]
    policy = {"foreground": "Foreground", "background": "Background", "orphan": "Orphan"}.get(
        propagation.lower(), "Foreground")
    try:
        await client.delete(live["apiVersion"], live["kind"], meta["name"], meta.get("namespace"),
                            propagation_policy=policy, dry_run=dry_run)
    except ApiError as e:
        if e.code != 404:
            raise
    return "pruned (dry run)" if dry_run else "pruned"
