"""``InProcessClient``: the ``Client`` contract served straight from the
registry, for the components running inside the cluster daemon.

Same semantics as over HTTP (it calls the very functions the HTTP handlers
call): admission, resourceVersions, conflicts, watch events, errors. Objects
are independent copies the caller may mutate.
"""
from __future__ import annotations

from typing import AsyncIterator

from gitopslab.cluster import errors as E
from gitopslab.cluster import podlogs
from gitopslab.cluster.client import Client, WatchEvent
from gitopslab.cluster.kinds import ResourceDef
from gitopslab.cluster.registry import DeleteOptions, Registry, WriteOptions
from gitopslab.cluster.watchstream import open_watch
from gitopslab.home import ClusterPaths

PATCH_TYPES = ("merge", "strategic", "json", "apply")


class InProcessClient(Client):
    def __init__(self, registry: Registry, paths: ClusterPaths | None = None, *,
                 manager: str = "kube-controller-manager"):
        self.registry = registry
        self.paths = paths
        self.manager = manager

    def as_manager(self, manager: str) -> "InProcessClient":
        """The same client, writing under another default field manager (``kubelet``…)."""
        return InProcessClient(self.registry, self.paths, manager=manager)

    # --- helpers -----------------------------------------------------------------
    def _res(self, api_version: str, kind: str) -> ResourceDef:
        res = self.registry.kinds.by_kind(api_version, kind)
        if res is None:
            raise E.ApiError(404, "NotFound", 'the server could not find the requested resource', {})
        return res

    def _opts(self, field_manager: str | None, dry_run: bool, force: bool = False) -> WriteOptions:
        return WriteOptions(dry_run=dry_run, field_manager=field_manager, default_manager=self.manager, force=force)

    @staticmethod
    def _ns(res: ResourceDef, namespace: str | None, obj: dict | None = None) -> str | None:
        if not res.namespaced:
            return None
        return namespace or ((obj or {}).get("metadata") or {}).get("namespace") or "default"

    # --- reads ---------------------------------------------------------------------
    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> dict:
        res = self._res(api_version, kind)
        ns = self._ns(res, namespace)
        if subresource == "scale":
            return self.registry.get_scale(res, ns, name)
        if subresource not in (None, "status"):
            raise E.method_not_allowed()
        return self.registry.get(res, ns, name)

    async def list(self, api_version: str, kind: str, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_token: str | None = None) -> dict:
        res = self._res(api_version, kind)
        return self.registry.list(res, namespace if res.namespaced else None, label_selector=label_selector,
                                  field_selector=field_selector, limit=limit,
                                  continue_token=continue_token).to_dict()

    # --- writes --------------------------------------------------------------------
    async def create(self, obj: dict, *, namespace: str | None = None, subresource: str | None = None,
                     field_manager: str | None = None, dry_run: bool = False) -> dict:
        res = self._res(obj.get("apiVersion", ""), obj.get("kind", ""))
        ns = self._ns(res, namespace, obj)
        if subresource is not None:
            from gitopslab.cluster.apiserver import subresources
            name = (obj.get("metadata") or {}).get("name", "")
            out, _ = subresources.post(self.registry, res, ns, name, subresource, obj,
                                       self._opts(field_manager, dry_run))
            return out
        return self.registry.create(res, ns, obj, self._opts(field_manager, dry_run))

    async def create_subresource(self, api_version: str, kind: str, name: str, subresource: str, body: dict,
                                 namespace: str | None = None, *, field_manager: str | None = None) -> dict:
        """POST ``…/{name}/{subresource}`` (binding, eviction, token)."""
        from gitopslab.cluster.apiserver import subresources
        res = self._res(api_version, kind)
        out, _ = subresources.post(self.registry, res, self._ns(res, namespace), name, subresource, body,
                                   self._opts(field_manager, False))
        return out

    async def replace(self, obj: dict, *, subresource: str | None = None,
                      field_manager: str | None = None, dry_run: bool = False) -> dict:
        meta = obj.get("metadata") or {}
        if subresource == "scale":
            raise E.bad_request("use patch(..., subresource='scale') or replace_scale()")
        res = self._res(obj.get("apiVersion", ""), obj.get("kind", ""))
        return self.registry.replace(res, self._ns(res, meta.get("namespace"), obj), meta.get("name", ""), obj,
                                     self._opts(field_manager, dry_run), subresource=subresource)

    async def replace_scale(self, api_version: str, kind: str, name: str, scale: dict,
                            namespace: str | None = None, *, field_manager: str | None = None) -> dict:
        res = self._res(api_version, kind)
        return self.registry.replace(res, self._ns(res, namespace), name, scale, self._opts(field_manager, False),
                                     subresource="scale")

    async def patch(self, api_version: str, kind: str, name: str, patch: dict | list,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None, field_manager: str | None = None,
                    force: bool = False, dry_run: bool = False) -> dict:
        if patch_type not in PATCH_TYPES:
            raise E.unsupported_media_type()
        res = self._res(api_version, kind)
        opts = self._opts(field_manager or (self.manager if patch_type == "apply" else None), dry_run, force)
        return self.registry.patch(res, self._ns(res, namespace), name, patch_type, patch, opts,
                                   subresource=subresource)

    async def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: dict | None = None, dry_run: bool = False) -> dict:
        res = self._res(api_version, kind)
        opts = DeleteOptions(grace_period_seconds=grace_period_seconds, propagation_policy=propagation_policy,
                             preconditions=preconditions, dry_run=dry_run)
        return self.registry.delete(res, self._ns(res, namespace), name, opts)

    async def delete_collection(self, api_version: str, kind: str, namespace: str | None = None, *,
                                label_selector: str | None = None, field_selector: str | None = None,
                                propagation_policy: str | None = None) -> dict:
        res = self._res(api_version, kind)
        return self.registry.delete_collection(res, namespace if res.namespaced else None,
                                               DeleteOptions(propagation_policy=propagation_policy),
                                               label_selector=label_selector, field_selector=field_selector)

    async def finalize_namespace(self, namespace_obj: dict) -> dict:
        """``PUT /api/v1/namespaces/{name}/finalize`` (what the namespace controller calls)."""
        res = self._res("v1", "Namespace")
        return self.registry.replace(res, None, namespace_obj["metadata"]["name"], namespace_obj,
                                     self._opts(None, False), subresource="finalize")

    # --- watch -----------------------------------------------------------------------
    async def watch(self, api_version: str, kind: str, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: float | None = None,
                    send_initial_events: bool = False) -> AsyncIterator[WatchEvent]:
        res = self._res(api_version, kind)
        stream = open_watch(self.registry, res, namespace if res.namespaced else None,
                            label_selector=label_selector, field_selector=field_selector,
                            resource_version=resource_version, timeout=timeout_seconds,
                            allow_bookmarks=allow_bookmarks, send_initial_events=send_initial_events)
        try:
            async for kind_, entry in stream.events():
                yield WatchEvent(kind_, entry.copy())
        finally:
            stream.close()

    # --- logs --------------------------------------------------------------------------
    async def read_log(self, name: str, namespace: str, *, container: str | None = None,
                       previous: bool = False, tail_lines: int | None = None,
                       timestamps: bool = False, since_seconds: int | None = None,
                       limit_bytes: int | None = None) -> str:
        from gitopslab.cluster.apiserver.logs import resolve_log, since_from
        if self.paths is None:
            raise E.internal_error("this client has no cluster paths to read logs from")
        pod = self.registry.get(self._res("v1", "Pod"), namespace, name)
        target = resolve_log(self.paths, pod, container, previous)
        return podlogs.read_log(target.path, tail_lines=tail_lines, timestamps=timestamps,
                                since=since_from(since_seconds, None), limit_bytes=limit_bytes)
