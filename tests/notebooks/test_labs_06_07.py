"""Workshops 6 (CI/CD pipeline) and 7 (multi-cluster, Slack notifications) run headless in one fresh lab.

The lab home comes from ``notebook_lab`` (conftest: fresh GITOPSLAB_HOME,
GITOPSLAB_TIME_SCALE, every cluster and the Git server stopped afterwards);
pipeline runs the Git server spawned are stopped here too, even on failure.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT, outputs

pytestmark = pytest.mark.timeout(1500)
LABS = ROOT / "labs"
TITLE = "Dimension : mon app est maintenant automatisée !"


def _all_output(nb) -> str:
    return "".join(outputs(nb, i) for i in range(len(nb.cells)))


def _ci_processes(home: Path) -> list:
    """``python -m gitopslab.ci execute`` processes of this lab home (pipeline runs)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if "gitopslab.ci" in cmdline and "execute" in cmdline and \
                    proc.environ().get("GITOPSLAB_HOME") == str(home):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture(scope="module")
def lab_home(notebook_lab):
    try:
        yield notebook_lab
    finally:
        import psutil

        for proc in _ci_processes(notebook_lab.home):
            try:
                for child in proc.children(recursive=True):
                    child.kill()
                proc.kill()
            except psutil.NoSuchProcess:
                pass


def test_labs_are_committed_without_outputs():
    import nbformat

    for name in ("06-pipeline-cicd", "07-multi-cluster-notifications"):
        nb = nbformat.read(LABS / f"{name}.ipynb", as_version=4)
        assert [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)] == []
        titles = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")]
        assert len(titles) == 1 and nb.cells[0] is titles[0]


def test_06_a_push_is_built_tagged_and_deployed(lab_home):
    nb = lab_home.run(LABS / "06-pipeline-cicd.ipynb", timeout=900)
    text = _all_output(nb)
    assert "✓ Secret GITOPS_PAT enregistré pour nzapanarcisse/argocd-datascientest" in text
    sha = re.search(r"déclenchée par le push de ([0-9a-f]{7})", text).group(1)
    assert re.search(r"Exécution \d+ terminée : success", text)
    assert f"CI: Mise à jour de l'image webapp vers le tag {sha}" in text
    assert f"""Dans values.yaml : ['tag: "{sha}"']""" in text
    assert "« webapp » est Synced et Healthy." in text
    assert f"Titre servi sur le NodePort 30000 : {TITLE}" in text
    assert not _ci_processes(lab_home.home)


def _staging_app_problem(home: Path) -> str:
    """The condition messages of webapp-staging (why a remote destination could not be reached)."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(home / "kubeconfig"), context="prod")
    try:
        app = client.CustomObjectsApi(api).get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", "webapp-staging")
    except client.exceptions.ApiException:
        return ""
    finally:
        api.close()
    return " | ".join(c.get("message", "") for c in (app.get("status") or {}).get("conditions") or [])


def test_07_staging_cluster_and_slack_notification(lab_home):
    nb = lab_home.run(LABS / "07-multi-cluster-notifications.ipynb", timeout=900)
    text = _all_output(nb)
    assert re.search(r"Cluster 'https://127\.0\.0\.1:\d+' added", text)
    assert re.search(r"https://127\.0\.0\.1:\d+\s+staging", text)
    if "« webapp-staging » est Synced et Healthy." not in text:
        pytest.fail(f"webapp-staging did not sync: {_staging_app_problem(lab_home.home)}\n{text[-3000:]}")
    # staging is another "machine": its node has an address of its own (127.0.0.2 on an otherwise idle machine)
    assert re.search(r"http://127\.\d+\.\d+\.\d+:30000/", text) and "Pas de réponse" not in text
    assert "deployment.apps/webapp-staging   1/1" in text
    assert 'Error from server (NotFound): namespaces "webapp-staging" not found' in text
    assert "1 message(s) reçu(s) sur le Slack du labo" in text
    assert "💬 #deployments" in text and "✅ Application webapp-staging has been successfully synced at" in text
    assert "Messages reçus sur #deployments : 1" in text
    assert re.search(r"[0-9a-f]{40}:on-sync-succeeded:\[0\]\.[\w-]+:slack:#deployments", text)
