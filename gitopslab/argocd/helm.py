"""Render a Helm chart as Argo CD's repo server does (``helm template``), with real Helm.

Uses helm-python-sdk (Helm v4's Go SDK through its C ABI, no ``helm``
binary). Values are composed as Argo CD passes them: value files in order,
then ``values``/``valuesObject``, then parameters (``--set`` or
``--set-string``, with Argo CD's comma escaping). CRDs of ``crds/`` come
first (``--include-crds``); ``NOTES.txt`` is not a manifest. Hooks are kept
with their annotations: deciding what to do with them is the sync's job.

Results are cached by a hash of the chart's files and of every input.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

import yaml

# Helm's releaseutil.InstallOrder: the order `helm template` prints kinds in.
INSTALL_ORDER = [
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
]
_CACHE_SIZE = 256
_cache: OrderedDict[str, list[dict]] = OrderedDict()
_lock = threading.Lock()


class ChartRenderError(Exception):
    """Helm's error, worded as ``helm template`` prints it (without ``Error: ``)."""


def render_chart(chart_dir: str | Path, release_name: str, namespace: str, values: dict | None = None,
                 set_params: Iterable[tuple[str, str, bool] | str] = (), value_files: Iterable[str | Path] = ()
                 ) -> list[dict]:
    """The manifests ``helm template`` renders, as dicts, in Helm's install order."""
    chart_dir = Path(chart_dir)
    set_params = [_param(p) for p in set_params]
    files = [_resolve_value_file(chart_dir, f) for f in value_files]
    key = _cache_key(chart_dir, release_name, namespace, values or {}, set_params, files)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return copy.deepcopy(_cache[key])
    manifests = _render(chart_dir, release_name, namespace, compose_values(files, values or {}, set_params))
    with _lock:
        _cache[key] = manifests
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return copy.deepcopy(manifests)


def _param(param: tuple[str, str, bool] | str) -> tuple[str, str, bool]:
    """A parameter as (name, value, force_string); a ``"name=value"`` string is a plain ``--set``."""
    if isinstance(param, str):
        name, _, value = param.partition("=")
        return name, value, False
    name, value, force_string = param
    return str(name), str(value), bool(force_string)


def compose_values(value_files: list[Path], values: dict, set_params: list[tuple[str, str, bool]]) -> dict:
    import helm_python

    merged: dict = {}
    for path in value_files:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ChartRenderError(f"failed to parse {path}: {e}") from e
        merged = merge_maps(merged, loaded if isinstance(loaded, dict) else {})
    merged = merge_maps(merged, copy.deepcopy(values))
    for name, value, force_string in set_params:
        expression = f"{name}={clean_set_parameter(value)}"
        try:
            parsed = (helm_python.parse_set_string_values if force_string else helm_python.parse_set_string)(expression)
        except helm_python.HelmError as e:
            raise ChartRenderError(f"failed parsing --set data: {e}") from e
        merged = merge_maps(merged, parsed)
    return merged


def merge_maps(a: dict, b: dict) -> dict:
    """Helm's ``mergeMaps``: maps merge recursively, anything else in ``b`` wins."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


def clean_set_parameter(value: str) -> str:
    """Argo CD's ``cleanSetParameters``: escape commas unless the value is a ``{list}``."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return re.sub(r"(?<!\\),", r"\\,", value)


def _render(chart_dir: Path, release_name: str, namespace: str, values: dict) -> list[dict]:
    import helm_python

    try:
        with helm_python.Chart.load(chart_dir) as chart:
            crds = [c["data"] for c in chart.crds]
            rendered = chart.render(values=values, name=release_name, namespace=namespace, is_install=True)
    except helm_python.HelmError as e:
        raise ChartRenderError(str(e)) from e
    documents: list[tuple[int, str, int, dict]] = []
    for source in crds:
        documents += [(-1, "", i, d) for i, d in enumerate(_load_all(source, "crds"))]
    for path in sorted(rendered):
        if path.endswith("NOTES.txt") or os.path.basename(path).startswith("_"):
            continue
        for i, doc in enumerate(_load_all(rendered[path], path)):
            documents.append((_kind_rank(doc.get("kind", "")), path, i, doc))
    return [doc for *_, doc in sorted(documents, key=lambda d: d[:3])]


def _load_all(text: str, source: str) -> list[dict]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        raise ChartRenderError(f"YAML parse error on {source}: {e}") from e
    objects = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ChartRenderError(f"YAML parse error on {source}: not a Kubernetes object")
        objects.append(doc)
    return objects


def _kind_rank(kind: str) -> int:
    return INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)


def _resolve_value_file(chart_dir: Path, value_file: str | Path) -> Path:
    path = Path(value_file)
    path = path if path.is_absolute() else chart_dir / path
    if not path.is_file():
        raise ChartRenderError(f"open {value_file}: no such file or directory")
    return path


def _cache_key(chart_dir: Path, release: str, namespace: str, values: dict,
               set_params: list[tuple[str, str, bool]], value_files: list[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(chart_hash(chart_dir).encode())
    digest.update(json.dumps([release, namespace, values, set_params], sort_keys=True, default=str).encode())
    for path in value_files:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def chart_hash(chart_dir: Path) -> str:
    """sha256 over the chart's file names and contents."""
    digest = hashlib.sha256()
    if not chart_dir.is_dir():
        raise ChartRenderError(f"path {chart_dir} not found")
    for dirpath, dirnames, filenames in os.walk(chart_dir):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            digest.update(path.relative_to(chart_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
