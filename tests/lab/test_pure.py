"""Pure parts of the notebook helpers: names, exam material, diagnosis readings."""
from __future__ import annotations

import pytest
import yaml

from gitopslab.lab import diagnosis, exam, identity
from gitopslab.lab.argocd import repository_secret


@pytest.mark.parametrize("raw, name", [
    ("Alice", "alice"), ("jean.dupont@ecole.fr", "jean-dupont-ecole-fr"), ("__x__", "x"), ("", "apprenant"),
    ("é", "apprenant"), ("a" * 60, "a" * 39),
])
def test_learner_name_is_a_valid_github_and_docker_name(raw, name):
    assert identity.normalize(raw) == name


def test_learner_name_from_environment(monkeypatch):
    monkeypatch.setenv("GITOPSLAB_USER", "Étudiant 42")
    assert identity.learner_name() == "tudiant-42"


def test_broken_deployment_probes_the_named_port_8080():
    doc = yaml.safe_load(exam.BROKEN_DEPLOYMENT)
    container = doc["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert container["livenessProbe"]["httpGet"]["port"] == "http"
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert container["image"] == "VOTRE_USER/quote-app:latest"
    assert "port=5000" in exam.APP_PY


def test_given_files_never_overwrite_the_learners_edits(tmp_path):
    project = exam.write_given_files(tmp_path / "quote-app", quiet=True)
    (project / "k8s" / "deployment.yaml").write_text("edited")
    exam.write_given_files(project, quiet=True)
    assert (project / "k8s" / "deployment.yaml").read_text() == "edited"
    assert (project / "app.py").read_text() == exam.APP_PY


def test_repo_and_image_names(monkeypatch):
    monkeypatch.setenv("GITOPSLAB_USER", "bob")
    assert exam.repo_url() == "https://github.com/bob/quote-app.git"
    assert exam.image_ref() == "bob/quote-app:latest"


def test_probe_failures_and_listening_addresses():
    events = [
        {"reason": "Unhealthy", "message": 'Liveness probe failed: Get "http://127.42.0.9:8080/": dial tcp '
                                           '127.42.0.9:8080: connect: connection refused'},
        {"reason": "Unhealthy", "message": 'Liveness probe failed: Get "http://127.42.0.9:8080/": dial tcp '
                                           '127.42.0.9:8080: connect: connection refused'},
        {"reason": "BackOff", "message": "Back-off restarting failed container"},
    ]
    assert len(diagnosis.probe_failures(events)) == 1
    logs = " * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:5000\n * Running on http://10.0.0.5:5000\n"
    assert diagnosis.listening_addresses(logs) == ["http://127.0.0.1:5000", "http://10.0.0.5:5000"]


def test_repository_secret_is_what_argocd_repo_add_writes():
    s = repository_secret("repo-quote-app", "https://github.com/bob/quote-app.git", "bob", "ghp_x")
    assert s["metadata"]["namespace"] == "argocd"
    assert s["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    assert s["stringData"] == {"type": "git", "url": "https://github.com/bob/quote-app.git", "username": "bob",
                               "password": "ghp_x"}


def test_a_stuck_app_says_why_in_argocds_words():
    from gitopslab.lab.apps import why_not_converged

    app = {"status": {
        "conditions": [{"type": "SyncError", "message": "Failed last sync attempt to abc: boom"}],
        "operationState": {"phase": "Failed", "message": "one or more objects failed to apply (dry run)",
                           "syncResult": {"resources": [
                               {"kind": "Service", "name": "web", "status": "Synced", "message": "ok"},
                               {"kind": "Deployment", "name": "web", "status": "SyncFailed",
                                "message": 'namespaces "web" not found'}]}}}}
    assert why_not_converged(app) == [
        "condition SyncError : Failed last sync attempt to abc: boom",
        "dernière opération : Failed — one or more objects failed to apply (dry run)",
        '  Deployment/web (SyncFailed) : namespaces "web" not found',
    ]
    assert why_not_converged({"status": {}}) == []


def test_a_workshop_clone_goes_next_to_the_notebook_and_a_rerun_loses_nothing(tmp_path, monkeypatch):
    from gitopslab.lab import repos

    monkeypatch.setenv("GITOPSLAB_WORKDIR", str(tmp_path))
    first = repos.workspace("atelier6/depot")
    assert first == tmp_path / "travail" / "atelier6" / "depot" and not first.exists()
    first.mkdir()
    (first / "index.html").write_text("mon travail")
    again = repos.workspace("atelier6/depot")
    assert again == first and not again.exists()
    kept = [p for p in first.parent.iterdir() if p.name.startswith("depot.")]
    assert [(p / "index.html").read_text() for p in kept] == ["mon travail"]
