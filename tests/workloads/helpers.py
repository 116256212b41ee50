"""Helpers for the workload scenarios: waiting on the API, manifests, container processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil


def wait(predicate, timeout: float = 60, what: str = "condition", interval: float = 0.1):
    """The first truthy value of ``predicate()``; AssertionError with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def try_get(url: str, timeout: float = 2) -> tuple[int, str] | None:
    try:
        return http_get(url, timeout)
    except OSError:
        return None


def deployment(name: str, image: str = "nginx:1.27", replicas: int = 1, **container) -> dict:
    c = {"name": container.pop("container_name", "web"), "image": image, **container}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [c]}}}}


def pod(name: str, image: str = "nginx:1.27", *, spec: dict | None = None, **container) -> dict:
    c = {"name": container.pop("container_name", "app"), "image": image, **container}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [c], **(spec or {})}}


def node_port_service(name: str, port: int, target_port, node_port: int | None = None) -> dict:
    p = {"port": port, "targetPort": target_port}
    if node_port:
        p["nodePort"] = node_port
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [p]}}


def read_pod(lab, name: str, ns: str) -> dict:
    done = lab.kubectl("-n", ns, "get", "pod", name, "-o", "json", check=False)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def container_status(pod: dict, name: str | None = None) -> dict:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for st in statuses:
        if name is None or st["name"] == name:
            return st
    return {}


def waiting_reason(pod: dict, name: str | None = None) -> str | None:
    return ((container_status(pod, name).get("state") or {}).get("waiting") or {}).get("reason")


def condition(obj: dict, ctype: str) -> dict:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return {}


def events(lab, ns: str, name: str) -> list[tuple[str, str, str]]:
    """``(type, reason, message)`` of the events about object ``name``."""
    out = lab.kubectl("-n", ns, "get", "events", "--field-selector", f"involvedObject.name={name}",
                      "-o", "json").stdout
    return [(e.get("type"), e.get("reason"), e.get("message")) for e in json.loads(out)["items"]]


def get_pods_row(lab, ns: str, name: str) -> dict[str, str]:
    """The ``kubectl get pods`` row of one pod, by column name."""
    out = lab.kubectl("-n", ns, "get", "pod", name).stdout.splitlines()
    header, row = out[0], out[1]
    starts = [header.index(col) for col in header.split()]
    cells = [row[s:e].strip() for s, e in zip(starts, starts[1:] + [len(row) + 1])]
    return dict(zip(header.split(), cells))


# --- processes ---------------------------------------------------------------------------------

def daemon_process(lab) -> psutil.Process:
    return psutil.Process(lab.paths.read_pid())


def container_pids(lab, pod_ip: str | None = None) -> set[int]:
    """Real container processes of the lab daemon (those of one pod IP when given)."""
    found = set()
    try:
        children = daemon_process(lab).children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for proc in children:
        try:
            env = proc.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if "GITOPSLAB_POD_IP" in env and (pod_ip is None or env["GITOPSLAB_POD_IP"] == pod_ip):
            found.add(proc.pid)
    return found


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- images ------------------------------------------------------------------------------------

def gitopslab(lab, *args: str) -> subprocess.CompletedProcess:
    """Run the ``gitopslab`` command against the lab's home."""
    env = dict(os.environ, GITOPSLAB_HOME=str(lab.home.root))
    done = subprocess.run([sys.executable, "-m", "gitopslab.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"gitopslab {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def build_and_push(lab, context: Path, ref: str) -> str:
    gitopslab(lab, "image", "build", "-t", ref, str(context))
    owner = ref.split("/")[0]
    gitopslab(lab, "image", "login", "-u", owner, "-p", "lab-password")
    return gitopslab(lab, "image", "push", ref).stdout
