"""The repo server: resolve ``targetRevision``, fetch, and render an app source to manifests.

``RepoServer.generate(request)`` is Argo CD's ``GenerateManifest``: it
resolves the revision to a commit SHA (``ls-remote``), checks the commit out
(``gitrepo``), detects the source type (explicit ``helm``/``kustomize``/
``directory`` field, else ``Chart.yaml`` → Helm, a kustomization → Kustomize,
else Directory) and renders it. Renders are cached per (repo, commit, path,
source parameters, app name, namespace); revision lookups for a few seconds
(dropped at once when a webhook reports a push). Blocking (git, helm): call
it from a worker thread. Every failure is a ``ManifestError``.

Multi-source apps send one request per source (``has_multiple_sources``,
``ref_sources``): a ref-only source answers its resolved revision and no
manifests; ``$<ref>/…`` Helm value files are read from the ref source's
repository at its revision, whose commit is part of the render cache key.
"""
from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from gitopslab.argocd import directory, helmsource, kustomizesource
from gitopslab.argocd import sources as sourcesmod
from gitopslab.argocd.gitrepo import Credentials, GitError, GitRepos, normalize_url
from gitopslab.argocd.manifesterrors import ManifestError, unknown

REVISION_TTL_SECONDS = 2.0
RENDER_CACHE_SIZE = 1024
APP_PATH_DOES_NOT_EXIST = "app path does not exist"

HELM, KUSTOMIZE, DIRECTORY = "Helm", "Kustomize", "Directory"


@dataclass(frozen=True)
class ManifestRequest:
    source: dict               # spec.source (repoURL, path, targetRevision, helm, directory…)
    app_name: str
    namespace: str             # destination namespace
    credentials: Credentials | None = None
    revision: str = ""         # an explicit revision (sync to a revision, rollback) instead of targetRevision
    has_multiple_sources: bool = False
    ref_sources: dict = field(default_factory=dict)      # {"$name": sources.RefTarget}
    ref_credentials: dict = field(default_factory=dict)  # {repoURL: Credentials} of the ref sources

    @property
    def repo_url(self) -> str:
        return str(self.source.get("repoURL") or "")

    @property
    def target_revision(self) -> str:
        return self.revision or str(self.source.get("targetRevision") or "HEAD")


@dataclass
class ManifestResponse:
    objects: list[dict]
    revision: str
    source_type: str
    cached: bool = False
    timings: dict = field(default_factory=dict)


class RepoServer:
    def __init__(self, repos: GitRepos, *, clock=time.monotonic, render_cache_size: int = RENDER_CACHE_SIZE):
        self.repos = repos
        self._clock = clock
        self._revisions: dict[tuple[str, str], tuple[str, float]] = {}
        self._renders: OrderedDict[tuple, tuple[list[dict], str]] = OrderedDict()
        self._render_cache_size = render_cache_size
        self._lock = threading.Lock()

    # --- revision resolution -------------------------------------------
    def resolve_revision(self, url: str, revision: str, creds: Credentials | None = None, *,
                         no_cache: bool = False) -> str:
        key = (normalize_url(url), revision or "HEAD")
        now = self._clock()
        with self._lock:
            hit = self._revisions.get(key)
        if hit and not no_cache and now - hit[1] < REVISION_TTL_SECONDS:
            return hit[0]
        try:
            sha = self.repos.resolve(url, revision or "HEAD", creds)
        except GitError as e:
            raise unknown(str(e)) from None
        with self._lock:
            self._revisions[key] = (sha, now)
        return sha

    def invalidate(self, url: str | None = None) -> None:
        """Forget resolved revisions (of one repository, or all): a push happened."""
        with self._lock:
            if url is None:
                self._revisions.clear()
                return
            norm = normalize_url(url)
            for key in [k for k in self._revisions if k[0] == norm]:
                del self._revisions[key]

    # --- manifest generation -------------------------------------------
    def generate(self, req: ManifestRequest, *, no_cache: bool = False) -> ManifestResponse:
        if not req.repo_url:
            raise unknown("repository not found")
        sha = self.resolve_revision(req.repo_url, req.target_revision, req.credentials, no_cache=no_cache)
        if req.has_multiple_sources and sourcesmod.is_ref_only(req.source):
            return ManifestResponse([], sha, "")
        refs = self._resolve_refs(req, sha, no_cache)
        key = self._render_key(req, sha) + (tuple(sorted((ref, ref_sha) for ref, (_, ref_sha) in refs.items())),)
        with self._lock:
            hit = self._renders.get(key)
            if hit is not None and not no_cache:
                self._renders.move_to_end(key)
        if hit is not None and not no_cache:
            return ManifestResponse(copy.deepcopy(hit[0]), sha, hit[1], cached=True)
        objects, source_type = self._render(req, sha, refs)
        with self._lock:
            self._renders[key] = (objects, source_type)
            while len(self._renders) > self._render_cache_size:
                self._renders.popitem(last=False)
        return ManifestResponse(copy.deepcopy(objects), sha, source_type)

    def source_type(self, req: ManifestRequest) -> str:
        """Source type only (``app get`` and ``status.sourceType``)."""
        sha = self.resolve_revision(req.repo_url, req.target_revision, req.credentials)
        root = self._checkout(req, sha)
        return detect_source_type(req.source, _app_path(root, req.source.get("path") or "."))

    def _resolve_refs(self, req: ManifestRequest, sha: str, no_cache: bool
                      ) -> dict[str, tuple[sourcesmod.RefTarget, str]]:
        """``resolveReferencedSources``: ``{"$name": (target, commit)}`` for the ``$name/…`` value files.

        As ``GenerateManifest``, one repository is read at one revision only: two refs to it
        with different targetRevisions, or a ref to the source's own repository resolving to
        another commit, are refused with the repo server's words.
        """
        if not req.has_multiple_sources:
            return {}
        try:
            used = sourcesmod.referenced_refs(req.source.get("helm"), req.ref_sources)
        except sourcesmod.RefSourceError as e:
            raise unknown(str(e)) from None
        out, by_repo = {}, {}
        for ref, target in used.items():
            url = normalize_url(target.repo_url)
            if url in by_repo:
                other = by_repo[url]
                if other[1].target_revision != target.target_revision:
                    raise unknown(f"cannot reference multiple revisions for the same repository ({ref} references "
                                  f"\"{target.target_revision}\" while {other[0]} references "
                                  f"\"{other[1].target_revision}\")")
                out[ref] = (target, out[other[0]][1])
                continue
            try:
                ref_sha = self.resolve_revision(target.repo_url, target.target_revision or "HEAD",
                                                req.ref_credentials.get(target.repo_url), no_cache=no_cache)
            except ManifestError:
                raise unknown(f"failed to get git client for repo {target.repo_url}") from None
            if url == normalize_url(req.repo_url) and ref_sha != sha:
                raise unknown(f"cannot reference a different revision of the same repository ({ref} references "
                              f"\"{target.target_revision}\" which resolves to \"{ref_sha}\" while the application "
                              f"references \"{req.revision or req.source.get('targetRevision') or ''}\" which "
                              f"resolves to \"{sha}\")")
            by_repo[url] = (ref, target)
            out[ref] = (target, ref_sha)
        return out

    def _render(self, req: ManifestRequest, sha: str, refs: dict | None = None) -> tuple[list[dict], str]:
        root = self._checkout(req, sha)
        app_path = _app_path(root, str(req.source.get("path") or "."))
        source_type = detect_source_type(req.source, app_path)
        if source_type == HELM:
            opts = helmsource.template_options(req.app_name, req.namespace, req.source.get("helm"))
            ref_roots = {ref: self._checkout_repo(target.repo_url, ref_sha, req.ref_credentials.get(target.repo_url))
                         for ref, (target, ref_sha) in (refs or {}).items()}
            return helmsource.render(app_path, root, opts, ref_roots=ref_roots), source_type
        if source_type == KUSTOMIZE:
            return kustomizesource.render(app_path, req.source.get("kustomize")), source_type
        spec = req.source.get("directory") or {}
        return directory.find_manifests(app_path, recurse=bool(spec.get("recurse")),
                                        include=str(spec.get("include") or ""),
                                        exclude=str(spec.get("exclude") or "")), source_type

    def _checkout(self, req: ManifestRequest, sha: str) -> Path:
        return self._checkout_repo(req.repo_url, sha, req.credentials)

    def _checkout_repo(self, url: str, sha: str, creds: Credentials | None) -> Path:
        try:
            return self.repos.checkout(url, sha, creds)
        except GitError as e:
            raise unknown(str(e)) from None

    @staticmethod
    def _render_key(req: ManifestRequest, sha: str) -> tuple:
        params = {k: v for k, v in req.source.items() if k not in ("repoURL", "targetRevision", "ref", "name")}
        return (normalize_url(req.repo_url), sha, json.dumps(params, sort_keys=True, default=str),
                req.app_name, req.namespace)


class TargetStateError(Exception):
    """An app's manifests could not be generated; the text follows ``Failed to load target state: ``."""

    def __init__(self, message: str, manifest_error: ManifestError | None = None):
        super().__init__(message)
        self.manifest_error = manifest_error


def generate_sources(server: RepoServer, sources: list[dict], revisions: list[str], *, app_name: str,
                     namespace: str, multiple: bool, credentials_for, no_cache: bool = False
                     ) -> tuple[list[dict], list[str], list[str]]:
    """``GetRepoObjs``: every source rendered in order, objects concatenated (blocking).

    ``revisions`` (one per source, "" = its targetRevision) come from a sync or rollback;
    ``credentials_for(repoURL)`` gives a repository's credentials. Returns (objects,
    resolved revisions, source types), one revision and type per source, or TargetStateError.
    """
    try:
        refs = sourcesmod.ref_targets(sources, revisions) if multiple else {}
    except sourcesmod.RefSourceError as e:
        raise TargetStateError(f"failed to get ref sources: {e}") from None
    ref_creds = {t.repo_url: credentials_for(t.repo_url) for t in refs.values()}
    objects, resolved, types = [], [], []
    for i, source in enumerate(sources):
        request = ManifestRequest(source=source, app_name=app_name, namespace=namespace,
                                  credentials=credentials_for(str(source.get("repoURL") or "")),
                                  revision=revisions[i] if i < len(revisions) else "",
                                  has_multiple_sources=multiple, ref_sources=refs, ref_credentials=ref_creds)
        try:
            response = server.generate(request, no_cache=no_cache)
        except ManifestError as e:
            raise TargetStateError(f"failed to generate manifest for source {i + 1} of {len(sources)}: "
                                   f"{e.rpc_text()}", e) from None
        objects += response.objects
        resolved.append(response.revision)
        types.append(response.source_type)
    return objects, resolved, types


def _app_path(root: Path, path: str) -> Path:
    """``util/app/path.Path``: the app folder inside the checkout, or Argo CD's error."""
    if path.startswith("/"):
        raise unknown(f"{path}: app path is absolute")
    app_path = (root / path).resolve()
    if not str(app_path).startswith(str(root.resolve())):
        raise unknown(f"{path}: app path outside root")
    if not app_path.exists():
        raise unknown(f"{path}: {APP_PATH_DOES_NOT_EXIST}")
    if not app_path.is_dir():
        raise unknown(f"{path}: app path is not a directory")
    return app_path


def detect_source_type(source: dict, app_path: Path) -> str:
    explicit = [t for t, key in ((HELM, "helm"), (KUSTOMIZE, "kustomize"), (DIRECTORY, "directory"))
                if source.get(key)]
    if len(explicit) > 1:
        raise unknown(f"multiple application sources defined: {','.join(e.lower() for e in explicit)}")
    if explicit:
        return explicit[0]
    if (app_path / "Chart.yaml").is_file():
        return HELM
    if kustomizesource.is_kustomization(app_path):
        return KUSTOMIZE
    return DIRECTORY


__all__ = ["ManifestError", "ManifestRequest", "ManifestResponse", "RepoServer", "TargetStateError",
           "detect_source_type", "generate_sources"]
