"""The HTTP API of the lab cluster (aiohttp): routing, auth, negotiation,
streaming; the semantics live in ``registry.py``.

Paths: ``/api/v1/[namespaces/{ns}/]{resource}[/{name}[/{sub}]]`` and
``/apis/{group}/{version}/…``, discovery, ``/openapi/v3``, ``/version``,
health endpoints, and the lab's own ``POST /gitopslab/v1/webhooks/git``.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone

import yaml
from aiohttp import web

from gitopslab.cluster import errors as E
from gitopslab.cluster.apiserver import logs as pod_logs
from gitopslab.cluster.apiserver import protobuf, streaming
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.kinds import ResourceDef
from gitopslab.cluster.registry import DeleteOptions, Registry, WriteOptions
from gitopslab.cluster.store import dumps
from gitopslab.cluster.watchstream import open_watch

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
DEFAULT_WATCH_TIMEOUT = 1800.0
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": None,
}
ACCEPTED_PATCH_BUILTIN = ("application/json-patch+json, application/merge-patch+json, "
                          "application/strategic-merge-patch+json, application/apply-patch+yaml")

REGISTRY_KEY = web.AppKey("registry", Registry)
TOKEN_KEY = web.AppKey("token", str)
ADDRESS_KEY = web.AppKey("address", str)
EXTRAS_KEY = web.AppKey("extras", dict)
PATHS_KEY = web.AppKey("paths", object)


def _discovery():
    from gitopslab.cluster.apiserver import discovery
    return discovery


def _openapi():
    try:
        from gitopslab.cluster.apiserver import openapi
        return openapi
    except ImportError:
        return None


def _tables():
    from gitopslab.cluster.apiserver import tables
    return tables


# --- responses ------------------------------------------------------------------

def json_response(body, status: int = 200, content_type: str = JSON) -> web.Response:
    text = body if isinstance(body, str) else dumps(body)
    return web.Response(body=text.encode("utf-8"), status=status, headers={"Content-Type": content_type})


def error_response(err: ApiError) -> web.Response:
    return json_response(err.status(), status=err.code)


# --- middlewares ----------------------------------------------------------------

@web.middleware
async def auth_middleware(request: web.Request, handler):
    token = request.app[TOKEN_KEY]
    if token:
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {token}" and not _valid_service_account_token(request.app, header):
            return error_response(E.unauthorized())
    return await handler(request)


def _valid_service_account_token(app: web.Application, header: str) -> bool:
    """A legacy service-account token (``argocd cluster add``'s long-lived token) is valid
    while it is signed by this cluster and its token Secret still exists, as on a real cluster."""
    if not header.startswith("Bearer ") or app[PATHS_KEY] is None:
        return False
    from gitopslab.cluster.controllers.serviceaccount import signing_key, verify_token

    claims = verify_token(header[len("Bearer "):], signing_key(app[PATHS_KEY].root))
    if not claims:
        return False
    namespace = claims.get("kubernetes.io/serviceaccount/namespace", "")
    secret = claims.get("kubernetes.io/serviceaccount/secret.name", "")
    res = app[REGISTRY_KEY].kinds.by_kind("v1", "Secret")
    return bool(secret) and app[REGISTRY_KEY].store.get(res.storage_key, namespace, secret) is not None


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except web.HTTPException:
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as exc:  # noqa: BLE001 - the server keeps serving
        log.exception("internal error on %s %s", request.method, request.path_qs)
        return error_response(E.internal_error(f"{type(exc).__name__}: {exc}"))


# --- request parsing --------------------------------------------------------------

async def read_body(request: web.Request) -> bytes:
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise E.too_large()
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            raise E.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def decode_object(data: bytes, content_type: str, kind: str):
    if protobuf.is_protobuf(content_type):
        try:
            return protobuf.decode(data)
        except (protobuf.ProtobufError, ValueError, KeyError, IndexError) as e:
            raise E.bad_request(f"the object provided is unrecognized (must be of type {kind}): {e}") from None
    if not data.strip():
        raise E.bad_request(f"the object provided is unrecognized (must be of type {kind}): "
                            "couldn't get version/kind; json parse error: unexpected end of JSON input")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise E.bad_request(f"the object provided is unrecognized (must be of type {kind}): "
                            "couldn't get version/kind; json parse error: invalid UTF-8") from None
    if "yaml" in content_type:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise E.bad_request(f"error converting YAML to JSON: {str(e).splitlines()[0]}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise E.bad_request(f"the object provided is unrecognized (must be of type {kind}): "
                            f"couldn't get version/kind; json parse error: {e}") from None


def _bool(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise E.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise E.bad_request(f'Invalid dry run value: "{v}": supported values: "All"')
    return bool(values)


def user_agent_manager(request: web.Request) -> str:
    ua = request.headers.get("User-Agent", "")
    prefix = ua.split("/")[0]
    return "".join(ch for ch in prefix if ch.isprintable())[:128] or "unknown"


def write_options(request: web.Request) -> WriteOptions:
    manager = request.query.get("fieldManager")
    if manager is not None and len(manager) > 128:
        raise E.bad_request("fieldManager: Too long: may not be longer than 128")
    return WriteOptions(dry_run=_dry_run(request), field_manager=manager or None,
                        default_manager=user_agent_manager(request), force=_bool(request.query.get("force")),
                        field_validation=request.query.get("fieldValidation"))


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "as=Table" in accept


# --- path routing ---------------------------------------------------------------------

class Target:
    """What a resource path designates."""

    def __init__(self, res: ResourceDef, namespace: str | None, name: str | None, sub: str | None):
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


def resolve(registry: Registry, group: str, version: str, segs: list[str]) -> Target:
    segs = [s for s in segs if s != ""] if segs and segs[-1] == "" else segs
    if not segs or any(s == "" for s in segs):
        raise E.server_not_found()
    namespace = None
    if segs[0] == "namespaces" and len(segs) >= 3 and segs[2] not in ("status", "finalize"):
        namespace, segs = segs[1], segs[2:]
    plural, name, sub = segs[0], (segs[1] if len(segs) > 1 else None), (segs[2] if len(segs) > 2 else None)
    if len(segs) > 3:
        raise E.server_not_found()
    res = registry.kinds.lookup(group, version, plural)
    if res is None:
        raise E.server_not_found()
    if namespace is not None and not res.namespaced:
        raise E.server_not_found()
    if sub is not None and sub not in res.subresources:
        raise E.server_not_found()
    return Target(res, namespace, name, sub)


# --- handlers -------------------------------------------------------------------

class Api:
    def __init__(self, app: web.Application):
        self.app = app

    @property
    def registry(self) -> Registry:
        return self.app[REGISTRY_KEY]

    # discovery and misc ---------------------------------------------------------
    async def version(self, request):
        return json_response(_discovery().version_info())

    async def health(self, request):
        check = request.path.strip("/")
        if _bool(request.query.get("verbose")):
            return web.Response(text=f"[+]ping ok\n[+]log ok\n[+]etcd ok\n{check} check passed\n",
                                content_type="text/plain")
        return web.Response(text="ok", content_type="text/plain")

    def _aggregated(self, request) -> bool:
        return "as=APIGroupDiscoveryList" in request.headers.get("Accept", "")

    async def api_root(self, request):
        d = _discovery()
        if self._aggregated(request) and hasattr(d, "aggregated_discovery"):
            return json_response(d.aggregated_discovery(self.registry.kinds, True),
                                 content_type=d.AGGREGATED_CONTENT_TYPE)
        return json_response(d.api_versions(self.app[ADDRESS_KEY]))

    async def apis_root(self, request):
        d = _discovery()
        if self._aggregated(request) and hasattr(d, "aggregated_discovery"):
            return json_response(d.aggregated_discovery(self.registry.kinds, False),
                                 content_type=d.AGGREGATED_CONTENT_TYPE)
        return json_response(d.api_group_list(self.registry.kinds))

    async def openapi_v2(self, request):
        # v2 is protobuf-only for client-go; kubectl falls back to v3
        raise E.server_not_found()

    async def openapi_v3_index(self, request):
        o = _openapi()
        if o is None:
            raise E.server_not_found()
        return json_response(o.v3_index(self.registry.kinds))

    async def openapi_v3_doc(self, request):
        o = _openapi()
        if o is None:
            raise E.server_not_found()
        path = request.match_info["path"]
        parsed = o.parse_gv_path(path) if hasattr(o, "parse_gv_path") else None
        if parsed is None:
            raise E.server_not_found()
        group, version = parsed
        if hasattr(o, "v3_document_json"):
            doc = o.v3_document_json(self.registry.kinds, group, version)
        else:
            doc = o.v3_document(self.registry.kinds, group, version)
        if doc is None:
            raise E.server_not_found()
        resp = json_response(doc)
        resp.headers["Cache-Control"] = "public, immutable" if request.query.get("hash") else "no-cache, private"
        return resp

    async def git_webhook(self, request):
        data = await read_body(request)
        try:
            payload = json.loads(data or b"{}")
        except ValueError:
            raise E.bad_request("the webhook payload is not JSON") from None
        hub = self.app[EXTRAS_KEY].get("git_webhooks")
        delivered = hub.publish(payload, dict(request.headers)) if hub is not None else 0
        return json_response({"delivered": delivered}, status=202)

    # resources ---------------------------------------------------------------------
    async def core(self, request):
        path = request.match_info.get("path", "")
        if path in ("", "/"):
            return await self._resource_list(request, "", "v1")
        return await self._dispatch(request, "", "v1", path.split("/"))

    async def group(self, request):
        group = request.match_info["group"]
        rest = request.match_info.get("path", "")
        parts = rest.split("/") if rest else []
        if parts and parts[-1] == "":
            parts = parts[:-1]
        if not parts:
            if request.method != "GET":
                raise E.method_not_allowed()
            doc = _discovery().api_group(self.registry.kinds, group)
            if doc is None:
                raise E.server_not_found()
            return json_response(doc)
        version, segs = parts[0], parts[1:]
        if not segs:
            return await self._resource_list(request, group, version)
        return await self._dispatch(request, group, version, segs)

    async def _resource_list(self, request, group, version):
        if request.method != "GET":
            raise E.method_not_allowed()
        doc = _discovery().api_resource_list(self.registry.kinds, group, version)
        if doc is None:
            raise E.server_not_found()
        return json_response(doc)

    async def _dispatch(self, request, group, version, segs):
        t = resolve(self.registry, group, version, segs)
        m = request.method
        if t.name is None:
            if m == "GET":
                if _bool(request.query.get("watch")):
                    return await self.watch(request, t)
                return await self.list(request, t)
            if m == "POST":
                return await self.create(request, t)
            if m == "DELETE":
                return await self.delete_collection(request, t)
            raise E.method_not_allowed()
        if t.res.namespaced and t.namespace is None:
            raise E.server_not_found()
        if (t.res.group, t.res.plural) == ("", "pods") and t.sub in streaming.STREAMING_SUBRESOURCES:
            raise streaming.refuse(self.registry.view, t.namespace, t.name, t.sub)
        if m == "GET":
            if t.sub == "log":
                return await pod_logs.handle(self.registry, self.app[PATHS_KEY], request, t.namespace, t.name)
            if _bool(request.query.get("watch")):
                raise E.method_not_allowed()
            return await self.get(request, t)
        if m == "PUT":
            return await self.replace(request, t)
        if m == "PATCH":
            return await self.patch(request, t)
        if m == "DELETE" and t.sub is None:
            return await self.delete(request, t)
        if m == "POST" and t.sub is not None:
            return await self.post_subresource(request, t)
        raise E.method_not_allowed()

    def _table(self, request, res: ResourceDef, objs: list[dict], meta: dict | None = None) -> dict:
        include = request.query.get("includeObject") or "Metadata"
        table = _tables().to_table(res, objs, now=datetime.now(timezone.utc), include_object=include)
        table["metadata"] = meta or {}
        return table

    async def get(self, request, t: Target):
        reg = self.registry
        if t.sub == "scale":
            return json_response(reg.get_scale(t.res, t.namespace, t.name))
        if t.sub not in (None, "status"):
            raise E.method_not_allowed()
        entry = reg.get_entry(t.res, t.namespace, t.name)
        if wants_table(request):
            obj = entry.copy()
            return json_response(self._table(request, t.res, [obj],
                                             {"resourceVersion": obj["metadata"].get("resourceVersion", "")}))
        return json_response(entry.raw)

    async def list(self, request, t: Target):
        result = self.registry.list(t.res, t.namespace, label_selector=request.query.get("labelSelector"),
                                    field_selector=request.query.get("fieldSelector"),
                                    limit=_int(request, "limit"), continue_token=request.query.get("continue"))
        if wants_table(request):
            meta = {"resourceVersion": str(result.resource_version)}
            if result.continue_token:
                meta["continue"] = result.continue_token
            if result.remaining:
                meta["remainingItemCount"] = result.remaining
            return json_response(self._table(request, t.res, [e.obj for e in result.entries], meta))
        return json_response(result.to_json())

    async def watch(self, request, t: Target):
        timeout = _int(request, "timeoutSeconds")
        stream = open_watch(self.registry, t.res, t.namespace,
                            label_selector=request.query.get("labelSelector"),
                            field_selector=request.query.get("fieldSelector"),
                            resource_version=request.query.get("resourceVersion"),
                            timeout=float(timeout) if timeout else DEFAULT_WATCH_TIMEOUT,
                            allow_bookmarks=_bool(request.query.get("allowWatchBookmarks")),
                            send_initial_events=_bool(request.query.get("sendInitialEvents")))
        table = wants_table(request)
        resp = web.StreamResponse(status=200, headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"})
        resp.enable_chunked_encoding()
        try:
            await resp.prepare(request)
            first = True
            async for kind, entry in stream.events():
                if table and kind in ("ADDED", "MODIFIED", "DELETED"):
                    tb = self._table(request, t.res, [entry.obj],
                                     {"resourceVersion": entry.obj["metadata"].get("resourceVersion", "")})
                    if not first:
                        tb["columnDefinitions"] = []
                    first = False
                    line = dumps({"type": kind, "object": tb})
                else:
                    line = '{"type":"' + kind + '","object":' + entry.raw + "}"
                await resp.write(line.encode() + b"\n")
        except ConnectionResetError:
            pass  # the client went away (kubectl stops its watch this way): not a server error
        except asyncio.CancelledError:
            stream.close()
            raise
        finally:
            stream.close()
        return resp

    async def create(self, request, t: Target):
        opts = write_options(request)
        body = decode_object(await read_body(request), request.content_type, t.res.kind)
        obj = self.registry.create(t.res, t.namespace, body, opts)
        return json_response(obj, status=201)

    async def replace(self, request, t: Target):
        opts = write_options(request)
        kind = "Scale" if t.sub == "scale" else t.res.kind
        body = decode_object(await read_body(request), request.content_type, kind)
        return json_response(self.registry.replace(t.res, t.namespace, t.name, body, opts, subresource=t.sub))

    async def patch(self, request, t: Target):
        ctype = request.content_type
        patch_type = PATCH_TYPES.get(ctype)
        if patch_type is None:
            accepted = ("application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                        if t.res.custom else ACCEPTED_PATCH_BUILTIN)
            raise E.unsupported_media_type(accepted)
        opts = write_options(request)
        data = await read_body(request)
        patch = decode_object(data, "yaml" if patch_type == "apply" else JSON, t.res.kind)
        obj = self.registry.patch(t.res, t.namespace, t.name, patch_type, patch, opts, subresource=t.sub)
        return json_response(obj)

    async def _delete_options(self, request) -> DeleteOptions:
        data = await read_body(request)
        body = None
        if data.strip():
            body = decode_object(data, request.content_type or JSON, "DeleteOptions")
            if not isinstance(body, dict):
                raise E.bad_request("the body of a delete must be a DeleteOptions object")
        orphan = request.query.get("orphanDependents")
        return DeleteOptions.from_body(body, grace_period_seconds=_int(request, "gracePeriodSeconds"),
                                       propagation_policy=request.query.get("propagationPolicy"),
                                       orphan_dependents=_bool(orphan) if orphan is not None else None,
                                       dry_run=_dry_run(request))

    async def delete(self, request, t: Target):
        options = await self._delete_options(request)
        return json_response(self.registry.delete(t.res, t.namespace, t.name, options))

    async def delete_collection(self, request, t: Target):
        options = await self._delete_options(request)
        out = self.registry.delete_collection(t.res, t.namespace, options,
                                              label_selector=request.query.get("labelSelector"),
                                              field_selector=request.query.get("fieldSelector"))
        return json_response(out)

    async def post_subresource(self, request, t: Target):
        from gitopslab.cluster.apiserver import subresources
        body = decode_object(await read_body(request), request.content_type, t.sub)
        out, status = subresources.post(self.registry, t.res, t.namespace, t.name, t.sub, body, write_options(request))
        return json_response(out, status=status)


def create_app(registry: Registry, *, token: str | None, address: str = "127.0.0.1:0",
               extras: dict | None = None, paths=None) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware], client_max_size=MAX_BODY + 1)
    app[REGISTRY_KEY] = registry
    app[TOKEN_KEY] = token or ""
    app[ADDRESS_KEY] = address
    app[EXTRAS_KEY] = extras if extras is not None else {}
    app[PATHS_KEY] = paths
    api = Api(app)
    r = app.router
    for p in ("/version", "/version/"):
        r.add_get(p, api.version)
    for p in ("/healthz", "/livez", "/readyz"):
        r.add_get(p, api.health)
    r.add_get("/api", api.api_root)
    r.add_get("/api/", api.api_root)
    r.add_get("/apis", api.apis_root)
    r.add_get("/apis/", api.apis_root)
    r.add_get("/openapi/v2", api.openapi_v2)
    r.add_get("/openapi/v3", api.openapi_v3_index)
    r.add_get("/openapi/v3/", api.openapi_v3_index)
    r.add_get("/openapi/v3/{path:.+}", api.openapi_v3_doc)
    r.add_post("/gitopslab/v1/webhooks/git", api.git_webhook)
    r.add_route("*", "/api/v1", api.core)
    r.add_route("*", "/api/v1/{path:.*}", api.core)
    r.add_route("*", "/apis/{group}", api.group)
    r.add_route("*", "/apis/{group}/{path:.*}", api.group)
    r.add_route("*", "/{tail:.*}", _not_found)
    return app


async def _not_found(request):
    raise E.server_not_found()
