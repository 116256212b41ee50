"""ControllerRevisions of StatefulSets and DaemonSets (``controller_history.go``)."""
from __future__ import annotations

import copy

from gitopslab.cluster.controllers.hashing import compute_hash
from gitopslab.cluster.controllers.pods import controller_ref


def revision_data(owner: dict) -> dict:
    """What upstream snapshots: the pod template, marked ``$patch: replace``."""
    tpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    tpl["$patch"] = "replace"
    return {"spec": {"template": tpl}}


def revision_name(owner: dict, collision_count: int | None = None) -> str:
    data = revision_data(owner)
    return f"{owner['metadata']['name']}-{compute_hash(data, collision_count)}"


def new_revision(owner: dict, number: int) -> dict:
    labels = dict((((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    name = revision_name(owner)
    labels["controller.kubernetes.io/hash"] = name.rsplit("-", 1)[1]
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                         "ownerReferences": [controller_ref(owner)]},
            "data": revision_data(owner), "revision": number}
