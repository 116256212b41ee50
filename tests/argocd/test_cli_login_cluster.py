"""The ``argocd`` command of the lab's terminal: login, cluster add, cluster list (the course's workshop 7 steps).

Pure parts first (config file, Go wording of dial/TLS errors, the table), then
conftest's module lab: ``prod`` with Argo CD installed (NodePort) and a second
cluster ``staging`` started with ``gitopslab lab up --cluster staging`` in the
same home; every command runs the installed ``argocd`` console script in a
subprocess. argocd v3 logs in JSON on stderr (``--logformat json`` is its
default): ``{"level":"fatal","msg":…,"time":…}``, exit code 20 for
``errors.CheckError``.
"""
from __future__ import annotations

import base64
import json
import os
import pty
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gitopslab.argocd import cliformat as fmt
from gitopslab.argocd import localconfig
from gitopslab.argocd.serveraddress import DialError, certificate_error, split_address

ARGOCD = Path(sys.executable).parent / "argocd"
GITOPSLAB = Path(sys.executable).parent / "gitopslab"
TIME_SCALE = 10.0  # conftest's lab clock
IP_SANS = "error creating connection: tls: failed to verify certificate: x509: cannot validate certificate for {ip} " \
          "because it doesn't contain any IP SANs"


# --- pure ----------------------------------------------------------------------------

def test_certificate_error_of_argocd_servers_self_signed_certificate():
    assert certificate_error("127.0.0.1") == IP_SANS.format(ip="127.0.0.1")
    assert certificate_error("localhost").endswith("tls: failed to verify certificate: "
                                                   "x509: certificate signed by unknown authority")
    assert certificate_error("argocd.example.com").endswith(
        "x509: certificate is valid for localhost, argocd-server, argocd-server.argocd, argocd-server.argocd.svc, "
        "argocd-server.argocd.svc.cluster.local, not argocd.example.com")


def test_split_address_as_go():
    assert split_address("127.0.0.1:30443") == ("127.0.0.1", "30443")
    assert split_address("argocd.example.com") == ("argocd.example.com", "443")
    with pytest.raises(DialError, match="^dial tcp: address https://127.0.0.1:30443: too many colons in address$"):
        split_address("https://127.0.0.1:30443")


def test_local_config_login_upserts_and_resolves():
    config = localconfig.empty()
    server = localconfig.server_entry("127.0.0.1:30443", insecure=True)
    assert server == {"grpc-web-root-path": "", "insecure": True, "server": "127.0.0.1:30443"}
    localconfig.login(config, "127.0.0.1:30443", server, "t1")
    localconfig.login(config, "127.0.0.1:30443", server, "t2")
    assert config["contexts"] == [{"name": "127.0.0.1:30443", "server": "127.0.0.1:30443", "user": "127.0.0.1:30443"}]
    assert config["users"] == [{"auth-token": "t2", "name": "127.0.0.1:30443"}]
    assert localconfig.resolve_context(config)["server"] == server
    assert localconfig.remove_token(config, "127.0.0.1:30443") and config["users"] == [{"name": "127.0.0.1:30443"}]
    assert localconfig.delete_context(config, "127.0.0.1:30443")
    assert config == localconfig.empty()


def test_cluster_list_table():
    rows = [{"server": "https://127.0.0.1:6443", "name": "staging", "version": "v1.32.5", "status": "Successful",
             "message": "", "project": ""},
            {"server": "https://kubernetes.default.svc", "name": "in-cluster", "version": "", "status": "Unknown",
             "message": "Cluster has no applications and is not being monitored.", "project": ""}]
    message = "Cluster has no applications and is not being monitored."
    # Go's tabwriter pads every tab-terminated cell (MESSAGE too) to its column's width + 2
    assert fmt.cluster_list_table(rows).splitlines() == [
        "SERVER                          NAME        VERSION  STATUS      MESSAGE" + " " * (len(message) - 5) + "PROJECT",
        "https://127.0.0.1:6443          staging     v1.32.5  Successful  " + " " * (len(message) + 2),
        "https://kubernetes.default.svc  in-cluster           Unknown     " + message + "  "]


# --- through a lab ----------------------------------------------------------------------

class Terminal:
    def __init__(self, cluster, staging_server: str):
        self.cluster = cluster
        self.home = cluster.home
        self.staging_server = staging_server
        self.env = dict(os.environ, GITOPSLAB_HOME=str(self.home.root), KUBECONFIG=str(self.home.kubeconfig))

    @property
    def node_ip(self) -> str:
        return self.home.cluster("prod").node_ip()

    @property
    def server(self) -> str:
        return f"{self.node_ip}:30443"

    def argocd(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(ARGOCD), *args], input=input, env=self.env, capture_output=True, text=True,
                              timeout=120)

    def password(self) -> str:
        secret = self.cluster.core.read_namespaced_secret("argocd-initial-admin-secret", "argocd")
        return base64.b64decode(secret.data["password"]).decode()

    def config(self) -> dict | None:
        return localconfig.read(localconfig.config_path(self.home))


def log_lines(stderr: str) -> list[dict]:
    """argocd v3's JSON log lines."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all(set(line) == {"level", "msg", "time"} for line in lines), stderr
    return lines


def _ready(lab) -> bool:
    pods = lab.core.list_namespaced_pod("argocd", label_selector="app.kubernetes.io/name=argocd-server").items
    return any(any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or [])) for p in pods)


@pytest.fixture(scope="module")
def terminal(lab):
    """conftest's ``lab`` (prod, stopped with all its clusters) with Argo CD, and ``staging`` in the same home."""
    env = dict(os.environ, GITOPSLAB_HOME=str(lab.home.root))
    done = subprocess.run([str(ARGOCD), "install", "--service-type", "NodePort"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    up = subprocess.run([str(GITOPSLAB), "lab", "up", "--cluster", "staging", "--time-scale", str(TIME_SCALE)],
                        env=env, capture_output=True, text=True, timeout=180)
    assert up.returncode == 0, up.stderr
    kubeconfig = yaml.safe_load(lab.kubeconfig.read_text())
    server = next(c["cluster"]["server"] for c in kubeconfig["clusters"] if c["name"] == "staging")
    deadline = time.monotonic() + 120
    while not _ready(lab):
        assert time.monotonic() < deadline, "argocd-server not ready"
        time.sleep(0.5)
    return Terminal(lab, server)


def test_login_prompts_like_the_real_cli_and_stores_a_context(terminal):
    without_login = terminal.argocd("app", "list")
    assert without_login.returncode == 0, without_login.stderr
    assert without_login.stdout.startswith("NAME  CLUSTER  NAMESPACE  PROJECT  STATUS  HEALTH")

    done = terminal.argocd("login", terminal.server, input=f"y\nadmin\n{terminal.password()}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"WARNING: server certificate had error: {IP_SANS.format(ip=terminal.node_ip)}. "
                           f"Proceed insecurely (y/n)? Username: Password: 'admin:login' logged in successfully\n"
                           f"Context '{terminal.server}' updated\n")
    path = localconfig.config_path(terminal.home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = terminal.config()
    assert config["current-context"] == terminal.server
    assert config["servers"] == [{"grpc-web-root-path": "", "insecure": True, "server": terminal.server}]
    token = config["users"][0]["auth-token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["iss"] == "argocd" and claims["sub"] == "admin:login" and claims["exp"] > claims["iat"]

    contexts = terminal.argocd("context")
    assert contexts.stdout.splitlines() == ["CURRENT  NAME" + " " * (len(terminal.server) - 2) + "SERVER",
                                            f"*        {terminal.server}  {terminal.server}"]
    after = terminal.argocd("app", "list")  # the Argo CD of the login context: prod's
    assert after.returncode == 0, after.stderr


def test_login_with_a_wrong_password_is_an_unauthenticated_rpc_error(terminal):
    done = terminal.argocd("login", terminal.server, "--username", "admin", "--password", "wrong", "--insecure")
    assert done.returncode == 20
    assert done.stdout == ""
    [line] = log_lines(done.stderr)
    assert line["level"] == "fatal"
    assert line["msg"] == "rpc error: code = Unauthenticated desc = Invalid username or password"

    text = terminal.argocd("--logformat", "text", "login", terminal.server, "--username", "admin", "--password", "x",
                      "--insecure")
    assert text.returncode == 20
    assert text.stderr.startswith("FATA[") and text.stderr.rstrip().endswith(
        "] rpc error: code = Unauthenticated desc = Invalid username or password")


def test_login_to_an_address_nothing_listens_on_is_a_dial_error(terminal):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = terminal.argocd("login", f"127.0.0.1:{port}", "--insecure")
    assert done.returncode == 20
    [line] = log_lines(done.stderr)
    assert line["msg"] == f"error dial proxy: dial tcp 127.0.0.1:{port}: connect: connection refused"


def test_cluster_add_asks_on_a_terminal_and_stops_on_no(terminal):
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([str(ARGOCD), "cluster", "add", "staging"], stdin=subprocess.PIPE, stdout=slave,
                                stderr=subprocess.PIPE, env=terminal.env)
        os.close(slave)
        slave = None
        _, stderr = proc.communicate(b"n\n", timeout=60)
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert proc.returncode == 1
    assert output.decode() == ("WARNING: This will create a service account `argocd-manager` on the cluster referenced "
                               "by context `staging` with full cluster level privileges. Do you want to continue "
                               "[y/N]? ")
    assert stderr == b""


def test_cluster_add_registers_staging_and_list_shows_both(terminal):
    done = terminal.argocd("cluster", "add", "staging")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Cluster '{terminal.staging_server}' added\n"
    first = [line["msg"] for line in log_lines(done.stderr)]
    again = terminal.argocd("cluster", "add", "staging", "-y")
    assert again.returncode == 0, again.stderr
    second = [line["msg"] for line in log_lines(again.stderr)]
    if first[0].endswith("created in namespace \"kube-system\""):  # the module's first registration
        assert first == ['ServiceAccount "argocd-manager" created in namespace "kube-system"',
                         'ClusterRole "argocd-manager-role" created',
                         'ClusterRoleBinding "argocd-manager-role-binding" created',
                         'Created bearer token secret "argocd-manager-long-lived-token" for ServiceAccount '
                         '"argocd-manager"']
    assert second == ['ServiceAccount "argocd-manager" already exists in namespace "kube-system"',
                      'ClusterRole "argocd-manager-role" updated',
                      'ClusterRoleBinding "argocd-manager-role-binding" updated',
                      'Using existing bearer token secret "argocd-manager-long-lived-token" for ServiceAccount '
                      '"argocd-manager"']

    secrets = terminal.cluster.core.list_namespaced_secret(
        "argocd", label_selector="argocd.argoproj.io/secret-type=cluster").items
    [secret] = secrets
    data = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert data["name"] == "staging" and data["server"] == terminal.staging_server
    assert json.loads(data["config"])["bearerToken"]
    assert secret.metadata.annotations["managed-by"] == "argocd.argoproj.io"

    renamed = terminal.argocd("cluster", "add", "staging", "--name", "other", "-y")
    assert renamed.returncode == 20
    assert log_lines(renamed.stderr)[-1]["msg"] == (
        'rpc error: code = InvalidArgument desc = existing cluster spec is different; use upsert flag to force '
        'update; difference in keys "ID,Name"')

    listed = terminal.argocd("cluster", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["SERVER", "NAME", "VERSION", "STATUS", "MESSAGE", "PROJECT"]
    assert lines[1].split()[:3] == [terminal.staging_server, "staging", "Unknown"]
    assert lines[2].split()[:3] == ["https://kubernetes.default.svc", "in-cluster", "Unknown"]
    assert lines[2].endswith("Cluster has no applications and is not being monitored.  ")
    servers = terminal.argocd("cluster", "list", "-o", "server")
    assert servers.stdout == f"{terminal.staging_server}\nhttps://kubernetes.default.svc\n"


def test_cluster_add_of_an_unknown_context(terminal):
    done = terminal.argocd("cluster", "add", "nowhere")
    assert done.returncode == 20
    [line] = log_lines(done.stderr)
    assert line["level"] == "fatal" and line["msg"] == "context nowhere does not exist in kubeconfig"

    choose = terminal.argocd("cluster", "add")
    assert choose.returncode == 1
    assert [line["msg"] for line in log_lines(choose.stderr)] == ["Choose a context name from:"]
    assert choose.stdout.splitlines()[0].split() == ["CURRENT", "NAME", "CLUSTER", "SERVER"]
    assert [line.split()[-3:] for line in choose.stdout.splitlines()[1:]] == [
        ["prod", "prod", terminal.cluster.server], ["staging", "staging", terminal.staging_server]]


def test_notebook_helper_prints_the_cli_lines(terminal, capsys):
    from kubernetes import config

    from gitopslab.lab.clusters import add_cluster
    from gitopslab.lab.session import Lab as Connection

    registered = terminal.argocd("cluster", "add", "staging", "-y", "--upsert")  # objects exist, whatever ran before
    assert registered.returncode == 0, registered.stderr
    capsys.readouterr()
    prod = Connection(terminal.home.kubeconfig, "prod", True, terminal.cluster.api_client, terminal.home)
    staging_api = config.new_client_from_config(config_file=str(terminal.home.kubeconfig), context="staging")
    try:
        secret = add_cluster(prod, Connection(terminal.home.kubeconfig, "staging", True, staging_api, terminal.home),
                             name="staging-helper")
    finally:
        staging_api.close()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("WARNING: This will create a service account `argocd-manager` on the cluster referenced by "
                      "context `staging` with full cluster level privileges.")
    assert [line.split("] ", 1)[1] for line in out[1:5]] == [
        'ServiceAccount "argocd-manager" already exists in namespace "kube-system"',
        'ClusterRole "argocd-manager-role" updated', 'ClusterRoleBinding "argocd-manager-role-binding" updated',
        'Using existing bearer token secret "argocd-manager-long-lived-token" for ServiceAccount "argocd-manager"']
    assert all(line.startswith("INFO[") for line in out[1:5])
    assert out[5] == f"Cluster '{terminal.staging_server}' added"
    assert secret["stringData"]["name"] == "staging-helper"  # the helper replaces a registration (upsert)
