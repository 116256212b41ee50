"""Execute notebooks headless (nbclient) against a fresh lab home, stopped afterwards."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gitopslab.grading.isolation import default_homes_dir, stop_lab

ROOT = Path(__file__).resolve().parents[2]
TIME_SCALE = "20"


class NotebookRunner:
    def __init__(self, home: Path, workdir: Path):
        self.home, self.workdir = home, workdir

    def run(self, path: Path, timeout: int = 300) -> nbformat.NotebookNode:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(self.workdir)}}).execute()
        return nb


def outputs(nb, cell_index: int) -> str:
    """Text a cell printed (stdout and display data), for asserts on what the learner sees."""
    out = []
    for o in nb.cells[cell_index].get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif "data" in o:
            out.append(o["data"].get("text/plain", ""))
    return "".join(out)


@pytest.fixture(scope="module")
def notebook_lab(monkeypatch_module):
    # The home is not under /tmp: pods' /tmp is mapped to a private folder by the runtime.
    parent = default_homes_dir()
    parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="nbtest-", dir=parent))
    workdir = home / "work"
    workdir.mkdir()
    monkeypatch_module.setenv("GITOPSLAB_HOME", str(home))
    monkeypatch_module.setenv("GITOPSLAB_TIME_SCALE", TIME_SCALE)
    monkeypatch_module.setenv("GITOPSLAB_USER", "apprenant-test")
    monkeypatch_module.setenv("GITOPSLAB_WORKDIR", str(workdir))
    monkeypatch_module.delenv("KUBECONFIG", raising=False)
    monkeypatch_module.delenv("GIT_CONFIG_GLOBAL", raising=False)
    try:
        yield NotebookRunner(home, workdir)
    finally:
        stop_lab(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    try:
        yield mp
    finally:
        mp.undo()
