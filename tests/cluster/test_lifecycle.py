"""Starting and stopping labs: idempotent up, kubeconfig, restart, kill -9, two homes, the CLI."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

from gitopslab.cluster import lifecycle, nodeclaims
from gitopslab.home import Home



def _cli(home, *args, check=True):
    env = dict(os.environ, GITOPSLAB_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(done.stdout + done.stderr)
    return done


def test_up_is_idempotent_and_writes_kubeconfig(fresh_lab):
    home = fresh_lab.home
    pid = lifecycle.info(home, "prod").pid
    again = lifecycle.up(home, "prod")
    assert again.pid == pid and again.running
    mode = stat.S_IMODE(os.stat(home.kubeconfig).st_mode)
    assert mode == 0o600
    doc = yaml.safe_load(home.kubeconfig.read_text())
    assert doc["current-context"] == "prod"
    assert [c["name"] for c in doc["contexts"]] == ["prod"]
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://127.0.0.1:") and cluster["certificate-authority-data"]
    assert doc["users"][0]["user"]["token"] == fresh_lab.token


def test_token_is_required(fresh_lab):
    code, body = fresh_lab.raw("GET", "/api/v1/namespaces", token=None)
    assert code == 401 and json.loads(body)["reason"] == "Unauthorized"
    code, _ = fresh_lab.raw("GET", "/api/v1/namespaces", token="wrong")
    assert code == 401
    assert fresh_lab.raw("GET", "/api/v1/namespaces")[0] == 200


def test_state_survives_down_up(fresh_lab, lab_factory):
    ns = fresh_lab.namespace("keep")
    fresh_lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "kept"}, "data": {"k": "v"}})
    rv = int(fresh_lab.core.read_namespaced_config_map("kept", ns).metadata.resource_version)
    assert lifecycle.down(fresh_lab.home, "prod") == ["prod"]
    assert not lifecycle.info(fresh_lab.home, "prod").running
    lab2 = lab_factory(fresh_lab.home.root)
    cm = lab2.core.read_namespaced_config_map("kept", ns)
    assert cm.data == {"k": "v"} and int(cm.metadata.resource_version) == rv
    created = lab2.core.create_namespaced_config_map(ns, {"metadata": {"name": "after"}})
    assert int(created.metadata.resource_version) > rv  # the counter survives restarts


def test_kill_9_loses_no_acknowledged_write(fresh_lab, lab_factory):
    ns = fresh_lab.namespace("crash")
    names = [f"c{i}" for i in range(50)]
    for n in names:
        fresh_lab.core.create_namespaced_config_map(ns, {"metadata": {"name": n}, "data": {"n": n}})
    fresh_lab.core.patch_namespaced_config_map("c0", ns, {"data": {"patched": "yes"}})
    lifecycle.kill(fresh_lab.home, "prod")
    assert not lifecycle.info(fresh_lab.home, "prod").running
    lab2 = lab_factory(fresh_lab.home.root)
    listed = {c.metadata.name: c.data for c in lab2.core.list_namespaced_config_map(ns).items}
    assert set(names) <= set(listed)
    assert listed["c0"] == {"n": "c0", "patched": "yes"}


def test_two_homes_side_by_side(lab_factory):
    a = lab_factory()
    b = lab_factory()
    assert a.server != b.server and a.token != b.token
    a.core.create_namespace({"metadata": {"name": "only-in-a"}})
    assert "only-in-a" not in {n.metadata.name for n in b.core.list_namespace().items}
    code, _ = b.raw("GET", "/api/v1/namespaces", token=a.token)
    assert code == 401


def _internal_ip(lab) -> str:
    node = lab.core.list_node().items[0]
    return next(a.address for a in node.status.addresses if a.type == "InternalIP")


def test_two_homes_never_share_a_node_address(lab_factory, monkeypatch):
    """Their NodePorts would collide: the second home's node moves to a free address, and keeps it."""
    monkeypatch.delenv("GITOPSLAB_NODE_IP", raising=False)
    a = lab_factory()
    b = lab_factory()
    assert nodeclaims.is_claimed(_internal_ip(a)) and nodeclaims.is_claimed(_internal_ip(b))
    assert _internal_ip(a) != _internal_ip(b)
    assert b.home.cluster("prod").node_ip() == _internal_ip(b)
    moved = _internal_ip(b)
    lifecycle.down(b.home, "prod")
    assert not nodeclaims.is_claimed(moved)
    again = lab_factory(b.home.root)
    assert _internal_ip(again) == moved  # a free address is kept across restarts


def test_a_claim_is_released_when_its_holder_dies(tmp_path):
    ip = "127.250.0.1"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from gitopslab.cluster import nodeclaims\n"
        f"assert nodeclaims.claim({ip!r}) is not None\nprint('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert nodeclaims.is_claimed(ip) and nodeclaims.claim(ip) is None
    finally:
        holder.kill()
        holder.wait()
    assert not nodeclaims.is_claimed(ip)


def test_second_cluster_gets_its_context(fresh_lab):
    lifecycle.up(fresh_lab.home, "staging", time_scale=10)
    try:
        doc = yaml.safe_load(fresh_lab.home.kubeconfig.read_text())
        assert [c["name"] for c in doc["contexts"]] == ["prod", "staging"]
        assert doc["current-context"] == "prod"
        out = fresh_lab.kubectl("--context", "staging", "get", "nodes", "-o", "name").stdout
        assert out.strip() == "node/staging-control-plane"
    finally:
        lifecycle.down(fresh_lab.home, "staging")
    assert not lifecycle.info(fresh_lab.home, "staging").running


def test_cli_lab_commands(tmp_path):
    home = tmp_path / "cli"
    try:
        up = _cli(home, "lab", "up", "--time-scale", "10")
        assert "Cluster prod prêt : https://127.0.0.1:" in up.stdout and "contexte kubeconfig « prod »" in up.stdout
        status = _cli(home, "lab", "status")
        assert "prod" in status.stdout and "démarré" in status.stdout
        assert _cli(home, "lab", "kubeconfig").stdout.strip() == str(Home(home).kubeconfig)
        data = json.loads(_cli(home, "lab", "status", "--json").stdout)
        assert data[0]["name"] == "prod" and data[0]["running"] is True and data[0]["timeScale"] == 10
        down = _cli(home, "lab", "down")
        assert "Cluster prod arrêté" in down.stdout
        assert "arrêté" in _cli(home, "lab", "status").stdout
        bad = _cli(home, "lab", "up", "--time-scale", "0", check=False)
        assert bad.returncode == 1 and bad.stderr.startswith("Erreur : ")
    finally:
        lifecycle.down(Home(home), None, all=True)


def test_daemon_kills_its_workload_processes_on_exit(fresh_lab):
    """Processes started in the daemon's process group die with it."""
    pid = lifecycle.info(fresh_lab.home, "prod").pid
    pgid = os.getpgid(pid)
    assert pgid == pid  # the daemon leads its own session / process group
    lifecycle.down(fresh_lab.home, "prod")
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    assert members == []


@pytest.mark.parametrize("scale", ["-1"])
def test_invalid_time_scale(tmp_path, scale):
    with pytest.raises(lifecycle.LabError):
        lifecycle.up(Home(tmp_path / "x"), "prod", time_scale=float(scale))
