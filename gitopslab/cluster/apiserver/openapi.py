"""OpenAPI v3 documents (``/openapi/v3`` and ``/openapi/v3/<api|apis/g>/<v>``).

Built from our kinds, not vendored: the schemas of built-in kinds come from
the official Python client's models (field names, types, descriptions,
required fields), completed with the strategic-merge-patch and list
extensions of k8s.io/api v0.32 (``openapi_data/patch_meta.json``, see
``generate_patch_meta.py``). Custom resources use their CRD's
``openAPIV3Schema``.

What kubectl 1.32 needs from them:
- ``--validate=strict``: a PATCH operation carrying
  ``x-kubernetes-group-version-kind`` and a ``fieldValidation`` parameter,
  so that validation is left to the server;
- ``apply``: for built-ins, ``application/strategic-merge-patch+json`` in the
  PATCH request body and the patch extensions on the schemas;
- ``explain``: schemas with descriptions, types, ``required`` and
  ``x-kubernetes-group-version-kind``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import typing
from functools import lru_cache
from pathlib import Path

from gitopslab.cluster.apiserver.discovery import GIT_VERSION, subresource_kind
from gitopslab.cluster.apiserver.model_docs import field_doc, model_class, type_doc
from gitopslab.cluster.kinds import KindRegistry, ResourceDef

PATCH_META = json.loads((Path(__file__).parent / "openapi_data" / "patch_meta.json").read_text())["packages"]

META_PACKAGE = "meta/v1"
META_STRUCTS = {
    "ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference", "ManagedFieldsEntry",
    "Condition", "Status", "StatusDetails", "StatusCause", "DeleteOptions", "Preconditions", "FieldSelectorRequirement",
}
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_CLASS_RE = re.compile(r"^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _wrapped_ref(name: str) -> dict:
    """kube-openapi v3 style: ``allOf`` around the ref so siblings (description, default) stay valid."""
    return {"default": {}, "allOf": [_ref(name)]}


def definition_name(package: str, struct: str) -> str:
    if package == META_PACKAGE:
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{struct}"
    if package.startswith("apiextensions/"):
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{package.split('/')[1]}.{struct}"
    return f"io.k8s.api.{package.replace('/', '.')}.{struct}"


def _group_dir(group: str) -> str:
    """``apps`` → ``apps``, ``networking.k8s.io`` → ``networking``, ``rbac.authorization.k8s.io`` → ``rbac``."""
    return group.split(".")[0] if group else "core"


class _ModelWalker:
    """Turns Python client models into OpenAPI schemas, collecting every referenced definition."""

    def __init__(self, home_package: str):
        self.home = home_package
        self.schemas: dict[str, dict] = {}
        self.names: dict[str, str] = {}  # python class name -> definition name

    def package_of(self, class_name: str) -> tuple[str, str]:
        m = _CLASS_RE.match(class_name)
        if not m:
            return self.home, class_name
        prefix, version, struct = m.group(1), m.group(2).lower(), m.group(3)
        if struct in META_STRUCTS and version == "v1" and not prefix:
            return META_PACKAGE, struct
        if prefix:
            return f"{prefix.lower()}/{version}", struct
        candidates = [p for p, d in PATCH_META.items() if p.endswith("/" + version) and struct in d["structs"]]
        for preferred in (self.home, f"core/{version}"):
            if preferred in candidates:
                return preferred, struct
        if candidates:
            return candidates[0], struct
        return f"core/{version}", struct  # nested types newer than v0.32 are core ones

    def definition(self, class_name: str) -> str:
        """Register ``class_name`` (and what it references); return its definition name."""
        if class_name in self.names:
            return self.names[class_name]
        package, struct = self.package_of(class_name)
        name = definition_name(package, struct)
        self.names[class_name] = name
        cls = model_class(class_name)
        schema: dict = {"description": type_doc(class_name), "type": "object"}
        self.schemas[name] = schema  # registered before recursion: models are cyclic (JSONSchemaProps)
        if cls is None:
            return name
        known_fields = (PATCH_META.get(package) or {}).get("fields", {}).get(struct)
        if package == META_PACKAGE:
            known_fields = None  # only the extensions are recorded for apimachinery types
        extensions = known_fields or {}
        properties, required = {}, []
        for py_name, json_name in cls.attribute_map.items():
            if known_fields is not None and json_name not in known_fields and json_name not in ("apiVersion", "kind"):
                continue  # added after Kubernetes 1.32
            field = cls.model_fields.get(py_name)
            prop = self.type_schema(cls.openapi_types[py_name], field)
            description = (field.description if field else "") or ""
            if description:
                prop = {"description": description, **prop}
            prop.update(extensions.get(json_name, {}))
            properties[json_name] = prop
            if field is not None and field.is_required():
                required.append(json_name)
        schema["properties"] = dict(sorted(properties.items()))
        if required:
            schema["required"] = sorted(required)
        return name

    def type_schema(self, type_name: str, field=None) -> dict:
        t = type_name.strip()
        if t in ("str",):
            return {"type": "string", "default": ""} if field is not None and field.is_required() else {"type": "string"}
        if t == "int":
            return {"type": "integer", "format": "int32"}
        if t == "float":
            return {"type": "number", "format": "double"}
        if t == "bool":
            return {"type": "boolean"}
        if t == "datetime":
            return {"type": "string", "format": "date-time"}
        if t == "bytes":
            return {"type": "string", "format": "byte"}
        if t == "object":
            if field is not None and _is_int_or_string(field.annotation):
                self.schemas.setdefault(INT_OR_STRING, {
                    "description": "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
                    "type": "string", "format": "int-or-string"})
                return {"allOf": [_ref(INT_OR_STRING)]}
            return {"type": "object"}
        m = re.match(r"^List\[(.*)\]$", t)
        if m:
            return {"type": "array", "items": self._item(m.group(1))}
        m = re.match(r"^Dict\[str, (.*)\]$", t)
        if m:
            return {"type": "object", "additionalProperties": self._item(m.group(1))}
        return _wrapped_ref(self.definition(t))

    def _item(self, type_name: str) -> dict:
        schema = self.type_schema(type_name)
        if "$ref" in str(schema.get("allOf", "")):
            return schema
        if schema.get("type") == "string":
            return {**schema, "default": ""}
        return schema


def _is_int_or_string(annotation) -> bool:
    args = {a for a in typing.get_args(annotation)}
    flat = set()
    for a in args:
        flat.update(typing.get_args(a) or (a,))
    return int in flat and str in flat


# --- root kinds ------------------------------------------------------------------

def python_model_name(group: str, version: str, kind: str) -> str | None:
    v = version[0].upper() + version[1:]
    prefix = _group_dir(group).capitalize()
    for candidate in (f"{prefix}{v}{kind}", f"{v}{kind}"):
        if model_class(candidate) is not None:
            return candidate
    return None


def _gvk_ext(group: str, version: str, kind: str) -> list[dict]:
    return [{"group": group, "kind": kind, "version": version}]


def _home_package(group: str, version: str) -> str:
    return f"{_group_dir(group)}/{version}"


def _crd_schema(res: ResourceDef, walker: _ModelWalker) -> str:
    """Component schema of a custom resource from its CRD's openAPIV3Schema."""
    name = f"{'.'.join(reversed(res.group.split('.')))}.{res.version}.{res.kind}"
    schema = copy.deepcopy(res.schema) if res.schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"description": field_doc("V1Deployment", "apiVersion"), "type": "string"}
    props["kind"] = {"description": field_doc("V1Deployment", "kind"), "type": "string"}
    props["metadata"] = {"description": field_doc("V1Deployment", "metadata"),
                         **_wrapped_ref(walker.definition("V1ObjectMeta"))}
    schema["type"] = "object"
    schema["x-kubernetes-group-version-kind"] = _gvk_ext(res.group, res.version, res.kind)
    walker.schemas[name] = schema
    walker.schemas[name + "List"] = {
        "description": f"{res.kind}List is a list of {res.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": props["apiVersion"],
            "items": {"description": f"List of {res.plural.lower()}. More info: https://kubernetes.io/docs/reference/using-api/api-concepts/#collections",
                      "type": "array", "items": _ref(name)},
            "kind": props["kind"],
            "metadata": {"description": "Standard list metadata.", **_wrapped_ref(walker.definition("V1ListMeta"))},
        },
        "x-kubernetes-group-version-kind": _gvk_ext(res.group, res.version, res.list_kind),
    }
    return name


def _builtin_schema(group: str, version: str, kind: str, walker: _ModelWalker) -> str | None:
    model = python_model_name(group, version, kind)
    if model is None:
        return None
    name = walker.definition(model)
    walker.schemas[name]["x-kubernetes-group-version-kind"] = _gvk_ext(group, version, kind)
    return name


# --- paths -------------------------------------------------------------------------

def _param(name: str, where: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    p = {"name": name, "in": where, "description": description, "schema": schema or {"type": "string", "uniqueItems": True}}
    if required:
        p["required"] = True
    return p


DRY_RUN = _param("dryRun", "query", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed")
FIELD_MANAGER = _param("fieldManager", "query", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.")
FIELD_VALIDATION = _param("fieldValidation", "query", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.")
FORCE = _param("force", "query", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", {"type": "boolean", "uniqueItems": True})
PRETTY = _param("pretty", "query", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user explicitly requests it.")
NAMESPACE = _param("namespace", "path", "object name and auth scope, such as for teams and projects", required=True)
LIST_PARAMS = [
    _param("allowWatchBookmarks", "query", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", {"type": "boolean", "uniqueItems": True}),
    _param("continue", "query", "The continue option should be set when retrieving more results from the server."),
    _param("fieldSelector", "query", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
    _param("labelSelector", "query", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
    _param("limit", "query", "limit is a maximum number of responses to return for a list call.", {"type": "integer", "uniqueItems": True}),
    _param("resourceVersion", "query", "resourceVersion sets a constraint on what resource versions a request may be served from."),
    _param("resourceVersionMatch", "query", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
    _param("sendInitialEvents", "query", "`sendInitialEvents=true` may be set together with `watch=true`.", {"type": "boolean", "uniqueItems": True}),
    _param("timeoutSeconds", "query", "Timeout for the list/watch call.", {"type": "integer", "uniqueItems": True}),
    _param("watch", "query", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", {"type": "boolean", "uniqueItems": True}),
]
RESPONSE_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_TYPES_BUILTIN = ("application/apply-patch+yaml", "application/json-patch+json",
                       "application/merge-patch+json", "application/strategic-merge-patch+json")
PATCH_TYPES_CUSTOM = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")
PATCH_SCHEMA = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"


def _responses(schema_name: str, codes=("200",)) -> dict:
    out = {code: {"description": {"200": "OK", "201": "Created", "202": "Accepted"}[code],
                  "content": {t: {"schema": _ref(schema_name)} for t in RESPONSE_TYPES}} for code in codes}
    out["401"] = {"description": "Unauthorized"}
    return out


def _op_id(verb: str, res: ResourceDef, namespaced: bool, suffix: str = "", all_namespaces: bool = False) -> str:
    gv = (_group_dir(res.group).capitalize() if res.group else "Core") + res.version.capitalize()
    scope = "Namespaced" if namespaced else ""
    tail = "ForAllNamespaces" if all_namespaces else ""
    return f"{verb}{gv}{scope}{res.kind}{suffix}{tail}"


def _operation(action: str, verb: str, description: str, res: ResourceDef, gvk: tuple[str, str, str],
               op_id: str, params: list[dict], responses: dict, body: dict | None = None) -> dict:
    op = {"tags": [f"{_group_dir(res.group) if res.group else 'core'}_{res.version}"], "description": description,
          "operationId": op_id}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    op["responses"] = responses
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = {"group": gvk[0], "version": gvk[1], "kind": gvk[2]}
    return op


def _body(schema_name: str, types=("*/*",)) -> dict:
    return {"content": {t: {"schema": _ref(schema_name)} for t in types}, "required": True}


def _resource_paths(res: ResourceDef, schema_name: str, list_schema: str, kinds_scale: dict) -> dict:
    prefix = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    ns = "/namespaces/{namespace}" if res.namespaced else ""
    collection = f"{prefix}{ns}/{res.plural}"
    item = f"{collection}/{{name}}"
    gvk = (res.group, res.version, res.kind)
    nsd = res.namespaced
    patch_types = PATCH_TYPES_CUSTOM if res.custom else PATCH_TYPES_BUILTIN
    name_param = _param("name", "path", f"name of the {res.kind}", required=True)
    scope_params = [NAMESPACE] if nsd else []
    verbs = set(res.verbs)
    paths: dict[str, dict] = {}

    coll: dict = {"description": f"list or create objects of kind {res.kind}"}
    if "list" in verbs:
        coll["get"] = _operation("list", "list", f"list or watch objects of kind {res.kind}", res, gvk,
                                 _op_id("list", res, nsd), LIST_PARAMS, _responses(list_schema))
    if "create" in verbs:
        coll["post"] = _operation("post", "create", f"create a {res.kind}", res, gvk, _op_id("create", res, nsd),
                                  [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], _responses(schema_name, ("200", "201", "202")),
                                  _body(schema_name))
    if "deletecollection" in verbs:
        coll["delete"] = _operation("deletecollection", "deletecollection", f"delete collection of {res.kind}", res, gvk,
                                    _op_id("deletecollection", res, nsd), LIST_PARAMS, _responses("io.k8s.apimachinery.pkg.apis.meta.v1.Status"))
    coll["parameters"] = scope_params + [PRETTY]
    paths[collection] = coll

    one: dict = {"description": f"operations on a {res.kind}"}
    if "get" in verbs:
        one["get"] = _operation("get", "read", f"read the specified {res.kind}", res, gvk, _op_id("read", res, nsd), [],
                                _responses(schema_name))
    if "update" in verbs:
        one["put"] = _operation("put", "replace", f"replace the specified {res.kind}", res, gvk, _op_id("replace", res, nsd),
                                [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], _responses(schema_name, ("200", "201")),
                                _body(schema_name))
    if "delete" in verbs:
        one["delete"] = _operation("delete", "delete", f"delete a {res.kind}", res, gvk, _op_id("delete", res, nsd),
                                   [DRY_RUN], _responses("io.k8s.apimachinery.pkg.apis.meta.v1.Status", ("200", "202")))
    if "patch" in verbs:
        one["patch"] = _operation("patch", "patch", f"partially update the specified {res.kind}", res, gvk,
                                  _op_id("patch", res, nsd), [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
                                  _responses(schema_name, ("200", "201")), _body(PATCH_SCHEMA, patch_types))
    one["parameters"] = [name_param] + scope_params + [PRETTY]
    paths[item] = one

    if nsd and "list" in verbs:
        paths[f"{prefix}/{res.plural}"] = {
            "description": f"list objects of kind {res.kind}",
            "get": _operation("list", "list", f"list or watch objects of kind {res.kind}", res, gvk,
                              _op_id("list", res, False, all_namespaces=True), LIST_PARAMS, _responses(list_schema)),
            "parameters": [PRETTY],
        }

    for sub in ("status", "scale"):
        if sub not in res.subresources:
            continue
        sub_gvk = subresource_kind(res, sub)
        sub_schema = kinds_scale["Scale"] if sub == "scale" else schema_name
        suffix = sub.capitalize()
        paths[f"{item}/{sub}"] = {
            "description": f"{sub} of the specified {res.kind}",
            "get": _operation("get", "read", f"read {sub} of the specified {res.kind}", res, sub_gvk,
                              _op_id("read", res, nsd, suffix), [], _responses(sub_schema)),
            "put": _operation("put", "replace", f"replace {sub} of the specified {res.kind}", res, sub_gvk,
                              _op_id("replace", res, nsd, suffix), [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION],
                              _responses(sub_schema, ("200", "201")), _body(sub_schema)),
            "patch": _operation("patch", "patch", f"partially update {sub} of the specified {res.kind}", res, sub_gvk,
                                _op_id("patch", res, nsd, suffix), [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
                                _responses(sub_schema, ("200", "201")), _body(PATCH_SCHEMA, patch_types)),
            "parameters": [name_param] + scope_params + [PRETTY],
        }
    return paths


# --- documents -------------------------------------------------------------------------

def _fingerprint(kinds: KindRegistry, group: str, version: str) -> str:
    parts = []
    for r in kinds.resources_in(group, version):
        parts.append([r.group, r.version, r.kind, r.plural, r.namespaced, list(r.verbs), list(r.subresources),
                      r.custom, r.schema])
    return json.dumps(parts, sort_keys=True, default=str)


def v3_document(kinds: KindRegistry, group: str, version: str) -> dict | None:
    """The OpenAPI 3 document of one group/version, or None if not served.

    Cached per (group, version, content of the served resources), so a CRD
    change yields a new document (and a new hash in the index).
    """
    if not kinds.resources_in(group, version):
        return None
    return json.loads(_document_json(group, version, _fingerprint(kinds, group, version)))


def v3_document_json(kinds: KindRegistry, group: str, version: str) -> str | None:
    """Same as :func:`v3_document`, already serialised (what the server sends)."""
    if not kinds.resources_in(group, version):
        return None
    return _document_json(group, version, _fingerprint(kinds, group, version))


def _defs_from_fingerprint(fingerprint: str) -> list[ResourceDef]:
    out = []
    for g, v, kind, plural, namespaced, verbs, subs, custom, schema in json.loads(fingerprint):
        out.append(ResourceDef(g, v, kind, plural, namespaced, verbs=tuple(verbs), subresources=tuple(subs),
                               schema=schema, custom=custom))
    return out


@lru_cache(maxsize=128)
def _document_json(group: str, version: str, fingerprint: str) -> str:
    resources = _defs_from_fingerprint(fingerprint)
    walker = _ModelWalker(_home_package(group, version))
    paths: dict[str, dict] = {}
    scale = {"Scale": walker.definition("V1Scale")} if any("scale" in r.subresources for r in resources) else {}
    if scale:
        walker.schemas[scale["Scale"]]["x-kubernetes-group-version-kind"] = _gvk_ext("autoscaling", "v1", "Scale")
    for res in resources:
        if res.custom:
            name = _crd_schema(res, walker)
            list_name = name + "List"
        else:
            name = _builtin_schema(res.group, res.version, res.kind, walker)
            if name is None:
                continue
            list_name = _builtin_schema(res.group, res.version, res.list_kind, walker) or name
        paths.update(_resource_paths(res, name, list_name, scale))
    for extra in ("V1Status", "V1DeleteOptions"):
        walker.definition(extra)
    walker.schemas[PATCH_SCHEMA] = {
        "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
        "type": "object"}
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION.split("+")[0]},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(walker.schemas.items())),
            "securitySchemes": {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                                "name": "authorization", "in": "header"}},
        },
    }
    return json.dumps(doc, separators=(",", ":"))


def document_hash(document_json: str) -> str:
    """The ``hash`` query value of the index: upper-case hex SHA-512 of the served bytes (as kube-openapi)."""
    return hashlib.sha512(document_json.encode()).hexdigest().upper()


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_index(kinds: KindRegistry) -> dict:
    """``/openapi/v3``: one entry per served group/version, with its content hash."""
    paths = {}
    for group, versions in kinds.group_versions().items():
        for version in versions:
            body = v3_document_json(kinds, group, version)
            if body is None:
                continue
            path = gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(body)}"}
    return {"paths": dict(sorted(paths.items()))}


def parse_gv_path(path: str) -> tuple[str, str] | None:
    """``api/v1`` → ("", "v1"); ``apis/apps/v1`` → ("apps", "v1"); anything else → None."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis":
        return parts[1], parts[2]
    return None
