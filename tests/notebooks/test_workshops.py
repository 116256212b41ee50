"""The workshop notebooks run headless, in order, in one fresh lab (as a learner would run them)."""
from __future__ import annotations

import pytest

from .conftest import ROOT, outputs

pytestmark = pytest.mark.timeout(900)
LABS = ROOT / "labs"


def _all_output(nb) -> str:
    return "".join(outputs(nb, i) for i in range(len(nb.cells)))


def test_workshop_notebooks_are_committed_without_outputs():
    import nbformat

    for path in sorted(LABS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)] == [], path
        titles = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")]
        assert len(titles) == 1 and nb.cells[0] is titles[0], path


def test_01_installation(notebook_lab):
    nb = notebook_lab.run(LABS / "01-installation-argocd.ipynb")
    text = _all_output(nb)
    assert "prod-control-plane   Ready" in text
    assert "pods d'Argo CD sont prêts" in text
    assert "30080" in text and "Mot de passe initial d'admin :" in text
    assert "Applications d'Argo CD (0) : aucune" in text   # the tiles widget, as a frontend without widgets shows it


@pytest.mark.parametrize("name, marker", [
    ("02-odoo-helm", "Mot de passe d'Odoo :"),
    ("03-webapp-helm", "<"),
    ("04-webapp-manifestes", "<"),
])
def test_deploy_workshops(notebook_lab, name, marker):
    nb = notebook_lab.run(LABS / f"{name}.ipynb", timeout=600)
    text = _all_output(nb)
    assert "est Synced et Healthy" in text
    assert "Pas de réponse" not in text and marker in text
    assert "Formulaire NEW APP d'Argo CD" in text and "Arbre des ressources de « " in text


def test_05_self_heal_and_prune(notebook_lab):
    nb = notebook_lab.run(LABS / "05-sync-auto-prune-selfheal.ipynb", timeout=600)
    text = _all_output(nb)
    assert "Réplicas demandés après self-heal : 1" in text
    assert "Services restants dans webapp-gitops : aucun" in text
