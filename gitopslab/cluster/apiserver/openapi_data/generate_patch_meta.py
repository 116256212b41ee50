"""Regenerate ``patch_meta.json`` from the Go sources of k8s.io/api (dev tool).

The Python client's models carry names, types, descriptions and required
fields, but not the strategic-merge-patch and list metadata that kubectl
reads from OpenAPI (``x-kubernetes-patch-strategy``, ``-patch-merge-key``,
``-list-type``, ``-list-map-keys``, ``-map-type``). Those live as struct tags
and ``// +`` markers in k8s.io/api. This script reads them from a git
checkout of kubernetes/api at a release tag and writes, per package, the
struct names, their JSON field names and the extensions of those fields::

    python generate_patch_meta.py /path/to/kubernetes/api v0.32.5

Only the facts are kept (struct and field names, markers); no source text.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PACKAGES = (
    "core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "networking/v1",
    "rbac/v1", "events/v1", "discovery/v1", "storage/v1", "policy/v1", "coordination/v1",
    "authentication/v1",
)

STRUCT_RE = re.compile(r"^type (\w+) struct \{")
FIELD_RE = re.compile(r'^\s+\S+(?:\s+[^`\s]+)?\s+`([^`]*)`')
INLINE_RE = re.compile(r'^\s+(?:\w+\s+)?\*?([\w.]+)\s+`json:",inline"')
TAG_RE = re.compile(r'(\w+):"([^"]*)"')
MARKER_RE = re.compile(r"^\s*// \+(listType|listMapKey|mapType|structType)=(\S+)")

# apimachinery types referenced everywhere (k8s.io/apimachinery, not k8s.io/api).
META = {
    "ObjectMeta": {
        "finalizers": {"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
        "ownerReferences": {"x-kubernetes-list-map-keys": ["uid"], "x-kubernetes-list-type": "map",
                            "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
        "managedFields": {"x-kubernetes-list-type": "atomic"},
    },
    "LabelSelector": {"matchExpressions": {"x-kubernetes-list-type": "atomic"}},
    "LabelSelectorRequirement": {"values": {"x-kubernetes-list-type": "atomic"}},
}


def parse_types(source: str) -> dict[str, dict[str, dict]]:
    structs: dict[str, dict[str, dict]] = {}
    inlined: dict[str, list[str]] = {}
    name = None
    current = None
    markers: dict = {}
    for line in source.splitlines():
        m = STRUCT_RE.match(line)
        if m:
            name = m.group(1)
            current = structs.setdefault(name, {})
            markers = {}
            continue
        if current is None:
            continue
        if line.startswith("}"):
            current = None
            continue
        mk = MARKER_RE.match(line)
        if mk:
            key, value = mk.groups()
            if key == "listMapKey":
                markers.setdefault("x-kubernetes-list-map-keys", []).append(value)
            else:
                markers[{"listType": "x-kubernetes-list-type", "mapType": "x-kubernetes-map-type",
                         "structType": "x-kubernetes-map-type"}[key]] = value
            continue
        im = INLINE_RE.match(line)
        if im:
            inlined.setdefault(name, []).append(im.group(1))
            markers = {}
            continue
        fm = FIELD_RE.match(line)
        if fm:
            tags = dict(TAG_RE.findall(fm.group(1)))
            json_name = tags.get("json", "").split(",")[0]
            ext = dict(markers)
            if "patchStrategy" in tags:
                ext["x-kubernetes-patch-strategy"] = tags["patchStrategy"]
            if "patchMergeKey" in tags:
                ext["x-kubernetes-patch-merge-key"] = tags["patchMergeKey"]
            if json_name and json_name != "-":
                current[json_name] = dict(sorted(ext.items()))
            markers = {}
            continue
        if not line.strip().startswith("//"):
            markers = {}
    return {s: _with_inlined(s, structs, inlined) for s in structs}


def _with_inlined(struct: str, structs: dict, inlined: dict) -> dict:
    """Fields of ``struct`` plus those of the same-package structs it embeds inline."""
    fields = dict(structs.get(struct, {}))
    for embedded in inlined.get(struct, []):
        if embedded in structs:
            fields.update(_with_inlined(embedded, structs, inlined))
    return fields


def main(repo: str, tag: str) -> None:
    out: dict = {"source": f"k8s.io/api {tag}", "packages": {"meta/v1": {"structs": sorted(META), "fields": META}}}
    for pkg in PACKAGES:
        text = subprocess.run(["git", "-C", repo, "show", f"{tag}:{pkg}/types.go"],
                              check=True, capture_output=True, text=True).stdout
        structs = parse_types(text)
        # every field is listed (empty dict when it has no extension) so that
        # fields newer than the tag can be told apart
        out["packages"][pkg] = {"structs": sorted(structs), "fields": dict(sorted(structs.items()))}
    target = Path(__file__).with_name("patch_meta.json")
    target.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "v0.32.5")
