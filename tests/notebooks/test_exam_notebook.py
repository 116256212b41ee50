"""The exam notebook with its reference solution runs headless from a fresh home and passes verifier()."""
from __future__ import annotations

import pytest

from .conftest import ROOT, outputs

pytestmark = pytest.mark.timeout(600)


def test_source_notebook_passes_every_criterion(notebook_lab):
    nb = notebook_lab.run(ROOT / "grader" / "source" / "examen" / "examen.ipynb")
    last = outputs(nb, len(nb.cells) - 1)
    assert "5/5 critères remplis." in last, last
    diagnosis = "".join(outputs(nb, i) for i in range(len(nb.cells)))
    assert "Liveness probe failed" in diagnosis and ":8080" in diagnosis and "connection refused" in diagnosis
    assert ":5000" in diagnosis
