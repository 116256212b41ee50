"""The lab API server's patch engine: JSON patch, JSON merge patch,
strategic merge patch and server-side apply with ``managedFields``.

Pure functions on plain JSON-like dicts; no I/O, inputs never mutated.
"""
from gitopslab.cluster.patch.apply import server_side_apply
from gitopslab.cluster.patch.errors import ApplyConflict, PatchError
from gitopslab.cluster.patch.jsonpatches import json_merge_patch, json_patch
from gitopslab.cluster.patch.managedfields import update_managed_fields
from gitopslab.cluster.patch.schema import supports_strategic_merge
from gitopslab.cluster.patch.strategic import strategic_merge_patch

__all__ = [
    "ApplyConflict", "PatchError", "json_merge_patch", "json_patch",
    "server_side_apply", "strategic_merge_patch", "supports_strategic_merge", "update_managed_fields",
]
