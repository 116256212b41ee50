"""Pod lifecycle scenarios through the real registry and in-process client (accelerated clock)."""
import os
import sys
import textwrap

from harness import FakeImage, catalog_images, pod_manifest, run_lab


def cstatus(pod, name="app"):
    for st in (pod.get("status") or {}).get("containerStatuses") or []:
        if st["name"] == name:
            return st
    return {}


def waiting_reason(pod, name="app"):
    return ((cstatus(pod, name).get("state") or {}).get("waiting") or {}).get("reason")


def test_unknown_tag_ends_in_image_pull_backoff(tmp_path):
    async def scenario(lab):
        await lab.client.create(pod_manifest("bad", "nginx:nope"))

        async def backoff():
            pod = await lab.pod("bad")
            return pod if waiting_reason(pod) == "ImagePullBackOff" else None

        pod = await lab.wait_for(backoff, what="ImagePullBackOff")
        return pod, await lab.messages("bad")

    pod, events = run_lab(scenario, tmp_path)
    err = ('rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": '
           'failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found')
    assert cstatus(pod)["state"]["waiting"]["message"] == f'Back-off pulling image "nginx:nope": ErrImagePull: {err}'
    assert ("Failed", f'Failed to pull image "nginx:nope": {err}') in events
    assert ("Failed", "Error: ErrImagePull") in events
    assert ("BackOff", 'Back-off pulling image "nginx:nope"') in events
    assert ("Failed", "Error: ImagePullBackOff") in events
    assert pod["status"]["phase"] == "Pending"


def test_liveness_probe_on_wrong_port_restarts_into_crash_loop(tmp_path):
    async def scenario(lab):
        probe = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
        await lab.client.create(pod_manifest("live", "nginx:1.27", livenessProbe=probe))

        async def crash_loop():
            pod = await lab.pod("live")
            return pod if waiting_reason(pod) == "CrashLoopBackOff" else None

        pod = await lab.wait_for(crash_loop, timeout=40, what="CrashLoopBackOff")
        return pod, await lab.messages("live")

    pod, events = run_lab(scenario, tmp_path, timeout=60)
    ip = pod["status"]["podIP"]
    assert ("Unhealthy", f'Liveness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: connect: '
                         "connection refused") in events
    assert ("Killing", "Container app failed liveness probe, will be restarted") in events
    uid = pod["metadata"]["uid"]
    assert ("BackOff", f"Back-off restarting failed container app in pod live_default({uid})") in events
    st = cstatus(pod)
    assert st["restartCount"] >= 1  # first restart is immediate, the second crash backs off
    assert st["lastState"]["terminated"]["reason"] == "Completed"  # nginx exits 0 on its stop signal
    assert st["state"]["waiting"]["message"].startswith("back-off ")
    assert st["state"]["waiting"]["message"].endswith(f"restarting failed container=app pod=live_default({uid})")


def test_command_exiting_at_once_and_missing_configmap(tmp_path):
    async def scenario(lab):
        await lab.client.create(pod_manifest("quick", "busybox", command=["sh", "-c", "echo bye; exit 3"]))
        await lab.client.create(pod_manifest(
            "cfg", "busybox:1.36", command=["sleep", "3600"],
            env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]))

        async def both():
            quick, cfg = await lab.pod("quick"), await lab.pod("cfg")
            done = (cstatus(quick).get("restartCount", 0) >= 1 and
                    waiting_reason(cfg) == "CreateContainerConfigError")
            return (quick, cfg) if done else None

        quick, cfg = await lab.wait_for(both, what="quick restarted and cfg config error")
        logs = await lab.client.read_log("quick", "default", previous=True)
        return quick, cfg, logs, await lab.messages("cfg")

    quick, cfg, logs, cfg_events = run_lab(scenario, tmp_path)
    last = cstatus(quick)["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")
    assert logs == "bye\n"
    assert cstatus(cfg)["state"]["waiting"]["message"] == 'configmap "nope" not found'
    assert ("Failed", 'Error: configmap "nope" not found') in cfg_events


APP = textwrap.dedent("""
    import os
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (open("/etc/config/greeting").read().strip() + " from " + os.environ["HOSTNAME"]).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

    print("listening on 0.0.0.0:5000")
    HTTPServer(("0.0.0.0", 5000), Handler).serve_forever()
""")


def python_image(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "app").mkdir(parents=True)
    (rootfs / "app" / "app.py").write_text(APP)
    return FakeImage("lab/hello:1", base="python", rootfs=rootfs, workdir="/app", cmd=["python", "app.py"],
                     python=sys.executable, size=50_000_000)


def test_real_python_replicas_share_a_port_and_stop_with_their_pod(tmp_path):
    async def scenario(lab):
        from gitopslab.cluster.runtime.models.http import http_get

        await lab.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "greet", "namespace": "default"},
                                 "data": {"greeting": "bonjour"}})
        for name in ("hello-a", "hello-b"):
            pod = pod_manifest(name, "lab/hello:1", readinessProbe={"tcpSocket": {"port": 5000}, "periodSeconds": 1},
                               volumeMounts=[{"name": "cfg", "mountPath": "/etc/config"}])
            pod["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "greet"}}]
            await lab.client.create(pod)

        async def ready(name):
            pod = await lab.pod(name)
            return pod if cstatus(pod).get("ready") else None

        pods = [await lab.wait_for(lambda n=n: ready(n), what=f"{n} ready") for n in ("hello-a", "hello-b")]
        answers = [await http_get(p["status"]["podIP"], 5000, "/") for p in pods]
        pids = [run.container.proc.pid for w in lab.kubelet.workers.values() for run in w.runs.values()]
        logs = await lab.client.read_log("hello-a", "default")
        await lab.client.delete("v1", "Pod", "hello-a", "default")
        await lab.wait_for(lambda: lab.pod("hello-a") if False else _gone(lab, "hello-a"), what="hello-a deleted")
        return answers, pids, logs, await lab.messages("hello-a")

    async def _gone(lab, name):
        return await lab.pod(name) is None

    answers, pids, logs, events = run_lab(scenario, tmp_path, images=catalog_images() + [python_image(tmp_path)])
    assert [a[0] for a in answers] == [200, 200]
    assert answers[0][1] == b"bonjour from hello-a" and answers[1][1] == b"bonjour from hello-b"
    assert "listening on 0.0.0.0:5000" in logs
    assert ("Killing", "Stopping container app") in events
    assert len(pids) == 2
    for pid in pids:  # the lab has stopped: no process may be left
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
