"""Build ``protobuf_data/schema.json`` — field numbers of the Kubernetes
protobuf messages — from the ``generated.proto`` files of k8s.io/api and
k8s.io/apimachinery (a checkout of each, given on the command line).

Only the table (message -> field number -> name, type, label) is kept; it
lets ``protobuf.py`` decode the bodies typed clients such as ``kubectl
create`` send (``application/vnd.kubernetes.protobuf``).

    python -m gitopslab.cluster.apiserver.protobuf_gen API_DIR APIMACHINERY_DIR
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

API_PACKAGES = ("core/v1", "apps/v1", "batch/v1", "rbac/v1", "networking/v1", "policy/v1", "scheduling/v1",
                "storage/v1", "coordination/v1", "discovery/v1", "events/v1", "autoscaling/v1", "autoscaling/v2",
                "authentication/v1")
MACHINERY_PACKAGES = ("pkg/apis/meta/v1", "pkg/api/resource", "pkg/util/intstr", "pkg/runtime",
                      "pkg/runtime/schema")

_FIELD = re.compile(r"^\s*(optional|repeated|required)?\s*(map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)")


def parse_proto(text: str) -> tuple[str, dict]:
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    messages: dict[str, dict] = {}
    current = None
    depth = 0
    for line in text.splitlines():
        stripped = line.split("//", 1)[0].strip()
        if not stripped:
            continue
        m = re.match(r"^message\s+(\w+)\s*\{", stripped)
        if m and depth == 0:
            current = f"{package}.{m.group(1)}"
            messages[current] = {}
            depth = 1
            continue
        if current is None:
            continue
        depth += stripped.count("{") - stripped.count("}")
        if depth <= 0:
            current, depth = None, 0
            continue
        f = _FIELD.match(stripped)
        if f:
            label, typ, key_t, val_t, name, number = f.groups()
            entry = {"name": name, "label": label or "optional"}
            if key_t:
                entry["map"] = [_qualify(key_t, package), _qualify(val_t, package)]
            else:
                entry["type"] = _qualify(typ, package)
            messages[current][number] = entry
    return package, messages


SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "double", "float",
           "fixed32", "fixed64", "sfixed32", "sfixed64"}


def _qualify(typ: str, package: str) -> str:
    if typ in SCALARS:
        return typ
    if typ.startswith("."):
        return typ[1:]
    return f"{package}.{typ}"


def build(api_dir: Path, machinery_dir: Path) -> dict:
    messages: dict[str, dict] = {}
    for base, packages in ((api_dir, API_PACKAGES), (machinery_dir, MACHINERY_PACKAGES)):
        for pkg in packages:
            _, msgs = parse_proto((base / pkg / "generated.proto").read_text())
            messages.update(msgs)
    return {"source": "k8s.io/api and k8s.io/apimachinery generated.proto (field numbers only)",
            "messages": messages}


def main(argv: list[str]) -> None:
    out = Path(__file__).parent / "protobuf_data" / "schema.json"
    doc = build(Path(argv[0]), Path(argv[1]))
    out.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True))
    print(f"{len(doc['messages'])} messages -> {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
