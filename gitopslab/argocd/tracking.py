"""Resource tracking: which Application owns a live object (Argo CD ``resource_tracking.go``), pure, no I/O.

Tracking id (3.x default method ``annotation``)::

    argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>

The core group is empty (``guestbook:/Service:default/guestbook-ui``); a
manifest without namespace gets the destination namespace (cluster-scoped
objects too). Method ``label`` writes ``app.kubernetes.io/instance: <app>``
(the ≤2.14 default); ``annotation+label`` writes both. Applications outside
the control-plane namespace are tracked as ``<appNamespace>_<app>``
(``instance_name``). CRDs get no tracking (reposerver).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

TRACKING_ID = "argocd.argoproj.io/tracking-id"
INSTALLATION_ID = "argocd.argoproj.io/installation-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"

ANNOTATION = "annotation"
LABEL = "label"
ANNOTATION_AND_LABEL = "annotation+label"
DEFAULT_METHOD = ANNOTATION

LABEL_MAX_LENGTH = 63
_OK_END = re.compile(r"[a-zA-Z0-9]$")


class TrackingError(ValueError):
    """A tracking value cannot be built or parsed."""


WRONG_FORMAT = "wrong resource tracking format, should be <application-name>:<group>/<kind>:<namespace>/<name>"


@dataclass(frozen=True)
class TrackingId:
    """Parsed ``<app>:<group>/<kind>:<namespace>/<name>``."""

    app: str
    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.app}:{self.group}/{self.kind}:{self.namespace}/{self.name}"


def instance_name(app_name: str, app_namespace: str = "", control_plane_namespace: str = "argocd") -> str:
    """Name used in tracking values: ``<ns>_<app>`` for apps outside the control-plane namespace."""
    if not app_namespace or app_namespace == control_plane_namespace:
        return app_name
    return f"{app_namespace}_{app_name}"


def parse_tracking_id(value: str) -> TrackingId:
    parts = value.split(":", 2)
    if len(parts) != 3:
        raise TrackingError(WRONG_FORMAT)
    group_kind, ns_name = parts[1].split("/"), parts[2].split("/")
    if len(group_kind) != 2 or len(ns_name) != 2:
        raise TrackingError(WRONG_FORMAT)
    return TrackingId(parts[0], group_kind[0], group_kind[1], ns_name[0], ns_name[1])


def tracking_id_for(obj: dict, app_name: str, dest_namespace: str = "") -> TrackingId:
    """The id Argo CD writes for a manifest (namespace defaults to the destination namespace)."""
    metadata = obj.get("metadata") or {}
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    return TrackingId(
        app_name, group, str(obj.get("kind") or ""), metadata.get("namespace") or dest_namespace,
        str(metadata.get("name") or ""),
    )


def is_crd(obj: dict) -> bool:
    return obj.get("kind") == "CustomResourceDefinition" and str(obj.get("apiVersion", "")).startswith(
        "apiextensions.k8s.io/"
    )


def truncate_label(value: str) -> str:
    """Fit a label value in 63 chars without a trailing special character."""
    if len(value) <= LABEL_MAX_LENGTH:
        return value
    value = value[:LABEL_MAX_LENGTH]
    while not _OK_END.search(value):
        if len(value) <= 1:
            raise TrackingError("unable to truncate label to not end with a special character")
        value = value[:-1]
    return value


def set_tracking(
    obj: dict,
    app_name: str,
    method: str = DEFAULT_METHOD,
    dest_namespace: str = "",
    *,
    label_key: str = INSTANCE_LABEL,
    installation_id: str = "",
) -> dict:
    """A copy of ``obj`` with the app's tracking metadata, as the reposerver writes it.

    ``app_name`` is the instance name (see ``instance_name``). CRDs are
    returned unchanged (Argo CD does not track them).
    """
    obj = copy.deepcopy(obj)
    if is_crd(obj):
        return obj
    metadata = obj.setdefault("metadata", {})
    if method != LABEL:  # annotation, annotation+label, and the default for unknown values
        annotations = dict(metadata.get("annotations") or {})
        if installation_id:
            annotations[INSTALLATION_ID] = installation_id
        else:
            annotations.pop(INSTALLATION_ID, None)
        annotations[TRACKING_ID] = str(tracking_id_for(obj, app_name, dest_namespace))
        metadata["annotations"] = annotations
    if method == LABEL:
        metadata["labels"] = {**(metadata.get("labels") or {}), label_key: app_name}
    elif method == ANNOTATION_AND_LABEL:
        metadata["labels"] = {**(metadata.get("labels") or {}), label_key: truncate_label(app_name)}
    return obj


def _tracking_annotation(obj: dict, installation_id: str = "") -> TrackingId | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if installation_id and annotations.get(INSTALLATION_ID) != installation_id:
        return None
    try:
        return parse_tracking_id(str(annotations.get(TRACKING_ID) or ""))
    except TrackingError:
        return None


def owning_app(
    obj: dict, method: str = DEFAULT_METHOD, *, label_key: str = INSTANCE_LABEL, installation_id: str = ""
) -> str | None:
    """Instance name of the application tracking ``obj``, or None (``GetAppName``)."""
    if method == LABEL:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return labels.get(label_key) or None
    found = _tracking_annotation(obj, installation_id)
    if found is None:
        return None
    return found.app or None


def is_self_referenced(
    live: dict | None,
    config: dict | None = None,
    app_name: str = "",
    method: str = DEFAULT_METHOD,
    *,
    installation_id: str = "",
) -> bool:
    """Is ``live`` really the object its tracking id describes (``isSelfReferencedObj``)?

    An object copied by hand with a foreign tracking id (other name, kind or
    namespace) is not ours: it gets no sync status and is never pruned. The
    label method carries no such information, so everything counts as ours.
    ``config`` (the desired object, namespace already resolved for namespaced
    kinds, as the controller does) is preferred to the live annotation, so an
    apiVersion group change (extensions -> networking.k8s.io) is handled.
    """
    if live is None or method == LABEL:
        return True
    if config is not None:
        return _matches(live, tracking_id_for(config, app_name, ""))
    found = _tracking_annotation(live, installation_id)
    return True if found is None else _matches(live, found)


def _matches(obj: dict, tracking: TrackingId) -> bool:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or ""
    ours = tracking_id_for(obj, tracking.app, "")
    # Cluster-scoped objects carry the destination namespace in their id but have none.
    return (namespace in ("", tracking.namespace) and ours.name == tracking.name
            and ours.group == tracking.group and ours.kind == tracking.kind)


def normalize_for_diff(config: dict | None, live: dict | None, method: str = DEFAULT_METHOD,
                       *, label_key: str = INSTANCE_LABEL) -> dict | None:
    """Copy of ``live`` adjusted for a label -> annotation tracking migration (``Normalize``).

    A live object still tracked by label only gets the desired tracking
    annotation, and loses the label when the config has none, so switching
    method does not make every resource OutOfSync.
    """
    if method == LABEL or live is None or config is None:
        return live
    live_labels = (live.get("metadata") or {}).get("labels") or {}
    if not live_labels.get(label_key) or is_crd(live):
        return live
    live = copy.deepcopy(live)
    metadata = live.setdefault("metadata", {})
    annotations = dict(metadata.get("annotations") or {})
    if not annotations.get(TRACKING_ID):
        config_annotations = (config.get("metadata") or {}).get("annotations") or {}
        annotations[TRACKING_ID] = config_annotations.get(TRACKING_ID, "")
        metadata["annotations"] = annotations
    if not ((config.get("metadata") or {}).get("labels") or {}).get(label_key):
        labels = {k: v for k, v in live_labels.items() if k != label_key}
        if labels:
            metadata["labels"] = labels
        else:
            metadata.pop("labels", None)
    return live
