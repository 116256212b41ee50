"""Filesystem snapshots and deterministic layer tars (pure, in memory).

A build keeps the image's files as ``{path: Entry}`` (paths relative to ``/``,
POSIX). A layer is a tar of the entries a step added, written with fixed
owners, times and ordering, so the same content always gives the same digest.
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    kind: str            # "file", "dir" or "symlink"
    mode: int = 0o644
    data: bytes = b""
    target: str = ""     # symlink target


Files = dict[str, Entry]


def normalize_mode(mode: int, kind: str) -> int:
    if kind == "dir":
        return 0o755
    return 0o755 if mode & 0o111 else 0o644


def parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def with_parents(files: Files) -> Files:
    """Add the missing parent directories (a tar needs them to extract cleanly)."""
    full = dict(files)
    for path in list(files):
        for parent in parents(path):
            full.setdefault(parent, Entry("dir", 0o755))
    return full


def make_tar(files: Files) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(with_parents(files)):
            entry = files.get(path) or Entry("dir", 0o755)
            info = tarfile.TarInfo(path)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            info.mode = normalize_mode(entry.mode, entry.kind)
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def read_tar(data: bytes) -> Files:
    files: Files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar.getmembers():
            path = member.name.lstrip("./").rstrip("/")
            if not path or ".." in path.split("/"):
                continue
            if member.isdir():
                files[path] = Entry("dir", 0o755)
            elif member.issym():
                files[path] = Entry("symlink", 0o777, target=member.linkname)
            elif member.isfile():
                extracted = tar.extractfile(member)
                files[path] = Entry("file", member.mode, extracted.read() if extracted else b"")
    return files


def write_tree(files: Files, root: Path) -> None:
    """Materialise entries under ``root`` (which must not exist yet)."""
    root.mkdir(parents=True)
    for path in sorted(with_parents(files)):
        entry = files.get(path) or Entry("dir")
        target = root / path
        if entry.kind == "dir":
            target.mkdir(exist_ok=True)
        elif entry.kind == "symlink":
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            os.symlink(entry.target, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.write_bytes(entry.data)
            target.chmod(normalize_mode(entry.mode, "file"))


def read_tree(root: Path) -> Files:
    files: Files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            path = name if rel == "." else f"{rel}/{name}"
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                files[path] = Entry("symlink", 0o777, target=os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                files[path] = Entry("dir", 0o755)
            elif stat.S_ISREG(st.st_mode):
                files[path] = Entry("file", st.st_mode, Path(full).read_bytes())
    return files


def apply(base: Files, layer: Files) -> Files:
    """Stack a layer on a filesystem: a file replaces whatever was at its path."""
    merged = dict(base)
    for path, entry in layer.items():
        if entry.kind != "dir":
            prefix = path + "/"
            for existing in [p for p in merged if p.startswith(prefix)]:
                del merged[existing]
        merged[path] = entry
    return merged
