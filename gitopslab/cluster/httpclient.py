"""``HttpClient``: the ``Client`` contract over HTTP(S), with aiohttp.

Used to reach another cluster (Argo CD's remote destinations, tests). It
finds plurals through the server's discovery documents (cached per
group/version, refreshed when a kind is unknown), raises ``ApiError`` built
from the server's Status bodies, and streams watches line by line.
"""
from __future__ import annotations

import base64
import json
from typing import AsyncIterator
from urllib.parse import quote

import aiohttp
import yaml

from gitopslab.cluster import errors as E
from gitopslab.cluster.client import Client, WatchEvent
from gitopslab.cluster.tls import client_context

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


class HttpClient(Client):
    def __init__(self, base_url: str, token: str | None = None, *, ca_pem: str | None = None,
                 insecure: bool = False, user_agent: str = "gitopslab-httpclient/0.1"):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._ssl = client_context(ca_pem, insecure=insecure) if self.base_url.startswith("https") else None
        self._session: aiohttp.ClientSession | None = None
        self._resources: dict[str, list[dict]] = {}  # groupVersion -> APIResourceList.resources
        self.user_agent = user_agent

    # --- construction helpers ----------------------------------------------------------
    @classmethod
    def from_kubeconfig(cls, path, context: str | None = None) -> "HttpClient":
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        ctx_name = context or doc.get("current-context")
        ctx = next(c["context"] for c in doc.get("contexts", []) if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in doc.get("clusters", []) if c["name"] == ctx["cluster"])
        user = next((u["user"] for u in doc.get("users", []) if u["name"] == ctx.get("user")), {})
        ca = cluster.get("certificate-authority-data")
        ca_pem = base64.b64decode(ca).decode() if ca else None
        if not ca_pem and cluster.get("certificate-authority"):
            ca_pem = open(cluster["certificate-authority"], encoding="utf-8").read()
        return cls(cluster["server"], user.get("token"), ca_pem=ca_pem,
                   insecure=bool(cluster.get("insecure-skip-tls-verify")))

    @classmethod
    def for_lab(cls, home=None, cluster: str = "prod") -> "HttpClient":
        from gitopslab.cluster import lifecycle
        conn = lifecycle.connection(home, cluster)
        return cls(conn["server"], conn["token"], ca_pem=conn["ca_pem"] or None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> "HttpClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- plumbing ----------------------------------------------------------------------------
    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Accept": "application/json", "User-Agent": self.user_agent}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self._session = aiohttp.ClientSession(headers=headers,
                                                  connector=aiohttp.TCPConnector(ssl=self._ssl if self._ssl else False))
        return self._session

    async def _request(self, method: str, path: str, *, params: dict | None = None, body=None,
                       content_type: str = "application/json", raw: bool = False):
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        params = {k: ("true" if v is True else "false" if v is False else str(v))
                  for k, v in (params or {}).items() if v is not None}
        async with self._sess().request(method, self.base_url + path, params=params, data=data,
                                        headers=headers) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise _error(resp.status, text)
            if raw:
                return text
            return json.loads(text) if text else {}

    async def _resource(self, api_version: str, kind: str) -> tuple[dict, str]:
        gv = api_version
        for attempt in (0, 1):
            if attempt or gv not in self._resources:
                path = "/api/v1" if gv == "v1" else f"/apis/{gv}"
                try:
                    doc = await self._request("GET", path)
                except E.ApiError as e:
                    if e.code == 404:
                        self._resources[gv] = []
                        continue
                    raise
                self._resources[gv] = doc.get("resources") or []
            for r in self._resources[gv]:
                if r.get("kind") == kind and "/" not in r.get("name", ""):
                    return r, gv
        raise E.ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _path(self, gv: str, r: dict, namespace: str | None, name: str | None = None,
              sub: str | None = None) -> str:
        base = "/api/v1" if gv == "v1" else f"/apis/{gv}"
        if r.get("namespaced") and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{r['name']}"
        if name:
            base += f"/{quote(name, safe='')}"
        if sub:
            base += f"/{sub}"
        return base

    # --- Client ------------------------------------------------------------------------------
    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> dict:
        r, gv = await self._resource(api_version, kind)
        return await self._request("GET", self._path(gv, r, namespace or "default", name, subresource))

    async def list(self, api_version: str, kind: str, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_token: str | None = None) -> dict:
        r, gv = await self._resource(api_version, kind)
        return await self._request("GET", self._path(gv, r, namespace),
                                   params={"labelSelector": label_selector, "fieldSelector": field_selector,
                                           "limit": limit, "continue": continue_token})

    async def create(self, obj: dict, *, namespace: str | None = None, subresource: str | None = None,
                     field_manager: str | None = None, dry_run: bool = False) -> dict:
        r, gv = await self._resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        ns = namespace or meta.get("namespace") or "default"
        path = self._path(gv, r, ns, meta.get("name") if subresource else None, subresource)
        return await self._request("POST", path, body=obj,
                                   params={"fieldManager": field_manager, "dryRun": "All" if dry_run else None})

    async def replace(self, obj: dict, *, subresource: str | None = None,
                      field_manager: str | None = None, dry_run: bool = False) -> dict:
        r, gv = await self._resource(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        path = self._path(gv, r, meta.get("namespace") or "default", meta.get("name"), subresource)
        return await self._request("PUT", path, body=obj,
                                   params={"fieldManager": field_manager, "dryRun": "All" if dry_run else None})

    async def patch(self, api_version: str, kind: str, name: str, patch: dict | list,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None, field_manager: str | None = None,
                    force: bool = False, dry_run: bool = False) -> dict:
        if patch_type not in PATCH_CONTENT_TYPES:
            raise E.unsupported_media_type()
        r, gv = await self._resource(api_version, kind)
        params = {"fieldManager": field_manager, "dryRun": "All" if dry_run else None,
                  "force": True if force else None}
        return await self._request("PATCH", self._path(gv, r, namespace or "default", name, subresource),
                                   body=patch, content_type=PATCH_CONTENT_TYPES[patch_type], params=params)

    async def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: dict | None = None, dry_run: bool = False) -> dict:
        r, gv = await self._resource(api_version, kind)
        body: dict = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            body["preconditions"] = preconditions
        if dry_run:
            body["dryRun"] = ["All"]
        return await self._request("DELETE", self._path(gv, r, namespace or "default", name), body=body)

    async def watch(self, api_version: str, kind: str, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: float | None = None,
                    send_initial_events: bool = False) -> AsyncIterator[WatchEvent]:
        r, gv = await self._resource(api_version, kind)
        params = {"watch": "true", "resourceVersion": resource_version, "labelSelector": label_selector,
                  "fieldSelector": field_selector, "allowWatchBookmarks": True if allow_bookmarks else None,
                  "timeoutSeconds": int(timeout_seconds) if timeout_seconds else None,
                  "sendInitialEvents": True if send_initial_events else None}
        params = {k: ("true" if v is True else str(v)) for k, v in params.items() if v is not None}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self._sess().get(self.base_url + self._path(gv, r, namespace), params=params,
                                    timeout=timeout) as resp:
            if resp.status >= 400:
                raise _error(resp.status, await resp.text())
            buf = b""
            async for chunk in resp.content.iter_any():
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        ev = json.loads(line)
                        yield WatchEvent(ev["type"], ev["object"])

    async def read_log(self, name: str, namespace: str, *, container: str | None = None,
                       previous: bool = False, tail_lines: int | None = None,
                       timestamps: bool = False) -> str:
        params = {"container": container, "previous": True if previous else None, "tailLines": tail_lines,
                  "timestamps": True if timestamps else None}
        return await self._request("GET", f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/"
                                          f"{quote(name, safe='')}/log", params=params, raw=True)


def _error(status: int, text: str) -> E.ApiError:
    try:
        body = json.loads(text)
        if isinstance(body, dict) and body.get("kind") == "Status":
            return E.from_status(body, status)
    except ValueError:
        pass
    return E.ApiError(status, "Unknown", text.strip() or f"HTTP {status}", {})


__all__ = ["HttpClient"]
