"""Injected into real container processes (via PYTHONPATH) by the lab's runtime.

It gives a Python process the view it would have inside its container:

- sockets: binding ``0.0.0.0``/``""``/``localhost`` binds the pod IP instead,
  ports below 1024 are moved by the lab's fixed offset, and connecting to
  ``localhost``, a pod IP or a Service's cluster IP/DNS name reaches the
  right pod (the runtime writes the Service table to a JSON file);
- files: absolute paths under a volume mountPath (``/etc/config/x``) or
  present in the image's files (``/app/data.json``) are redirected to where
  those files really are on the host.

Configuration comes from ``GITOPSLAB_*`` environment variables set by the
runtime. This file must stay importable alone (no gitopslab imports): it
runs under the image's own Python.
"""
import builtins
import io
import json
import os
import posix
import random
import socket

_POD_IP = os.environ.get("GITOPSLAB_POD_IP", "")
_OFFSET = int(os.environ.get("GITOPSLAB_PORT_OFFSET", "20000") or 20000)
_NAMESPACE = os.environ.get("GITOPSLAB_NAMESPACE", "default")
_ROOTFS = os.environ.get("GITOPSLAB_ROOTFS", "")
_SERVICES_FILE = os.environ.get("GITOPSLAB_SERVICES", "")
_HOSTNAME = os.environ.get("GITOPSLAB_HOSTNAME", "")
_HOST_PATHS = tuple(p.rstrip("/") + "/" for p in json.loads(os.environ.get("GITOPSLAB_HOST_PATHS", "[]")))
try:
    _PATH_MAP = sorted(json.loads(os.environ.get("GITOPSLAB_PATH_MAP", "[]")), key=lambda m: -len(m[0]))
except ValueError:
    _PATH_MAP = []

_SYSTEM_PREFIXES = ("/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/proc/", "/sys/", "/dev/", "/run/")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
_LOOPBACK = ("127.0.0.1", "::1")
_POD_PREFIX = "127.42."


# ---------------------------------------------------------------- ports
def _map_port(port):
    try:
        port = int(port)
    except (TypeError, ValueError):
        return port
    return port + _OFFSET if 0 < port < 1024 else port


# ---------------------------------------------------------------- services
_services_cache = {"mtime": None, "data": {}}


def _services():
    if not _SERVICES_FILE:
        return {}
    try:
        mtime = posix.stat(_SERVICES_FILE).st_mtime_ns
    except OSError:
        return {}
    if mtime != _services_cache["mtime"]:
        try:
            with io.FileIO(_SERVICES_FILE, "r") as f:
                _services_cache["data"] = json.loads(f.read().decode("utf-8"))
            _services_cache["mtime"] = mtime
        except (OSError, ValueError):
            pass
    return _services_cache["data"]


def _resolve_name(host):
    """The IP a cluster DNS name resolves to, or None if it is not one."""
    if not isinstance(host, str):
        return None
    if host in _LOCAL_NAMES or (_HOSTNAME and host == _HOSTNAME):
        return _POD_IP or None  # /etc/hosts of the pod maps its hostname to its IP
    name = host.rstrip(".")
    if name.endswith(".cluster.local"):
        name = name[: -len(".cluster.local")]
    if name.endswith(".svc"):
        name = name[: -len(".svc")]
    parts = name.split(".")
    for svc in _services().get("services", []):
        ns, sname = svc.get("namespace"), svc.get("name")
        if parts == [sname] and ns == _NAMESPACE or parts == [sname, ns]:
            ip = svc.get("clusterIP")
            if ip and ip != "None":
                return ip
            eps = [e for p in svc.get("ports", []) for e in p.get("endpoints", [])]
            return eps[0][0] if eps else None
        if len(parts) == 3 and parts[1:] == [sname, ns]:  # pod-0.headless.ns
            for p in svc.get("ports", []):
                for e in p.get("endpoints", []):
                    if len(e) > 2 and e[2] == parts[0]:
                        return e[0]
    return None


def _route(host, port):
    """Where a connection to ``(host, port)`` really goes."""
    if host in _LOOPBACK or host in _LOCAL_NAMES:
        return (_POD_IP or host, _map_port(port)) if _POD_IP else (host, port)
    if isinstance(host, str) and host.startswith(_POD_PREFIX):
        return host, _map_port(port)
    for svc in _services().get("services", []):
        if svc.get("clusterIP") == host:
            for p in svc.get("ports", []):
                if int(p.get("port", 0)) == int(port):
                    eps = p.get("endpoints") or []
                    if eps:
                        ip, target = random.choice(eps)[:2]
                        return ip, _map_port(target)
            return host, port
    return host, port


# ---------------------------------------------------------------- sockets
_orig_bind = socket.socket.bind
_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex
_orig_getaddrinfo = socket.getaddrinfo
_orig_gethostbyname = socket.gethostbyname


def _bind(self, address):
    if self.family == socket.AF_INET and isinstance(address, tuple) and _POD_IP:
        host, port = address[0], address[1]
        if host in ("", "0.0.0.0") or host in _LOOPBACK or host in _LOCAL_NAMES:
            host = _POD_IP
        address = (host, _map_port(port))
    return _orig_bind(self, address)


def _connect_address(self, address):
    if self.family == socket.AF_INET and isinstance(address, tuple):
        return _route(address[0], address[1])
    return address


def _connect(self, address):
    return _orig_connect(self, _connect_address(self, address))


def _connect_ex(self, address):
    return _orig_connect_ex(self, _connect_address(self, address))


_orig_getsockname = socket.socket.getsockname


def _getsockname(self):
    """The pod's only interface is its IP: a source address the host chose (a UDP socket "connected"
    outside, as Werkzeug does to print its LAN address) reads as the pod IP."""
    address = _orig_getsockname(self)
    if _POD_IP and self.family == socket.AF_INET and not address[0].startswith("127.") and address[0] != "0.0.0.0":
        return (_POD_IP, address[1])
    return address


def _getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    if _POD_IP and (host in (None, "", "0.0.0.0", "::") and flags & socket.AI_PASSIVE):
        # a server asking where to listen: only the pod IP, as in its network namespace
        return _orig_getaddrinfo(_POD_IP, port, socket.AF_INET, type, proto, flags)
    resolved = _resolve_name(host.decode() if isinstance(host, bytes) else host)
    if resolved:
        return _orig_getaddrinfo(resolved, port, socket.AF_INET, type, proto, flags)
    return _orig_getaddrinfo(host, port, family, type, proto, flags)


def _gethostbyname(host):
    return _resolve_name(host) or _orig_gethostbyname(host)


def _gethostname():
    return _HOSTNAME


_orig_uname = os.uname


def _uname():
    u = _orig_uname()
    return os.uname_result((u.sysname, _HOSTNAME, u.release, u.version, u.machine))


if _HOSTNAME:  # the pod's UTS namespace: its hostname is the pod name (or spec.hostname)
    socket.gethostname = _gethostname
    os.uname = _uname

socket.socket.bind = _bind
socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.socket.getsockname = _getsockname
socket.getaddrinfo = _getaddrinfo
socket.gethostbyname = _gethostbyname


# ---------------------------------------------------------------- files
def _exists(path):
    try:
        posix.stat(path)
        return True
    except (OSError, ValueError):
        return False


def _translate(path):
    if isinstance(path, int) or not (_PATH_MAP or _ROOTFS):
        return path
    try:
        raw = os.fspath(path)
    except TypeError:
        return path
    as_bytes = isinstance(raw, bytes)
    text = os.fsdecode(raw) if as_bytes else raw
    if not text.startswith("/") or text.startswith(_HOST_PATHS):
        return path
    for prefix, host in _PATH_MAP:
        if text == prefix or text.startswith(prefix.rstrip("/") + "/"):
            mapped = host + text[len(prefix.rstrip("/")):]
            return os.fsencode(mapped) if as_bytes else mapped
    if _ROOTFS and text != "/" and not text.startswith(_SYSTEM_PREFIXES) and not text.startswith(_ROOTFS):
        candidate = _ROOTFS + text
        parent = os.path.dirname(text)
        if _exists(candidate) or (parent != "/" and _exists(_ROOTFS + parent)):
            return os.fsencode(candidate) if as_bytes else candidate
    return path


_NO_PATH = object()


def _wrap_path_first(fn):
    def wrapper(path=_NO_PATH, *args, **kwargs):
        if path is _NO_PATH:
            return fn(*args, **kwargs)
        return fn(_translate(path), *args, **kwargs)
    wrapper.__name__ = getattr(fn, "__name__", "wrapper")
    wrapper.__doc__ = getattr(fn, "__doc__", None)
    return wrapper


def _wrap_two_paths(fn):
    def wrapper(src, dst, *args, **kwargs):
        return fn(_translate(src), _translate(dst), *args, **kwargs)
    wrapper.__name__ = getattr(fn, "__name__", "wrapper")
    return wrapper


if _PATH_MAP or _ROOTFS:
    builtins.open = _wrap_path_first(builtins.open)
    io.open = builtins.open
    for _name in ("open", "stat", "lstat", "listdir", "scandir", "access", "chdir", "mkdir", "unlink",
                  "remove", "rmdir", "utime", "chmod", "readlink"):
        if hasattr(os, _name):
            setattr(os, _name, _wrap_path_first(getattr(os, _name)))
    for _name in ("rename", "replace"):
        setattr(os, _name, _wrap_two_paths(getattr(os, _name)))


# ---------------------------------------------------------------- lifetime
def _die_with_parent():
    """Every Python process of a container dies with its parent, so none outlives the lab."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the runtime still stops the process tree
        pass


if os.environ.get("GITOPSLAB_PDEATHSIG") == "1":
    _die_with_parent()
