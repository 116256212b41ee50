"""The Service table of the pod network: cluster DNS names and ClusterIPs to ready endpoints.

There is no kube-proxy in the lab: whoever connects (the ``wget`` of a
modelled busybox, the Odoo model reaching PostgreSQL, a real process through
the injected hook) asks this table where ``postgres:5432`` or
``10.43.0.12:80`` really goes, and gets a ready endpoint (pod IP, mapped
port). The table follows Services and Endpoints through the API and is
also written as JSON for real processes (read by ``hook/sitecustomize.py``).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path

from gitopslab.cluster.client import Client
from gitopslab.cluster.informer import Informer, object_key
from gitopslab.cluster.runtime.network import is_pod_ip, target_port

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def service_entries(services: list[dict], endpoints: dict[str, dict]) -> list[dict]:
    """The JSON table: one entry per Service with its ports and ready endpoints (pure)."""
    table = []
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ep = endpoints.get(f"{meta.get('namespace')}/{meta.get('name')}") or {}
        ports = []
        for sp in spec.get("ports") or []:
            targets = []
            for subset in ep.get("subsets") or []:
                port = next((p for p in subset.get("ports") or []
                             if (p.get("name") or "") == (sp.get("name") or "")), None)
                if port is None and len(subset.get("ports") or []) == 1 and len(spec.get("ports") or []) == 1:
                    port = subset["ports"][0]
                if port is None:
                    continue
                for addr in subset.get("addresses") or []:
                    targets.append([addr.get("ip"), int(port.get("port")), addr.get("hostname", "")])
            ports.append({"name": sp.get("name") or "", "port": int(sp.get("port", 0)),
                          "protocol": sp.get("protocol", "TCP"), "nodePort": sp.get("nodePort"),
                          "endpoints": targets})
        table.append({"namespace": meta.get("namespace"), "name": meta.get("name"),
                      "type": spec.get("type", "ClusterIP"), "clusterIP": spec.get("clusterIP"),
                      "ports": ports})
    return table


def split_dns_name(host: str, namespace: str) -> tuple[str | None, str, str] | None:
    """``(pod hostname or None, service, namespace)`` for a cluster DNS name."""
    name = host.rstrip(".")
    for suffix in (".cluster.local", ".svc"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    parts = name.split(".")
    if len(parts) == 1:
        return None, parts[0], namespace
    if len(parts) == 2:
        return None, parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return None


class ServiceDirectory:
    def __init__(self, client: Client, state_file: Path | None = None):
        self.client = client
        self.state_file = state_file
        self.services = Informer(client, "v1", "Service")
        self.endpoints = Informer(client, "v1", "Endpoints")
        self.table: list[dict] = []
        self._dirty = asyncio.Event()
        self._listeners: list = []
        for inf in (self.services, self.endpoints):
            inf.add_handler(on_add=lambda o: self._changed(), on_update=lambda a, b: self._changed(),
                            on_delete=lambda o: self._changed())

    def on_change(self, callback) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._dirty.set()

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.services.run()), asyncio.create_task(self.endpoints.run())]
        try:
            await self.services.wait_synced()
            await self.endpoints.wait_synced()
            while True:
                self._rebuild()
                await self._dirty.wait()
                self._dirty.clear()
                await asyncio.sleep(0.02)  # coalesce bursts of changes
        finally:
            for t in tasks:
                t.cancel()

    def _rebuild(self) -> None:
        eps = {object_key(e): e for e in self.endpoints.items()}
        self.table = service_entries(self.services.items(), eps)
        if self.state_file is not None:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"services": self.table}))
            os.replace(tmp, self.state_file)
        for cb in self._listeners:
            cb(self.table)

    def find(self, namespace: str, name: str) -> dict | None:
        for entry in self.table:
            if entry["namespace"] == namespace and entry["name"] == name:
                return entry
        return None

    def resolve(self, host: str, namespace: str) -> str | None:
        """The IP a cluster DNS name resolves to (ClusterIP, or a pod IP for headless names)."""
        parsed = split_dns_name(host, namespace)
        if parsed is None:
            return None
        pod, svc, ns = parsed
        entry = self.find(ns, svc)
        if entry is None:
            return None
        eps = [e for p in entry["ports"] for e in p["endpoints"]]
        if pod is not None:
            return next((e[0] for e in eps if e[2] == pod), None)
        ip = entry.get("clusterIP")
        if ip and ip != "None":
            return ip
        return eps[0][0] if eps else None

    def route(self, host: str, port: int, namespace: str, own_ip: str) -> tuple[str | None, int]:
        """Where a connection from a pod to ``host:port`` really lands: ``(ip, real port)``."""
        if host in LOCAL_NAMES or host == "127.0.0.1":
            return own_ip, target_port(port)
        if is_pod_ip(host):
            return host, target_port(port)
        ip = host if _looks_like_ip(host) else self.resolve(host, namespace)
        if ip is None:
            return None, port
        if is_pod_ip(ip):
            return ip, target_port(port)
        for entry in self.table:
            if entry.get("clusterIP") == ip:
                for p in entry["ports"]:
                    if p["port"] == int(port) and p["endpoints"]:
                        e = random.choice(p["endpoints"])
                        return e[0], target_port(e[1])
                return None, port
        return ip, port


def _looks_like_ip(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)
