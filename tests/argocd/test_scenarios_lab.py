"""Argo CD scenarios through a real lab: the embedded controller, real pods, real kubectl and git.

One lab for the module (clock ×10), Argo CD installed once through the
``gitopslab argocd install`` code path; each test uses its own apps and
namespaces. Git repositories are ``file://`` bare repositories in tmp, or
repositories of the lab Git server (private repositories, push webhooks).

Matrix: directory app Synced/Healthy with running pods; Helm apps (a chart
in a temp repo, the seeded webapp chart) ; self-heal of ``kubectl scale``;
prune off then on after a file is removed; a pushed commit rolled out at
once (webhook); CreateNamespace; a failed sync and its retries; waves and
hooks order; rollback (and its refusal under auto-sync); deletion cascade;
bad inputs, each with Argo CD's message, while a healthy app keeps
reconciling; the CLI's tables.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
NS = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
WAIT = 60.0

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - port: 80
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  key: value
"""


# --- helpers ------------------------------------------------------------------

def _git(*args, cwd, env=None):
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", **(env or {})))
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


class Repo:
    """A work tree pushing to a remote (a bare ``file://`` repo or the lab Git server)."""

    def __init__(self, work: Path, push_url: str, url: str):
        self.work, self.push_url, self.url = work, push_url, url
        work.mkdir(parents=True)
        _git("init", "-q", "-b", "main", cwd=work)

    @classmethod
    def bare(cls, tmp: Path) -> "Repo":
        bare = tmp / "remote.git"
        _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp)
        return cls(tmp / "work", str(bare), f"file://{bare}")

    def write(self, path: str, text: str) -> "Repo":
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return self

    def remove(self, path: str) -> "Repo":
        (self.work / path).unlink()
        return self

    def push(self, message: str = "change") -> str:
        _git("add", "-A", cwd=self.work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", message, cwd=self.work)
        _git("push", "-q", self.push_url, "HEAD:refs/heads/main", cwd=self.work)
        return _git("rev-parse", "HEAD", cwd=self.work)


def lab_repo(lab, tmp: Path, *, private: bool) -> Repo:
    from gitopslab import gitserver
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths
    from gitopslab.gitserver.repos import RepoStore

    base = gitserver.ensure_running(lab.home)
    full = f"tester/r{uuid.uuid4().hex[:8]}"
    RepoStore(lab.home).create(full, private=private)
    token = auth.ensure_token(GitPaths.of(lab.home).token_file)
    push = base.replace("http://", f"http://tester:{token}@") + f"/{full}.git"
    return Repo(tmp / "work", push, f"{base}/{full}.git")


def app_manifest(name, repo_url, path, namespace, *, automated=None, options=None, retry=None,
                 helm=None, revision="HEAD", server=IN_CLUSTER, project="default", finalizer=False):
    spec = {"project": project, "source": {"repoURL": repo_url, "path": path, "targetRevision": revision},
            "destination": {"server": server, "namespace": namespace}}
    if helm is not None:
        spec["source"]["helm"] = helm
    policy = {}
    if automated is not None:
        policy["automated"] = automated
    if options:
        policy["syncOptions"] = options
    if retry:
        policy["retry"] = retry
    if policy:
        spec["syncPolicy"] = policy
    meta = {"name": name, "namespace": NS}
    if finalizer:
        meta["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Application", "metadata": meta, "spec": spec}


def create_app(lab, manifest) -> str:
    lab.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, manifest)
    return manifest["metadata"]["name"]


def get_app(lab, name) -> dict:
    return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)


def patch_app(lab, name, patch) -> dict:
    return lab.custom.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name, patch)


def wait_app(lab, name, predicate, what: str, timeout: float = WAIT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        app = get_app(lab, name)
        try:
            if predicate(app):
                return app
        except (KeyError, TypeError, IndexError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: {what} not reached; status:\n"
                                 f"{json.dumps(app.get('status'), indent=1)[:4000]}")
        time.sleep(0.2)


def wait_for(check, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached")
        time.sleep(0.2)


def status(app) -> tuple[str, str]:
    st = app.get("status") or {}
    return (st.get("sync") or {}).get("status", ""), (st.get("health") or {}).get("status", "")


def synced_healthy(app) -> bool:
    return status(app) == ("Synced", "Healthy")


def op_phase(app) -> str:
    return ((app.get("status") or {}).get("operationState") or {}).get("phase", "")


def conditions(app) -> dict:
    return {c["type"]: c["message"] for c in (app.get("status") or {}).get("conditions") or []}


def refresh(lab, name, kind="normal"):
    patch_app(lab, name, {"metadata": {"annotations": {"argocd.argoproj.io/refresh": kind}}})


def sync(lab, name, **sync):
    patch_app(lab, name, {"operation": {"initiatedBy": {"username": "admin"},
                                        "sync": dict({"syncStrategy": {"hook": {}}}, **sync)}})


def running_pods(lab, namespace, app_label) -> list:
    pods = lab.core.list_namespaced_pod(namespace, label_selector=f"app={app_label}").items
    return [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]


def cli(lab, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, GITOPSLAB_HOME=str(lab.home.root))
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def argocd(lab):
    done = cli(lab, "argocd", "install", "--cluster", lab.name, "--service-type", "NodePort")
    assert done.returncode == 0, done.stderr
    assert "Argo CD installé dans le namespace argocd" in done.stdout
    wait_for(lambda: _get_project(lab), "AppProject default")
    return lab


def _get_project(lab):
    try:
        return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, "appprojects", "default")
    except ApiException:
        return None


@pytest.fixture
def repo(tmp_path) -> Repo:
    return Repo.bare(tmp_path)


# --- install and CLI basics ----------------------------------------------------------

def test_install_twice_and_initial_password(argocd):
    again = cli(argocd, "argocd", "install", "--cluster", argocd.name)
    assert again.returncode == 0 and "déjà installé" in again.stdout
    done = cli(argocd, "argocd", "admin", "initial-password", "--cluster", argocd.name)
    lines = done.stdout.split("\n")
    secret = argocd.core.read_namespaced_secret("argocd-initial-admin-secret", NS)
    assert lines[0] == base64.b64decode(secret.data["password"]).decode()
    assert lines[1] == ""
    assert lines[2] == ("This password must be only used for first time login. We strongly recommend you update "
                        "the password using `argocd account update-password`.")
    svc = argocd.core.read_namespaced_service("argocd-server", NS)
    assert {(p.port, p.node_port) for p in svc.spec.ports} == {(80, 30080), (443, 30443)}


# --- a directory app: sync, health, self-heal, CLI views ---------------------------------

def test_directory_app_auto_sync_self_heal_and_cli(argocd, repo):
    ns = argocd.namespace("dir")
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=2, image="nginx:1.27"))
    repo.write("app/svc.yaml", SERVICE.format(name="web"))
    sha = repo.push("first")
    name = create_app(argocd, app_manifest(unique("dir"), repo.url, "app", ns,
                                           automated={"prune": True, "selfHeal": True}))
    app = wait_app(argocd, name, synced_healthy, "Synced/Healthy")
    assert app["status"]["sync"]["revision"] == sha
    assert op_phase(app) == "Succeeded"
    assert app["status"]["operationState"]["message"] == "successfully synced (all tasks run)"
    messages = {r["kind"]: r["message"] for r in app["status"]["operationState"]["syncResult"]["resources"]}
    assert messages == {"Deployment": "deployment.apps/web created", "Service": "service/web created"}
    assert [h["revision"] for h in app["status"]["history"]] == [sha]
    assert len(running_pods(argocd, ns, "web")) == 2
    live = argocd.apps.read_namespaced_deployment("web", ns)
    assert live.metadata.annotations["argocd.argoproj.io/tracking-id"] == f"{name}:apps/Deployment:{ns}/web"

    # self-heal: a manual scale is reverted, without a history entry
    argocd.kubectl("scale", "deployment/web", "-n", ns, "--replicas=4")
    wait_for(lambda: argocd.apps.read_namespaced_deployment("web", ns).spec.replicas == 2, "replicas back to 2")
    app = wait_app(argocd, name, lambda a: synced_healthy(a) and
                   a["status"]["operationState"]["operation"]["sync"].get("selfHealAttemptsCount") == 1,
                   "self-heal operation")
    healed = app["status"]["operationState"]["operation"]["sync"]["resources"]
    assert healed == [{"group": "apps", "kind": "Deployment", "name": "web", "namespace": ns}]
    assert len(app["status"]["history"]) == 1

    # the CLI's tables
    listed = cli(argocd, "argocd", "app", "list", "--cluster", argocd.name)
    header = listed.stdout.splitlines()[0].split()
    assert header == ["NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS",
                      "REPO", "PATH", "TARGET"]
    row = next(line for line in listed.stdout.splitlines() if line.startswith(f"argocd/{name} "))
    assert row.split() == [f"argocd/{name}", IN_CLUSTER, ns, "default", "Synced", "Healthy", "Auto-Prune",
                           "<none>", repo.url, "app", "HEAD"]
    got = cli(argocd, "argocd", "app", "get", name, "--cluster", argocd.name).stdout
    assert f"Name:               argocd/{name}\n" in got
    assert f"Sync Status:        Synced to HEAD ({sha[:7]})\n" in got
    assert "Sync Policy:        Automated (Prune)\n" in got
    assert "Health Status:      Healthy\n" in got
    table = got.split("\n\n")[-1].splitlines()
    assert table[0].split() == ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"]
    rows = {tuple(line.split()[:2]): line.split() for line in table[1:]}
    assert rows[("apps", "Deployment")][2:6] == [ns, "web", "Synced", "Healthy"]
    assert rows[("Service", ns)][1:5] == [ns, "web", "Synced", "Healthy"]
    history = cli(argocd, "argocd", "app", "history", name, "--cluster", argocd.name).stdout.splitlines()
    assert history[0].split() == ["SOURCE", repo.url]
    assert history[1].split() == ["ID", "DATE", "REVISION"]
    assert history[2].startswith("0 ") and history[2].endswith(f"HEAD ({sha[:7]})")
    refused = cli(argocd, "argocd", "app", "rollback", name, "0", "--cluster", argocd.name)
    assert refused.returncode == 20
    assert refused.stderr.strip().endswith(
        "rpc error: code = FailedPrecondition desc = rollback cannot be initiated when auto-sync is enabled")


def test_prune_off_then_on_and_new_commit(argocd, repo):
    ns = argocd.namespace("prune")
    repo.write("app/cm.yaml", CONFIGMAP.format(name="settings"))
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27"))
    repo.push()
    name = create_app(argocd, app_manifest(unique("prune"), repo.url, "app", ns, automated={"selfHeal": True}))
    wait_app(argocd, name, synced_healthy, "Synced/Healthy")

    repo.remove("app/cm.yaml")
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.26"))
    sha = repo.push("drop the ConfigMap, new image")
    refresh(argocd, name)
    app = wait_app(argocd, name, lambda a: a["status"]["sync"]["revision"] == sha and op_phase(a) == "Succeeded"
                   and not a.get("operation") and a["status"]["operationState"]["syncResult"]["revision"] == sha,
                   "new commit synced")
    assert argocd.apps.read_namespaced_deployment("web", ns).spec.template.spec.containers[0].image == "nginx:1.26"
    # no prune: the ConfigMap stays, requires pruning, the app stays OutOfSync
    app = wait_app(argocd, name, lambda a: status(a)[0] == "OutOfSync" and
                   "annotations" not in a["metadata"] or "argocd.argoproj.io/refresh" not in a["metadata"]["annotations"],
                   "refresh annotation removed")
    cm = next(r for r in app["status"]["resources"] if r["kind"] == "ConfigMap")
    assert cm["requiresPruning"] is True and cm["status"] == "OutOfSync"
    argocd.core.read_namespaced_config_map("settings", ns)

    patch_app(argocd, name, {"spec": {"syncPolicy": {"automated": {"prune": True, "selfHeal": True}}}})
    wait_for(lambda: not argocd.core.list_namespaced_config_map(ns, field_selector="metadata.name=settings").items,
             "ConfigMap pruned")
    def pruned_configmaps(a):
        results = ((a["status"].get("operationState") or {}).get("syncResult") or {}).get("resources") or []
        return [r for r in results if r["kind"] == "ConfigMap"]

    app = wait_app(argocd, name, lambda a: synced_healthy(a) and op_phase(a) == "Succeeded" and not a.get("operation"),
                   "Synced after prune")
    # The revision was already synced, so the pruning operation is a self-heal one; the refresh after it
    # sees the deletion, so no second self-heal operation follows.
    assert app["status"]["operationState"]["operation"]["sync"]["selfHealAttemptsCount"] == 1
    assert [(r["status"], r["message"]) for r in pruned_configmaps(app)] == [("Pruned", "pruned")]


def test_prune_waits_for_the_deletion_to_finish(argocd, repo):
    ns = argocd.namespace("held")
    held = CONFIGMAP.format(name="held").replace("metadata:\n", "metadata:\n  finalizers: [example.com/hold]\n")
    repo.write("app/held.yaml", held)
    repo.write("app/cm.yaml", CONFIGMAP.format(name="kept"))
    repo.push()
    name = create_app(argocd, app_manifest(unique("held"), repo.url, "app", ns, automated={"prune": True}))
    wait_app(argocd, name, synced_healthy, "Synced")

    repo.remove("app/held.yaml")
    repo.push("drop the held ConfigMap")
    refresh(argocd, name)
    app = wait_app(argocd, name, lambda a: op_phase(a) == "Running" and
                   a["status"]["operationState"].get("message") == "waiting for deletion of /ConfigMap/held",
                   "operation waiting for the deletion")
    assert argocd.core.read_namespaced_config_map("held", ns).metadata.deletion_timestamp is not None
    argocd.core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    app = wait_app(argocd, name, lambda a: op_phase(a) == "Succeeded" and synced_healthy(a), "Succeeded once deleted")
    results = app["status"]["operationState"]["syncResult"]["resources"]
    assert sorted((r["name"], r["status"]) for r in results) == [("held", "Pruned"), ("kept", "Synced")]


def test_create_namespace_and_missing_namespace(argocd, repo):
    repo.write("app/cm.yaml", CONFIGMAP.format(name="settings"))
    repo.push()
    target = unique("created")
    name = create_app(argocd, app_manifest(unique("mkns"), repo.url, "app", target,
                                           automated={}, options=["CreateNamespace=true"]))
    wait_app(argocd, name, synced_healthy, "Synced with CreateNamespace")
    assert argocd.core.read_namespace(target).status.phase == "Active"

    missing = unique("absent")
    bad = create_app(argocd, app_manifest(unique("nons"), repo.url, "app", missing, automated={},
                                          retry={"limit": 1, "backoff": {"duration": "1s"}}))
    app = wait_app(argocd, bad, lambda a: op_phase(a) == "Failed", "sync failed")
    assert app["status"]["operationState"]["message"] == "one or more objects failed to apply (dry run) (retried 1 times)."
    result = app["status"]["operationState"]["syncResult"]["resources"][0]
    assert (result["status"], result["message"]) == ("SyncFailed", f'namespaces "{missing}" not found')
    app = wait_app(argocd, bad, lambda a: "SyncError" in conditions(a), "SyncError condition")
    revision = app["status"]["sync"]["revision"]
    assert conditions(app)["SyncError"].startswith(f"Failed last sync attempt to {revision}: one or more objects")


def test_failed_sync_retries_then_succeeds_after_fix(argocd, repo):
    ns = argocd.namespace("retry")
    bad = DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27").replace("replicas: 1", "replicas: -1")
    repo.write("app/deploy.yaml", bad)
    repo.push()
    name = create_app(argocd, app_manifest(unique("retry"), repo.url, "app", ns, automated={},
                                           retry={"limit": 2, "backoff": {"duration": "5s", "factor": 2}}))
    running = wait_app(argocd, name, lambda a: op_phase(a) == "Running" and
                       "Retrying attempt #1 at" in a["status"]["operationState"]["message"], "first retry scheduled")
    assert running["status"]["operationState"]["retryCount"] == 1
    result = running["status"]["operationState"]["syncResult"]["resources"][0]
    assert result["status"] == "SyncFailed"
    assert result["message"] == ('Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: '
                                 'must be greater than or equal to 0')
    app = wait_app(argocd, name, lambda a: op_phase(a) == "Failed", "retries exhausted")
    assert app["status"]["operationState"]["message"].endswith("(retried 2 times).")
    assert app["status"]["operationState"]["retryCount"] == 2
    # auto-sync never retries a failed revision; a new commit is tried again
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27"))
    repo.push("fix")
    refresh(argocd, name)
    wait_app(argocd, name, synced_healthy, "Synced after the fix")


HOOK_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    argocd.argoproj.io/hook: {hook}
    argocd.argoproj.io/hook-delete-policy: {policy}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: run
        image: busybox:1.36
        command: ["sh", "-c", "echo {name}"]
"""


def test_waves_and_hooks_run_in_order(argocd, repo):
    ns = argocd.namespace("waves")
    repo.write("app/pre.yaml", HOOK_JOB.format(name="pre", hook="PreSync", policy="BeforeHookCreation"))
    repo.write("app/post.yaml", HOOK_JOB.format(name="post", hook="PostSync", policy="HookSucceeded"))
    repo.write("app/cm.yaml", CONFIGMAP.format(name="first").replace(
        "  name: first", "  name: first\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\""))
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27").replace(
        "  name: web\n", "  name: web\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n", 1))
    repo.write("app/svc.yaml", SERVICE.format(name="web"))
    repo.push()
    name = create_app(argocd, app_manifest(unique("waves"), repo.url, "app", ns))
    sync(argocd, name)
    app = wait_app(argocd, name, lambda a: op_phase(a) in ("Succeeded", "Failed", "Error") and not a.get("operation"),
                   "operation finished", timeout=90)
    state = app["status"]["operationState"]
    assert state["phase"] == "Succeeded", state["message"]
    order = [(r["syncPhase"], r["kind"], r["name"]) for r in state["syncResult"]["resources"]]
    assert order == [("PreSync", "Job", "pre"), ("Sync", "ConfigMap", "first"), ("Sync", "Service", "web"),
                     ("Sync", "Deployment", "web"), ("PostSync", "Job", "post")]
    hooks = {r["name"]: r for r in state["syncResult"]["resources"] if r.get("hookType")}
    assert hooks["pre"]["hookType"] == "PreSync" and hooks["pre"]["hookPhase"] == "Succeeded"
    assert hooks["post"]["hookType"] == "PostSync" and hooks["post"]["hookPhase"] == "Succeeded"
    assert state["message"] == "successfully synced (no more tasks)"
    # HookSucceeded: the PostSync Job is deleted; BeforeHookCreation keeps the PreSync Job until the next sync
    wait_for(lambda: not argocd.kubectl("get", "job", "post", "-n", ns, "--ignore-not-found", "-o", "name").stdout,
             "post hook deleted")
    assert argocd.kubectl("get", "job", "pre", "-n", ns, "-o", "name").stdout.strip() == "job.batch/pre"
    # hooks are not app resources
    assert {r["kind"] for r in app["status"]["resources"]} == {"ConfigMap", "Service", "Deployment"}


def test_manual_sync_history_rollback_and_cascade_delete(argocd, repo):
    ns = argocd.namespace("rollback")
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.26"))
    first = repo.push("v1")
    name = create_app(argocd, app_manifest(unique("rb"), repo.url, "app", ns))
    app = wait_app(argocd, name, lambda a: status(a)[0] == "OutOfSync", "OutOfSync before any sync")
    assert status(app)[1] == "Missing"
    done = cli(argocd, "argocd", "app", "sync", name, "--cluster", argocd.name)
    assert done.returncode == 0, done.stdout + done.stderr
    head_line = done.stdout.splitlines()[0]
    # the TIMESTAMP table is flushed with the first watch event only (none if the sync already finished)
    assert head_line == "" or head_line.split() == ["TIMESTAMP", "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS",
                                            "HEALTH", "HOOK", "MESSAGE"]
    assert "Phase:              Succeeded\n" in done.stdout
    assert "Message:            successfully synced (all tasks run)\n" in done.stdout

    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27"))
    second = repo.push("v2")
    refresh(argocd, name)
    wait_app(argocd, name, lambda a: a["status"]["sync"]["revision"] == second and status(a)[0] == "OutOfSync",
             "v2 seen")
    diff = cli(argocd, "argocd", "app", "diff", name, "--cluster", argocd.name)
    assert diff.returncode == 1
    assert f"===== apps/Deployment {ns}/web ======" in diff.stdout
    assert "<       - image: nginx:1.26" in diff.stdout and ">       - image: nginx:1.27" in diff.stdout
    assert cli(argocd, "argocd", "app", "sync", name, "--cluster", argocd.name).returncode == 0
    app = get_app(argocd, name)
    assert [h["revision"] for h in app["status"]["history"]] == [first, second]

    back = cli(argocd, "argocd", "app", "rollback", name, "0", "--cluster", argocd.name)
    assert back.returncode == 0, back.stderr
    app = get_app(argocd, name)
    op = app["status"]["operationState"]["operation"]
    assert op["sync"]["revision"] == first and op["sync"]["syncStrategy"] == {"apply": {}}
    assert argocd.apps.read_namespaced_deployment("web", ns).spec.template.spec.containers[0].image == "nginx:1.26"
    app = wait_app(argocd, name, lambda a: status(a)[0] == "OutOfSync", "OutOfSync after rollback")
    assert [h["id"] for h in app["status"]["history"]] == [0, 1, 2]

    gone = cli(argocd, "argocd", "app", "delete", name, "--cluster", argocd.name, "--wait")
    assert gone.stdout.strip() == f"application '{name}' deleted"
    wait_for(lambda: not argocd.apps.list_namespaced_deployment(ns).items, "Deployment deleted by cascade")


# --- Helm -------------------------------------------------------------------------------

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    "values.yaml": "replicas: 1\nimage: nginx:1.27\ngreeting: hello\n",
    "templates/deploy.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports:
        - containerPort: 80
""",
    "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
                         "data:\n  greeting: {{ required \"greeting is required\" .Values.greeting | quote }}\n",
}


def test_helm_chart_app_with_parameters_and_template_error(argocd, repo):
    ns = argocd.namespace("helm")
    for path, text in CHART.items():
        repo.write(f"chart/{path}", text)
    repo.push()
    name = create_app(argocd, app_manifest(unique("helm"), repo.url, "chart", ns, automated={},
                                           helm={"parameters": [{"name": "replicas", "value": "2"}]}))
    app = wait_app(argocd, name, synced_healthy, "Helm app Synced/Healthy")
    assert app["status"]["sourceType"] == "Helm"
    deploy = argocd.apps.read_namespaced_deployment(name, ns)
    assert deploy.spec.replicas == 2
    wait_for(lambda: len(running_pods(argocd, ns, name)) == 2, "two pods running")

    bad = create_app(argocd, app_manifest(unique("helmerr"), repo.url, "chart", ns,
                                          helm={"parameters": [{"name": "greeting", "value": "null"}]}))
    app = wait_app(argocd, bad, lambda a: "ComparisonError" in conditions(a), "Helm template error")
    message = conditions(app)["ComparisonError"]
    assert message.startswith("Failed to load target state: failed to generate manifest for source 1 of 1: "
                              "rpc error: code = Unknown desc = failed running helm")
    assert "greeting is required" in message
    assert status(app)[0] == "Unknown"


def test_seeded_webapp_chart_from_lab_git_server(argocd):
    ns = argocd.namespace("webapp")
    url = "https://github.com/nzapanarcisse/datascientest-chart.git"
    params = [{"name": "image.repository", "value": "nginx"}, {"name": "image.tag", "value": "1.27"},
              {"name": "service.type", "value": "ClusterIP"}]
    name = create_app(argocd, app_manifest(unique("webapp"), url, "webapp/webapp-chart", ns, automated={},
                                           helm={"parameters": params}))
    app = wait_app(argocd, name, synced_healthy, "seeded webapp chart Synced/Healthy", timeout=90)
    kinds = {r["kind"] for r in app["status"]["resources"]}
    assert kinds == {"Deployment", "Service"}


def test_webhook_push_rolls_out_at_once_and_private_repo_credentials(argocd, tmp_path):
    ns = argocd.namespace("hook")
    repo = lab_repo(argocd, tmp_path, private=True)
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.26"))
    repo.push()
    name = create_app(argocd, app_manifest(unique("private"), repo.url, "app", ns, automated={}))
    app = wait_app(argocd, name, lambda a: "ComparisonError" in conditions(a), "auth error")
    assert conditions(app)["ComparisonError"] == (
        "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
        "desc = failed to list refs: authentication required")
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths
    token = auth.ensure_token(GitPaths.of(argocd.home).token_file)
    argocd.core.create_namespaced_secret(NS, {
        "metadata": {"name": unique("repo"), "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "stringData": {"type": "git", "url": repo.url, "username": "tester", "password": token}})
    app = wait_app(argocd, name, synced_healthy, "Synced with the repository Secret")
    assert "conditions" not in app["status"]

    # a push reaches the controller through the webhook: no refresh annotation, no 120 s wait
    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27"))
    sha = repo.push("bump")
    wait_app(argocd, name, lambda a: a["status"]["operationState"]["syncResult"]["revision"] == sha
             and synced_healthy(a), "pushed commit synced", timeout=20)
    assert argocd.apps.read_namespaced_deployment("web", ns).spec.template.spec.containers[0].image == "nginx:1.27"


# --- bad inputs ------------------------------------------------------------------------

PREFIX = "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = "


def test_bad_inputs_show_argo_cd_messages_while_others_reconcile(argocd, repo):
    ns = argocd.namespace("bad")
    repo.write("good/cm.yaml", CONFIGMAP.format(name="good"))
    repo.write("invalid/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n")
    repo.write("nokind/cm.yaml", CONFIGMAP.format(name="ok") + "---\napiVersion: v1\nmetadata:\n  name: nokind\n")
    repo.push()
    good = create_app(argocd, app_manifest(unique("good"), repo.url, "good", ns, automated={"selfHeal": True}))
    cases = {
        "invalid": (app_manifest(unique("yaml"), repo.url, "invalid", ns), "ComparisonError",
                    PREFIX + 'FailedPrecondition desc = Failed to unmarshal "bad.yaml": failed to unmarshal manifest: '
                             "error converting YAML to JSON: yaml: line 4: did not find expected key"),
        "path": (app_manifest(unique("path"), repo.url, "nowhere", ns), "ComparisonError",
                 PREFIX + "Unknown desc = nowhere: app path does not exist"),
        "revision": (app_manifest(unique("rev"), repo.url, "good", ns, revision="v9.9.9"), "ComparisonError",
                     PREFIX + "Unknown desc = unable to resolve 'v9.9.9' to a commit SHA: revision not found"),
        "nokind": (app_manifest(unique("nokind"), repo.url, "nokind", ns), "ComparisonError",
                   PREFIX + "FailedPrecondition desc = Failed to unmarshal \"cm.yaml\": failed to unmarshal manifest: "
                            "Object 'Kind' is missing in"),
        "project": (app_manifest(unique("proj"), repo.url, "good", ns, project="nope"), "InvalidSpecError",
                    "Application referencing project nope which does not exist"),
        "cluster": (app_manifest(unique("far"), repo.url, "good", ns, server="https://127.0.0.1:1"),
                    "InvalidSpecError",
                    'error getting cluster by server "https://127.0.0.1:1": rpc error: code = NotFound desc = '
                    'cluster "https://127.0.0.1:1" not found'),
    }
    for manifest, _, _ in cases.values():
        create_app(argocd, manifest)
    for key, (manifest, kind, message) in cases.items():
        app = wait_app(argocd, manifest["metadata"]["name"], lambda a, k=kind: k in conditions(a), f"{key} condition")
        assert conditions(app)[kind].startswith(message), (key, conditions(app)[kind])
        assert status(app)[0] == "Unknown", key
    # the good app still reconciles: drift is healed
    wait_app(argocd, good, synced_healthy, "good app Synced")
    argocd.core.patch_namespaced_config_map("good", ns, {"data": {"key": "drift"}})
    wait_for(lambda: argocd.core.read_namespaced_config_map("good", ns).data["key"] == "value", "drift healed")


def test_unreachable_remote_cluster(argocd, repo):
    repo.write("good/cm.yaml", CONFIGMAP.format(name="far"))
    repo.push()
    secret_name = unique("cluster")
    argocd.core.create_namespaced_secret(NS, {
        "metadata": {"name": secret_name, "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "gone", "server": "https://127.0.0.1:1",
                       "config": json.dumps({"bearerToken": "x", "tlsClientConfig": {"insecure": True}})}})
    name = create_app(argocd, app_manifest(unique("remote"), repo.url, "good", "default",
                                           server="https://127.0.0.1:1"))
    app = wait_app(argocd, name, lambda a: "ComparisonError" in conditions(a), "live state error")
    assert conditions(app)["ComparisonError"].startswith("Failed to load live state: ")
    assert status(app)[0] == "Unknown"
    diff = cli(argocd, "argocd", "app", "diff", name, "--cluster", argocd.name)
    assert diff.returncode == 20 and "Traceback" not in diff.stderr
    assert 'rpc error: code = Unknown desc = failed to get cluster info for "https://127.0.0.1:1": ' in diff.stderr


def test_project_denials(argocd, repo):
    ns = argocd.namespace("proj")
    repo.write("app/cm.yaml", CONFIGMAP.format(name="denied"))
    repo.push()
    project = unique("team")
    argocd.custom.create_namespaced_custom_object(GROUP, VERSION, NS, "appprojects", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "AppProject", "metadata": {"name": project, "namespace": NS},
        "spec": {"sourceRepos": [repo.url], "destinations": [{"server": IN_CLUSTER, "namespace": ns}],
                 "namespaceResourceBlacklist": [{"group": "", "kind": "ConfigMap"}]}})
    wrong_repo = create_app(argocd, app_manifest(unique("src"), "file:///elsewhere.git", "app", ns, project=project))
    wrong_ns = create_app(argocd, app_manifest(unique("dst"), repo.url, "app", "kube-system", project=project))
    denied = create_app(argocd, app_manifest(unique("kind"), repo.url, "app", ns, project=project))
    app = wait_app(argocd, wrong_repo, lambda a: "InvalidSpecError" in conditions(a), "source denied")
    assert conditions(app)["InvalidSpecError"] == (
        f"application repo file:///elsewhere.git is not permitted in project '{project}'")
    app = wait_app(argocd, wrong_ns, lambda a: "InvalidSpecError" in conditions(a), "destination denied")
    assert conditions(app)["InvalidSpecError"] == (
        f"application destination server '{IN_CLUSTER}' and namespace 'kube-system' do not match any of the "
        f"allowed destinations in project '{project}'")
    wait_app(argocd, denied, lambda a: status(a)[0] == "OutOfSync", "compared")
    sync(argocd, denied)
    app = wait_app(argocd, denied, lambda a: op_phase(a) == "Failed", "sync refused")
    state = app["status"]["operationState"]
    assert state["message"] == "one or more synchronization tasks are not valid"
    assert state["syncResult"]["resources"][0]["message"] == f"resource :ConfigMap is not permitted in project {project}"


def test_remote_cluster_from_cluster_secret(argocd, repo):
    from gitopslab.cluster import lifecycle

    repo.write("app/cm.yaml", CONFIGMAP.format(name="remote"))
    repo.push()
    info = lifecycle.up(argocd.home, "staging", time_scale=10)
    try:
        ca = (argocd.home.cluster("staging").root / "tls" / "server.crt").read_text()
        argocd.core.create_namespaced_secret(NS, {
            "metadata": {"name": "cluster-staging", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
            "stringData": {"name": "staging", "server": info.server, "config": json.dumps(
                {"bearerToken": info.token, "tlsClientConfig": {"caData": base64.b64encode(ca.encode()).decode()}})}})
        manifest = app_manifest(unique("stg"), repo.url, "app", "remote-ns", automated={},
                                options=["CreateNamespace=true"])
        manifest["spec"]["destination"] = {"name": "staging", "namespace": "remote-ns"}
        name = create_app(argocd, manifest)
        wait_app(argocd, name, synced_healthy, "Synced on the remote cluster")
        from kubernetes import client, config
        staging = config.new_client_from_config(config_file=str(argocd.home.kubeconfig), context="staging")
        try:
            cm = client.CoreV1Api(staging).read_namespaced_config_map("remote", "remote-ns")
            assert cm.metadata.annotations["argocd.argoproj.io/tracking-id"] == f"{name}:/ConfigMap:remote-ns/remote"
        finally:
            staging.close()
        assert not argocd.core.list_namespaced_config_map("default", field_selector="metadata.name=remote").items
    finally:
        try:
            argocd.core.delete_namespaced_secret("cluster-staging", NS)
        except ApiException:
            pass
        lifecycle.down(argocd.home, "staging")


def test_cli_and_views_read_a_remote_destination_with_its_cluster_secret(argocd, repo, capsys):
    """``app get`` health, ``app diff`` and ``show_application`` read the staging cluster added by ``add_cluster``."""
    from kubernetes import config

    from gitopslab.cluster import lifecycle
    from gitopslab.lab.clusters import add_cluster
    from gitopslab.lab.session import Lab
    from gitopslab.lab.views import show_application

    repo.write("app/deploy.yaml", DEPLOYMENT.format(name="web", replicas=1, image="nginx:1.27"))
    repo.write("app/svc.yaml", SERVICE.format(name="web"))
    repo.write("app/cm.yaml", CONFIGMAP.format(name="settings"))
    repo.push()
    prod = Lab(argocd.kubeconfig, argocd.name, True, argocd.api_client, argocd.home)
    lifecycle.up(argocd.home, "staging", time_scale=10)
    staging_api = config.new_client_from_config(config_file=str(argocd.home.kubeconfig), context="staging")
    cluster_name = unique("staging")  # other tests of the module register the same server under another name
    secret = None
    try:
        secret = add_cluster(prod, Lab(argocd.kubeconfig, "staging", True, staging_api, argocd.home),
                             name=cluster_name)
        ns = f"remote-{uuid.uuid4().hex[:6]}"
        manifest = app_manifest(unique("stg"), repo.url, "app", ns, automated={}, options=["CreateNamespace=true"])
        manifest["spec"]["destination"] = {"name": cluster_name, "namespace": ns}
        name = create_app(argocd, manifest)
        wait_app(argocd, name, synced_healthy, "Synced/Healthy on staging")
        assert not argocd.core.list_namespace(field_selector=f"metadata.name={ns}").items

        got = cli(argocd, "argocd", "app", "get", name, "--cluster", argocd.name)
        assert got.returncode == 0, got.stderr
        rows = {tuple(line.split()[:2]): line.split() for line in got.stdout.split("\n\n")[-1].splitlines()[1:]}
        assert rows[("apps", "Deployment")][2:6] == [ns, "web", "Synced", "Healthy"]
        assert rows[("Service", ns)][1:5] == [ns, "web", "Synced", "Healthy"]

        argocd.kubectl("--context", "staging", "-n", ns, "patch", "configmap", "settings", "--type", "merge",
                       "-p", '{"data":{"key":"drift"}}')
        diff = cli(argocd, "argocd", "app", "diff", name, "--cluster", argocd.name)
        assert diff.returncode == 1, diff.stderr
        headers = [line for line in diff.stdout.splitlines() if line.startswith("===== ")]
        assert headers == [f"===== /ConfigMap {ns}/settings ======"]
        assert "<   key: drift" in diff.stdout and ">   key: value" in diff.stdout

        capsys.readouterr()
        show_application(prod, name)
        tree = capsys.readouterr().out.split("Arbre des ressources", 1)[1].splitlines()
        assert "└─ 💚 Deployment/web  Healthy  ✅ Synced" in tree
        assert "└─ 💚 Service/web  Healthy  ✅ Synced" in tree
        assert any(line.startswith("    └─ 💚 ReplicaSet/web-") for line in tree), tree
        assert any(line.startswith("        └─ 💚 Pod/web-") for line in tree), tree

        nowhere = app_manifest(unique("nowhere"), repo.url, "app", ns)
        nowhere["spec"]["destination"] = {"name": "nowhere", "namespace": ns}
        unknown = create_app(argocd, nowhere)
        refused = cli(argocd, "argocd", "app", "diff", unknown, "--cluster", argocd.name)
        assert refused.returncode == 20
        assert refused.stderr.strip().endswith("rpc error: code = Unknown desc = error validating destination: "
                                               "there are no clusters with this name: nowhere")
        show_application(prod, unknown)
        assert "❌ Destination invalide : there are no clusters with this name: nowhere" in capsys.readouterr().out
    finally:
        if secret is not None:
            argocd.core.delete_namespaced_secret(secret["metadata"]["name"], NS)
        staging_api.close()
        lifecycle.down(argocd.home, "staging")
