"""Directory sources: plain YAML/JSON manifests, as the repo server's ``findManifests`` reads them.

Files ``*.yaml|*.yml|*.json`` (``*.jsonnet`` is not supported by the lab and
is skipped), top level only unless ``directory.recurse``; ``include`` /
``exclude`` are globs on the path relative to the app path (``{a,b}``
alternatives allowed). YAML files may hold several documents; a JSON file
holds one object. Failures read as Argo CD's, e.g.
``Failed to unmarshal "bad.yaml": failed to unmarshal manifest: ...``.
"""
from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import yaml

from gitopslab.argocd.manifesterrors import ManifestError

MANIFEST_FILE = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$")


def find_manifests(app_path: Path, *, recurse: bool = False, include: str = "", exclude: str = "") -> list[dict]:
    objects: list[dict] = []
    for path in _candidate_files(app_path, recurse, include, exclude):
        if path.suffix == ".jsonnet":
            continue
        objects += read_manifest_file(path)
    return objects


def _candidate_files(app_path: Path, recurse: bool, include: str, exclude: str) -> list[Path]:
    found = []
    walker = sorted(app_path.rglob("*")) if recurse else sorted(app_path.iterdir())
    for path in walker:
        rel = path.relative_to(app_path).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) and recurse:
            continue  # .git and hidden folders
        if not path.is_file() or not MANIFEST_FILE.match(path.name):
            continue
        if include and not glob_match(include, rel):
            continue
        if exclude and glob_match(exclude, rel):
            continue
        found.append(path)
    return found


def glob_match(pattern: str, rel_path: str) -> bool:
    """Argo CD matches include/exclude with ``{a,b}`` alternatives on the relative path."""
    return any(fnmatch.fnmatchcase(rel_path, p) or fnmatch.fnmatchcase(Path(rel_path).name, p)
               for p in _expand_braces(pattern))


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [x for alt in match.group(1).split(",") for x in _expand_braces(head + alt.strip() + tail)]


def read_manifest_file(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        return [_json_object(path.name, text)]
    return parse_yaml_documents(path.name, text)


def _json_object(filename: str, text: str) -> dict:
    try:
        obj, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError as e:
        raise ManifestError("FailedPrecondition", f'Failed to unmarshal "{filename}": {e.msg}') from None
    if text.lstrip()[end:].strip():
        raise ManifestError("FailedPrecondition",
                            f'Found multiple objects in "{filename}". Only single objects are allowed in JSON files.')
    return obj


def parse_yaml_documents(filename: str, text: str) -> list[dict]:
    """Every object of a multi-document YAML file (``splitYAMLOrJSON`` + its error policy)."""
    objects: list[dict] = []
    try:
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            objects += _unstructured(doc)
    except (yaml.YAMLError, _NotAnObject) as e:
        message = "failed to unmarshal manifest: " + _yaml_error_text(e)
        looks_like_manifest = all(k in text for k in ("apiVersion:", "kind:", "metadata:"))
        if objects or looks_like_manifest:
            raise ManifestError("FailedPrecondition", f'Failed to unmarshal "{filename}": {message}') from None
        return []  # an unrelated YAML file: ignored, as Argo CD does
    return objects


class _NotAnObject(Exception):
    pass


def _unstructured(doc) -> list[dict]:
    if not isinstance(doc, dict):
        raise _NotAnObject(f"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
                           f"{_json_type(doc)} into Go value of type map[string]interface {{}}")
    if not doc.get("kind"):
        raise _NotAnObject(f"Object 'Kind' is missing in '{json.dumps(doc, separators=(',', ':'), sort_keys=True, default=str)}'")
    if str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list):
        return [item for item in doc["items"] if isinstance(item, dict)]
    return [doc]


def _json_type(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "value"


def _yaml_error_text(error: Exception) -> str:
    """Go's ``error converting YAML to JSON: yaml: line N: <problem>`` from a PyYAML error.

    go-yaml numbers scanner errors from 1 but parser errors from 0 (its
    ``parser.fail`` adds one only for scanner errors), and words libyaml's
    parser problems its own way.
    """
    if isinstance(error, _NotAnObject):
        return str(error)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None) or ""
    if problem.startswith("expected <block end>") or problem.startswith("expected <block"):
        problem = "did not find expected '-' indicator" if "collection" in context else "did not find expected key"
    elif problem.startswith("expected ',' or ']'"):
        problem = "did not find expected ',' or ']'"
    elif problem.startswith("expected ',' or '}'"):
        problem = "did not find expected ',' or '}'"
    problem = {
        "mapping values are not allowed here": "mapping values are not allowed in this context",
        "found character '\\t' that cannot start any token": "found character that cannot start any token",
    }.get(problem, problem)
    line = 0
    if mark is not None:
        line = mark.line + 1 if isinstance(error, yaml.scanner.ScannerError) else mark.line
    where = f"line {line}: " if line else ""
    return f"error converting YAML to JSON: yaml: {where}{problem}"
