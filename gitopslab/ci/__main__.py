"""``python -m gitopslab.ci execute RUN_ID``: run one stored workflow run (background runs)."""
from __future__ import annotations

import sys

from gitopslab.ci import runner
from gitopslab.home import Home


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "execute":
        print("usage : python -m gitopslab.ci execute RUN_ID", file=sys.stderr)
        return 2
    record = runner.execute(Home.current(), int(argv[1]))
    return 0 if record.get("conclusion") == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
