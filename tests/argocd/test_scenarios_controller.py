"""Controller scenarios against an in-memory API fake (until the lab fixture lands).

Matrix: automated sync to Synced/Healthy with kubectl messages and history;
self-heal of a manual change; prune after a file is removed (refresh
annotation removed once handled); a missing path as ComparisonError; app
deletion cascade through the resources finalizer.
"""
import asyncio, copy, itertools
from gitopslab.cluster.client import Client, WatchEvent
from gitopslab.cluster.errors import not_found, already_exists
import jsonpatch

def merge(a, b):
    if not isinstance(b, dict): return copy.deepcopy(b)
    a = copy.deepcopy(a) if isinstance(a, dict) else {}
    for k, v in b.items():
        if v is None: a.pop(k, None)
        else: a[k] = merge(a.get(k), v)
    return a

CLUSTER = {"Namespace", "CustomResourceDefinition"}
class FakeApi(Client):
    """Dict store with merge patches and watches: enough REST semantics for the controller."""
    def __init__(self):
        self.objs = {}; self.rv = itertools.count(1); self.subs = []
    def _k(self, av, kind, name, ns):
        return (av, kind, None if kind in CLUSTER else ns, name)
    def _emit(self, t, o):
        for (av, kind, ns, q) in self.subs:
            if o["apiVersion"] == av and o["kind"] == kind and (ns is None or o["metadata"].get("namespace") == ns):
                q.put_nowait(WatchEvent(t, copy.deepcopy(o)))
    async def get(self, av, kind, name, namespace=None, *, subresource=None):
        o = self.objs.get(self._k(av, kind, name, namespace))
        if o is None: raise not_found("", kind.lower()+"s", name)
        return copy.deepcopy(o)
    async def list(self, av, kind, namespace=None, **kw):
        return {"kind": kind+"List", "metadata": {"resourceVersion": str(next(self.rv))},
                "items": [copy.deepcopy(o) for k, o in self.objs.items() if k[0]==av and k[1]==kind and (namespace is None or k[2]==namespace)]}
    async def create(self, obj, *, namespace=None, subresource=None, field_manager=None, dry_run=False):
        obj = copy.deepcopy(obj); m = obj["metadata"]
        if namespace and obj["kind"] not in CLUSTER: m.setdefault("namespace", namespace)
        k = self._k(obj["apiVersion"], obj["kind"], m["name"], m.get("namespace"))
        if k in self.objs: raise already_exists("", obj["kind"].lower()+"s", m["name"])
        if obj["kind"] not in CLUSTER and m.get("namespace") and ("v1","Namespace",None,m["namespace"]) not in self.objs:
            raise not_found("", "namespaces", m["namespace"])
        if dry_run: return obj
        m["resourceVersion"] = str(next(self.rv)); m["uid"] = m["resourceVersion"]; m["generation"] = 1
        self.objs[k] = obj; self._emit("ADDED", obj); return copy.deepcopy(obj)
    async def replace(self, obj, *, subresource=None, field_manager=None, dry_run=False):
        m = obj["metadata"]; k = self._k(obj["apiVersion"], obj["kind"], m["name"], m.get("namespace"))
        obj = copy.deepcopy(obj); obj["metadata"]["resourceVersion"] = str(next(self.rv)); self.objs[k] = obj; self._emit("MODIFIED", obj); return obj
    async def patch(self, av, kind, name, patch, namespace=None, *, patch_type="merge", subresource=None, field_manager=None, force=False, dry_run=False):
        k = self._k(av, kind, name, namespace); o = self.objs.get(k)
        if o is None: raise not_found("", kind.lower()+"s", name)
        n = jsonpatch.apply_patch(o, patch) if patch_type == "json" else merge(o, patch)
        if dry_run: return n
        if n.get("spec") != o.get("spec"): n["metadata"]["generation"] = o["metadata"].get("generation", 1) + 1
        n["metadata"]["resourceVersion"] = str(next(self.rv))
        if n["metadata"].get("deletionTimestamp") and not n["metadata"].get("finalizers"):
            del self.objs[k]; self._emit("DELETED", n); return n
        self.objs[k] = n; self._emit("MODIFIED", n); return copy.deepcopy(n)
    async def delete(self, av, kind, name, namespace=None, *, propagation_policy=None, grace_period_seconds=None, preconditions=None, dry_run=False):
        k = self._k(av, kind, name, namespace); o = self.objs.get(k)
        if o is None: raise not_found("", kind.lower()+"s", name)
        if dry_run: return o
        if o["metadata"].get("finalizers"):
            o["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"; self._emit("MODIFIED", o); return o
        del self.objs[k]; self._emit("DELETED", o); return o
    async def watch(self, av, kind, namespace=None, *, resource_version=None, **kw):
        q = asyncio.Queue(); sub = (av, kind, namespace, q); self.subs.append(sub)
        try:
            while True: yield await q.get()
        finally: self.subs.remove(sub)
    async def read_log(self, *a, **k): return ""


import os
import subprocess

import pytest

from gitopslab.argocd import controller, install
from gitopslab.cluster.context import DaemonContext
from gitopslab.home import Home, LabClock

APP_API = "argoproj.io/v1alpha1"


async def wait_for(predicate, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    (path / "app").mkdir(parents=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")

    def git(*args):
        subprocess.run(["git", *args], cwd=path, check=True, env=env, capture_output=True)

    for name in ("cfg", "cfg2"):
        (path / "app" / f"{name}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: '1'\n")
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "one")
    return path, git


def test_automated_app_lifecycle(repo, tmp_path):
    asyncio.run(_lifecycle(*repo, tmp_path))


async def _lifecycle(repo, git, tmp_path):
    api = FakeApi()
    home = Home(tmp_path / "home")
    paths = home.cluster("prod")
    paths.root.mkdir(parents=True)
    ctx = DaemonContext(home=home, cluster="prod", paths=paths, client=api, clock=LabClock(100), node_name="n")
    task = asyncio.create_task(controller.run(ctx))
    try:
        for obj in install.install_manifests():
            if obj["kind"] in ("Namespace", "CustomResourceDefinition", "ConfigMap", "AppProject"):
                await api.create(obj)
        await api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
        await api.create({
            "apiVersion": APP_API, "kind": "Application",
            "metadata": {"name": "demo", "namespace": "argocd", "finalizers": [controller.FINALIZER]},
            "spec": {"project": "default",
                     "source": {"repoURL": f"file://{repo}", "path": "app", "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"},
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}}})

        async def status():
            return (await api.get(APP_API, "Application", "demo", "argocd")).get("status") or {}

        async def synced_with(names, history):
            st = await status()
            ok = (st.get("sync", {}).get("status") == "Synced" and len(st.get("history", [])) == history
                  and sorted(r["name"] for r in st.get("resources", [])) == names
                  and (st.get("operationState") or {}).get("phase") == "Succeeded")
            return st if ok else None

        st = await wait_for(lambda: synced_with(["cfg", "cfg2"], 1))
        assert st["health"]["status"] == "Healthy"
        results = st["operationState"]["syncResult"]["resources"]
        assert {r["message"] for r in results} == {"configmap/cfg created", "configmap/cfg2 created"}
        assert all(r["hookPhase"] == "Running" and r["syncPhase"] == "Sync" for r in results)
        assert st["operationState"]["message"] == "successfully synced (all tasks run)"
        assert "health" not in st["resources"][0]
        live = await api.get("v1", "ConfigMap", "cfg", "demo")
        assert live["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == "demo:/ConfigMap:demo/cfg"

        await api.patch("v1", "ConfigMap", "cfg", {"data": {"a": "2"}}, "demo")

        async def healed():
            return (await api.get("v1", "ConfigMap", "cfg", "demo"))["data"] == {"a": "1"}
        await wait_for(healed)
        assert len((await status())["history"]) == 1   # heal syncs add no history

        (repo / "app" / "cfg2.yaml").unlink()
        git("add", "-A")
        git("commit", "-qm", "two")
        await api.patch(APP_API, "Application", "demo",
                        {"metadata": {"annotations": {controller.REFRESH_ANNOTATION: "normal"}}}, "argocd")
        await wait_for(lambda: synced_with(["cfg"], 2))
        assert await api.get_or_none("v1", "ConfigMap", "cfg2", "demo") is None
        app = await api.get(APP_API, "Application", "demo", "argocd")
        assert controller.REFRESH_ANNOTATION not in (app["metadata"].get("annotations") or {})

        await api.patch(APP_API, "Application", "demo", {"spec": {"source": {"path": "nope"}}}, "argocd")

        async def comparison_error():
            st = await status()
            return [c for c in st.get("conditions", []) if c["type"] == "ComparisonError"]
        conditions = await wait_for(comparison_error)
        assert conditions[0]["message"] == ("Failed to load target state: failed to generate manifest for source 1 of 1: "
                                            "rpc error: code = Unknown desc = nope: app path does not exist")
        assert (await status())["sync"]["status"] == "Unknown"
        assert await api.get_or_none("v1", "ConfigMap", "cfg", "demo") is not None  # nothing deleted

        await api.delete(APP_API, "Application", "demo", "argocd")

        async def gone():
            return (await api.get_or_none(APP_API, "Application", "demo", "argocd") is None
                    and await api.get_or_none("v1", "ConfigMap", "cfg", "demo") is None)
        await wait_for(gone)
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
