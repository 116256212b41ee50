"""The repo server: resolve ``targetRevision``, fetch, and render an app source to manifests.

``RepoServer.generate(request)`` is Argo CD's ``GenerateManifest``: it
resolves the revision to a commit SHA (``ls-remote``), checks the commit out
(``gitrepo``), detects the source type (explicit ``helm``/``kustomize``/
``directory`` field, else ``Chart.yaml`` → Helm, a kustomization → Kustomize,
else Directory) and renders it. Renders are cached per (repo, commit, path,
source parameters, app name, namespace); revision lookups for a few seconds
(dropped at once when a webhook reports a push). Blocking (git, helm): call
it from a worker thread. Every failure is a ``ManifestError``.
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
        key = self._render_key(req, sha)
        with self._lock:
            hit = self._renders.get(key)
            if hit is not None and not no_cache:
                self._renders.move_to_end(key)
        if hit is not None and not no_cache:
            return ManifestResponse(copy.deepcopy(hit[0]), sha, hit[1], cached=True)
        objects, source_type = self._render(req, sha)
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

    def _render(self, req: ManifestRequest, sha: str) -> tuple[list[dict], str]:
        root = self._checkout(req, sha)
        app_path = _app_path(root, str(req.source.get("path") or "."))
        source_type = detect_source_type(req.source, app_path)
        if source_type == HELM:
            opts = helmsource.template_options(req.app_name, req.namespace, req.source.get("helm"))
            return helmsource.render(app_path, root, opts), source_type
        if source_type == KUSTOMIZE:
            return kustomizesource.render(app_path, req.source.get("kustomize")), source_type
        spec = req.source.get("directory") or {}
        return directory.find_manifests(app_path, recurse=bool(spec.get("recurse")),
                                        include=str(spec.get("include") or ""),
                                        exclude=str(spec.get("exclude") or "")), source_type

    def _checkout(self, req: ManifestRequest, sha: str) -> Path:
        try:
            return self.repos.checkout(req.repo_url, sha, req.credentials)
        except GitError as e:
            raise unknown(str(e)) from None

    @staticmethod
    def _render_key(req: ManifestRequest, sha: str) -> tuple:
        params = {k: v for k, v in req.source.items() if k not in ("repoURL", "targetRevision")}
        return (normalize_url(req.repo_url), sha, json.dumps(params, sort_keys=True, default=str),
                req.app_name, req.namespace)


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


__all__ = ["ManifestError", "ManifestRequest", "ManifestResponse", "RepoServer", "detect_source_type"]
