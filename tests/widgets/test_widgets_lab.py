"""The widgets against a real lab (clock ×10) with the embedded Argo CD, driven as a learner clicks.

A directory app (a Deployment of nginx) in a ``file://`` bare repo is
created with the NEW APP form (Automatic, self-heal off, Auto-Create
Namespace); its tile reaches Synced/Healthy; its tree lists Deployment →
ReplicaSet → Pod and the pod's logs; a ``kubectl scale`` makes it
OutOfSync and the DIFF tab shows the replicas; SYNC brings it back.
"""
from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from gitopslab.lab.apps import ARGOCD_NAMESPACE, GROUP, PLURAL, VERSION
from gitopslab.lab.argocd import install_argocd
from gitopslab.lab.session import Lab
from gitopslab.widgets import applications_view, new_app_form, resource_tree
from gitopslab.widgets.resourcetree import DIFF_TAB

WAIT = 60.0
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
"""


def _git(*args, cwd):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def bare_repo_with(tmp, files: dict[str, str]) -> str:
    bare, work = tmp / "remote.git", tmp / "work"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp)
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    _git("add", "-A", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "app", cwd=work)
    _git("push", "-q", str(bare), "HEAD:refs/heads/main", cwd=work)
    return f"file://{bare}"


def until(check, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout:.0f} s")
        time.sleep(0.3)


def app_names(notebook_lab: Lab) -> list[str]:
    found = notebook_lab.custom.list_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, PLURAL)
    return [a["metadata"]["name"] for a in found.get("items") or []]


@pytest.fixture(scope="module")
def notebook_lab(lab) -> Lab:
    """The module's lab as a notebook sees it (``connect()``'s Lab), with Argo CD installed."""
    session = Lab(lab.kubeconfig, lab.name, True, lab.api_client, lab.home)
    install_argocd(session, quiet=True)
    until(lambda: "default" in _projects(session), "AppProject default")
    return session


def _projects(session: Lab) -> list[str]:
    try:
        found = session.custom.list_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, "appprojects")
    except Exception:  # noqa: BLE001 — CRD not served yet
        return []
    return [p["metadata"]["name"] for p in found.get("items") or []]


@pytest.fixture(scope="module")
def webapp(notebook_lab, tmp_path_factory):
    """An app created by filling the NEW APP form and clicking CREATE: (name, namespace, form)."""
    repo = bare_repo_with(tmp_path_factory.mktemp("repo"), {"k8s/deployment.yaml": DEPLOYMENT})
    name, namespace = f"web-{uuid.uuid4().hex[:6]}", f"ns-{uuid.uuid4().hex[:6]}"
    form = new_app_form(notebook_lab)
    form.name.value = name
    form.sync_policy.value = "Automatic"
    form.create_namespace.value = True
    form.repo_url.value = repo
    form.path.value = "k8s"
    form.namespace.value = namespace
    form.create_button.click()
    return name, namespace, form


def test_empty_name_shows_the_french_message_and_creates_nothing(notebook_lab):
    before = app_names(notebook_lab)
    form = new_app_form(notebook_lab)
    form.repo_url.value = "file:///nulle-part.git"
    form.path.value = "k8s"
    form.create_button.click()
    assert "Le champ « Application Name » est obligatoire." in form.message_text
    assert "Path" not in form.message_text
    assert app_names(notebook_lab) == before


def test_kubernetes_refusal_is_shown_verbatim(notebook_lab):
    form = new_app_form(notebook_lab)
    form.name.value, form.repo_url.value, form.path.value = "Web_App", "file:///r.git", "k8s"
    form.create_button.click()
    assert "Kubernetes a refusé l'Application" in form.message_text
    assert "Web_App" in form.message_text and "Invalid value" in form.message_text
    assert "Web_App" not in app_names(notebook_lab)


def test_form_creates_the_app_and_its_tile_reaches_synced_healthy(notebook_lab, webapp):
    name, namespace, form = webapp
    assert f"application.argoproj.io/{name} créée" in form.message_text
    app = notebook_lab.custom.get_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, PLURAL, name)
    assert app["spec"]["syncPolicy"] == {"automated": {"prune": False, "selfHeal": False},
                                         "syncOptions": ["CreateNamespace=true"]}
    view = applications_view(notebook_lab, auto_refresh=False)

    def synced_healthy():
        view.refresh()
        tile = view.tiles.get(name)
        return tile if tile and (tile.sync_status, tile.health_status) == ("Synced", "Healthy") else None

    tile = until(synced_healthy, "tile Synced/Healthy")
    assert "Synced" in tile.fields.value and "Healthy" in tile.fields.value
    assert f"{namespace}</td>" in tile.fields.value and "in-cluster" in tile.fields.value
    assert "Last Sync:" in tile.fields.value
    # CREATE again with the same fields: argocd-server's create is idempotent
    form.create_button.click()
    assert "existe déjà avec exactement ces réglages" in form.message_text
    form.path.value = "autre"
    form.create_button.click()
    assert "existing application spec is different, use upsert flag to force update" in form.message_text


def test_tree_lists_deployment_replicaset_pod_and_the_pods_logs(notebook_lab, webapp):
    name, namespace, _ = webapp
    tree = resource_tree(notebook_lab, name)
    until(lambda: tree.refresh() or (tree.find("Pod") and tree.find("Pod").health == "Healthy"), "a ready pod")
    kinds = [(n.kind, button.layout.margin) for n, button in
             ((tree.nodes[k], b) for k, b in tree.node_buttons.items())]
    assert [k for k, _ in kinds] == ["Deployment", "ReplicaSet", "Pod"]
    assert [m for _, m in kinds] == ["1px 0 1px 28px", "1px 0 1px 56px", "1px 0 1px 84px"]
    pod = tree.select("Pod")
    assert tree.details.titles == ("SUMMARY", "MANIFEST", "EVENTS", "LOGS")
    logs = until(lambda: tree.select("Pod") and "/docker-entrypoint.sh" in tree.panels["LOGS"] and tree.panels,
                 "nginx's entrypoint lines in LOGS")
    assert f"--- journaux du pod {pod.name} (conteneur actuel) ---" in logs["LOGS"]
    assert "Scheduled" in logs["EVENTS"] and "Started" in logs["EVENTS"]
    tree.select("Deployment")
    assert tree.details.titles == ("SUMMARY", "MANIFEST", "EVENTS")
    assert "kind: Deployment" in tree.panels["MANIFEST"] and "managedFields" not in tree.panels["MANIFEST"]
    assert "HEALTH                Healthy" in tree.panels["SUMMARY"]


def test_scale_drift_is_out_of_sync_with_its_diff_and_sync_brings_it_back(notebook_lab, webapp):
    name, namespace, _ = webapp
    view = applications_view(notebook_lab, auto_refresh=False)
    until(lambda: view.refresh() or view.tiles[name].sync_status == "Synced", "Synced before the drift")
    notebook_lab.kubectl("scale", "deployment/web", "--replicas=3", "-n", namespace, echo=False, check=True)
    tile = view.tiles[name]
    tile.refresh_button.click()
    assert "Rafraîchissement demandé" in tile.message_text
    until(lambda: view.refresh() or tile.sync_status == "OutOfSync", "OutOfSync after kubectl scale")

    tree = resource_tree(notebook_lab, name)
    assert tree.find("Deployment").sync == "OutOfSync"
    tree.tabs.selected_index = DIFF_TAB
    assert f"===== apps/Deployment {namespace}/web ======" in tree.diff_text
    assert "<   replicas: 3" in tree.diff_text and ">   replicas: 1" in tree.diff_text

    time.sleep(notebook_lab.real_seconds(10))   # self-heal is off: no sync of its own
    view.refresh()
    assert tile.sync_status == "OutOfSync"
    tile.sync_button.click()
    assert f"Synchronisation demandée pour « {name} »" in tile.message_text
    until(lambda: view.refresh() or tile.sync_status == "Synced", "Synced after SYNC")
    assert notebook_lab.apps.read_namespaced_deployment("web", namespace).spec.replicas == 1
    tree.refresh()
    assert tree.show_diff() == "" and "Aucune différence" in tree.diff.value


def test_auto_refresh_runs_in_a_daemon_thread_and_stops(notebook_lab, webapp):
    name, _, _ = webapp
    first = applications_view(notebook_lab, interval=0.2)
    assert first.refresher.running and first.refresher._thread.daemon
    first.tiles_box.children = ()
    until(lambda: first.tiles_box.children, "tiles redrawn by the timer", timeout=10)
    second = applications_view(notebook_lab, interval=0.2)
    assert not first.refresher.running and second.refresher.running   # a re-run cell stops the previous view
    assert name in second.tiles and repr(second).startswith("Applications d'Argo CD (")
    second.close()
    assert not second.refresher.running


def test_tile_name_opens_the_tree_and_new_app_opens_the_form(notebook_lab, webapp):
    from gitopslab.widgets.newapp import NewAppForm
    from gitopslab.widgets.resourcetree import ResourceTreeView

    name, _, _ = webapp
    view = applications_view(notebook_lab, auto_refresh=False)
    view.tiles[name].title.click()
    (tree,) = view.details_box.children
    assert isinstance(tree, ResourceTreeView) and tree.find("Deployment", "web") is not None
    view.new_app_button.click()
    assert isinstance(view.form_box.children[0], NewAppForm)
    view.new_app_button.click()
    assert view.form_box.children == ()


def test_remote_destination_tile_and_tree_read_the_staging_cluster(notebook_lab, webapp, capsys):
    """An app deploying to a cluster added by ``add_cluster``: its tile names that cluster, its tree, events
    and logs are read there (through the cluster Secret's token), as argocd-server does."""
    from kubernetes import config

    from gitopslab.cluster import lifecycle
    from gitopslab.lab.clusters import add_cluster

    _, _, form = webapp
    home = notebook_lab.home
    lifecycle.up(home, "staging", time_scale=10)
    staging_api = config.new_client_from_config(config_file=str(home.kubeconfig), context="staging")
    secret = None
    try:
        staging = Lab(home.kubeconfig, "staging", True, staging_api, home)
        secret = add_cluster(notebook_lab, staging, name="staging")
        name, namespace = f"stg-{uuid.uuid4().hex[:6]}", f"ns-{uuid.uuid4().hex[:6]}"
        remote = new_app_form(notebook_lab)
        assert secret["stringData"]["server"] in remote.cluster_url.options
        remote.name.value, remote.repo_url.value, remote.path.value = name, form.repo_url.value, "k8s"
        remote.cluster_url.value, remote.namespace.value = secret["stringData"]["server"], namespace
        remote.sync_policy.value, remote.create_namespace.value = "Automatic", True
        assert remote.create(), remote.message_text
        view = applications_view(notebook_lab, auto_refresh=False)
        until(lambda: view.refresh() or view.tiles[name].health_status == "Healthy", "Healthy on staging")
        assert "Destination:</td><td style=\"word-break: break-all;\">staging</td>" in view.tiles[name].fields.value
        assert not notebook_lab.core.list_namespace(field_selector=f"metadata.name={namespace}").items

        tree = resource_tree(notebook_lab, name)
        assert [n.kind for n in tree.nodes.values()][:2] == ["Deployment", "ReplicaSet"]
        until(lambda: tree.select("Pod") and "/docker-entrypoint.sh" in tree.panels["LOGS"], "logs from staging")
        assert "Scheduled" in tree.panels["EVENTS"]
    finally:
        capsys.readouterr()
        if secret is not None:
            notebook_lab.core.delete_namespaced_secret(secret["metadata"]["name"], ARGOCD_NAMESPACE)
        staging_api.close()
        lifecycle.down(home, "staging")

