"""ApplicationSets through a real lab: the embedded argocd-applicationset-controller, driven through the API.

One lab for the module (clock ×10), Argo CD installed through ``gitopslab argocd install``; each test
uses its own ApplicationSet, Applications and namespaces.

Matrix: a list generator whose two Applications (the course repository's webapp chart and manifests)
sync and turn Healthy, are owned by the ApplicationSet, are reverted when edited, and are deleted
with their resources when the ApplicationSet is deleted; a git directories generator over the
course repository's ``webapp/*``; a push to the lab Git server refreshing a git generator at once, a
``file://`` repository polled every ``requeueAfterSeconds``; the ``create-only`` policy;
a clusters generator following cluster Secrets (added: an Application, removed: deleted despite its
finalizer); an invalid template (ErrorOccurred / RenderTemplateParamsError) then fixed; duplicate
names (ApplicationValidationError).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from kubernetes.client.exceptions import ApiException

GROUP, VERSION = "argoproj.io", "v1alpha1"
NS = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
COURSE_REPO = "https://github.com/nzapanarcisse/datascientest-chart.git"
WAIT = 60.0
GENERATED = "Successfully generated parameters for all Applications"


def cli(lab, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, GITOPSLAB_HOME=str(lab.home.root))
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def wait_for(check, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached")
        time.sleep(0.2)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def create_appset(lab, name: str, spec: dict) -> dict:
    return lab.custom.create_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "ApplicationSet", "metadata": {"name": name, "namespace": NS},
        "spec": spec})


def get_appset(lab, name: str) -> dict:
    return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


def patch_appset(lab, name: str, patch: dict) -> dict:
    return lab.custom.patch_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name, patch)


def get_app(lab, name: str) -> dict | None:
    try:
        return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, "applications", name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def apps_of(lab, appset_name: str) -> dict[str, dict]:
    items = lab.custom.list_namespaced_custom_object(GROUP, VERSION, NS, "applications")["items"]
    return {a["metadata"]["name"]: a for a in items
            if any(r.get("kind") == "ApplicationSet" and r.get("name") == appset_name
                   for r in a["metadata"].get("ownerReferences") or [])}


def conditions(appset: dict) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in (appset.get("status") or {}).get("conditions")
            or []}


def wait_conditions(lab, name: str, predicate, what: str, timeout: float = WAIT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        appset = get_appset(lab, name)
        if predicate(conditions(appset)):
            return appset
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: {what} not reached; status:\n"
                                 f"{json.dumps(appset.get('status'), indent=1)[:4000]}")
        time.sleep(0.2)


def up_to_date(conds) -> bool:
    return conds.get("ResourcesUpToDate", ("",))[0] == "True"


def template(name: str, path: str, namespace: str, *, repo: str = COURSE_REPO, automated: bool = False) -> dict:
    spec = {"project": "default",
            "source": {"repoURL": repo, "targetRevision": "HEAD", "path": path},
            "destination": {"server": IN_CLUSTER, "namespace": namespace}}
    if automated:
        spec["syncPolicy"] = {"automated": {"prune": True}, "syncOptions": ["CreateNamespace=true"]}
    return {"metadata": {"name": name}, "spec": spec}


@pytest.fixture(scope="module")
def argocd(lab):
    done = cli(lab, "argocd", "install", "--cluster", lab.name)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: _default_project(lab), "AppProject default")
    return lab


def _default_project(lab):
    try:
        return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, "appprojects", "default")
    except ApiException:
        return None


# --- list generator: generated apps sync, are owned, reverted, deleted with the ApplicationSet ---------

def test_list_generator_apps_sync_and_are_deleted_with_the_applicationset(argocd):
    lab = argocd
    name, suffix = unique("webapps"), uuid.uuid4().hex[:6]
    spec = {"generators": [{"list": {"elements": [{"app": "webapp-chart"}, {"app": "webapp-manifest"}]}}],
            "template": template("{{app}}-" + suffix, "webapp/{{app}}", "{{app}}-" + suffix, automated=True)}
    appset = create_appset(lab, name, spec)
    names = {f"webapp-chart-{suffix}", f"webapp-manifest-{suffix}"}
    apps = wait_for(lambda: (lambda found: found if set(found) == names else None)(apps_of(lab, name)),
                    "two generated Applications")
    for app in apps.values():
        assert app["metadata"]["ownerReferences"] == [{
            "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": name,
            "uid": appset["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
        assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert apps[f"webapp-chart-{suffix}"]["spec"]["source"]["path"] == "webapp/webapp-chart"
    assert apps[f"webapp-manifest-{suffix}"]["spec"]["destination"] == {"server": IN_CLUSTER,
                                                                          "namespace": f"webapp-manifest-{suffix}"}

    appset = wait_conditions(lab, name, up_to_date, "ResourcesUpToDate")
    assert conditions(appset) == {
        "ErrorOccurred": ("False", "ApplicationSetUpToDate", "All applications have been generated successfully"),
        "ParametersGenerated": ("True", "ParametersGenerated", GENERATED),
        "ResourcesUpToDate": ("True", "ApplicationSetUpToDate", "All applications have been generated successfully"),
    }
    assert appset["status"]["health"] == {"status": "Healthy",
                                          "message": "All applications have been generated successfully"}
    assert [(r["kind"], r["name"]) for r in appset["status"]["resources"]] == \
        [("Application", n) for n in sorted(names)]
    events = lab.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={name}").items
    assert {(e.reason, e.message) for e in events} >= {("created", f'created Application "{n}"') for n in names}

    def healthy(app_name):
        app = get_app(lab, app_name) or {}
        st = app.get("status") or {}
        return (st.get("sync") or {}).get("status") == "Synced" and (st.get("health") or {}).get("status") == "Healthy"

    for app_name in names:
        wait_for(lambda: healthy(app_name), f"{app_name} Synced/Healthy", timeout=120)
    assert lab.apps.read_namespaced_deployment("webapp", f"webapp-manifest-{suffix}").status.ready_replicas == 1

    # an edit of a generated Application is reverted (policy sync)
    edited = f"webapp-chart-{suffix}"
    lab.custom.patch_namespaced_custom_object(GROUP, VERSION, NS, "applications", edited,
                                              {"spec": {"source": {"path": "webapp/webapp-manifest"}}})
    wait_for(lambda: get_app(lab, edited)["spec"]["source"]["path"] == "webapp/webapp-chart", "edit reverted")

    # deleting the ApplicationSet deletes its Applications, and their resources (the finalizer)
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)
    wait_for(lambda: not apps_of(lab, name) and all(get_app(lab, n) is None for n in names),
             "generated Applications deleted", timeout=90)
    wait_for(lambda: not lab.apps.list_namespaced_deployment(f"webapp-manifest-{suffix}").items,
             "their Deployments deleted", timeout=90)


# --- git generators ------------------------------------------------------------------------------

def test_git_directories_generator_over_the_course_repository(argocd):
    lab = argocd
    name = unique("dirs")
    spec = {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
            "generators": [{"git": {"repoURL": COURSE_REPO, "revision": "HEAD",
                                    "directories": [{"path": "webapp/*"}]}}],
            "template": template(name + "-{{.path.basename}}", "{{.path.path}}", "{{.path.basenameNormalized}}")}
    create_appset(lab, name, spec)
    wait_conditions(lab, name, up_to_date, "ResourcesUpToDate")
    apps = apps_of(lab, name)
    assert {n: a["spec"]["source"]["path"] for n, a in apps.items()} == {
        f"{name}-webapp-chart": "webapp/webapp-chart", f"{name}-webapp-manifest": "webapp/webapp-manifest"}
    assert apps[f"{name}-webapp-chart"]["spec"]["destination"]["namespace"] == "webapp-chart"

    # excluding one folder deletes its Application
    patch_appset(lab, name, {"spec": {"generators": [{"git": {
        "repoURL": COURSE_REPO, "revision": "HEAD",
        "directories": [{"path": "webapp/*"}, {"path": "webapp/webapp-chart", "exclude": True}]}}]}})
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-webapp-manifest"}, "excluded folder's app deleted")
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


def _git(*args, cwd):
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0"))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_push_to_the_lab_git_server_refreshes_a_git_generator_at_once(argocd, tmp_path):
    from gitopslab import gitserver
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths
    from gitopslab.gitserver.repos import RepoStore

    lab = argocd
    base = gitserver.ensure_running(lab.home)
    full = f"tester/a{uuid.uuid4().hex[:8]}"
    RepoStore(lab.home).create(full, private=False)
    token = auth.ensure_token(GitPaths.of(lab.home).token_file)
    push_url = base.replace("http://", f"http://tester:{token}@") + f"/{full}.git"
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)

    def push(*folders):
        for folder in folders:
            (work / "envs" / folder).mkdir(parents=True, exist_ok=True)
            (work / "envs" / folder / "cm.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {folder}\ndata:\n  k: v\n")
        _git("add", "-A", cwd=work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "envs", cwd=work)
        _git("push", "-q", push_url, "HEAD:refs/heads/main", cwd=work)

    push("dev")
    name = unique("envs")
    url = f"{base}/{full}.git"
    # a requeue far longer than the test's deadlines: only the push can explain a quick refresh
    spec = {"generators": [{"git": {"repoURL": url, "revision": "main", "requeueAfterSeconds": 36000,
                                    "directories": [{"path": "envs/*"}]}}],
            "template": template(name + "-{{path.basename}}", "{{path}}", "default", repo=url)}
    create_appset(lab, name, spec)
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-dev"}, "first Application")
    push("prod")
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-dev", f"{name}-prod"}, "Application of the pushed folder")
    refresh = "argocd.argoproj.io/application-set-refresh"
    wait_for(lambda: refresh not in (get_appset(lab, name)["metadata"].get("annotations") or {}),
             "refresh annotation removed")
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


def test_git_generator_polls_a_repository_without_webhook_every_requeue(argocd, tmp_path):
    lab = argocd
    bare = tmp_path / "remote.git"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)

    def push(folder):
        (work / "apps" / folder).mkdir(parents=True)
        (work / "apps" / folder / "cm.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {folder}\n")
        _git("add", "-A", cwd=work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", folder, cwd=work)
        _git("push", "-q", str(bare), "HEAD:refs/heads/main", cwd=work)

    push("one")
    name = unique("poll")
    url = f"file://{bare}"
    spec = {"generators": [{"git": {"repoURL": url, "revision": "HEAD", "requeueAfterSeconds": 20,
                                    "directories": [{"path": "apps/*"}]}}],
            "template": template(name + "-{{path.basename}}", "{{path}}", "default", repo=url)}
    create_appset(lab, name, spec)
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-one"}, "first Application")
    push("two")   # a file:// repository sends no webhook: the next requeue sees the commit
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-one", f"{name}-two"}, "Application found by polling")
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


def test_create_only_policy_neither_updates_nor_deletes(argocd):
    lab = argocd
    name = unique("keep")
    spec = {"syncPolicy": {"applicationsSync": "create-only"},
            "generators": [{"list": {"elements": [{"env": "dev"}, {"env": "prod"}]}}],
            "template": template(name + "-{{env}}", "webapp/webapp-manifest", "{{env}}")}
    create_appset(lab, name, spec)
    wait_for(lambda: set(apps_of(lab, name)) == {f"{name}-dev", f"{name}-prod"}, "two Applications")
    # prod no longer generated, dev's template changed, qa new: the reconcile that creates qa leaves the others
    patch_appset(lab, name, {"spec": {
        "generators": [{"list": {"elements": [{"env": "dev"}, {"env": "qa"}]}}],
        "template": {"spec": {"destination": {"namespace": "changed-{{env}}"}}}}})
    apps = wait_for(lambda: (lambda found: found if f"{name}-qa" in found else None)(apps_of(lab, name)),
                    "the new element's Application")
    assert set(apps) == {f"{name}-dev", f"{name}-prod", f"{name}-qa"}
    assert apps[f"{name}-dev"]["spec"]["destination"]["namespace"] == "dev"
    assert apps[f"{name}-qa"]["spec"]["destination"]["namespace"] == "changed-qa"
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


# --- clusters generator ----------------------------------------------------------------------------

def test_clusters_generator_follows_cluster_secrets(argocd):
    lab = argocd
    name = unique("clusters")
    spec = {"generators": [{"clusters": {"selector": {"matchLabels": {"env": name}}}}],
            "template": template(name + "-{{nameNormalized}}", "webapp/webapp-manifest", "guestbook")}
    spec["template"]["spec"]["destination"] = {"server": "{{server}}", "namespace": "guestbook"}
    spec["template"]["metadata"]["labels"] = {"env": "{{metadata.labels.env}}"}
    create_appset(lab, name, spec)
    wait_conditions(lab, name, up_to_date, "ResourcesUpToDate")
    assert apps_of(lab, name) == {}

    secret = unique("cluster")
    lab.core.create_namespaced_secret(NS, {
        "metadata": {"name": secret, "labels": {"argocd.argoproj.io/secret-type": "cluster", "env": name}},
        "stringData": {"name": "Staging_Cluster", "server": "https://127.0.0.1:1",
                       "config": json.dumps({"tlsClientConfig": {"insecure": True}})}})
    apps = wait_for(lambda: apps_of(lab, name), "Application for the new cluster Secret")
    app = apps[f"{name}-staging-cluster"]
    assert app["spec"]["destination"] == {"server": "https://127.0.0.1:1", "namespace": "guestbook"}
    assert app["metadata"]["labels"] == {"env": name}

    # the Secret removed: the destination is invalid, the finalizer is dropped and the Application deleted
    lab.core.delete_namespaced_secret(secret, NS)
    wait_for(lambda: get_app(lab, f"{name}-staging-cluster") is None, "Application of the removed cluster deleted")
    events = lab.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={name}").items
    assert ("Deleted", f'Deleted Application "{name}-staging-cluster"') in {(e.reason, e.message) for e in events}
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


# --- errors ------------------------------------------------------------------------------------------

def test_invalid_template_sets_error_conditions_until_fixed(argocd):
    lab = argocd
    name = unique("broken")
    spec = {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": [{"env": "dev"}]}}],
            "template": template(name + "-{{.cluster}}", "webapp/webapp-manifest", "{{.env}}")}
    create_appset(lab, name, spec)
    message = (f"failed to execute go template {name}-{{{{.cluster}}}}: template: base:1:{len(name) + 3}: "
               'executing "base" at <.cluster>: map has no entry for key "cluster"')
    appset = wait_conditions(lab, name, lambda c: c.get("ErrorOccurred", ("",))[0] == "True", "ErrorOccurred")
    assert conditions(appset) == {
        "ErrorOccurred": ("True", "RenderTemplateParamsError", message),
        "ParametersGenerated": ("False", "ErrorOccurred", message),
        "ResourcesUpToDate": ("False", "ErrorOccurred", message),
    }
    assert appset["status"]["health"] == {"status": "Degraded", "message": message}
    assert apps_of(lab, name) == {}

    patch_appset(lab, name, {"spec": {"template": {"metadata": {"name": name + "-{{.env}}"}}}})
    wait_conditions(lab, name, up_to_date, "ResourcesUpToDate after the fix")
    assert set(apps_of(lab, name)) == {f"{name}-dev"}
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)


def test_duplicate_names_are_a_validation_error(argocd):
    lab = argocd
    name = unique("dup")
    spec = {"generators": [{"list": {"elements": [{"env": "dev"}, {"env": "prod"}]}}],
            "template": template(name, "webapp/webapp-manifest", "{{env}}")}
    create_appset(lab, name, spec)
    message = f"ApplicationSet {name} contains applications with duplicate name: {name}"
    appset = wait_conditions(lab, name, lambda c: c.get("ErrorOccurred", ("",))[0] == "True", "ErrorOccurred")
    assert conditions(appset) == {
        "ErrorOccurred": ("True", "ApplicationValidationError", message),
        "ParametersGenerated": ("True", "ParametersGenerated", GENERATED),
        "ResourcesUpToDate": ("False", "ErrorOccurred", message),
    }
    # validation errors are keyed by name: neither of the two is created
    assert apps_of(lab, name) == {}
    lab.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, "applicationsets", name)

