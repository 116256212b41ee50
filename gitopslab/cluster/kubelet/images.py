"""The node's image service: what is present, pulling with containerd's timing and errors.

Images come from the lab registry's ``ImageStore`` (catalog images and
images built from Dockerfiles). A pull that cannot succeed fails with the
message containerd (k3s) gives for the same reference.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab.home import Home, LabClock

PULL_BYTES_PER_SECOND = 48_000_000  # a good link: nginx (~60 MB) in about 1.25 s
MIN_PULL_SECONDS = 0.25
PUBLIC_REGISTRIES = {"docker.io", "quay.io", "ghcr.io", "registry.k8s.io", "gcr.io", "public.ecr.aws",
                     "ecr-public.aws.com", "mcr.microsoft.com"}


class PullError(Exception):
    """The CRI error of a failed pull (kubelet prints it after ``Failed to pull image "x": ``)."""


class InvalidImageName(Exception):
    pass


@dataclass
class Pulled:
    image: Any
    pull_seconds: float
    size: int


def parse_ref(ref: str):
    from gitopslab.registry.refs import InvalidReference, parse

    try:
        return parse(ref)
    except InvalidReference as e:
        raise InvalidImageName(
            f'Failed to apply default image tag "{ref}": couldn\'t parse image name "{ref}": {e}') from e


def normalized(ref: str) -> str:
    return str(parse_ref(ref))


def pull_error_message(ref: str, repository_exists: bool) -> str:
    """containerd's error for an image it cannot pull (pure)."""
    parsed = parse_ref(ref)
    full = str(parsed)
    head = f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": '
    if repository_exists:
        return f"rpc error: code = NotFound desc = {head}{full}: not found"
    if parsed.registry in PUBLIC_REGISTRIES:
        return (f"rpc error: code = Unknown desc = {head}pull access denied, repository does not exist or may "
                "require authorization: server message: insufficient_scope: authorization failed")
    tag = parsed.tag or parsed.digest
    return (f'rpc error: code = Unknown desc = {head}failed to do request: Head "https://{parsed.registry}/v2/'
            f'{parsed.repository}/manifests/{tag}": dial tcp: lookup {parsed.registry}: no such host')


def image_id(image) -> str:
    """``docker.io/library/nginx@sha256:…`` as the CRI reports imageID."""
    digest = getattr(image, "digest", "") or ""
    try:
        name = parse_ref(getattr(image, "ref", "")).name
    except InvalidImageName:
        name = getattr(image, "ref", "")
    return f"{name}@{digest}" if digest else name


def image_size(image) -> int:
    size = getattr(image, "size", None)
    if size:
        return int(size)
    rootfs = getattr(image, "rootfs", None)
    total = 0
    if rootfs:
        from pathlib import Path

        for p in Path(rootfs).rglob("*"):
            if p.is_file():
                total += p.stat().st_size
    return total or 1_000_000


def default_pull_policy(ref: str) -> str:
    try:
        parsed = parse_ref(ref)
    except InvalidImageName:
        return "IfNotPresent"
    return "Always" if parsed.tag == "latest" and parsed.digest is None else "IfNotPresent"


class NodeImageCache:
    """What this node has pulled: normalised reference -> digest, kept across daemon restarts.

    As containerd's image store: a tag pulled once keeps the digest it had
    then, even if the registry's tag moves on (``IfNotPresent`` runs it).
    """

    def __init__(self, state_file: Path | None):
        self.state_file = state_file
        self._refs: dict[str, str] = {}
        if state_file is not None:
            try:
                self._refs = dict(json.loads(state_file.read_text()).get("images", {}))
            except (OSError, ValueError):
                pass

    def digest(self, ref: str) -> str | None:
        return self._refs.get(normalized(ref))

    def add(self, ref: str, digest: str) -> None:
        self._refs[normalized(ref)] = digest
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"images": self._refs}, indent=1))
            os.replace(tmp, self.state_file)


class ImageService:
    """The node's images: pulled from the lab registry (catalog and pushed images) into its cache.

    An image built but never pushed cannot be pulled, as on a real node;
    ``imagePullPolicy: Never`` also accepts images of the local engine
    (side-loaded, like ``k3s ctr images import``).
    """

    def __init__(self, home: Home, clock: LabClock, store: Any = None, cache_file: Path | None = None):
        self.clock = clock
        self.home = home
        self._store = store
        self.cache = NodeImageCache(cache_file)

    @property
    def store(self):
        if self._store is None:  # imported late: the kubelet runs even before any image is asked for
            from gitopslab.registry.store import ImageStore

            self._store = ImageStore(self.home)
        return self._store

    def present(self, ref: str, policy: str = "IfNotPresent"):
        """The image of ``ref`` already on the node, or None."""
        digest = self.cache.digest(ref)
        if digest is not None:
            try:
                return self.store.image(normalized(ref), digest)
            except (OSError, KeyError, ValueError):
                return None  # its files are gone (image removed): pull again
        if policy == "Never":
            return self.store.resolve(ref, pulled_only=False)
        return None

    def _pullable(self, ref: str):
        return self.store.resolve(ref, pulled_only=True)

    def _repository_exists(self, ref: str) -> bool:
        from gitopslab.registry import catalog

        parsed = parse_ref(ref)
        if catalog.is_known_repository(str(parsed)):
            return True
        remote = getattr(self.store, "remote_index", None)
        tags = (remote() if remote else {}).get("tags", {})
        return any(parse_ref(t).name == parsed.name for t in tags)

    async def pull(self, ref: str) -> Pulled:
        started = time.monotonic()
        image = self._pullable(ref)
        if image is None:
            await self.clock.sleep(MIN_PULL_SECONDS)
            raise PullError(pull_error_message(ref, self._repository_exists(ref)))
        size = image_size(image)
        already = self.cache.digest(ref) == image.digest
        seconds = MIN_PULL_SECONDS if already else max(MIN_PULL_SECONDS, size / PULL_BYTES_PER_SECOND)
        await self.clock.sleep(seconds)
        self.cache.add(ref, image.digest)
        real = time.monotonic() - started
        return Pulled(image, max(seconds, real * self.clock.scale), size)
