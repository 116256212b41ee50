"""Rewrite ``model_types.json`` from the installed ``kubernetes`` client (dev tool, see model_types.py).

    python -m gitopslab.argocd.diff.generate_model_types
"""
from __future__ import annotations

import json
from importlib.metadata import version

from gitopslab.argocd.diff.model_types import DATA


def from_client() -> dict[str, dict[str, str]]:
    """{model name: {json field: type text}} computed from the client's models (imports every model)."""
    from kubernetes.client import models

    out = {}
    for name in sorted(dir(models)):
        cls = getattr(models, name, None)
        if isinstance(cls, type) and hasattr(cls, "openapi_types") and hasattr(cls, "attribute_map"):
            out[name] = {cls.attribute_map[attr]: cls.openapi_types[attr] for attr in cls.attribute_map}
    return out


def main() -> None:
    models = from_client()
    data = {"source": f"kubernetes (Python client) {version('kubernetes')}", "models": models}
    DATA.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {DATA} ({len(models)} models)")


if __name__ == "__main__":
    main()
