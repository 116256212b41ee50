"""Push webhooks to cluster daemons, the daemon's life cycle, and the ``gitopslab git`` commands."""
from __future__ import annotations

import argparse
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from gitopslab import cli_git, gitserver
from gitopslab.gitserver import names
from gitopslab.gitserver.layout import GitPaths

from .conftest import git, with_token

CHART = "nzapanarcisse/datascientest-chart"


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers["Authorization"], json.loads(body)))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_cluster(home):
    """A listener where a cluster daemon would be, registered as cluster "prod"."""
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.received = []
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    cluster = home.cluster("prod")
    cluster.root.mkdir(parents=True)
    cluster.port_file.write_text(f"{receiver.server_address[1]}\n")
    cluster.token_file.write_text("cluster-token\n")
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_push_posts_the_webhook_to_every_cluster(server, fake_cluster, home, git_env, tmp_path):
    down = home.cluster("staging")
    down.root.mkdir(parents=True)
    down.port_file.write_text(f"{_closed_port()}\n")
    down.token_file.write_text("t\n")
    url = with_token(names.lab_url(server.base_url, CHART), server.token)
    git("clone", url, str(tmp_path / "w"), env=git_env)
    (tmp_path / "w" / "README.md").write_text("changed\n")
    git("commit", "-am", "change", cwd=tmp_path / "w", env=git_env)
    git("push", cwd=tmp_path / "w", env=git_env)  # a cluster that is down does not fail the push
    after = git("rev-parse", "HEAD", cwd=tmp_path / "w", env=git_env).stdout.strip()
    assert len(fake_cluster.received) == 1
    path, authorization, payload = fake_cluster.received[0]
    assert path == "/gitopslab/v1/webhooks/git"
    assert authorization == "Bearer cluster-token"
    assert payload["repository"] == CHART
    assert payload["url"] == names.lab_url(server.base_url, CHART)
    assert payload["github_url"] == f"https://github.com/{CHART}"
    assert payload["ref"] == "refs/heads/main"
    assert payload["after"] == after and len(payload["before"]) == 40 and payload["before"] != after


def test_daemon_starts_once_keeps_its_port_and_stops_by_pid(home, git_env, tmp_path):
    paths = GitPaths.of(home)
    try:
        url = gitserver.ensure_running(home)
        pid = paths.read_pid()
        assert gitserver.ensure_running(home) == url and paths.read_pid() == pid
        assert gitserver.running_url(home) == url
        git("clone", f"https://github.com/{CHART}", str(tmp_path / "c"), env=git_env)  # seeded, gitconfig written
        assert home.gitconfig.read_text().count(f'[url "{url}/"]') == 1
        assert gitserver.stop(home) is True
        assert gitserver.running_url(home) is None
        assert not Path(f"/proc/{pid}").exists() or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[-1][:3]
        assert gitserver.ensure_running(home) == url  # same port after a restart
    finally:
        gitserver.stop(home)
    assert gitserver.stop(home) is False


def _run_cli(*argv):
    parser = argparse.ArgumentParser()
    cli_git.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["git", *argv])
    return args.func(args)


def test_cli_git_commands(home, capsys):
    try:
        assert _run_cli("create", "alice/quote-app", "--private") == 0
        assert "Dépôt privé créé : https://github.com/alice/quote-app" in capsys.readouterr().out
        assert _run_cli("create", "alice/quote-app") == 1
        assert "existe déjà" in capsys.readouterr().err
        assert _run_cli("list") == 0
        listing = capsys.readouterr().out
        assert "alice/quote-app" in listing and "privé" in listing and CHART in listing
        assert _run_cli("url", "alice/quote-app") == 0
        assert capsys.readouterr().out.strip() == names.lab_url(gitserver.running_url(home), "alice/quote-app")
        assert _run_cli("token") == 0
        assert capsys.readouterr().out.strip() == GitPaths.of(home).token_file.read_text().strip()
        assert _run_cli("env") == 0
        exports = capsys.readouterr().out
        assert f"export GIT_CONFIG_GLOBAL={home.gitconfig}" in exports
    finally:
        gitserver.stop(home)
