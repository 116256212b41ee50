"""REST semantics of the lab API server, independent of HTTP.

The HTTP handlers and the in-process client both call this registry, so
both get the same defaulting and validation (admission), resourceVersions,
optimistic concurrency, generation, finalizers and graceful deletion,
subresources, CRD handling and errors. Everything runs on the daemon's
event loop; each write is one SQLite transaction (see ``store.py``).
"""
from __future__ import annotations

import base64
import copy
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from gitopslab.cluster import crdstatus, eventsview
from gitopslab.cluster import errors as E
from gitopslab.cluster.errors import ApiError, Cause
from gitopslab.cluster.kinds import KindRegistry, ResourceDef
from gitopslab.cluster.selectors import (FieldSelector, LabelSelector, parse_field_selector,
                                         parse_label_selector, selector_from_match_labels,
                                         label_selector_string)
from gitopslab.cluster.store import Entry, Store, dumps

log = logging.getLogger(__name__)

GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
EVENTS_V1 = ("events.k8s.io", "events")
# Kinds whose DELETE answers with the object rather than a Success Status.
RETURNS_DELETED_OBJECT = {("", "pods"), ("", "services"), ("", "namespaces")}
UPDATE, CREATE, DELETE = "UPDATE", "CREATE", "DELETE"


def now_time() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def generate_suffix(n: int = 5) -> str:
    return "".join(random.choice(GENERATE_ALPHABET) for _ in range(n))


@dataclass
class WriteOptions:
    """Per-request options of a write."""

    dry_run: bool = False
    field_manager: str | None = None     # ?fieldManager=
    default_manager: str = "unknown"     # derived from the User-Agent when fieldManager is unset
    force: bool = False                  # server-side apply ?force=true
    field_validation: str | None = None  # Strict / Warn / Ignore (accepted, not enforced beyond admission)

    @property
    def manager(self) -> str:
        return self.field_manager or self.default_manager


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None  # Foreground / Background / Orphan
    orphan_dependents: bool | None = None
    preconditions: dict | None = None
    dry_run: bool = False

    @classmethod
    def from_body(cls, body: dict | None, **query) -> "DeleteOptions":
        body = body or {}
        opts = cls(
            grace_period_seconds=body.get("gracePeriodSeconds"),
            propagation_policy=body.get("propagationPolicy"),
            orphan_dependents=body.get("orphanDependents"),
            preconditions=body.get("preconditions"),
            dry_run=bool(body.get("dryRun")),
        )
        if query.get("grace_period_seconds") is not None:
            opts.grace_period_seconds = int(query["grace_period_seconds"])
        if query.get("propagation_policy"):
            opts.propagation_policy = query["propagation_policy"]
        if query.get("orphan_dependents") is not None:
            opts.orphan_dependents = query["orphan_dependents"]
        if query.get("dry_run"):
            opts.dry_run = True
        return opts


@dataclass
class ListResult:
    res: ResourceDef
    entries: list[Entry]       # served view
    resource_version: int
    continue_token: str | None
    remaining: int | None

    def to_dict(self) -> dict:
        meta: dict = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining:
            meta["remainingItemCount"] = self.remaining
        return {"kind": self.res.list_kind, "apiVersion": self.res.api_version, "metadata": meta,
                "items": [e.copy() for e in self.entries]}

    def to_json(self) -> str:
        meta: dict = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining:
            meta["remainingItemCount"] = self.remaining
        head = dumps({"kind": self.res.list_kind, "apiVersion": self.res.api_version, "metadata": meta})
        return head[:-1] + ',"items":[' + ",".join(e.raw for e in self.entries) + "]}"


# --- small pure helpers ---------------------------------------------------

def _strip_volatile(obj: dict) -> dict:
    """The object without what changes on every write (for no-op detection)."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


def _spec_part(obj: dict, with_status: bool) -> dict:
    """What a change of bumps ``generation``: everything outside metadata (and status)."""
    skip = {"metadata", "status", "apiVersion", "kind"} if with_status else {"metadata", "apiVersion", "kind"}
    return {k: v for k, v in obj.items() if k not in skip}


def pod_qos_class(pod: dict) -> str:
    containers = list((pod.get("spec") or {}).get("containers") or []) + \
        list((pod.get("spec") or {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and str(req[r]) != str(lim[r])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


# Status fields that the Go types serialize even when zero (no omitempty): a fresh
# object's status shows them, and the official Python client requires them.
ZERO_STATUS = {
    ("apps", "statefulsets"): {"replicas": 0, "availableReplicas": 0},
    ("apps", "replicasets"): {"replicas": 0},
    ("apps", "daemonsets"): {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                             "desiredNumberScheduled": 0, "numberReady": 0},
    ("", "replicationcontrollers"): {"replicas": 0},
    ("autoscaling", "horizontalpodautoscalers"): {"desiredReplicas": 0},
}

class _Compat:
    """Lazy access to modules other engineers own (patch, admission), with
    minimal fallbacks while they are not there."""

    _patch = None
    _admission = None

    @classmethod
    def patch(cls):
        if cls._patch is None:
            try:
                from gitopslab.cluster import patch as mod
                cls._patch = mod
            except ImportError:
                cls._patch = False
        return cls._patch or None

    @classmethod
    def admission(cls):
        if cls._admission is None:
            try:
                from gitopslab.cluster import admission as mod
                cls._admission = mod
            except ImportError:
                cls._admission = False
        return cls._admission or None


class StoreView:
    """Read-only view of the store handed to admission (ports in use, namespaces…)."""

    def __init__(self, registry: "Registry"):
        self.registry = registry

    def used_node_ports(self, exclude_uid: str | None = None) -> set[int]:
        ports = set()
        for e in self.registry.store.scan("/services"):
            if exclude_uid and e.obj["metadata"].get("uid") == exclude_uid:
                continue
            for p in (e.obj.get("spec") or {}).get("ports") or []:
                if p.get("nodePort"):
                    ports.add(int(p["nodePort"]))
        return ports

    def used_cluster_ips(self, exclude_uid: str | None = None) -> set[str]:
        ips = set()
        for e in self.registry.store.scan("/services"):
            if exclude_uid and e.obj["metadata"].get("uid") == exclude_uid:
                continue
            spec = e.obj.get("spec") or {}
            for ip in [spec.get("clusterIP"), *(spec.get("clusterIPs") or [])]:
                if ip and ip != "None":
                    ips.add(ip)
        return ips

    def now(self) -> datetime:
        return now_time()

    def namespace_exists(self, name: str) -> bool:
        return self.registry.store.get("/namespaces", "", name) is not None

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        res = self.registry.kinds.by_kind(api_version, kind)
        if res is None:
            return None
        e = self.registry.store.get(res.storage_key, namespace if res.namespaced else "", name)
        return e.copy() if e else None

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        res = self.registry.kinds.by_kind(api_version, kind)
        if res is None:
            return []
        return [e.copy() for e in self.registry.store.scan(res.storage_key, namespace)]

    def crds(self) -> list[dict]:
        return [e.copy() for e in self.registry.store.scan("apiextensions.k8s.io/customresourcedefinitions")]


class Registry:
    def __init__(self, store: Store, kinds: KindRegistry | None = None):
        self.store = store
        self.kinds = kinds or KindRegistry()
        self.view = StoreView(self)
        self._admission_ctx = None
        self._restore_crds()

    # ------------------------------------------------------------------ kinds
    def _restore_crds(self) -> None:
        for e in self.store.scan("apiextensions.k8s.io/customresourcedefinitions"):
            try:
                self.kinds.add_crd(e.obj)
            except (KeyError, TypeError, AttributeError):
                log.exception("cannot serve CRD %s", e.obj.get("metadata", {}).get("name"))

    def resource(self, group: str, version: str, plural: str) -> ResourceDef:
        res = self.kinds.lookup(group, version, plural)
        if res is None:
            raise E.server_not_found()
        return res

    def resource_for(self, api_version: str, kind: str) -> ResourceDef:
        res = self.kinds.by_kind(api_version, kind)
        if res is None:
            raise ApiError(404, "NotFound",
                           'the server could not find the requested resource', {})
        return res

    # ------------------------------------------------------------------ views
    def _is_events_v1(self, res: ResourceDef) -> bool:
        return (res.group, res.plural) == EVENTS_V1

    def served(self, res: ResourceDef, entry: Entry) -> Entry:
        """The stored entry as ``res`` serves it (version rewritten, events view)."""
        obj = entry.obj
        if self._is_events_v1(res):
            view = eventsview.core_to_events_v1(obj)
            return Entry(view, dumps(view))
        if obj.get("apiVersion") != res.api_version or obj.get("kind") != res.kind:
            view = entry.copy()
            view["apiVersion"], view["kind"] = res.api_version, res.kind
            return Entry(view, dumps(view))
        return entry

    def _to_storage(self, res: ResourceDef, obj: dict) -> dict:
        if not res.custom:
            obj = _without_nulls(obj)  # decoding into a typed object keeps no explicit null
        if self._is_events_v1(res):
            return eventsview.events_v1_to_core(obj)
        return obj

    def _serve_dict(self, res: ResourceDef, obj: dict) -> dict:
        if self._is_events_v1(res):
            return eventsview.core_to_events_v1(obj)
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        return obj

    # ------------------------------------------------------------------ reads
    def _ns(self, res: ResourceDef, namespace: str | None) -> str:
        return (namespace or "") if res.namespaced else ""

    def get_entry(self, res: ResourceDef, namespace: str | None, name: str) -> Entry:
        entry = self.store.get(res.storage_key, self._ns(res, namespace), name)
        if entry is None:
            raise E.not_found(res.group, res.plural, name)
        return self.served(res, entry)

    def get(self, res: ResourceDef, namespace: str | None, name: str) -> dict:
        return self.get_entry(res, namespace, name).copy()

    def selectors(self, res: ResourceDef, label_selector: str | None,
                  field_selector: str | None) -> tuple[LabelSelector, FieldSelector]:
        return (parse_label_selector(label_selector),
                parse_field_selector(field_selector, res.group, res.plural))

    def list(self, res: ResourceDef, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None, limit: int | None = None,
             continue_token: str | None = None) -> ListResult:
        labels, fields = self.selectors(res, label_selector, field_selector)
        ns = namespace if res.namespaced and namespace else None
        pinned_ns = fields.required("metadata.namespace")
        if ns is None and pinned_ns is not None and res.namespaced:
            ns = pinned_ns
        start = None
        rv = self.store.rv
        if continue_token:
            try:
                token = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                start = tuple(token["start"])
            except (ValueError, KeyError, TypeError):
                raise E.bad_request("continue key is not valid: illegal base64 data at input byte 0") from None
        pinned_name = fields.required("metadata.name")
        if pinned_name is not None and ns is not None:
            one = self.store.get(res.storage_key, ns if res.namespaced else "", pinned_name)
            candidates = [one] if one else []
        else:
            candidates = self.store.scan(res.storage_key, ns)
        out: list[Entry] = []
        more = None
        remaining = 0
        for entry in candidates:
            meta = entry.obj["metadata"]
            if start is not None and (meta.get("namespace") or "", meta["name"]) <= start:
                continue
            if not labels.empty and not labels.matches(meta.get("labels")):
                continue
            if not fields.empty and not fields.matches(entry.obj):
                continue
            if limit and len(out) >= limit:
                remaining += 1
                if more is None:
                    last = out[-1].obj["metadata"]
                    more = (last.get("namespace") or "", last["name"])
                continue
            out.append(entry)
        token = None
        if more is not None:
            token = base64.urlsafe_b64encode(dumps({"rv": rv, "start": list(more)}).encode()).decode()
        served = [self.served(res, e) for e in out]
        return ListResult(res, served, rv, token, remaining if more is not None else None)

    # ------------------------------------------------------------------ admission
    def _admit(self, res: ResourceDef, obj: dict, old: dict | None, operation: str,
               subresource: str | None = None) -> dict:
        mod = _Compat.admission()
        if mod is None:
            return obj
        if self._admission_ctx is None:
            self._admission_ctx = self._make_admission_context(mod)
        return mod.admit(res, obj, old, self._admission_ctx, operation=operation)

    def _make_admission_context(self, mod):
        return self.view

    # ------------------------------------------------------------------ validation of bodies
    def _check_type(self, res: ResourceDef, body, name_hint: str = "") -> dict:
        if not isinstance(body, dict):
            raise E.bad_request(f"the object provided is unrecognized (must be of type {res.kind}): "
                                f"couldn't get version/kind; json parse error")
        api_version = body.get("apiVersion")
        if api_version is not None and not isinstance(api_version, str):
            raise E.bad_request("json: cannot unmarshal number into Go struct field TypeMeta.apiVersion of type string")
        if api_version and api_version != res.api_version:
            raise E.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                f"API version ({res.api_version})")
        kind = body.get("kind")
        if kind and kind != res.kind:
            name = (body.get("metadata") or {}).get("name") or name_hint
            gk = f"{kind}.{res.group}" if res.group else kind
            raise ApiError(422, "Invalid", f'{gk} "{name}" is invalid: kind: Invalid value: "{kind}": must be {res.kind}',
                           {"name": name, "group": res.group, "kind": kind,
                            "causes": [{"reason": "FieldValueInvalid",
                                        "message": f'Invalid value: "{kind}": must be {res.kind}', "field": "kind"}]})
        meta = body.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise E.bad_request(f"the object provided is unrecognized (must be of type {res.kind}): "
                                "metadata must be an object")
        body = dict(body)
        body["apiVersion"], body["kind"] = res.api_version, res.kind
        body["metadata"] = dict(meta or {})
        _check_string_maps(res, body)
        return body

    def _check_namespace_for_create(self, res: ResourceDef, namespace: str, name: str) -> None:
        ns = self.store.get("/namespaces", "", namespace)
        if ns is None:
            raise E.not_found("", "namespaces", namespace)
        if (ns.obj.get("status") or {}).get("phase") == "Terminating" or ns.obj["metadata"].get("deletionTimestamp"):
            err = E.forbidden(res.group, res.plural, name,
                              f"unable to create new content in namespace {namespace} because it is being terminated")
            err.details["causes"] = [{"reason": "NamespaceTerminating", "message":
                                      f"namespace {namespace} is being terminated", "field": "metadata.namespace"}]
            raise err

    def _check_name(self, res: ResourceDef, name: str) -> None:
        problem = None
        if name in (".", ".."):
            problem = f'may not be \'{name}\''
        elif "/" in name:
            problem = "may not contain '/'"
        elif "%" in name:
            problem = "may not contain '%'"
        if problem:
            raise E.invalid(res.group, res.kind, name, [Cause("FieldValueInvalid", f'Invalid value: "{name}": {problem}',
                                                                "metadata.name")])

    # ------------------------------------------------------------------ managed fields
    def _managed(self, old: dict | None, new: dict, manager: str, operation: str, res: ResourceDef,
                 subresource: str | None, now: datetime) -> dict:
        """``new`` with managedFields recording this write (server-side apply records its own)."""
        if operation != "Update":
            return new
        mod = _Compat.patch()
        fn = getattr(mod, "update_managed_fields", None) if mod else None
        if fn is None:
            return new
        return fn(old, new, manager=manager, api_version=res.api_version, kind=res.kind, now=rfc3339(now),
                  operation="Update", subresource=subresource or "")

    # ------------------------------------------------------------------ create
    def create(self, res: ResourceDef, namespace: str | None, body, opts: WriteOptions | None = None, *,
               applied: bool = False) -> dict:
        opts = opts or WriteOptions()
        if "create" not in res.verbs:
            raise E.method_not_allowed()
        obj = self._to_storage(res, self._check_type(res, body))
        obj["apiVersion"] = "v1" if self._is_events_v1(res) else res.api_version
        meta = obj["metadata"]
        if res.namespaced:
            body_ns = meta.get("namespace")
            namespace = namespace or body_ns or "default"
            if body_ns and body_ns != namespace:
                raise E.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = self._generated_name(res, meta["generateName"], meta.get("namespace") or "")
            else:
                raise E.invalid(res.group, res.kind, "", [Cause("FieldValueRequired",
                                "Required value: name or generateName is required", "metadata.name")])
        name = meta["name"]
        if not isinstance(name, str):
            raise E.bad_request("metadata.name must be a string")
        self._check_name(res, name)
        if res.namespaced:
            self._check_namespace_for_create(res, meta["namespace"], name)
        if res.custom:
            self._check_crd_accepts_creates(res)
        existing = self.store.get(res.storage_key, meta.get("namespace") or "", name)
        if existing is not None:
            raise E.already_exists(res.group, res.plural, name)
        now = now_time()
        for volatile in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"):
            meta.pop(volatile, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339(now)
        if res.has_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        self._reset_status_on_create(res, obj)
        obj = self._admit(res, obj, None, CREATE)
        self._after_admission_create(res, obj, now)
        obj = self._managed(None, obj, opts.manager, "Apply" if applied else "Update", res, None, now)
        if opts.dry_run:
            obj["metadata"].pop("resourceVersion", None)
            return self._serve_dict(res, obj)
        entry = self.store.put(res.storage_key, obj)
        if res.group == "apiextensions.k8s.io" and res.plural == "customresourcedefinitions":
            self.kinds.add_crd(entry.obj)
        return self.served(res, entry).copy()

    def _generated_name(self, res: ResourceDef, prefix: str, namespace: str) -> str:
        prefix = prefix[:58]
        for _ in range(20):
            name = prefix + generate_suffix()
            if self.store.get(res.storage_key, namespace, name) is None:
                return name
        raise E.already_exists(res.group, res.plural, prefix)

    def _reset_status_on_create(self, res: ResourceDef, obj: dict) -> None:
        key = (res.group, res.plural)
        if key == ("", "pods"):
            status = obj.get("status") or {}
            obj["status"] = {"phase": "Pending", **({"qosClass": status["qosClass"]} if status.get("qosClass") else {})}
        elif key == ("", "namespaces"):
            obj["status"] = {"phase": "Active"}
            spec = obj.setdefault("spec", {})
            if "finalizers" not in spec:
                spec["finalizers"] = ["kubernetes"]
        elif key == ("", "services"):
            obj["status"] = {"loadBalancer": {}}
        elif key == ("", "persistentvolumeclaims"):
            obj["status"] = {"phase": "Pending"}
        elif key == ("", "persistentvolumes"):
            obj["status"] = {"phase": "Pending"}
        elif key == ("", "nodes"):
            pass
        elif res.custom:
            if res.has_status():
                obj.pop("status", None)
        elif res.has_status():
            obj["status"] = dict(ZERO_STATUS.get(key, {}))

    def _after_admission_create(self, res: ResourceDef, obj: dict, now: datetime) -> None:
        key = (res.group, res.plural)
        if key == ("", "pods"):
            obj.setdefault("status", {}).setdefault("qosClass", pod_qos_class(obj))
        elif key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._validate_crd(obj)
            obj["status"] = crdstatus.crd_status(obj, rfc3339(now))

    def _validate_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        name = crd["metadata"]["name"]
        want = f"{names.get('plural', '')}.{spec.get('group', '')}"
        causes = []
        if name != want:
            causes.append(Cause("FieldValueInvalid", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                                "metadata.name"))
        if not spec.get("versions"):
            causes.append(Cause("FieldValueInvalid", "Invalid value: \"null\": must have exactly one version marked as "
                                "storage version", "spec.versions"))
        if not names.get("kind"):
            causes.append(Cause("FieldValueRequired", "Required value", "spec.names.kind"))
        if causes:
            raise E.invalid("apiextensions.k8s.io", "CustomResourceDefinition", name, causes)
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            raise E.invalid("apiextensions.k8s.io", "CustomResourceDefinition", name,
                            [Cause("FieldValueNotSupported", f'Unsupported value: "{spec.get("scope", "")}": '
                                   'supported values: "Cluster", "Namespaced"', "spec.scope")])
        for other in self.store.scan("apiextensions.k8s.io/customresourcedefinitions"):
            if other.obj["metadata"]["name"] == name:
                continue
        return None

    def _crd_of(self, res: ResourceDef) -> Entry | None:
        return self.store.get("apiextensions.k8s.io/customresourcedefinitions", "", f"{res.plural}.{res.group}")

    def _check_crd_accepts_creates(self, res: ResourceDef) -> None:
        crd = self._crd_of(res)
        if crd is not None and crd.obj["metadata"].get("deletionTimestamp"):
            raise ApiError(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating", {})

    # ------------------------------------------------------------------ update / patch
    def replace(self, res: ResourceDef, namespace: str | None, name: str, body, opts: WriteOptions | None = None,
                subresource: str | None = None) -> dict:
        opts = opts or WriteOptions()
        if subresource == "scale":
            return self._replace_scale(res, namespace, name, body, opts)
        if subresource not in (None, "status", "finalize"):
            raise E.method_not_allowed()
        if subresource is None and "update" not in res.verbs:
            raise E.method_not_allowed()
        if subresource == "status" and not res.has_status():
            raise E.server_not_found()
        new = self._to_storage(res, self._check_type(res, body, name))
        meta = new["metadata"]
        body_name = meta.get("name")
        if body_name and body_name != name:
            raise E.bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")
        meta["name"] = name
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != (namespace or ""):
                raise E.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        old = self.store.get(res.storage_key, self._ns(res, namespace), name)
        if old is None:
            raise E.not_found(res.group, res.plural, name)
        if subresource == "finalize":
            return self._finalize_namespace(res, old, new, opts)
        return self._update(res, old, new, opts, subresource=subresource, operation_name="Update")

    def _update(self, res: ResourceDef, old_entry: Entry, new: dict, opts: WriteOptions, *,
                subresource: str | None, operation_name: str, check_rv: bool = True) -> dict:
        old = old_entry.obj
        name = old["metadata"]["name"]
        meta = new.setdefault("metadata", {})
        want_rv = meta.get("resourceVersion")
        if check_rv and want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise E.conflict(res.group, res.plural, name)
        new["apiVersion"] = "v1" if self._is_events_v1(res) else res.api_version
        new["kind"] = res.kind
        if subresource == "status":
            status = new.get("status")
            managed = meta.get("managedFields")
            merged = copy.deepcopy(old)
            if status is None:
                merged.pop("status", None)
            else:
                merged["status"] = status
            if managed is not None:
                merged["metadata"]["managedFields"] = managed
            new = merged
            meta = new["metadata"]
        else:
            for keep in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                if keep in old["metadata"]:
                    meta[keep] = old["metadata"][keep]
                else:
                    meta.pop(keep, None)
            if res.has_status():
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if old["metadata"].get("deletionTimestamp"):
            added = [f for f in meta.get("finalizers") or [] if f not in (old["metadata"].get("finalizers") or [])]
            if added:
                raise E.invalid(res.group, res.kind, name, [Cause(
                    "FieldValueForbidden", "Forbidden: no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers []string{{{', '.join(json.dumps(f) for f in added)}}}", "metadata.finalizers")])
        if (res.group, res.plural) == ("", "namespaces") and subresource is None:
            # spec.finalizers only change through namespaces/finalize
            spec = new.setdefault("spec", {})
            if "finalizers" in (old.get("spec") or {}):
                spec["finalizers"] = list(old["spec"]["finalizers"])
            else:
                spec.pop("finalizers", None)
        new = self._admit(res, new, copy.deepcopy(old), UPDATE, subresource)
        meta = new["metadata"]
        if (res.group, res.plural) == ("apiextensions.k8s.io", "customresourcedefinitions") and subresource is None:
            self._validate_crd(new)
            new["status"] = crdstatus.crd_status(new, rfc3339(now_time()),
                                                 terminating=bool(new["metadata"].get("deletionTimestamp")))
        if _strip_volatile(new) == _strip_volatile(old):
            return self.served(res, old_entry).copy()
        if res.has_generation:
            with_status = res.has_status() or not res.custom
            if _spec_part(new, with_status) != _spec_part(old, with_status):
                meta["generation"] = int(old["metadata"].get("generation") or 1) + 1
        now = now_time()
        new = self._managed(old, new, opts.manager, operation_name, res, subresource, now)
        if opts.dry_run:
            return self._serve_dict(res, new)
        if self._deletion_complete(new):
            return self._remove(res, new, dry_run=False, result_object=True)
        entry = self.store.put(res.storage_key, new)
        if (res.group, res.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.kinds.add_crd(entry.obj)
        return self.served(res, entry).copy()

    @staticmethod
    def _deletion_complete(obj: dict) -> bool:
        meta = obj["metadata"]
        return bool(meta.get("deletionTimestamp")) and not meta.get("finalizers") and \
            not meta.get("deletionGracePeriodSeconds") and not \
            (obj.get("kind") == "Namespace" and (obj.get("spec") or {}).get("finalizers"))

    def patch(self, res: ResourceDef, namespace: str | None, name: str, patch_type: str, patch,
              opts: WriteOptions | None = None, subresource: str | None = None) -> dict:
        """``patch_type``: json, merge, strategic or apply; ``patch`` already parsed."""
        opts = opts or WriteOptions()
        if subresource not in (None, "status", "scale"):
            raise E.method_not_allowed()
        if subresource is None and "patch" not in res.verbs:
            raise E.method_not_allowed()
        if subresource == "status" and not res.has_status():
            raise E.server_not_found()
        if subresource == "scale" and "scale" not in res.subresources:
            raise E.server_not_found()
        if patch_type == "strategic" and not self._supports_strategic(res, subresource):
            raise E.unsupported_media_type()
        if patch_type == "apply" and not opts.field_manager:
            raise E.bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        ns = self._ns(res, namespace)
        old_entry = self.store.get(res.storage_key, ns, name)
        if subresource == "scale":
            if old_entry is None:
                raise E.not_found(res.group, res.plural, name)
            scale = self._scale_of(res, old_entry.obj)
            patched = self._apply_patch(res, scale, patch_type, patch, opts, live_exists=True, scale=True)
            return self._write_scale(res, old_entry, patched, opts)
        if old_entry is None:
            if patch_type == "apply" and subresource is None:
                return self._apply_create(res, namespace, name, patch, opts)
            raise E.not_found(res.group, res.plural, name)
        target = self.served(res, old_entry).copy()
        patched = self._apply_patch(res, target, patch_type, patch, opts, live_exists=True)
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid", "the patch produced something that is not an object", {})
        patched = self._to_storage(res, patched)
        if isinstance(patched.get("metadata"), dict):
            _check_string_maps(res, patched)
        pmeta = patched.setdefault("metadata", {}) if isinstance(patched.get("metadata"), dict) else None
        if pmeta is None:
            raise E.bad_request("metadata must be an object")
        if pmeta.get("name") != name:
            raise E.invalid(res.group, res.kind, name, [Cause("FieldValueInvalid",
                            f'Invalid value: "{pmeta.get("name")}": field is immutable', "metadata.name")])
        if res.namespaced:
            pmeta["namespace"] = ns
        return self._update(res, old_entry, patched, opts, subresource=subresource,
                            operation_name="Apply" if patch_type == "apply" else "Update")

    def _supports_strategic(self, res: ResourceDef, subresource: str | None) -> bool:
        if res.custom:
            return False
        if subresource == "scale":
            return True
        mod = _Compat.patch()
        fn = getattr(mod, "supports_strategic_merge", None) if mod else None
        return fn(res.api_version, res.kind) if fn else True

    def _apply_patch(self, res: ResourceDef, target: dict, patch_type: str, patch, opts: WriteOptions, *,
                     live_exists: bool, scale: bool = False) -> dict:
        mod = _Compat.patch()
        api_version, kind = ("autoscaling/v1", "Scale") if scale else (res.api_version, res.kind)
        patch_error = getattr(mod, "PatchError", None) if mod else None
        apply_conflict = getattr(mod, "ApplyConflict", None) if mod else None
        try:
            if patch_type == "json":
                if not isinstance(patch, list):
                    raise E.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
                if mod:
                    return mod.json_patch(target, patch)
                import jsonpatch
                try:
                    return jsonpatch.apply_patch(target, patch)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                    raise ApiError(422, "Invalid", str(e), {}) from None
            if not isinstance(patch, dict):
                raise E.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
            if patch_type == "merge":
                return mod.json_merge_patch(target, patch) if mod else _merge_patch(target, patch)
            if patch_type == "strategic":
                return mod.strategic_merge_patch(target, patch, api_version, kind) if mod else _merge_patch(target, patch)
            if patch_type == "apply":
                if mod and hasattr(mod, "server_side_apply"):
                    return mod.server_side_apply(target, patch, manager=opts.manager, force=opts.force,
                                                 api_version=api_version, kind=kind, now=rfc3339(now_time()))
                return _merge_patch(target, patch)
        except ApiError:
            raise
        except Exception as e:  # noqa: BLE001 - the patch module's own errors
            if apply_conflict is not None and isinstance(e, apply_conflict):
                raise E.conflict_message(getattr(e, "message", str(e)), group=res.group, plural=res.plural,
                                         name=(target.get("metadata") or {}).get("name", ""),
                                         causes=getattr(e, "causes", None)) from None
            if patch_error is not None and isinstance(e, patch_error):
                raise ApiError(422, "Invalid", getattr(e, "message", str(e)), {}) from None
            raise
        raise E.unsupported_media_type()

    def _apply_create(self, res: ResourceDef, namespace: str | None, name: str, applied, opts: WriteOptions) -> dict:
        if not isinstance(applied, dict):
            raise E.bad_request("the body of an apply patch must be an object")
        body = self._check_type(res, applied, name)
        mod = _Compat.patch()
        if mod and hasattr(mod, "server_side_apply"):
            try:
                body = mod.server_side_apply(None, body, manager=opts.manager, force=opts.force,
                                             api_version=res.api_version, kind=res.kind, now=rfc3339(now_time()))
            except Exception as e:  # noqa: BLE001
                if isinstance(e, getattr(mod, "PatchError", ())):
                    raise ApiError(422, "Invalid", getattr(e, "message", str(e)), {}) from None
                raise
        body.setdefault("metadata", {})["name"] = body["metadata"].get("name") or name
        if body["metadata"]["name"] != name:
            raise E.bad_request(f"the name of the object ({body['metadata']['name']}) does not match the name on the URL ({name})")
        managed = body["metadata"].get("managedFields")
        created = self.create(res, namespace, body, WriteOptions(dry_run=opts.dry_run, field_manager=opts.manager,
                                                                 default_manager=opts.default_manager),
                              applied=True)
        if managed and not opts.dry_run and not created["metadata"].get("managedFields"):
            pass
        return created

    # ------------------------------------------------------------------ scale
    def _scale_of(self, res: ResourceDef, obj: dict) -> dict:
        meta = obj["metadata"]
        spec_path, status_path, selector = ("spec", "replicas"), ("status", "replicas"), None
        if res.custom:
            spec_path, status_path, sel_path = self._crd_scale_paths(res)
            selector = _get_path(obj, sel_path) if sel_path else None
        else:
            sel = (obj.get("spec") or {}).get("selector")
            if isinstance(sel, dict) and ("matchLabels" in sel or "matchExpressions" in sel):
                selector = label_selector_string(sel)
            elif isinstance(sel, dict):
                selector = selector_from_match_labels(sel)
        status: dict = {"replicas": int(_get_path(obj, status_path) or 0)}
        if selector:
            status["selector"] = selector
        spec_replicas = _get_path(obj, spec_path)
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": int(spec_replicas) if spec_replicas is not None else 0} if True else {},
                "status": status}

    def _crd_scale_paths(self, res: ResourceDef):
        crd = self._crd_of(res)
        scale = {}
        for v in ((crd.obj.get("spec") or {}).get("versions") or []) if crd else []:
            if v.get("name") == res.version:
                scale = (v.get("subresources") or {}).get("scale") or {}
        def path(p):
            return tuple(p.lstrip(".").split(".")) if p else None
        return (path(scale.get("specReplicasPath") or ".spec.replicas"),
                path(scale.get("statusReplicasPath") or ".status.replicas"),
                path(scale.get("labelSelectorPath")))

    def get_scale(self, res: ResourceDef, namespace: str | None, name: str) -> dict:
        if "scale" not in res.subresources:
            raise E.server_not_found()
        entry = self.store.get(res.storage_key, self._ns(res, namespace), name)
        if entry is None:
            raise E.not_found(res.group, res.plural, name)
        return self._scale_of(res, entry.obj)

    def _replace_scale(self, res: ResourceDef, namespace: str | None, name: str, body, opts: WriteOptions) -> dict:
        if "scale" not in res.subresources:
            raise E.server_not_found()
        if not isinstance(body, dict):
            raise E.bad_request("the object provided is unrecognized (must be of type Scale)")
        if body.get("apiVersion") and body["apiVersion"] != "autoscaling/v1":
            raise E.bad_request(f"the API version in the data ({body['apiVersion']}) does not match the expected "
                                "API version (autoscaling/v1)")
        entry = self.store.get(res.storage_key, self._ns(res, namespace), name)
        if entry is None:
            raise E.not_found(res.group, res.plural, name)
        return self._write_scale(res, entry, body, opts)

    def _write_scale(self, res: ResourceDef, entry: Entry, scale: dict, opts: WriteOptions) -> dict:
        name = entry.obj["metadata"]["name"]
        want_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != entry.obj["metadata"]["resourceVersion"]:
            raise E.conflict(res.group, res.plural, name)
        replicas = (scale.get("spec") or {}).get("replicas")
        if replicas is None:
            replicas = 0
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise E.invalid("autoscaling", "Scale", name, [Cause("FieldValueInvalid",
                            f"Invalid value: {replicas}: must be greater than or equal to 0", "spec.replicas")])
        new = entry.copy()
        spec_path = ("spec", "replicas")
        if res.custom:
            spec_path = self._crd_scale_paths(res)[0]
        _set_path(new, spec_path, replicas)
        new["metadata"].pop("resourceVersion", None)
        self._update(res, entry, new, opts, subresource=None, operation_name="Update", check_rv=False)
        return self._scale_of(res, self.store.get(res.storage_key, entry.obj["metadata"].get("namespace") or "",
                                                  name).obj)

    # ------------------------------------------------------------------ delete
    def delete(self, res: ResourceDef, namespace: str | None, name: str, options: DeleteOptions | None = None) -> dict:
        options = options or DeleteOptions()
        if "delete" not in res.verbs:
            raise E.method_not_allowed()
        entry = self.store.get(res.storage_key, self._ns(res, namespace), name)
        if entry is None:
            raise E.not_found(res.group, res.plural, name)
        obj = entry.copy()
        meta = obj["metadata"]
        self._check_preconditions(res, meta, options.preconditions)
        key = (res.group, res.plural)
        if key == ("", "namespaces"):
            return self._delete_namespace(res, entry, obj, options)
        if key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            return self._delete_crd(res, entry, obj, options)
        changed = self._propagation_finalizers(meta, options)
        now = now_time()
        grace = self._grace_period(res, obj, options)
        if grace:
            if meta.get("deletionTimestamp"):
                current = int(meta.get("deletionGracePeriodSeconds") or 0)
                if current and grace < current:
                    meta["deletionTimestamp"] = rfc3339(now + timedelta(seconds=grace))
                    meta["deletionGracePeriodSeconds"] = grace
                    changed = True
            else:
                meta["deletionTimestamp"] = rfc3339(now + timedelta(seconds=grace))
                meta["deletionGracePeriodSeconds"] = grace
                self._bump_generation_on_delete(res, meta)
                changed = True
            return self._save_deleting(res, entry, obj, changed, options)
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = rfc3339(now)
                meta["deletionGracePeriodSeconds"] = 0
                self._bump_generation_on_delete(res, meta)
                changed = True
            elif meta.get("deletionGracePeriodSeconds"):
                meta["deletionGracePeriodSeconds"] = 0
                changed = True
            return self._save_deleting(res, entry, obj, changed, options)
        return self._remove(res, obj, dry_run=options.dry_run)

    def _check_preconditions(self, res: ResourceDef, meta: dict, pre: dict | None) -> None:
        if not pre:
            return
        name = meta["name"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise E.conflict(res.group, res.plural, name,
                             f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise E.conflict(res.group, res.plural, name,
                             f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                             f"ResourceVersion in object meta: {meta.get('resourceVersion')}")

    @staticmethod
    def _propagation_finalizers(meta: dict, options: DeleteOptions) -> bool:
        policy = options.propagation_policy
        if policy is None and options.orphan_dependents is not None:
            policy = "Orphan" if options.orphan_dependents else "Background"
        if policy not in ("Foreground", "Background", "Orphan"):
            if policy is not None:
                raise E.invalid("", "DeleteOptions", "", [Cause("FieldValueNotSupported",
                                f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"',
                                "propagationPolicy")])
            return False
        finalizers = list(meta.get("finalizers") or [])
        before = list(finalizers)
        if policy == "Foreground":
            finalizers = [f for f in finalizers if f != "orphan"]
            if "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
        elif policy == "Orphan":
            finalizers = [f for f in finalizers if f != "foregroundDeletion"]
            if "orphan" not in finalizers:
                finalizers.append("orphan")
        else:
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        if finalizers != before:
            if finalizers:
                meta["finalizers"] = finalizers
            else:
                meta.pop("finalizers", None)
            return True
        return False

    @staticmethod
    def _bump_generation_on_delete(res: ResourceDef, meta: dict) -> None:
        if res.has_generation and meta.get("generation"):
            meta["generation"] = int(meta["generation"]) + 1

    @staticmethod
    def _grace_period(res: ResourceDef, obj: dict, options: DeleteOptions) -> int:
        if (res.group, res.plural) != ("", "pods"):
            return 0
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if options.grace_period_seconds is not None:
            return max(0, int(options.grace_period_seconds))
        if obj["metadata"].get("deletionTimestamp"):
            return int(obj["metadata"].get("deletionGracePeriodSeconds") or 0)
        value = spec.get("terminationGracePeriodSeconds")
        return 30 if value is None else max(0, int(value))

    def _save_deleting(self, res: ResourceDef, entry: Entry, obj: dict, changed: bool, options: DeleteOptions) -> dict:
        if options.dry_run or not changed:
            return self.served(res, Entry(obj, dumps(obj))).copy() if options.dry_run else self.served(res, entry).copy()
        obj["metadata"]["resourceVersion"] = entry.obj["metadata"]["resourceVersion"]
        saved = self.store.put(res.storage_key, obj)
        return self.served(res, saved).copy()

    def _remove(self, res: ResourceDef, obj: dict, *, dry_run: bool, result_object: bool = False) -> dict:
        meta = obj["metadata"]
        if dry_run:
            gone = obj
        else:
            entry = self.store.delete(res.storage_key, meta.get("namespace") or "", meta["name"])
            gone = entry.obj if entry else obj
            self._after_remove(res, gone)
        if result_object or res.custom or (res.group, res.plural) in RETURNS_DELETED_OBJECT:
            return self._serve_dict(res, gone)
        return E.success_status(res.group, res.plural, meta["name"], meta.get("uid"))

    def _after_remove(self, res: ResourceDef, gone: dict) -> None:
        if (res.group, res.plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self.kinds.remove_crd(gone["metadata"]["name"])
        elif res.custom:
            self._maybe_finish_crd_cleanup(res)

    # --- namespaces
    def _delete_namespace(self, res: ResourceDef, entry: Entry, obj: dict, options: DeleteOptions) -> dict:
        meta = obj["metadata"]
        name = meta["name"]
        if name in IMMORTAL_NAMESPACES:
            raise E.forbidden("", "namespaces", name, "this namespace may not be deleted")
        if meta.get("deletionTimestamp"):
            return self.served(res, entry).copy()
        self._propagation_finalizers(meta, options) if options.propagation_policy == "Orphan" else None
        meta["deletionTimestamp"] = rfc3339(now_time())
        meta["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        if not (obj.get("spec") or {}).get("finalizers") and not meta.get("finalizers"):
            return self._remove(res, obj, dry_run=options.dry_run, result_object=True)
        if options.dry_run:
            return self._serve_dict(res, obj)
        saved = self.store.put(res.storage_key, obj)
        return self.served(res, saved).copy()

    def _finalize_namespace(self, res: ResourceDef, old: Entry, new: dict, opts: WriteOptions) -> dict:
        if (res.group, res.plural) != ("", "namespaces"):
            raise E.server_not_found()
        obj = old.copy()
        want_rv = new["metadata"].get("resourceVersion")
        if want_rv and want_rv != obj["metadata"]["resourceVersion"]:
            raise E.conflict(res.group, res.plural, obj["metadata"]["name"])
        finalizers = list((new.get("spec") or {}).get("finalizers") or [])
        obj.setdefault("spec", {})["finalizers"] = finalizers
        if not finalizers:
            obj["spec"] = {k: v for k, v in obj["spec"].items() if k != "finalizers"}
        if opts.dry_run:
            return self._serve_dict(res, obj)
        if self._deletion_complete(obj):
            return self._remove(res, obj, dry_run=False, result_object=True)
        if obj == old.obj:
            return old.copy()
        saved = self.store.put(res.storage_key, obj)
        return saved.copy()

    # --- CRDs
    def _delete_crd(self, res: ResourceDef, entry: Entry, obj: dict, options: DeleteOptions) -> dict:
        meta = obj["metadata"]
        crd_name = meta["name"]
        instances = []
        for r in self.kinds.crd_resources(crd_name)[:1]:
            instances = list(self.store.scan(r.storage_key))
        if options.dry_run:
            return self._serve_dict(res, obj)
        if not instances and not meta.get("finalizers"):
            return self._remove(res, obj, dry_run=False, result_object=True)
        if not meta.get("deletionTimestamp"):
            finalizers = list(meta.get("finalizers") or [])
            if instances and crdstatus.CLEANUP_FINALIZER not in finalizers:
                finalizers.append(crdstatus.CLEANUP_FINALIZER)
            meta["finalizers"] = finalizers
            meta["deletionTimestamp"] = rfc3339(now_time())
            meta["deletionGracePeriodSeconds"] = 0
            obj["status"] = crdstatus.crd_status(obj, rfc3339(now_time()), terminating=True)
            saved = self.store.put(res.storage_key, obj)
            result = self.served(res, saved).copy()
        else:
            result = self.served(res, entry).copy()
        served = self.kinds.crd_resources(crd_name)
        if served:
            r = served[0]
            for inst in list(self.store.scan(r.storage_key)):
                m = inst.obj["metadata"]
                try:
                    self.delete(r, m.get("namespace"), m["name"], DeleteOptions(propagation_policy="Background"))
                except ApiError:
                    log.exception("deleting %s while removing CRD %s", m["name"], crd_name)
            self._maybe_finish_crd_cleanup(r)
        current = self.store.get(res.storage_key, "", crd_name)
        return self.served(res, current).copy() if current else result

    def _maybe_finish_crd_cleanup(self, res: ResourceDef) -> None:
        crd = self._crd_of(res)
        if crd is None or not crd.obj["metadata"].get("deletionTimestamp"):
            return
        if self.store.count(res.storage_key):
            return
        obj = crd.copy()
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or []
                                         if f != crdstatus.CLEANUP_FINALIZER]
        crd_res = self.kinds.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        if not obj["metadata"]["finalizers"]:
            obj["metadata"].pop("finalizers")
            self._remove(crd_res, obj, dry_run=False, result_object=True)
        else:
            self.store.put(crd_res.storage_key, obj)

    # --- collections
    def delete_collection(self, res: ResourceDef, namespace: str | None, options: DeleteOptions, *,
                          label_selector: str | None = None, field_selector: str | None = None) -> dict:
        if "deletecollection" not in res.verbs:
            raise E.method_not_allowed()
        listed = self.list(res, namespace, label_selector=label_selector, field_selector=field_selector)
        items = []
        for e in listed.entries:
            m = e.obj["metadata"]
            try:
                out = self.delete(res, m.get("namespace"), m["name"], options)
            except ApiError as err:
                if err.code == 404:
                    continue
                raise
            items.append(out if out.get("kind") != "Status" else e.copy())
        return {"kind": res.list_kind, "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)}, "items": items}


# --- path helpers -------------------------------------------------------------

def _get_path(obj: dict, path) -> object:
    cur = obj
    for k in path or ():
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def _set_path(obj: dict, path, value) -> None:
    cur = obj
    for k in path[:-1]:
        cur = cur.setdefault(k, {})
    cur[path[-1]] = value


def _merge_patch(target, patch):
    """RFC 7386 JSON merge patch (fallback while the patch module is missing)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


_GO_JSON_TYPES = {str: "string", int: "number", float: "number", bool: "bool", list: "array", dict: "object"}
# Fields decoded as map[string]string (or []byte values) by the real server: the commonest type error
# of a learner's YAML is an unquoted number in a ConfigMap's data.
_STRING_MAPS = {
    ("", "ConfigMap"): ("data", "binaryData"),
    ("", "Secret"): ("data", "stringData"),
}


def _check_string_maps(res: ResourceDef, body: dict) -> None:
    """400 as the server's JSON decoding answers for non-string values in string maps."""
    meta = body.get("metadata") or {}
    for name in ("name", "generateName", "namespace", "resourceVersion", "uid"):
        if meta.get(name) is not None and not isinstance(meta[name], str):
            _decode_error(res, "ObjectMeta", f"metadata.{name}", meta[name], "string")
    for name in ("finalizers",):
        value = meta.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            _decode_error(res, "ObjectMeta", f"metadata.{name}", value, "[]string")
    checks = [("ObjectMeta", "metadata", meta, ("labels", "annotations"))]
    fields = _STRING_MAPS.get((res.group, res.kind))
    if fields:
        checks.append((res.kind, "", body, fields))
    for struct, prefix, holder, names in checks:
        for name in names:
            value = holder.get(name)
            path = f"{prefix}.{name}" if prefix else name
            if value is None:
                continue
            if not isinstance(value, dict):
                _decode_error(res, struct, path, value, "map[string]string")
            for v in value.values():
                if v is not None and not isinstance(v, str):
                    _decode_error(res, struct, path, v, "string")


def _decode_error(res: ResourceDef, struct: str, path: str, value, go_type: str) -> None:
    got = _GO_JSON_TYPES.get(type(value), "value")
    raise E.bad_request(f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: json: cannot '
                        f"unmarshal {got} into Go struct field {struct}.{path} of type {go_type}")
