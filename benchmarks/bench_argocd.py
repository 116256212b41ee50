"""Embedded Argo CD figures (prints them; no asserts).

1. push to the lab Git server -> app Synced and Healthy (one nginx Deployment), clock x1 (target <= 3 s);
2. first manual drift (``kubectl scale``) reverted by self-heal (target <= 2 s);
3. 100 apps x 10 resources fully reconciled (Synced/Healthy) from a cold start (target <= 15 s,
   daemon RSS <= 250 MB);
4. Helm render of a cached chart (target <= 50 ms).

Usage: ``.venv/bin/python benchmarks/bench_argocd.py [--apps 100] [--resources 10]``
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUP, VERSION, PLURAL, NS = "argoproj.io", "v1alpha1", "applications", "argocd"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"""


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0"))


def app(name, url, path, namespace, *, self_heal=False, create_ns=False):
    policy = {"automated": {"prune": True, "selfHeal": self_heal}}
    if create_ns:
        policy["syncOptions"] = ["CreateNamespace=true"]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Application",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"project": "default", "source": {"repoURL": url, "path": path, "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                     "syncPolicy": policy}}


def wait(predicate, timeout=120.0, interval=0.02):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError("condition not reached")


def state(custom, name):
    status = custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name).get("status") or {}
    return status


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 1e6


def bench_push_and_drift(lab, tmp: Path) -> None:
    from gitopslab import gitserver
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths
    from gitopslab.gitserver.repos import RepoStore

    base = gitserver.ensure_running(lab.home)
    RepoStore(lab.home).create("bench/web")
    token = auth.ensure_token(GitPaths.of(lab.home).token_file)
    push_url = base.replace("http://", f"http://bench:{token}@") + "/bench/web.git"
    work = tmp / "web"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "app").mkdir()

    def commit(image):
        (work / "app" / "deploy.yaml").write_text(DEPLOYMENT.format(image=image))
        git("add", "-A", cwd=work)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", image, cwd=work)
        git("push", "-q", push_url, "HEAD:refs/heads/main", cwd=work)
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True).stdout.strip()

    commit("nginx:1.26")
    lab.core.create_namespace({"metadata": {"name": "web"}})
    lab.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL,
                                               app("web", f"{base}/bench/web.git", "app", "web", self_heal=True))

    def ready(sha):
        st = state(lab.custom, "web")
        result = ((st.get("operationState") or {}).get("syncResult") or {})
        return (result.get("revision") == sha and (st.get("sync") or {}).get("status") == "Synced"
                and (st.get("health") or {}).get("status") == "Healthy")

    first = wait(lambda: ready(state(lab.custom, "web").get("sync", {}).get("revision") or "-"))
    print(f"new app -> Synced/Healthy                          : {first:6.2f} s")
    start = time.monotonic()
    sha = commit("nginx:1.27")
    wait(lambda: ready(sha))
    took = time.monotonic() - start
    print(f"push -> Synced/Healthy (nginx Deployment, x1)      : {took:6.2f} s   (target <= 3 s)")

    start = time.monotonic()
    lab.kubectl("scale", "deployment/web", "-n", "web", "--replicas=3")
    wait(lambda: lab.apps.read_namespaced_deployment("web", "web").spec.replicas == 1)
    took = time.monotonic() - start
    print(f"first manual drift reverted (kubectl scale)        : {took:6.2f} s   (target <= 2 s)")


def bench_many_apps(lab, tmp: Path, apps: int, resources: int) -> None:
    bare = tmp / "many.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp)
    work = tmp / "many"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    for i in range(apps):
        folder = work / f"app{i}"
        folder.mkdir()
        docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{j}\ndata:\n  app: \"{i}\"\n  n: \"{j}\"\n"
                for j in range(resources)]
        (folder / "all.yaml").write_text("---\n".join(docs))
    git("add", "-A", cwd=work)
    git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "many", cwd=work)
    git("push", "-q", str(bare), "HEAD:refs/heads/main", cwd=work)

    start = time.monotonic()
    for i in range(apps):
        lab.custom.create_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, app(f"many{i}", f"file://{bare}", f"app{i}", f"many{i}", create_ns=True))
    created = time.monotonic() - start

    def all_done():
        items = lab.custom.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL,
                                                         label_selector=None).get("items") or []
        done = [a for a in items if a["metadata"]["name"].startswith("many")
                and ((a.get("status") or {}).get("sync") or {}).get("status") == "Synced"
                and ((a.get("status") or {}).get("health") or {}).get("status") == "Healthy"
                and not a.get("operation")]
        return len(done) == apps

    wait(all_done, timeout=600, interval=0.5)
    took = time.monotonic() - start
    pid = lab.paths.read_pid()
    print(f"{apps} apps x {resources} resources reconciled (cold)".ljust(51) + ": " + f"{took:6.2f} s   (target <= 15 s; "
          f"creating the apps took {created:.2f} s)")
    print(f"daemon RSS after that                              : {rss_mb(pid):6.0f} MB  (target <= 250 MB)")


def bench_helm(tmp: Path) -> None:
    from gitopslab.argocd import helm

    chart = tmp / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\nimage: nginx:1.27\n")
    (chart / "templates" / "deploy.yaml").write_text(DEPLOYMENT.replace("{image}", "{{ .Values.image }}")
                                                     .replace("{{app: web}}", "{app: web}"))
    start = time.perf_counter()
    helm.render_chart(chart, "demo", "default", {}, ["replicas=2"])
    cold = time.perf_counter() - start
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        helm.render_chart(chart, "demo", "default", {}, ["replicas=2"])
    warm = (time.perf_counter() - start) / runs
    print(f"Helm render, first                                 : {cold * 1000:6.1f} ms")
    print(f"Helm render of a cached chart                      : {warm * 1000:6.1f} ms  (target <= 50 ms)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--resources", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from conftest import start_lab, stop_lab

    from gitopslab.argocd import install

    tmp = Path(tempfile.mkdtemp(prefix="bench-argocd-"))
    try:
        bench_helm(tmp)
        lab = start_lab(tmp / "home", time_scale=1.0)
        try:
            install.install(lab.api_client, service_type="NodePort")
            bench_push_and_drift(lab, tmp)
        finally:
            stop_lab(lab)
        lab = start_lab(tmp / "home2", time_scale=1.0)
        try:
            install.install(lab.api_client)
            bench_many_apps(lab, tmp, args.apps, args.resources)
        finally:
            stop_lab(lab)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
