"""Engine-side commands on the image store: tag, push, rm, ls, save, load, login.

Each prints what the Docker CLI prints, through ``out``; failures raise
``ImageError`` with Docker's message.
"""
from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Callable

from gitopslab.registry import auth, refs
from gitopslab.registry.fsutil import atomic_write, short_size
from gitopslab.registry.store import ImageStore, NoSuchImage

Out = Callable[[str], None]


class ImageError(Exception):
    pass


def _parse(ref: str) -> refs.Reference:
    try:
        return refs.parse(ref)
    except refs.InvalidReference as e:
        raise ImageError(str(e)) from e


def login(store: ImageStore, server: str | None, user: str, password: str, *, out: Out = print,
          config_dir: Path | None = None) -> None:
    registry = auth.normalize_registry(server)
    try:
        auth.Accounts(store.root).check_or_create(registry, user, password)
    except auth.LoginFailed as e:
        raise ImageError(str(e)) from e
    auth.Logins(store.root, config_dir).set(registry, user)
    out("Login Succeeded")


def logout(store: ImageStore, server: str | None, *, out: Out = print, config_dir: Path | None = None) -> None:
    registry = auth.normalize_registry(server)
    auth.Logins(store.root, config_dir).set(registry, None)
    out(f"Removing login credentials for {'https://index.docker.io/v1/' if registry == refs.DEFAULT_REGISTRY else registry}")


def tag(store: ImageStore, source: str, target: str) -> None:
    digest = store.local_digest(str(_parse(source)))
    if digest is None:
        raise ImageError(f"Error response from daemon: No such image: {_parse(source).familiar}")
    store.tag_local(str(_parse(target)), digest)


def push(store: ImageStore, ref: str, *, out: Out = print, config_dir: Path | None = None,
         as_admin: bool = False) -> str:
    parsed = _parse(ref)
    digest = store.local_digest(str(parsed))
    if digest is None:
        raise ImageError(f"An image does not exist locally with the tag: {parsed.familiar_name}")
    out(f"The push refers to repository [{parsed.name}]")
    if not as_admin:
        try:
            auth.check_push(parsed, auth.Logins(store.root, config_dir).user(parsed.registry))
        except auth.PushDenied as e:
            raise ImageError(str(e)) from e
    config = store.config(digest)
    diff_ids = list(config["rootfs"]["diff_ids"])
    new = store.record_push(str(parsed), digest, diff_ids)
    for diff_id in reversed(diff_ids):
        out(f"{diff_id.split(':', 1)[1][:12]}: {'Pushed' if diff_id in new else 'Layer already exists'}")
    out(f"{parsed.tag}: digest: {digest} size: {len(json.dumps(config))}")
    return digest


def remove(store: ImageStore, ref: str, *, out: Out = print) -> None:
    parsed = _parse(ref)
    try:
        digest = store.untag_local(str(parsed))
    except NoSuchImage:
        raise ImageError(f"Error response from daemon: No such image: {parsed.familiar}") from None
    out(f"Untagged: {parsed.familiar}")
    if digest not in {e["digest"] for e in store.local_tags().values()}:
        out(f"Deleted: {digest}")


def list_images(store: ImageStore, *, out: Out = print) -> None:
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    for ref, digest, created in store.list_local():
        parsed = refs.parse(ref)
        rows.append((parsed.familiar_name, parsed.tag or "<none>", digest.split(":", 1)[1][:12],
                     _ago(created), short_size(store.size(store.config(digest)))))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        out("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "   " + row[4])


def save(store: ImageStore, ref_list: list[str], output: Path) -> None:
    """``docker save``: configs and layers by digest, plus ``manifest.json``."""
    manifest, blobs = [], {}
    for ref in ref_list:
        parsed = _parse(ref)
        digest = store.local_digest(str(parsed))
        if digest is None:
            raise ImageError(f"Error response from daemon: No such image: {parsed.familiar}")
        config = store.config(digest)
        config_blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        blobs[f"blobs/sha256/{digest.split(':', 1)[1]}"] = config_blob
        for diff_id in config["rootfs"]["diff_ids"]:
            blobs[f"blobs/sha256/{diff_id.split(':', 1)[1]}"] = store.get_blob(diff_id)
        manifest.append({"Config": f"blobs/sha256/{digest.split(':', 1)[1]}", "RepoTags": [parsed.familiar],
                         "Layers": [f"blobs/sha256/{d.split(':', 1)[1]}" for d in config["rootfs"]["diff_ids"]],
                         "Digest": digest})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in sorted({**blobs, "manifest.json": json.dumps(manifest).encode()}.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    atomic_write(Path(output), buffer.getvalue())


def load(store: ImageStore, archive: Path, *, out: Out = print) -> list[str]:
    try:
        with tarfile.open(archive) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (OSError, tarfile.TarError) as e:
        raise ImageError("Error response from daemon: unexpected EOF") from e
    if "manifest.json" not in members:
        raise ImageError("Error response from daemon: open /var/lib/docker/tmp/docker-import/manifest.json: "
                         "no such file or directory")
    loaded = []
    for item in json.loads(members["manifest.json"]):
        for layer in item["Layers"]:
            store.put_blob(members[layer])
        config = json.loads(members[item["Config"]])
        digest = item.get("Digest") or store.put_config(config)
        if not config.get("gitopslab", {}).get("catalog"):
            digest = store.put_config(config)
        for repo_tag in item.get("RepoTags", []):
            store.tag_local(repo_tag, digest)
            out(f"Loaded image: {repo_tag}")
            loaded.append(refs.normalize_ref(repo_tag))
    return loaded


def _ago(created: float) -> str:
    seconds = max(0, time.time() - created)
    for unit, size in (("years", 31536000), ("months", 2592000), ("weeks", 604800), ("days", 86400),
                       ("hours", 3600), ("minutes", 60)):
        if seconds >= size * (2 if unit != "minutes" else 1):
            count = int(seconds // size)
            return f"{count} {unit if count > 1 else unit[:-1]} ago"
    return "Less than a second ago" if seconds < 1 else f"{int(seconds)} seconds ago"
