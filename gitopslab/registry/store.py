"""The lab's images: a Docker engine's local store and a registry, in one home.

Layout under ``home.registry_dir``::

    blobs/sha256/<hex>   layers (deterministic tars) and image configs, by digest
    local.json           the local engine's tags {ref: {digest, created}} (build, pull, load)
    remote.json          the registry's tags {ref: digest} (push) and pushed layers
    rootfs/<hex>/        an image's files, materialised on first use
    envs/<key>/          Python virtual environments of images (see pyenv)
    wheels/              wheelhouse shared by the image builds

An image's digest is the sha256 of its canonical config JSON, which names its
layers by digest and has no timestamp: rebuilding unchanged content gives the
same digest. Catalog images (``catalog.py``) are public and always pullable;
built images are pullable once pushed. Index files change under a lock and by
atomic rename; blobs are content-addressed and written atomically.
"""
from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from gitopslab.home import Home
from gitopslab.registry import catalog, layers, refs
from gitopslab.registry.fsutil import atomic_write, canonical_json, read_json, sha256, write_json
from gitopslab.locks import file_lock
from gitopslab.registry.image import Image, env_dict
from gitopslab.registry.pyenv import PipStep, PythonEnvs, env_key
from gitopslab.registry.refs import normalize_ref

__all__ = ["ImageStore", "normalize_ref", "NoSuchImage"]


class NoSuchImage(Exception):
    pass


class ImageStore:
    def __init__(self, home: Home | None = None):
        self.home = home or Home.current()
        self.root = self.home.registry_dir
        wheelhouse = Path(os.environ.get("GITOPSLAB_WHEELHOUSE") or self.root / "wheels")
        self.envs = PythonEnvs(self.root / "envs", wheelhouse)

    # -- blobs -----------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]

    def put_blob(self, data: bytes) -> str:
        digest = sha256(data)
        path = self.blob_path(digest)
        if not path.exists():
            atomic_write(path, data)
        return digest

    def get_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    # -- configs ---------------------------------------------------------------
    def config(self, digest: str) -> dict[str, Any]:
        """The config of an image digest (built, loaded or catalog)."""
        found = catalog_by_digest(digest)
        if found:
            return self.catalog_config(*found)
        import json

        return json.loads(self.get_blob(digest))

    def put_config(self, config: dict[str, Any]) -> str:
        return self.put_blob(canonical_json(config))

    def catalog_config(self, image: catalog.CatalogImage, tag: str) -> dict[str, Any]:
        diff_ids = []
        if image.files:
            layer = {path: layers.Entry("file", 0o644, text.encode()) for path, text in image.files.items()}
            diff_ids.append(self.put_blob(layers.make_tar(layer)))
        return {
            "architecture": "amd64", "os": "linux",
            "config": {"Env": list(image.env), "Entrypoint": list(image.entrypoint) or None,
                       "Cmd": list(image.cmd) or None, "WorkingDir": image.workdir,
                       "ExposedPorts": {p: {} for p in image.exposed_ports} or None, "User": image.user,
                       "Labels": None},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [],
            "gitopslab": {"base": image.name, "catalog": True, "catalog_ref": f"{image.name}:{tag}",
                          "digest": image.tags[tag].digest, "size": image.tags[tag].size,
                          "pip_steps": [], "not_executed": []},
        }

    def image_digest(self, config: dict[str, Any]) -> str:
        meta = config.get("gitopslab", {})
        return meta["digest"] if meta.get("catalog") else sha256(canonical_json(config))

    # -- indexes ---------------------------------------------------------------
    @contextmanager
    def _index(self, name: str) -> Iterator[dict]:
        with file_lock(self.root / ".lock"):
            path = self.root / name
            data = read_json(path, {})
            yield data
            write_json(path, data)

    def local_tags(self) -> dict[str, dict]:
        return read_json(self.root / "local.json", {})

    def remote_index(self) -> dict[str, Any]:
        return read_json(self.root / "remote.json", {})

    def tag_local(self, ref: str, digest: str) -> None:
        with self._index("local.json") as index:
            previous = index.get(normalize_ref(ref), {})
            created = previous.get("created") if previous.get("digest") == digest else None
            index[normalize_ref(ref)] = {"digest": digest, "created": created or time.time()}

    def untag_local(self, ref: str) -> str:
        with self._index("local.json") as index:
            entry = index.pop(normalize_ref(ref), None)
        if entry is None:
            raise NoSuchImage(ref)
        return entry["digest"]

    def record_push(self, ref: str, digest: str, diff_ids: list[str]) -> list[str]:
        """Tag ``ref`` in the registry; return the layers it did not have yet."""
        with self._index("remote.json") as index:
            known = set(index.setdefault("layers", []))
            new = [d for d in diff_ids if d not in known]
            index["layers"] = sorted(known | set(diff_ids))
            index.setdefault("tags", {})[normalize_ref(ref)] = digest
        return new

    # -- lookup ----------------------------------------------------------------
    def local_digest(self, ref: str) -> str | None:
        parsed = refs.parse(ref)
        if parsed.digest:
            digests = {e["digest"] for e in self.local_tags().values()}
            return parsed.digest if parsed.digest in digests else None
        entry = self.local_tags().get(str(parsed))
        return entry["digest"] if entry else None

    def remote_digest(self, ref: str) -> str | None:
        parsed = refs.parse(ref)
        found = catalog.lookup(ref)
        if found:
            return found[2].digest
        tags = self.remote_index().get("tags", {})
        if parsed.digest:
            return parsed.digest if parsed.digest in tags.values() else None
        return tags.get(str(parsed))

    def resolve(self, ref: str, *, pulled_only: bool = True) -> Image | None:
        """The image a pod gets for ``ref``.

        ``pulled_only=True``: what a pull can get (catalog and pushed images).
        ``pulled_only=False``: the local store first (``imagePullPolicy: Never``
        / ``IfNotPresent`` with a local build), then a pull.
        """
        try:
            normalized = normalize_ref(ref)
        except refs.InvalidReference:
            return None
        digest = None if pulled_only else self.local_digest(normalized)
        digest = digest or self.remote_digest(normalized)
        return self.image(normalized, digest) if digest else None

    def image(self, ref: str, digest: str) -> Image:
        config = self.config(digest)
        c, meta = config.get("config") or {}, config.get("gitopslab", {})
        python = None
        if meta.get("base") == "python" or meta.get("pip_steps"):
            steps = [PipStep.from_json(s) for s in meta.get("pip_steps", [])]
            python = self.envs.python(self.envs.ensure(steps))
        return Image(
            ref=ref, digest=digest, base=meta.get("base", ""), rootfs=self.rootfs(digest, config),
            env=env_dict(c.get("Env") or []), workdir=c.get("WorkingDir") or "",
            entrypoint=list(c.get("Entrypoint") or []), cmd=list(c.get("Cmd") or []),
            exposed_ports=sorted(c.get("ExposedPorts") or {}), user=c.get("User") or "", python=python,
            size=self.size(config), labels=dict(c.get("Labels") or {}), catalog=bool(meta.get("catalog")),
            not_executed=list(meta.get("not_executed", [])),
        )

    def size(self, config: dict[str, Any]) -> int:
        meta = config.get("gitopslab", {})
        if meta.get("catalog"):
            return int(meta["size"])
        total = int(meta.get("base_size", 0))
        for diff_id in config["rootfs"]["diff_ids"][int(meta.get("base_layers", 0)):]:
            path = self.blob_path(diff_id)
            total += path.stat().st_size if path.exists() else 0
        if meta.get("pip_steps"):
            total += int(self.envs.meta(env_key([PipStep.from_json(s) for s in meta["pip_steps"]])).get("size", 0))
        return total

    def files(self, config: dict[str, Any]) -> layers.Files:
        merged: layers.Files = {}
        for diff_id in config["rootfs"]["diff_ids"]:
            data = self.get_blob(diff_id)
            if data.startswith(b"{"):
                continue  # a pip step: its files live in the image's venv
            merged = layers.apply(merged, layers.read_tar(data))
        return merged

    def rootfs(self, digest: str, config: dict[str, Any] | None = None) -> Path:
        target = self.root / "rootfs" / digest.split(":", 1)[1]
        if target.is_dir():
            return target
        files = self.files(config or self.config(digest))
        staging = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}")
        try:
            layers.write_tree(files, staging)
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
        return target

    def list_local(self) -> list[tuple[str, str, float]]:
        """(ref, digest, created) of the local store, newest first."""
        rows = [(ref, e["digest"], e.get("created", 0)) for ref, e in self.local_tags().items()]
        return sorted(rows, key=lambda r: (-r[2], r[0]))


def catalog_by_digest(digest: str) -> tuple[catalog.CatalogImage, str] | None:
    for image in catalog.IMAGES.values():
        for tag, info in image.tags.items():
            if info.digest == digest:
                return image, tag
    return None
