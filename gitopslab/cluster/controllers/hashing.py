"""Names and hashes the controllers derive, as upstream computes them.

``compute_hash`` follows ``controller.ComputeHash``: FNV-1a (32 bit) over the
pod template, plus the collision count, rendered with ``rand.SafeEncodeString``
over the decimal digits of the sum. Upstream feeds Go's spew dump of the struct
to the hash; the lab feeds canonical JSON, so the hash has the same alphabet,
length and stability, not the same value as a real cluster's.
"""
from __future__ import annotations

import json
import random

# k8s.io/apimachinery/pkg/util/rand: vowels and confusable characters removed
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in s.encode())


def without_nulls(value):
    """A typed Go object has no nulls: ``"creationTimestamp": null`` and an absent field are one value."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    data = json.dumps(without_nulls(template or {}), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += int(collision_count & 0xFFFFFFFF).to_bytes(8, "little")
    return safe_encode_string(str(fnv32a(data)))


def random_suffix(n: int = 5, rng: random.Random | None = None) -> str:
    """The suffix the API server appends to ``generateName`` (``web-7c5ddbdf54-x2k9p``)."""
    rng = rng or random
    return "".join(rng.choice(ALPHANUMS) for _ in range(n))
