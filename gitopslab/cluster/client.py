"""The API client contract used by every controller of the lab.

Controllers (deployment, kubelet, Argo CD…) are clients of the API, never
readers of each other's private state (ARCHITECTURE "The one rule").
``Client`` is the async interface they program against; the daemon gives
them an in-process implementation with full REST semantics (same
validation, resourceVersions, watch events and errors as over HTTP), and
remote clusters are reached through an HTTP implementation of the same
interface.

Objects are plain dicts exactly as served over HTTP. Errors are
``gitopslab.cluster.errors.ApiError`` (code/reason/message as the real server).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import AsyncIterator


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    object: dict


class Client(abc.ABC):
    """Async Kubernetes API client over plain dicts.

    ``api_version`` is ``"v1"`` or ``"group/version"``; ``kind`` the Kind
    (``"Deployment"``). ``namespace`` is ignored for cluster-scoped kinds.
    ``patch_type`` is one of ``"merge"`` (application/merge-patch+json),
    ``"strategic"``, ``"json"`` (a list of ops) or ``"apply"`` (server-side
    apply; needs ``field_manager``).
    """

    @abc.abstractmethod
    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None,
                  *, subresource: str | None = None) -> dict: ...

    @abc.abstractmethod
    async def list(self, api_version: str, kind: str, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None) -> dict:
        """The List object: ``{"kind": "<Kind>List", "metadata": {"resourceVersion"}, "items": [...]}``."""

    @abc.abstractmethod
    async def create(self, obj: dict, *, namespace: str | None = None, subresource: str | None = None,
                     field_manager: str | None = None, dry_run: bool = False) -> dict: ...

    @abc.abstractmethod
    async def replace(self, obj: dict, *, subresource: str | None = None,
                      field_manager: str | None = None, dry_run: bool = False) -> dict:
        """PUT; ``subresource="status"`` writes only ``.status``."""

    @abc.abstractmethod
    async def patch(self, api_version: str, kind: str, name: str, patch: dict | list,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None, field_manager: str | None = None,
                    force: bool = False, dry_run: bool = False) -> dict: ...

    @abc.abstractmethod
    async def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: dict | None = None, dry_run: bool = False) -> dict:
        """The deleted object (with deletionTimestamp if finalizers hold it) or a Success Status."""

    @abc.abstractmethod
    def watch(self, api_version: str, kind: str, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, allow_bookmarks: bool = False) -> AsyncIterator[WatchEvent]:
        """Events after ``resource_version`` (None/"0": synthetic ADDED for current objects first).
        An expired version yields one ERROR event with a 410 Expired Status, then ends."""

    @abc.abstractmethod
    async def read_log(self, name: str, namespace: str, *, container: str | None = None,
                       previous: bool = False, tail_lines: int | None = None,
                       timestamps: bool = False) -> str: ...

    # --- conveniences shared by all implementations ----------------------
    async def get_or_none(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        from gitopslab.cluster.errors import ApiError

        try:
            return await self.get(api_version, kind, name, namespace)
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    async def update_status(self, obj: dict) -> dict:
        return await self.replace(obj, subresource="status")
