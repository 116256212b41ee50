"""What the daemon hands to each component it runs (controllers, kubelet, Argo CD)."""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.cluster.client import Client
from gitopslab.home import ClusterPaths, Home, LabClock


@dataclass
class DaemonContext:
    home: Home
    cluster: str            # cluster name, e.g. "prod"
    paths: ClusterPaths     # this cluster's folder
    client: Client          # in-process API client
    clock: LabClock
    node_name: str          # "<cluster>-control-plane"
    api_port: int = 0
    extras: dict = field(default_factory=dict)  # shared runtime services (e.g. the pod network), by name
