"""What the ApplicationSet controller writes: Applications to create, update or delete (pure).

As AC v3.4 ``applicationset_controller.go`` (``validateGeneratedApplications``,
``createOrUpdateInCluster``, ``createInCluster``, ``deleteInCluster``,
``removeFinalizerOnInvalidDestination``) and ``utils/createOrUpdate.go``:

- policy (``spec.syncPolicy.applicationsSync``, default ``sync``): ``sync``
  and ``create-update`` update, ``sync`` and ``create-delete`` delete,
  ``create-only`` only creates;
- a generated Application is the template's ``metadata`` and ``spec``
  (project ``default`` when empty), in the ApplicationSet's namespace, with a
  controller ownerReference to the ApplicationSet; on update the live
  Application keeps the preserved annotations (``preservedFields``,
  ``notified.notifications.argoproj.io``, ``argocd.argoproj.io/refresh``,
  ``argocd.argoproj.io/hydrate``), preserved labels, and its pre/post-delete
  finalizers; it is patched only if something differs (nil and empty
  collections are equal, as Kubernetes' semantic DeepEqual);
- an Application controlled by another owner is refused
  (``Object <ns>/<name> is already owned by another <Kind> controller <name>``);
- validation per Application: duplicate names, missing project, invalid destination.
"""
from __future__ import annotations

import copy

from gitopslab.argocd.clusters import Cluster, DestinationError, resolve_destination

API_VERSION = "argoproj.io/v1alpha1"
APPSET_KIND = "ApplicationSet"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
PRESERVED_ANNOTATIONS = ("notified.notifications.argoproj.io", "argocd.argoproj.io/refresh",
                         "argocd.argoproj.io/hydrate")
PRESERVED_FINALIZER_PREFIXES = ("pre-delete-finalizer.argocd.argoproj.io", "post-delete-finalizer.argocd.argoproj.io")
POLICIES = ("sync", "create-only", "create-update", "create-delete")


class AlreadyOwned(Exception):
    pass


# --- policy --------------------------------------------------------------------------------
def policy(appset: dict) -> str:
    """``DefaultPolicy`` with the controller's defaults (no ``--policy``, overrides allowed)."""
    value = (((appset.get("spec") or {}).get("syncPolicy") or {}).get("applicationsSync")) or "sync"
    return value if value in POLICIES else "sync"


def allow_update(value: str) -> bool:
    return value in ("sync", "create-update")


def allow_delete(value: str) -> bool:
    return value in ("sync", "create-delete")


# --- ownership -----------------------------------------------------------------------------
def owner_reference(appset: dict) -> dict:
    meta = appset.get("metadata") or {}
    return {"apiVersion": API_VERSION, "kind": APPSET_KIND, "name": meta.get("name", ""), "uid": meta.get("uid", ""),
            "controller": True, "blockOwnerDeletion": True}


def controller_of(obj: dict) -> dict | None:
    return next((r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None)


def owner_name(app: dict) -> str | None:
    """``appControllerIndexer``: the ApplicationSet controlling ``app``, if any."""
    ref = controller_of(app)
    if ref is None or ref.get("apiVersion") != API_VERSION or ref.get("kind") != APPSET_KIND:
        return None
    return ref.get("name")


def _same_object(a: dict, b: dict) -> bool:
    group = lambda ref: (ref.get("apiVersion") or "").rpartition("/")[0]  # noqa: E731
    return group(a) == group(b) and a.get("kind") == b.get("kind") and a.get("name") == b.get("name")


def set_controller_reference(obj: dict, appset: dict) -> None:
    """``controllerutil.SetControllerReference``: upsert the ApplicationSet as controller of ``obj``."""
    ref = owner_reference(appset)
    meta = obj.setdefault("metadata", {})
    existing = controller_of(obj)
    if existing is not None and not _same_object(existing, ref):
        raise AlreadyOwned(f"Object {meta.get('namespace', '')}/{meta.get('name', '')} is already owned by another "
                           f"{existing.get('kind', '')} controller {existing.get('name', '')}")
    refs = [r for r in meta.get("ownerReferences") or []]
    for i, r in enumerate(refs):
        if _same_object(r, ref):
            refs[i] = ref
            break
    else:
        refs.append(ref)
    meta["ownerReferences"] = refs


# --- generated Applications ----------------------------------------------------------------
def normalize_spec(spec: dict) -> dict:
    """``NormalizeApplicationSpec`` (project ``default``, zero syncPolicy and zero source parts dropped), with
    what Go's JSON encoding omits (null, empty strings and lists)."""
    spec = _omit_empty(copy.deepcopy(spec or {}))
    if not spec.get("project"):
        spec["project"] = "default"
    sync_policy = spec.get("syncPolicy")
    if isinstance(sync_policy, dict) and not sync_policy.get("syncOptions") and all(
            sync_policy.get(k) is None for k in ("automated", "retry", "managedNamespaceMetadata")):
        del spec["syncPolicy"]
    source = spec.get("source")
    if isinstance(source, dict):
        for part in ("kustomize", "helm", "directory"):
            if part in source and not _truthy(source[part]):
                del source[part]
    return spec


def _truthy(value) -> bool:
    if isinstance(value, dict):
        return any(_truthy(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return bool(value)


def _omit_empty(value, key: str = ""):
    if isinstance(value, dict):
        if key == "valuesObject":
            return value
        return {k: _omit_empty(v, k) for k, v in value.items() if v is not None and v != "" and v != []}
    if isinstance(value, list):
        return [_omit_empty(v) for v in value]
    return value


def new_application(generated: dict, appset: dict) -> dict:
    """The Application to create for ``generated`` (``metadata`` + ``spec`` rendered from the template)."""
    meta = generated.get("metadata") or {}
    app = {"apiVersion": API_VERSION, "kind": "Application",
           "metadata": {"name": meta.get("name", ""), "namespace": (appset.get("metadata") or {}).get("namespace")}}
    for key in ("labels", "annotations", "finalizers"):
        if meta.get(key):
            app["metadata"][key] = copy.deepcopy(meta[key])
    app["spec"] = normalize_spec(generated.get("spec") or {})
    if generated.get("operation"):
        app["operation"] = copy.deepcopy(generated["operation"])
    set_controller_reference(app, appset)
    return app


def updated_application(live: dict, generated: dict, appset: dict) -> dict:
    """The mutate function of ``createOrUpdateInCluster`` applied to a copy of ``live``."""
    found = copy.deepcopy(live)
    gen_meta = copy.deepcopy(generated.get("metadata") or {})
    spec = appset.get("spec") or {}
    preserved = spec.get("preservedFields") or {}
    live_meta = live.get("metadata") or {}
    found["spec"] = normalize_spec(generated.get("spec") or {})
    if generated.get("operation"):
        found["operation"] = copy.deepcopy(generated["operation"])
    annotations = dict(gen_meta.get("annotations") or {})
    for key in list(preserved.get("annotations") or []) + list(PRESERVED_ANNOTATIONS):
        if key in (live_meta.get("annotations") or {}):
            annotations[key] = live_meta["annotations"][key]
    labels = dict(gen_meta.get("labels") or {})
    for key in preserved.get("labels") or []:
        if key in (live_meta.get("labels") or {}):
            labels[key] = live_meta["labels"][key]
    finalizers = list(gen_meta.get("finalizers") or [])
    for prefix in PRESERVED_FINALIZER_PREFIXES:
        finalizers += [f for f in live_meta.get("finalizers") or [] if f.startswith(prefix)]
    meta = found.setdefault("metadata", {})
    for key, value in (("annotations", annotations), ("labels", labels), ("finalizers", finalizers)):
        if value:
            meta[key] = value
        else:
            meta.pop(key, None)
    set_controller_reference(found, appset)
    return found


def semantically_equal(a, b) -> bool:
    """Kubernetes' semantic DeepEqual on JSON values: null, empty maps and empty lists are equal."""
    if _empty(a) and _empty(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return all(semantically_equal(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(semantically_equal(x, y) for x, y in zip(a, b))
    return a == b


def _empty(value) -> bool:
    return value is None or value == {} or value == []


def needs_update(live: dict, desired: dict) -> bool:
    live = dict(live, spec=normalize_spec(live.get("spec") or {}))
    return not semantically_equal(_comparable(live), _comparable(desired))


def _comparable(app: dict) -> dict:
    meta = app.get("metadata") or {}
    return {"metadata": {k: meta.get(k) for k in ("labels", "annotations", "finalizers", "ownerReferences")},
            "spec": app.get("spec"), "operation": app.get("operation")}


def merge_patch(old, new):
    """The JSON merge patch (RFC 7386) turning ``old`` into ``new`` (``client.MergeFrom``)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    patch: dict = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = copy.deepcopy(value)
        elif old[key] != value:
            if isinstance(old[key], dict) and isinstance(value, dict):
                patch[key] = merge_patch(old[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch


def update_patch(live: dict, desired: dict) -> dict:
    """The merge patch of the fields the ApplicationSet controller owns."""
    old, new = _comparable(live), _comparable(desired)
    old["spec"] = live.get("spec")
    return {k: v for k, v in merge_patch(old, new).items() if v != {}}


# --- validation ----------------------------------------------------------------------------
def validation_errors(generated: list[dict], appset_name: str, projects: frozenset | set,
                      clusters: list[Cluster]) -> dict[str, str]:
    """``validateGeneratedApplications``: error message per Application name."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for app in generated:
        name = (app.get("metadata") or {}).get("name", "")
        if name in seen:
            errors[name] = f"ApplicationSet {appset_name} contains applications with duplicate name: {name}"
            continue
        seen.add(name)
        spec = app.get("spec") or {}
        project = spec.get("project") or ""
        if project not in projects:
            errors[name] = f"application references project {project} which does not exist"
            continue
        try:
            resolve_destination(spec.get("destination") or {}, clusters)
        except DestinationError as e:
            errors[name] = f"application destination spec is invalid: {e}"
    return errors


def validation_message(errors: dict[str, str]) -> str:
    """The condition message: the last error by name, ``(and N more)`` when several."""
    names = sorted(errors)
    message = errors[names[-1]]
    if len(names) > 1:
        message = f"{message} (and {len(names) - 1} more)"
    return message


def destination_is_valid(app: dict, clusters: list[Cluster]) -> bool:
    """``removeFinalizerOnInvalidDestination``'s test: the destination resolves to a known cluster."""
    try:
        cluster = resolve_destination((app.get("spec") or {}).get("destination") or {}, clusters)
    except DestinationError:
        return False
    return any(cluster.server == c.server or (cluster.name and c.name and cluster.name == c.name) for c in clusters)
