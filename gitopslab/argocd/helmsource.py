"""Helm sources: ``helm template`` options from ``spec.source.helm``, as the repo server builds them.

Release name = ``helm.releaseName`` or the app name; namespace =
``helm.namespace`` or the destination namespace. Precedence (lowest first):
chart ``values.yaml`` < ``valueFiles`` (in order, relative to the app path)
< ``values``/``valuesObject`` (``valuesObject`` wins when both are set) <
``parameters`` (``--set``, ``forceString`` → ``--set-string``).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from gitopslab.argocd.manifesterrors import ManifestError, unknown

KUBE_VERSION = "1.32"


def template_options(app_name: str, namespace: str, helm: dict | None) -> dict:
    helm = helm or {}
    values = helm.get("valuesObject")
    if values is None and helm.get("values"):
        raw = helm["values"]
        values = yaml.safe_load(raw) if isinstance(raw, str) else raw
    set_params = [f"{p['name']}={p.get('value', '')}" for p in helm.get("parameters") or []
                  if not p.get("forceString")]
    set_string = [f"{p['name']}={p.get('value', '')}" for p in helm.get("parameters") or []
                  if p.get("forceString")]
    return {
        "release_name": helm.get("releaseName") or app_name,
        "namespace": helm.get("namespace") or namespace,
        "values": values or {},
        "set_params": set_params,
        "set_string_params": set_string,
        "value_files": list(helm.get("valueFiles") or []),
        "ignore_missing_value_files": bool(helm.get("ignoreMissingValueFiles")),
        "skip_crds": bool(helm.get("skipCrds")),
    }


def render(app_path: Path, repo_root: Path, opts: dict) -> list[dict]:
    from gitopslab.argocd import helm as helm_renderer

    value_files = _resolve_value_files(app_path, repo_root, opts)
    try:
        objects = helm_renderer.render_chart(
            app_path, opts["release_name"], opts["namespace"], opts["values"],
            opts["set_params"] + opts["set_string_params"], [str(p) for p in value_files])
    except ManifestError:
        raise
    except Exception as e:  # the Helm SDK's render errors carry helm's own text
        raise unknown(f"failed running helm: `{_command(opts, value_files)}` failed exit status 1: "
                      f"Error: {_helm_error_text(e)}") from None
    return [o for o in objects if isinstance(o, dict)]


def _resolve_value_files(app_path: Path, repo_root: Path, opts: dict) -> list[Path]:
    resolved = []
    for name in opts["value_files"]:
        path = (repo_root / name.lstrip("/")) if name.startswith("/") else (app_path / name)
        path = path.resolve()
        if not str(path).startswith(str(repo_root.resolve())):
            raise unknown(f"error resolving helm value files: error resolving value file path: "
                          f"value file '{name}' resolved to outside repository root")
        if not path.exists():
            if opts["ignore_missing_value_files"]:
                continue
            raise unknown(f"Error: open {path}: no such file or directory")
        resolved.append(path)
    return resolved


def _command(opts: dict, value_files: list[Path]) -> str:
    args = ["helm", "template", ".", "--name-template", opts["release_name"]]
    if opts["namespace"]:
        args += ["--namespace", opts["namespace"]]
    args += ["--kube-version", KUBE_VERSION]
    for p in opts["set_params"]:
        args += ["--set", p]
    for p in opts["set_string_params"]:
        args += ["--set-string", p]
    for f in value_files:
        args += ["--values", f.name]
    if opts["values"]:
        args += ["--values", "<temp file with values from Application manifest>"]
    if not opts["skip_crds"]:
        args.append("--include-crds")
    return " ".join(args)


def _helm_error_text(error: Exception) -> str:
    text = str(error).strip()
    return text.removeprefix("Error: ")
