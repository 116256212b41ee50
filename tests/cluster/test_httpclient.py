"""HttpClient (the remote-cluster Client) against a second running daemon."""
from __future__ import annotations

import asyncio

import pytest

from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.httpclient import HttpClient


def test_http_client_crud_watch_and_errors(lab_factory):
    remote = lab_factory(name="staging")

    async def scenario():
        async with HttpClient.from_kubeconfig(remote.kubeconfig, "staging") as c:
            ns = await c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "remote"}})
            assert ns["status"]["phase"] == "Active"
            listed = await c.list("v1", "ConfigMap", "remote")
            events = []

            async def consume():
                async for ev in c.watch("v1", "ConfigMap", "remote",
                                        resource_version=listed["metadata"]["resourceVersion"]):
                    if ev.object["metadata"]["name"] == "cm":
                        events.append(ev.type)
                    if len(events) == 2:
                        return

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.2)
            await c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "remote"}})
            got = await c.patch("v1", "ConfigMap", "cm", {"data": {"a": "b"}}, "remote")
            assert got["data"] == {"a": "b"}
            await asyncio.wait_for(task, 10)
            assert events == ["ADDED", "MODIFIED"]
            applied = await c.patch("apps/v1", "Deployment", "web", {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                    "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
                "remote", patch_type="apply", field_manager="argocd-controller")
            assert applied["metadata"]["generation"] == 1
            with pytest.raises(ApiError) as e:
                await c.get("v1", "ConfigMap", "nope", "remote")
            assert e.value.code == 404 and e.value.message == 'configmaps "nope" not found'
            gone = await c.delete("v1", "ConfigMap", "cm", "remote")
            assert gone["status"] == "Success"
            nodes = await c.list("v1", "Node")
            assert [n["metadata"]["name"] for n in nodes["items"]] == ["staging-control-plane"]

    asyncio.run(scenario())
