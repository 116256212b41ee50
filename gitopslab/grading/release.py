"""Regenerate ``labs/08-examen.ipynb``: the learner's notebook as ``nbgrader generate_assignment`` releases it.

    python -m gitopslab.grading.release
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gitopslab.grading.batch import child_env, nbgrader_command

ROOT = Path(__file__).resolve().parents[2]


def release(grader: Path = ROOT / "grader", target: Path = ROOT / "labs" / "08-examen.ipynb",
            assignment: str = "examen") -> Path:
    with tempfile.TemporaryDirectory(prefix="gitopslab-release-") as tmp:
        course = Path(tmp)
        shutil.copy2(grader / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(grader / "source", course / "source")
        subprocess.run([*nbgrader_command(), "generate_assignment", assignment, "--force"], cwd=course,
                       env=child_env(), check=True, capture_output=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(course / "release" / assignment / f"{assignment}.ipynb", target)
    target.chmod(0o644)
    return target


if __name__ == "__main__":
    print(release())
    sys.exit(0)
