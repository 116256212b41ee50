"""Kustomize sources: ``kubectl kustomize <path>`` where kubectl is present."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from gitopslab.argocd.manifesterrors import unknown

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_kustomization(app_path: Path) -> bool:
    return any((app_path / name).is_file() for name in KUSTOMIZATION_FILES)


def render(app_path: Path, kustomize: dict | None = None) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise unknown('error getting kustomize binary path: exec: "kustomize": executable file not found in $PATH')
    args = [kubectl, "kustomize", str(app_path)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=90)
    if proc.returncode != 0:
        raise unknown(f"`kustomize build {app_path.name}` failed exit status {proc.returncode}: "
                      f"{proc.stderr.strip()}")
    objects = [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]
    return _apply_overrides(objects, kustomize or {})


def _apply_overrides(objects: list[dict], kustomize: dict) -> list[dict]:
    """The few ``spec.source.kustomize`` fields applied after the build."""
    prefix, suffix = kustomize.get("namePrefix", ""), kustomize.get("nameSuffix", "")
    labels = kustomize.get("commonLabels") or {}
    annotations = kustomize.get("commonAnnotations") or {}
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if prefix or suffix:
            meta["name"] = f"{prefix}{meta.get('name', '')}{suffix}"
        if labels:
            meta.setdefault("labels", {}).update(labels)
        if annotations:
            meta.setdefault("annotations", {}).update(annotations)
        if kustomize.get("namespace"):
            meta["namespace"] = kustomize["namespace"]
    return objects
