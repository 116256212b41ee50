"""Mounted ConfigMaps and Secrets follow their source, as on a real node; subPath mounts do not.

The kubelet writes these volumes with its AtomicWriter (``..data`` linking a
timestamped folder) and writes them again at each pod resync (every minute
plus jitter, lab clock: 6 to 9 s at the test clock), so an update shows up
in the running container without a restart. A file mounted with subPath is
the one of the container's start: it keeps its old content. An nginx pod
serves the mounted files, so what the container sees is read over HTTP.
"""
from __future__ import annotations

import os

import pytest

from gitopslab.cluster import podlogs
from gitopslab.cluster.runtime.network import target_port

from .helpers import container_status, events, http_get, pod, read_pod, wait

HTML = "/usr/share/nginx/html"


@pytest.fixture
def ns(lab):
    name = lab.namespace("vol")
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_configmap_and_secret_updates_reach_the_pod_but_not_a_sub_path(lab, ns):
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "site"},
                                               "data": {"index.html": "v1\n", "pinned.html": "p1\n"}})
    lab.core.create_namespaced_secret(ns, {"metadata": {"name": "creds"}, "stringData": {"token": "s1\n"}})
    lab.core.create_namespaced_pod(ns, pod(
        "web", "nginx:1.27", container_name="web",
        volumeMounts=[{"name": "site", "mountPath": f"{HTML}/live"},
                      {"name": "site", "mountPath": f"{HTML}/frozen.html", "subPath": "pinned.html"},
                      {"name": "creds", "mountPath": f"{HTML}/creds"}],
        spec={"volumes": [{"name": "site", "configMap": {"name": "site"}},
                          {"name": "creds", "secret": {"secretName": "creds"}}]}))
    p = wait(lambda: (p := read_pod(lab, "web", ns)) and container_status(p).get("ready") and p, what="web ready")
    base = f"http://{p['status']['podIP']}:{target_port(80)}"

    def page(path: str) -> str:
        status, body = http_get(base + path)
        assert status == 200, (path, status, body)
        return body

    assert (page("/live/index.html"), page("/frozen.html"), page("/creds/token")) == ("v1\n", "p1\n", "s1\n")

    # the volume is laid out as the kubelet's AtomicWriter lays it out
    volume = podlogs.pod_dir(lab.paths, ns, "web", p["metadata"]["uid"]) / "volumes" / "site"
    first = os.readlink(volume / "..data")
    assert first.startswith("..") and os.readlink(volume / "index.html") == "..data/index.html"

    lab.core.patch_namespaced_config_map("site", ns, {"data": {"index.html": "v2\n", "pinned.html": "p2\n"}})
    lab.core.patch_namespaced_secret("creds", ns, {"stringData": {"token": "s2\n"}})
    wait(lambda: page("/live/index.html") == "v2\n", timeout=90, what="the ConfigMap update in the pod")
    wait(lambda: page("/creds/token") == "s2\n", timeout=90, what="the Secret update in the pod")
    assert page("/live/pinned.html") == "p2\n"
    assert page("/frozen.html") == "p1\n"   # subPath: the file of the container's start
    assert os.readlink(volume / "..data") != first

    st = container_status(read_pod(lab, "web", ns))
    assert st["restartCount"] == 0
    assert not [e for e in events(lab, ns, "web") if e[1] == "FailedMount"]
