"""The shared informer's indexes and the controllers' expectations (what the ReplicaSet controller reads and waits for)."""
from __future__ import annotations

import asyncio

from gitopslab.cluster.controllers.base import controlled_by, index_by_controller, orphans_in
from gitopslab.cluster.controllers.expectations import Expectations
from gitopslab.cluster.informer import Informer

from .fakeclient import FakeClient
from .harness import run_async


def pod(name: str, namespace: str, owner_uid: str | None = None) -> dict:
    meta: dict = {"name": name, "namespace": namespace, "labels": {"app": "web"}}
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": owner_uid,
                                    "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "c", "image": "x"}]}}


def names(objs: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_informer_indexes_follow_adds_updates_and_deletes():
    async def scenario():
        client = FakeClient()
        for p in (pod("a1", "a", "rs-1"), pod("a2", "a"), pod("b1", "b", "rs-2")):
            await client.create(p)
        pods = index_by_controller(Informer(client, "v1", "Pod"))
        task = asyncio.create_task(pods.run())
        try:
            await pods.wait_synced()
            owner = {"metadata": {"uid": "rs-1"}}
            assert names(controlled_by(pods, owner)) == ["a1"]
            assert names(orphans_in(pods, "a")) == ["a2"] and orphans_in(pods, "b") == []
            assert names(pods.items("a")) == ["a1", "a2"] and names(pods.items("b")) == ["b1"]

            async def seen(predicate):
                for _ in range(200):
                    if predicate():
                        return
                    await asyncio.sleep(0.01)
                raise AssertionError("the informer did not catch up")

            await client.create(pod("a3", "a", "rs-1"))
            await seen(lambda: names(controlled_by(pods, owner)) == ["a1", "a3"])
            # released by its owner: an orphan now, it keeps its place in the namespace index
            await client.patch("v1", "Pod", "a1", {"metadata": {"ownerReferences": None}}, "a")
            await seen(lambda: names(controlled_by(pods, owner)) == ["a3"])
            assert names(orphans_in(pods, "a")) == ["a2", "a1"] and names(pods.items("a")) == ["a1", "a2", "a3"]
            await client.delete("v1", "Pod", "a3", "a")
            await seen(lambda: controlled_by(pods, owner) == [])
            assert names(pods.items("a")) == ["a1", "a2"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    run_async(scenario())


def test_expectations_wait_for_what_was_written_or_for_the_timeout():
    now = [0.0]
    exp = Expectations(timeout=300.0, now=lambda: now[0])
    assert exp.satisfied("ns/web")                      # nothing awaited yet
    exp.expect_creations("ns/web", 2)
    exp.creation_observed("ns/web")
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")

    exp.expect_deletions("ns/web", ["ns/web-a", "ns/web-b"])
    exp.deletion_observed("ns/web", "ns/web-a")
    exp.deletion_observed("ns/web", "ns/web-a")       # seen twice (terminating, then gone): counted once
    exp.deletion_observed("ns/web", "ns/other")       # not one it deleted
    assert not exp.satisfied("ns/web")
    now[0] = 301.0                                     # a lost event: trusted again after five minutes
    assert exp.satisfied("ns/web")

    exp.expect_creations("ns/web", 1)
    exp.forget("ns/web")                               # the ReplicaSet is gone
    assert exp.satisfied("ns/web")
