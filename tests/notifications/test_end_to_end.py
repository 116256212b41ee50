"""End to end through a real lab: Argo CD installed, Slack configured, an app syncs, one message arrives.

The lab's Slack stand-in receives what the notifications controller of the
cluster daemon posts (``chat.postMessage``, form-encoded, bot token from
argocd-notifications-secret); the ``notified.notifications.argoproj.io``
annotation keeps a second sync of the same revision from notifying again.
"""
from __future__ import annotations

import base64
import hashlib
import subprocess
import time

import pytest
from kubernetes.client.exceptions import ApiException

from gitopslab.lab import notifications
from gitopslab.lab.apps import ARGOCD_NAMESPACE, GROUP, PLURAL, VERSION
from gitopslab.lab.slack import SlackLab
from gitopslab.lab.session import Lab

pytestmark = pytest.mark.timeout(300)
WHEN = "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']"
WHEN_HASH = base64.urlsafe_b64encode(hashlib.sha1(WHEN.encode()).digest()).rstrip(b"=").decode()

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
data:
  message: bonjour
"""


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    work = tmp_path_factory.mktemp("notif-repo")
    (work / "manifests").mkdir()
    (work / "manifests" / "configmap.yaml").write_text(CONFIGMAP)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "greeting")
    return work


@pytest.fixture(scope="module")
def slack():
    with SlackLab() as lab:
        yield lab


@pytest.fixture(scope="module")
def argocd(lab):
    from gitopslab.argocd import install

    install.install(lab.api_client)
    return Lab(lab.kubeconfig, lab.name, True, lab.api_client, lab.home)


def _wait(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def _app(argocd, name):
    try:
        return argocd.custom.get_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, PLURAL, name)
    except ApiException:
        return None


def test_install_creates_the_notifications_secret_and_configmap(argocd):
    secret = argocd.core.read_namespaced_secret("argocd-notifications-secret", ARGOCD_NAMESPACE)
    assert secret.metadata.labels["app.kubernetes.io/component"] == "notifications-controller"
    cm = argocd.core.read_namespaced_config_map("argocd-notifications-cm", ARGOCD_NAMESPACE)
    assert "argocdUrl: https://argocd.example.com" in cm.data["context"]


def test_a_sync_sends_exactly_one_slack_message(argocd, slack, repo, lab):
    notifications.configure_slack(argocd, token=slack.token, api_url=slack.api_url, quiet=True)
    notifications.install_catalog(argocd, ["on-sync-succeeded"], quiet=True)
    app = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Application",
        "metadata": {"name": "greeting", "namespace": ARGOCD_NAMESPACE, "annotations": {
            "notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "#deployments"}},
        "spec": {"project": "default",
                 "source": {"repoURL": f"file://{repo}", "path": "manifests", "targetRevision": "HEAD"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "notif-e2e"},
                 "syncPolicy": {"automated": {"prune": True}, "syncOptions": ["CreateNamespace=true"]}},
    }
    argocd.custom.create_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, PLURAL, app)
    assert slack.wait_for_messages(1, timeout=120), lab.paths.log_file.read_text()[-3000:]
    message = slack.messages[0]
    assert message.channel == "#deployments" and message.via == "chat.postMessage"
    assert message.text.startswith(":white_check_mark: Application greeting has been successfully synced at ")
    assert message.attachments[0]["title"] == "greeting"
    sync_field = message.attachments[0]["fields"][0]
    # the sync status the app showed when the controller rendered the message (a sub-second sync can be
    # notified before the next refresh, as upstream's reconciledAt/finishedAt check has a 1 s resolution)
    assert sync_field["title"] == "Sync Status" and sync_field["value"] in ("Synced", "OutOfSync")
    assert message.attachments[0]["fields"][1]["value"] == f":arrow_heading_up: file://{repo}"

    revision = _app(argocd, "greeting")["status"]["operationState"]["syncResult"]["revision"]
    state = _wait(lambda: notifications.notified_state(argocd, "greeting", quiet=True), 30)
    assert list(state) == [f"{revision}:on-sync-succeeded:[0].{WHEN_HASH}:slack:#deployments"]

    # a second sync of the same revision is not notified again (oncePer revision)
    argocd.custom.patch_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, PLURAL, "greeting", {
        "operation": {"initiatedBy": {"username": "admin"}, "sync": {"revision": revision}}})

    def manual_sync_done():
        app = _app(argocd, "greeting")
        op = app["status"]["operationState"]
        return (not app.get("operation") and op["phase"] == "Succeeded"
                and op["operation"]["initiatedBy"].get("username") == "admin")
    assert _wait(manual_sync_done, 60)
    time.sleep(60 / lab_time_scale(lab) + 1)  # one resync period of the notifications controller
    assert len(slack.messages) == 1
    log = lab.paths.log_file.read_text()
    assert f"Sending notification about condition 'on-sync-succeeded.[0].{WHEN_HASH}' " \
           "to '{slack #deployments}' using the configuration in namespace argocd" in log
    assert "already sent to '{slack #deployments}'" in log


def test_a_wrong_token_is_logged_as_invalid_auth(argocd, slack, lab):
    notifications.configure_slack(argocd, token="xoxb-wrong", api_url=slack.api_url, quiet=True)
    before = len(slack.messages)
    notifications.subscribe(argocd, "greeting", "on-sync-succeeded", "slack", "#autre-canal", quiet=True)
    assert _wait(lambda: "invalid_auth using the configuration in namespace argocd" in lab.paths.log_file.read_text(),
                 60)
    assert "Failed to notify recipient {slack #autre-canal} defined in resource argocd/greeting: invalid_auth" \
           in lab.paths.log_file.read_text()
    assert len(slack.messages) == before


def lab_time_scale(lab) -> float:
    return float(lab.paths.time_scale_file.read_text().strip())
