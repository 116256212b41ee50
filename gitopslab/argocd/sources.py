"""Multi-source Applications (``spec.sources``), as Argo CD 3.x handles them (pure).

``spec.sources`` wins over ``spec.source`` when both are set
(``ApplicationSpec.HasMultipleSources``: any ``sources``). A source with
``ref`` gives its repository's files to the others: a Helm value file
``$<ref>/path/values.yaml`` is read from that repository at the ref
source's revision. A ref source without ``path`` renders nothing (the repo
server only resolves its revision). Messages as ``util/argo/argo.go``
(``validateSourcePermissions``, ``GetRefSources``) and
``reposerver/repository/repository.go`` (``resolveReferencedSources``,
``getResolvedRefValueFile``) word them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REF_KEY = re.compile(r"^[a-zA-Z0-9_-]+$")
DUPLICATE_REF = "invalid sources: multiple sources had the same `ref` key"
CHART_REF_UNSUPPORTED = "source has a 'chart' field defined, but Helm charts are not yet not supported for 'ref' sources"
# ``ComparedTo.Source``, ``RevisionHistory.Source``… are Go struct values: a multi-source app still
# serialises an empty one (``repoURL`` has no omitempty).
EMPTY_SOURCE = {"repoURL": ""}
POINTER_FIELDS = ("helm", "kustomize", "directory", "plugin")


class RefSourceError(ValueError):
    """A ``ref`` problem found before any manifest is generated."""


@dataclass(frozen=True)
class RefTarget:
    """``v1alpha1.RefTarget``: where ``$<ref>`` points."""

    repo_url: str
    target_revision: str
    chart: str = ""


def has_multiple_sources(spec: dict) -> bool:
    return bool((spec or {}).get("sources"))


def app_sources(spec: dict) -> list[dict]:
    """``GetSources``: ``spec.sources`` if any, else ``[spec.source]``."""
    spec = spec or {}
    if has_multiple_sources(spec):
        return list(spec["sources"])
    return [spec.get("source") or {}]


def first_source(spec: dict) -> dict:
    """``GetSource``: the first of ``sources``, else ``source``."""
    return app_sources(spec)[0] if app_sources(spec) else {}


def is_ref_only(source: dict) -> bool:
    """A ``ref`` source without ``path`` or ``chart``: no manifests, only its files."""
    return bool(source.get("ref")) and not source.get("path") and not source.get("chart")


def go_source_text(source: dict) -> str:
    """``fmt.Sprintf("%s", source)`` of a Go ``ApplicationSource`` value (nil pointers print ``<nil>``)."""
    def text(key: str) -> str:
        return str(source.get(key) or "")

    def pointer(key: str) -> str:
        # Go prints the address of a set pointer; any heap-looking address will do
        return "<nil>" if source.get(key) is None else "0xc0004a" + format(POINTER_FIELDS.index(key), "04x")
    fields = [text("repoURL"), text("path"), text("targetRevision"), pointer("helm"), pointer("kustomize"),
              pointer("directory"), pointer("plugin"), text("chart"), text("ref"), text("name")]
    return "{" + " ".join(fields) + "}"


def source_spec_errors(source: dict) -> list[str]:
    """``validateSourcePermissions`` for one of ``spec.sources`` (InvalidSpecError messages)."""
    if not source.get("repoURL") or not (source.get("path") or source.get("chart") or source.get("ref")):
        return ["spec.source.repoURL and either source.path, source.chart, or source.ref are required "
                f"for source {go_source_text(source)}"]
    if source.get("chart") and not source.get("targetRevision"):
        return ["spec.source.targetRevision is required if the manifest source is a helm chart"]
    return []


def ref_targets(sources: list[dict], revisions: list[str] | None = None) -> dict[str, RefTarget]:
    """``GetRefSources``: ``{"$name": RefTarget}`` (only with more than one source), or RefSourceError.

    ``revisions`` (a sync to given revisions, a rollback) override the sources' targetRevision.
    """
    refs: dict[str, RefTarget] = {}
    if len(sources) <= 1:
        return refs
    seen = set()
    for source in sources:
        ref = source.get("ref") or ""
        if not ref:
            continue
        if not REF_KEY.match(ref):
            raise RefSourceError(f"sources.ref {ref} cannot contain any special characters except '_' and '-'")
        if ref in seen:
            raise RefSourceError(DUPLICATE_REF)
        seen.add(ref)
    for i, source in enumerate(sources):
        if not source.get("ref"):
            continue
        revision = source.get("targetRevision") or ""
        if revisions and len(revisions) > i and revisions[i]:
            revision = revisions[i]
        refs["$" + source["ref"]] = RefTarget(str(source.get("repoURL") or ""), revision, source.get("chart") or "")
    return refs


def referenced_refs(helm: dict | None, refs: dict[str, RefTarget]) -> dict[str, RefTarget]:
    """``resolveReferencedSources``: the refs a source's value files use, or RefSourceError (repo server text)."""
    out: dict[str, RefTarget] = {}
    helm = helm or {}
    candidates = list(helm.get("valueFiles") or []) + [p.get("path", "") for p in helm.get("fileParameters") or []]
    for value_file in candidates:
        if not value_file.startswith("$"):
            continue
        ref = value_file.split("/")[0]
        target = refs.get(ref)
        if target is None:
            if not refs:
                raise RefSourceError(f"source referenced \"{ref}\", but no source has a 'ref' field defined")
            raise RefSourceError(f"source referenced \"{ref}\", which is not one of the available sources "
                                 f"({', '.join(refs)})")
        if target.chart:
            raise RefSourceError(CHART_REF_UNSUPPORTED)
        out[ref] = target
    return out


def ref_value_file_path(value_file: str, ref_root: Path) -> Path:
    """``getResolvedRefValueFile``: ``$ref/a/b.yaml`` → ``<ref repo root>/a/b.yaml``, never outside it."""
    rest = "/".join(value_file.split("/")[1:])
    root = ref_root.resolve()
    path = (root / rest).resolve()
    if path != root and not str(path).startswith(str(root) + "/"):
        raise RefSourceError(f"error resolving value file path: value file '/{rest}' resolved to outside "
                             "repository root")
    return path


def go_list(values: list[str]) -> str:
    """``fmt.Sprintf("%s", []string{…})``: ``[a b]``."""
    return "[" + " ".join(values) + "]"
