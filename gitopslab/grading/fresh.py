"""Run one exam check in a fresh Python process (``python -m gitopslab.grading.fresh CHECK``).

A graded notebook's kernel is the learner's: anything imported there can be
rebound by an answer cell (``checks.app_exists = lambda …``). Hidden tests
therefore ask a new interpreter, which reaches the same lab through
``GITOPSLAB_HOME``, and read its verdict as JSON.
"""
from __future__ import annotations

import json
import subprocess
import sys

from gitopslab.grading.checks import Result

CHECKS = ("app_exists", "app_source", "synced_healthy", "fix_commit", "quote_served",
          "live_container_port", "live_image")


def _evaluate(name: str) -> Result:
    from gitopslab.grading import checks
    from gitopslab.lab import connect
    from gitopslab.lab.exam import repo_url
    from gitopslab.lab.identity import learner_name

    lab = connect(quiet=True)
    return {
        "app_exists": lambda: checks.app_exists(lab),
        "app_source": lambda: checks.app_source(lab, repo_url()),
        "synced_healthy": lambda: checks.synced_healthy(lab),
        "fix_commit": lambda: checks.fix_commit(lab, repo_url()),
        "quote_served": lambda: checks.quote_served(lab),
        "live_container_port": lambda: checks.live_container_port(lab),
        "live_image": lambda: checks.live_image_from(lab, learner_name()),
    }[name]()


def run_fresh(name: str, timeout: float = 60) -> Result:
    """The verdict of check ``name`` computed by a new interpreter."""
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}")
    try:
        done = subprocess.run([sys.executable, "-m", "gitopslab.grading.fresh", name],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(False, f"la vérification « {name} » n'a pas répondu en {timeout:.0f} s")
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
        return Result(bool(data["ok"]), data["detail"], data.get("hint", ""))
    except (ValueError, IndexError, KeyError):
        return Result(False, f"la vérification « {name} » a échoué : {done.stderr.strip()[-300:]}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in CHECKS:
        print(f"usage: python -m gitopslab.grading.fresh {{{','.join(CHECKS)}}}", file=sys.stderr)
        return 2
    result = _evaluate(args[0])
    print(json.dumps({"ok": result.ok, "detail": result.detail, "hint": result.hint}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
