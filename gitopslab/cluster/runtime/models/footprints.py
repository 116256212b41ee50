"""Memory footprints of the modelled images: what each one's cgroup holds once it has started.

The figures are orders of magnitude of ``memory.current`` (what ``kubectl top
pod`` shows) for the image idle right after its start, with its default
configuration. A container whose ``resources.limits.memory`` is below its
image's footprint is OOMKilled shortly after it starts (see
``ModelContainer``), as the kernel would kill it while it reaches its working
set. The models point here through ``Model.memory_bytes``; this table is the
one place to read or change them.
"""
from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB

NGINX = 4 * MiB            # master + one worker per core, small shared memory zones
REDIS = 3 * MiB            # empty dataset
POSTGRES = 28 * MiB        # postmaster + checkpointer, walwriter, autovacuum, background writer
ODOO = 128 * MiB           # one Python server process with its addons loaded (workers=0)
SHELL = 1 * MiB            # busybox/alpine sh, sleep, a short loop
GENERIC = 8 * MiB          # a catalog image without a richer model

ARGOCD = {                 # per component (Go binaries; the controller grows with the managed resources)
    "argocd-server": 48 * MiB,
    "argocd-repo-server": 40 * MiB,
    "argocd-application-controller": 96 * MiB,
    "argocd-applicationset-controller": 32 * MiB,
    "argocd-notifications": 24 * MiB,
    "argocd-dex": 24 * MiB,
}
ARGOCD_UTILITY = 2 * MiB   # the image's helpers (`argocd-...` copy steps in init containers)
