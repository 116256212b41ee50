"""Pod volumes as files on the host, and the container mounts pointing at them.

Each volume becomes a folder ``<pod dir>/volumes/<name>`` (a PVC's is the
bound PV's hostPath). Failures raise ``MountError`` with the kubelet's
wording; the kubelet reports them as FailedMount events and retries.

ConfigMap, Secret, downwardAPI and projected volumes are written as the
kubelet's AtomicWriter writes them: the files live in a timestamped folder
(``..2025_01_31_12_00_00.123456789``), ``..data`` links to it and each
top-level name links to ``..data/<name>``, so an update (``setup_volume``
again, at every pod resync) swaps ``..data`` in one rename. A ``subPath``
into such a volume is pinned at the container's start, as the kubelet's
bind mount of the resolved file is (``volume-subpaths/``): later updates do
not reach it, a restarted container sees the content of its start.
"""
from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

from gitopslab.cluster.client import Client
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.kubelet.envvars import PodFacts, configmap_data, field_ref_value, resource_field_value, secret_data
from gitopslab.cluster.runtime.container import Mount


class MountError(Exception):
    def __init__(self, volume: str, message: str):
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {message}')
        self.volume = volume


DATA_DIR = "..data"
NEW_DATA_DIR = "..data_tmp"
TOKEN_EXPIRATION_SECONDS = 3607
TOKEN_REFRESH_FRACTION = 0.8


def _new_timestamp_dir(target: Path) -> Path:
    """``os.MkdirTemp(dir, "..2006_01_02_15_04_05.")``: the time, then Go's random digits."""
    while True:
        path = target / (time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime()) + str(random.getrandbits(32)))
        try:
            path.mkdir(mode=0o755)
            return path
        except FileExistsError:
            continue


def _should_write(payload: dict[str, bytes], old: Path) -> bool:
    for rel, data in payload.items():
        path = old / rel
        if not path.is_file() or path.read_bytes() != data:
            return True
    return False


def _paths_to_remove(payload: dict[str, bytes], old: Path) -> set[str]:
    current = {str(p.relative_to(old)) for p in old.rglob("*")}
    wanted = set()
    for rel in payload:
        while rel:
            wanted.add(rel)
            rel = os.path.dirname(rel)
    return current - wanted


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def write_atomically(target: Path, files: dict[str, str | bytes], mode: int) -> bool:
    """AtomicWriter.Write: publish ``files`` under ``target`` in one rename; False when nothing changed."""
    target.mkdir(parents=True, exist_ok=True)
    payload = {os.path.normpath(rel): (c.encode() if isinstance(c, str) else c) for rel, c in files.items()}
    data_link = target / DATA_DIR
    old = os.readlink(data_link) if data_link.is_symlink() else ""
    to_remove: set[str] = set()
    write = True
    if old:
        to_remove = _paths_to_remove(payload, target / old)
        if not _should_write(payload, target / old) and not to_remove:
            write, old = False, ""
    if write:
        ts_dir = _new_timestamp_dir(target)
        for rel, data in payload.items():
            path = ts_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, mode & 0o777 | 0o600)  # the lab's own user must keep reading it
        new_link = target / NEW_DATA_DIR
        _remove(new_link)
        os.symlink(ts_dir.name, new_link)
        os.replace(new_link, data_link)
    for rel in payload:
        top = rel.split(os.sep, 1)[0]
        visible = target / top
        if not visible.is_symlink():
            _remove(visible)  # a folder written before this layout, or a subPath created where a key now is
            os.symlink(os.path.join(DATA_DIR, top), visible)
    for rel in to_remove:
        if os.sep not in rel:
            _remove(target / rel)
    if old:
        shutil.rmtree(target / old, ignore_errors=True)
    return write


def _project(data: dict[str, str], items: list[dict] | None, what: str, name: str, default_mode: int,
             volume: str, optional: bool = False) -> tuple[dict[str, str], int]:
    if not items:
        return dict(data), default_mode
    files = {}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if optional:  # as the kubelet's MakePayload: an optional source skips missing keys
                continue
            raise MountError(volume, f"{what} references non-existent config key: {key}" if what == "configmap"
                             else f"references non-existent secret key: {key}")
        files[item.get("path") or key] = data[key]
    return files, default_mode


async def _get(client: Client, kind: str, name: str, namespace: str) -> dict | None:
    try:
        return await client.get("v1", kind, name, namespace)
    except ApiError as e:
        if e.code == 404:
            return None
        raise


async def _service_account_token(client: Client, pod: dict) -> str:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    sa = spec.get("serviceAccountName") or "default"
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "metadata": {"name": sa, "namespace": meta["namespace"]},
               "spec": {"audiences": [], "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"],
                                           "uid": meta.get("uid")}}}
    try:
        created = await client.create(request, namespace=meta["namespace"], subresource="token")
        return (created.get("status") or {}).get("token", "")
    except Exception:  # noqa: BLE001 - no TokenRequest support: the file stays empty
        return ""


async def setup_volume(client: Client, pod: dict, volume: dict, pod_dir: Path, facts: PodFacts,
                       pv_root: Path) -> Path:
    name = volume["name"]
    ns = pod["metadata"]["namespace"]
    target = pod_dir / "volumes" / name
    if "emptyDir" in volume:
        target.mkdir(parents=True, exist_ok=True)
        return target
    if "configMap" in volume:
        src = volume["configMap"]
        cm = await _get(client, "ConfigMap", src.get("name", ""), ns)
        if cm is None:
            if src.get("optional"):  # an empty payload: the volume is there, without files
                write_atomically(target, {}, int(src.get("defaultMode", 0o644)))
                return target
            raise MountError(name, f'configmap "{src.get("name")}" not found')
        files, mode = _project(configmap_data(cm), src.get("items"), "configmap", src.get("name"),
                               int(src.get("defaultMode", 0o644)), name, bool(src.get("optional")))
        write_atomically(target, files, mode)
        return target
    if "secret" in volume:
        src = volume["secret"]
        secret = await _get(client, "Secret", src.get("secretName", ""), ns)
        if secret is None:
            if src.get("optional"):
                write_atomically(target, {}, int(src.get("defaultMode", 0o644)))
                return target
            raise MountError(name, f'secret "{src.get("secretName")}" not found')
        files, mode = _project(secret_data(secret), src.get("items"), "secret", src.get("secretName"),
                               int(src.get("defaultMode", 0o644)), name, bool(src.get("optional")))
        write_atomically(target, files, mode)
        return target
    if "downwardAPI" in volume:
        files = await _downward_files(volume["downwardAPI"].get("items") or [], pod, facts)
        write_atomically(target, files, int(volume["downwardAPI"].get("defaultMode", 0o644)))
        return target
    if "projected" in volume:
        files = await _projected_files(client, pod, volume["projected"], facts, name, target)
        write_atomically(target, files, int(volume["projected"].get("defaultMode", 0o644)))
        return target
    if "persistentVolumeClaim" in volume:
        return await _pvc_path(client, volume["persistentVolumeClaim"].get("claimName", ""), ns, name, pv_root)
    if "hostPath" in volume:
        # sandboxed under the cluster folder: a lab pod must not write the learner's files
        path = pv_root.parent / "hostpath" / volume["hostPath"].get("path", "/").lstrip("/")
        path.mkdir(parents=True, exist_ok=True)
        return path
    target.mkdir(parents=True, exist_ok=True)
    return target


async def _downward_files(items: list[dict], pod: dict, facts: PodFacts) -> dict[str, str]:
    files = {}
    for item in items:
        if item.get("fieldRef"):
            files[item["path"]] = field_ref_value(item["fieldRef"].get("fieldPath", ""), pod, facts)
        elif item.get("resourceFieldRef"):
            ref = item["resourceFieldRef"]
            container = next((c for c in pod["spec"].get("containers") or []
                              if c.get("name") == ref.get("containerName")), {})
            files[item["path"]] = resource_field_value(ref, container, facts)
    return files


def _fresh_token(path: Path) -> str | None:
    """The token already in the volume while it is younger than 80% of its lifetime (the token manager's rule)."""
    try:
        if time.time() - path.stat().st_mtime < TOKEN_REFRESH_FRACTION * TOKEN_EXPIRATION_SECONDS:
            return path.read_text()
    except OSError:
        pass
    return None


async def _projected_files(client: Client, pod: dict, projected: dict, facts: PodFacts, volume: str,
                           target: Path) -> dict:
    ns = pod["metadata"]["namespace"]
    files: dict[str, str] = {}
    for source in projected.get("sources") or []:
        if source.get("serviceAccountToken"):
            path = source["serviceAccountToken"].get("path", "token")
            files[path] = _fresh_token(target / path) or await _service_account_token(client, pod)
        elif source.get("configMap"):
            src = source["configMap"]
            cm = await _get(client, "ConfigMap", src.get("name", ""), ns)
            if cm is None:
                if src.get("optional"):
                    continue
                raise MountError(volume, f'configmap "{src.get("name")}" not found')
            part, _ = _project(configmap_data(cm), src.get("items"), "configmap", src.get("name"), 0o644, volume,
                               bool(src.get("optional")))
            files.update(part)
        elif source.get("secret"):
            src = source["secret"]
            secret = await _get(client, "Secret", src.get("name", ""), ns)
            if secret is None:
                if src.get("optional"):
                    continue
                raise MountError(volume, f'secret "{src.get("name")}" not found')
            part, _ = _project(secret_data(secret), src.get("items"), "secret", src.get("name"), 0o644, volume,
                               bool(src.get("optional")))
            files.update(part)
        elif source.get("downwardAPI"):
            files.update(await _downward_files(source["downwardAPI"].get("items") or [], pod, facts))
    return files


async def _pvc_path(client: Client, claim: str, ns: str, volume: str, pv_root: Path) -> Path:
    pvc = await _get(client, "PersistentVolumeClaim", claim, ns)
    if pvc is None:
        raise MountError(volume, f'persistentvolumeclaim "{claim}" not found')
    pv_name = (pvc.get("spec") or {}).get("volumeName")
    if not pv_name or (pvc.get("status") or {}).get("phase") not in (None, "Bound"):
        raise MountError(volume, f"PVC {ns}/{claim} is not bound")
    try:
        pv = await client.get("v1", "PersistentVolume", pv_name)
    except ApiError:
        pv = {}
    spec = pv.get("spec") or {}
    host = (spec.get("hostPath") or {}).get("path") or (spec.get("local") or {}).get("path")
    cluster_root = pv_root.parent
    if host and not Path(host).resolve().is_relative_to(cluster_root.resolve()):
        # a PV written by hand (hostPath: /data): sandboxed like hostPath volumes
        host = str(cluster_root / "hostpath" / host.lstrip("/"))
    path = Path(host) if host else pv_root / pv_name
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        path = pv_root / pv_name
        path.mkdir(parents=True, exist_ok=True)
    return path


def pin_subpath(source: Path, pinned: Path) -> Path:
    """What the kubelet bind-mounts for a subPath: the resolved file or folder as it is now."""
    real = source.resolve()
    pinned.parent.mkdir(parents=True, exist_ok=True)
    _remove(pinned)
    if real.is_dir():
        shutil.copytree(real, pinned, symlinks=True)
    else:
        try:
            os.link(real, pinned)  # the same inode: the next atomic write replaces the file, not this one
        except OSError:
            shutil.copy2(real, pinned)
    return pinned


def container_mounts(container: dict, volume_paths: dict[str, Path], subpaths: Path | None = None) -> list[Mount]:
    """The container's mounts; ``subpaths`` (``<pod dir>/volume-subpaths``) holds pinned subPaths."""
    mounts = []
    for index, vm in enumerate(container.get("volumeMounts") or []):
        base = volume_paths.get(vm.get("name", ""))
        if base is None:
            continue
        host = base / vm["subPath"] if vm.get("subPath") else base
        if vm.get("subPath") and not host.exists():
            host.mkdir(parents=True, exist_ok=True)
        elif vm.get("subPath") and subpaths is not None and (base / DATA_DIR).is_symlink():
            host = pin_subpath(host, subpaths / vm["name"] / container.get("name", "") / str(index))
        mounts.append(Mount(vm.get("mountPath", ""), host, bool(vm.get("readOnly"))))
    return mounts
