"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as kube-apiserver
applies them (evanphx/json-patch, wrapped by apiserver ``handlers/patch.go``).
Pure functions on JSON-like values; inputs are never mutated.
"""
from __future__ import annotations

import copy

import jsonpatch
import jsonpointer

from gitopslab.cluster.patch.errors import PatchError

BAD_JSON_PATCH = "Invalid JSON Patch"  # evanphx errBadJSONPatch


def json_merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else
    (lists included) replaces. Nulls inside newly added objects are dropped,
    as evanphx's ``pruneNulls`` does."""
    if not isinstance(patch, dict):
        raise PatchError.bad_request(BAD_JSON_PATCH)
    return _merge(copy.deepcopy(target) if isinstance(target, dict) else {}, patch)


def _merge(target: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _merge(target[key], value)
        else:
            target[key] = _prune_nulls(value)
    return target


def _prune_nulls(value):
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


def json_patch(target: dict, ops: list) -> dict:
    """RFC 6902. A patch that is not a list of operations is a 400; one that
    does not apply (failed ``test``, missing path) a 422 whose message is
    NewGenericServerResponse's, the cause being kept in ``detail``."""
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise PatchError.bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        patch = jsonpatch.JsonPatch(ops)
        return patch.apply(target, in_place=False)
    except jsonpatch.JsonPatchTestFailed as err:
        raise PatchError.invalid(f"testing value failed: {err}") from err
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            KeyError, IndexError, TypeError, ValueError) as err:
        raise PatchError.invalid(str(err)) from err
