"""Field types of the built-in kinds, as the official ``kubernetes`` client's models declare them.

The diff needs, per model, each JSON field and its type text (``"V1ObjectMeta"``,
``"List[V1Container]"``, ``"Dict[str, str]"``, ``"str"``…): the
``attribute_map`` and ``openapi_types`` of ``kubernetes.client.models``.
Reading them from the client means importing the ``kubernetes`` package
(its configuration, REST and auth stack) and building every model class the
diff walks: about 20 MB in the cluster daemon, which otherwise needs none of
the client. So the facts are copied once into ``model_types.json``, next to
this file (``python -m gitopslab.argocd.diff.generate_model_types`` rewrites
it from the installed client; a test checks that they still agree).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).with_name("model_types.json")


@functools.lru_cache(maxsize=None)
def model_types() -> dict[str, dict[str, str]]:
    """{model name: {json field: type text}}, fields in the client's order (read once)."""
    return json.loads(DATA.read_text())["models"]
