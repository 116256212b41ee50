"""Store, selectors, pod log files and registry semantics, in-process (no daemon)."""
from __future__ import annotations

import asyncio

import pytest

from gitopslab.cluster import podlogs
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.inprocess import InProcessClient
from gitopslab.cluster.registry import Registry
from gitopslab.cluster.selectors import parse_field_selector, parse_label_selector
from gitopslab.cluster.store import Store
from gitopslab.home import ClusterPaths


@pytest.fixture
def client(tmp_path):
    store = Store(tmp_path / "store.db")
    registry = Registry(store)
    c = InProcessClient(registry, ClusterPaths(tmp_path / "c"))
    asyncio.run(c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}))
    yield c
    store.close()


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("selector,labels,expected", [
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "db"}, False),
    ("app!=web", {}, True),
    ("app in (web,db)", {"app": "db"}, True),
    ("app notin (web,db)", {"app": "db"}, False),
    ("app", {"app": ""}, True),
    ("!app", {"app": "x"}, False),
    ("app=web,tier", {"app": "web"}, False),
    ("", {"x": "y"}, True),
])
def test_label_selectors(selector, labels, expected):
    assert parse_label_selector(selector).matches(labels) is expected


def test_field_selectors():
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "node"}, "status": {"phase": "Running"}}
    sel = parse_field_selector("spec.nodeName=node,status.phase!=Succeeded", "", "pods")
    assert sel.matches(pod)
    with pytest.raises(ApiError) as e:
        parse_field_selector("spec.foo=bar", "", "pods")
    assert e.value.code == 400 and e.value.message == "field label not supported: spec.foo"
    with pytest.raises(ApiError):
        parse_field_selector("status.phase=Running", "", "configmaps")


def test_store_persists_rv_and_objects(tmp_path):
    s = Store(tmp_path / "s.db")
    e = s.put("/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}})
    s.delete("/configmaps", "n", "a")
    s.put("/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "n"}})
    assert e.obj["metadata"]["resourceVersion"] == "1" and s.rv == 3
    s.close()
    again = Store(tmp_path / "s.db")
    assert again.rv == 3 and [x.obj["metadata"]["name"] for x in again.scan("/configmaps")] == ["b"]
    assert again.changes_since("/configmaps", 1) is None  # history before the restart is gone: 410


def test_generation_finalizers_and_graceful_pod_delete(client):
    run(client.create({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "held", "finalizers": ["lab/hold"]}}))
    out = run(client.delete("v1", "ConfigMap", "held", "default"))
    assert out["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiError) as e:  # no new finalizers on a deleting object
        run(client.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": ["lab/hold", "x/y"]}}, "default"))
    assert e.value.code == 422
    run(client.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": None}}, "default"))
    assert run(client.get_or_none("v1", "ConfigMap", "held", "default")) is None
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx"}]}}
    run(client.create(pod))
    out = run(client.delete("v1", "Pod", "p", "default"))
    assert out["metadata"]["deletionGracePeriodSeconds"] == 30  # Terminating until the kubelet confirms
    run(client.delete("v1", "Pod", "p", "default", grace_period_seconds=0))
    assert run(client.get_or_none("v1", "Pod", "p", "default")) is None
    dep = run(client.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                             "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                                 "metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    out = run(client.delete("apps/v1", "Deployment", "d", "default", propagation_policy="Foreground"))
    assert out["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert out["metadata"]["generation"] == dep["metadata"]["generation"] + 1


def test_watch_semantics(client):
    async def scenario():
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "1"}}})
        listed = await client.list("v1", "ConfigMap", "default")
        rv = listed["metadata"]["resourceVersion"]
        events = []

        async def consume():
            async for ev in client.watch("v1", "ConfigMap", "default", resource_version=rv, label_selector="x=1"):
                events.append((ev.type, ev.object["metadata"]["name"]))
                if len(events) == 3:
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "labels": {"x": "1"}}})
        await client.patch("v1", "ConfigMap", "b", {"metadata": {"labels": {"x": "2"}}}, "default")  # leaves selector
        await client.patch("v1", "ConfigMap", "a", {"data": {"k": "v"}}, "default")
        await asyncio.wait_for(task, 5)
        assert events == [("ADDED", "b"), ("DELETED", "b"), ("MODIFIED", "a")]
        initial = []
        async for ev in client.watch("v1", "ConfigMap", "default", send_initial_events=True, allow_bookmarks=True):
            initial.append(ev)
            if ev.type == "BOOKMARK":
                break
        assert [e.type for e in initial] == ["ADDED", "ADDED", "BOOKMARK"]
        assert initial[-1].object["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        expired = [ev async for ev in client.watch("v1", "ConfigMap", "default", resource_version="-5")]
        assert expired[0].type == "ERROR" and expired[0].object["code"] == 410
        assert expired[0].object["message"].startswith("too old resource version: -5 (")

    run(scenario())


def test_pod_logs(client, tmp_path):
    paths = client.paths
    run(client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                       "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}))
    with pytest.raises(ApiError) as e:
        run(client.read_log("p", "default"))
    assert e.value.message == "a container name must be specified for pod p, choose one of: [a b]"
    with pytest.raises(ApiError) as e:
        run(client.read_log("p", "default", container="a"))
    assert e.value.message == 'container "a" in pod "p" is waiting to start: ContainerCreating'
    pod = run(client.get("v1", "Pod", "p", "default"))
    pod["status"]["containerStatuses"] = [
        {"name": "a", "ready": True, "restartCount": 1, "image": "x", "imageID": "", "state": {"running": {}},
         "lastState": {"terminated": {"exitCode": 1, "containerID": "containerd://1"}}}]
    run(client.update_status(pod))
    uid = pod["metadata"]["uid"]
    podlogs.append_log(podlogs.log_path(paths, "default", "p", uid, "a", 0), "stdout", "old run\n")
    current = podlogs.log_path(paths, "default", "p", uid, "a", 1)
    podlogs.append_log(current, "stdout", "line 1\nline 2\n")
    podlogs.append_log(current, "stderr", "oops")
    assert run(client.read_log("p", "default", container="a")) == "line 1\nline 2\noops\n"
    assert run(client.read_log("p", "default", container="a", tail_lines=1)) == "oops\n"
    assert run(client.read_log("p", "default", container="a", previous=True)) == "old run\n"
    stamped = run(client.read_log("p", "default", container="a", timestamps=True)).splitlines()[0]
    assert stamped.endswith(" line 1") and stamped[:4].isdigit() and "Z " in stamped
