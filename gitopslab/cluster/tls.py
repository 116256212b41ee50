"""The cluster's serving certificate: self-signed, for 127.0.0.1 and the
in-cluster names, made once per cluster with the ``openssl`` command line.

Without ``openssl`` the lab serves plain HTTP (the kubeconfig then says
``http://``); everything else is unchanged.
"""
from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

from gitopslab.home import ClusterPaths

SUBJECT_ALT_NAMES = ("IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
                     "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local")


def cert_path(paths: ClusterPaths) -> Path:
    return paths.root / "tls" / "server.crt"


def key_path(paths: ClusterPaths) -> Path:
    return paths.root / "tls" / "server.key"


def ensure_certificate(paths: ClusterPaths) -> bool:
    """Create the certificate if missing; False when TLS is unavailable."""
    crt, key = cert_path(paths), key_path(paths)
    if crt.exists() and key.exists():
        return True
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    crt.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    cmd = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", str(key), "-out", str(crt), "-days", "3650",
           "-subj", f"/O=k3s/CN=k3s-{paths.name}-server-ca",
           "-addext", "subjectAltName=" + ",".join(SUBJECT_ALT_NAMES)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return False
    key.chmod(0o600)
    return True


def ca_pem(paths: ClusterPaths) -> str:
    try:
        return cert_path(paths).read_text()
    except OSError:
        return ""


def server_context(paths: ClusterPaths) -> ssl.SSLContext | None:
    crt, key = cert_path(paths), key_path(paths)
    if not (crt.exists() and key.exists()):
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    return ctx


def client_context(ca_data: str | None = None, *, insecure: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_data:
        ctx.load_verify_locations(cadata=ca_data)
    return ctx
