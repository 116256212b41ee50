"""Shared fixtures: a real lab cluster daemon in a temporary GITOPSLAB_HOME.

Fixtures (all tear the daemon down, even when the test fails):

- ``lab_session`` – one lab for the whole session (cheapest; share state carefully,
  e.g. one namespace per test via ``lab.namespace()``);
- ``lab`` – one lab per test module (the usual choice);
- ``fresh_lab`` – a new lab for one test (restart/crash tests);
- ``lab_factory`` – ``start(root=None, name="prod", time_scale=10)`` for tests that need
  several labs or a restart; everything it started is stopped at the end;
- ``kubectl`` – ``lab.kubectl`` of the module lab.

A ``LabCluster`` exposes ``home`` (Home), ``kubeconfig`` (Path), ``server``,
``token``, ``raw(method, path, body)`` (one raw HTTP request), ``api_client`` (an official ``kubernetes.client.ApiClient``),
``core``/``apps``/``custom`` typed APIs, ``kubectl(*args, input=None,
check=True)`` running ``/usr/bin/kubectl --kubeconfig …`` (returns the
CompletedProcess, text mode) and ``namespace(prefix)`` that creates a fresh
namespace. The clock runs at ``TIME_SCALE`` (10×) so controller delays are short.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIME_SCALE = 10.0
KUBECTL = "/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else (shutil.which("kubectl") or "kubectl")


@dataclass
class LabCluster:
    home: "object"
    name: str
    kubeconfig: Path
    server: str
    token: str
    api_client: "object" = field(repr=False)

    @property
    def core(self):
        from kubernetes import client
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self):
        from kubernetes import client
        return client.AppsV1Api(self.api_client)

    @property
    def custom(self):
        from kubernetes import client
        return client.CustomObjectsApi(self.api_client)

    @property
    def paths(self):
        return self.home.cluster(self.name)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--context", self.name,
               "--cache-dir", str(self.home.root / ".kube-cache"), *args]
        done = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def raw(self, method: str, path: str, body: bytes | str | dict | list | None = None, *,
            headers: dict | None = None, token: str | None = "default", timeout: float = 30) -> tuple[int, bytes]:
        """One raw HTTP request to the API server: ``(status, body)``."""
        import http.client
        import json as _json
        import ssl
        from urllib.parse import urlparse

        url = urlparse(self.server)
        if url.scheme == "https":
            ctx = ssl.create_default_context(cadata=self.paths.root.joinpath("tls", "server.crt").read_text())
            conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        hdrs = {"Accept": "application/json", **(headers or {})}
        if token == "default":
            token = self.token
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = _json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.core.create_namespace({"metadata": {"name": name}})
        return name


def start_lab(root: Path, name: str = "prod", time_scale: float = TIME_SCALE) -> LabCluster:
    from kubernetes import config

    from gitopslab.cluster import lifecycle
    from gitopslab.home import Home

    home = Home(root)
    info = lifecycle.up(home, name, time_scale=time_scale)
    api = config.new_client_from_config(config_file=str(home.kubeconfig), context=name)
    return LabCluster(home=home, name=name, kubeconfig=home.kubeconfig, server=info.server, token=info.token,
                      api_client=api)


def stop_lab(lab: LabCluster) -> None:
    from gitopslab.cluster import lifecycle

    try:
        lab.api_client.close()
    except Exception:  # noqa: BLE001
        pass
    lifecycle.down(lab.home, None, all=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("lab"))
    try:
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture
def fresh_lab(tmp_path):
    lab = start_lab(tmp_path / "home")
    try:
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture
def lab_factory(tmp_path):
    """``start(root=None, name="prod", time_scale=10)`` -> LabCluster; every lab it started is stopped."""
    started: list[LabCluster] = []

    def start(root: Path | None = None, name: str = "prod", time_scale: float = TIME_SCALE) -> LabCluster:
        lab = start_lab(Path(root) if root else tmp_path / f"home{len(started)}", name, time_scale)
        started.append(lab)
        return lab

    try:
        yield start
    finally:
        for lab in reversed(started):
            stop_lab(lab)


@pytest.fixture(scope="module")
def kubectl(lab):
    return lab.kubectl
