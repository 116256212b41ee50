"""Predicted live state of a 3-way apply (kubectl's merge patch semantics), pure.

``predict(orig, config, live, root)`` returns what the live object would look
like after ``kubectl apply`` of ``config`` when ``orig`` was last applied:

* maps: config values are set; keys in ``orig`` but no longer in ``config``
  are deleted; keys only in live (server defaults, other writers) are kept;
* built-in kinds (``root`` given) use strategic merge: lists with a patch merge
  key (containers by name, ports by containerPort...) merge item by item,
  primitive merge lists (finalizers) merge as sets, other lists are replaced;
* custom resources (``root`` None) use JSON merge patch: every list is
  atomic, compared with live after removing live-only fields (gitops-engine
  ``RemoveMapFields``), so server-defaulted fields inside list items do not count.

A pure reordering of a keyed list is not a change (no ``$setElementOrder``
is emitted without another change).
"""

from __future__ import annotations

import copy
from typing import Any

from .schema import FieldType


def predict(orig: dict, config: dict, live: dict, root: FieldType | None) -> dict:
    return _merge_map(orig or {}, config, live, root, typed=root is not None)


def _merge_map(orig: dict, config: dict, live: dict, field_type: FieldType | None, typed: bool) -> dict:
    result = dict(live)
    for key, wanted in config.items():
        sub = field_type.field(key) if field_type is not None else None
        if wanted is None:
            result.pop(key, None)
        elif key in live:
            previous = orig.get(key) if isinstance(orig, dict) else None
            result[key] = _merge_value(previous, wanted, live[key], sub, typed)
        else:
            result[key] = copy.deepcopy(wanted)
    for key in orig if isinstance(orig, dict) else ():
        if key not in config:
            result.pop(key, None)
    return result


def _merge_value(orig: Any, config: Any, live: Any, field_type: FieldType | None, typed: bool) -> Any:
    if isinstance(config, dict) and isinstance(live, dict):
        return _merge_map(orig if isinstance(orig, dict) else {}, config, live, field_type, typed)
    if isinstance(config, list) and isinstance(live, list):
        return _merge_list(orig if isinstance(orig, list) else [], config, live, field_type, typed)
    return copy.deepcopy(config)


def _merge_list(orig: list, config: list, live: list, field_type: FieldType | None, typed: bool) -> list:
    strategy = field_type.strategy if typed and field_type is not None and field_type.kind == "list" else "atomic"
    if strategy == "merge" and _all_keyed(config + live + orig, field_type.merge_key):
        return _merge_keyed(orig, config, live, field_type)
    if strategy == "set" and all(not isinstance(v, (dict, list)) for v in config + live + orig):
        kept = [v for v in live if v in config or v not in orig]
        return kept + [copy.deepcopy(v) for v in config if v not in kept]
    compared = live if typed else remove_fields(orig, live)
    return live if config == compared else copy.deepcopy(config)


def _all_keyed(items: list, key: str) -> bool:
    return all(isinstance(item, dict) and key in item for item in items)


def _merge_keyed(orig: list, config: list, live: list, field_type: FieldType) -> list:
    key = field_type.merge_key
    item_type = field_type.item
    wanted = {item[key]: item for item in config}
    previous = {item[key]: item for item in orig}
    result = []
    for item in live:
        if item[key] in wanted:
            result.append(_merge_map(previous.get(item[key], {}), wanted[item[key]], item, item_type, True))
        elif item[key] not in previous:
            result.append(item)
    present = {item[key] for item in live}
    result += [copy.deepcopy(item) for item in config if item[key] not in present]
    return result


def remove_fields(config: Any, live: Any) -> Any:
    """Keep in ``live`` only the fields also present in ``config`` (gitops-engine json.RemoveMapFields)."""
    if isinstance(config, dict) and isinstance(live, dict):
        return {k: (remove_fields(v, live[k]) if live[k] is not None else None) for k, v in config.items() if k in live}
    if isinstance(config, list) and isinstance(live, list):
        return [remove_fields(config[i], v) if i < len(config) and v is not None else v for i, v in enumerate(live)]
    return live
