"""What stays out of long-lived grading processes: nbgrader out of the batch coordinator, the
``kubernetes`` client out of the cluster daemon (each would cost some 20 to 100 MB per process)."""
from __future__ import annotations

import subprocess
import sys

LOADED = "import sys; print(sorted({m.split('.')[0] for m in sys.modules} & {'nbgrader', 'kubernetes'}))"


def loaded_after(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", f"{code}\n{LOADED}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_batch_coordinator_does_not_import_nbgrader():
    code = ("import gitopslab.cli, gitopslab.cli_grade, gitopslab.grading.batch, gitopslab.grading.report\n"
            "from gitopslab.grading.gradebook import Scores\n"
            "Scores.from_json(Scores('x', {'a': 1.0}).to_json())")
    assert loaded_after(code) == "[]"


def test_cluster_daemon_and_its_components_do_not_import_the_kubernetes_client():
    code = ("import importlib, gitopslab.cluster.daemon\n"
            "from gitopslab.cluster.components import COMPONENTS\n"
            "for spec in COMPONENTS: importlib.import_module(spec.split(':')[0])\n"
            "from gitopslab.argocd.diff import schema\n"
            "assert schema.struct_fields('V1Deployment')\n"
            "from gitopslab.cluster.apiserver import app")
    assert loaded_after(code) == "[]"
