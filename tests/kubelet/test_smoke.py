from harness import pod_manifest, run_lab


def container_state(pod, name="app"):
    for st in (pod.get("status") or {}).get("containerStatuses") or []:
        if st["name"] == name:
            return st
    return None


def test_nginx_pod_runs_and_serves(tmp_path):
    async def scenario(lab):
        from gitopslab.cluster.runtime.models.http import http_get
        from gitopslab.cluster.runtime.network import target_port

        await lab.client.create(pod_manifest("web", "nginx"))

        async def ready():
            pod = await lab.pod("web")
            conds = {c["type"]: c["status"] for c in (pod.get("status") or {}).get("conditions") or []}
            return pod if conds.get("Ready") == "True" else None

        pod = await lab.wait_for(ready, what="web Ready")

        async def served():
            # Ready comes with the start (no readiness probe); nginx listens a moment later
            try:
                return await http_get(pod["status"]["podIP"], target_port(80), "/")
            except OSError:
                return None

        status, body = await lab.wait_for(served, timeout=5, what="nginx serving")
        return pod, status, body, await lab.messages("web")

    pod, status, body, events = run_lab(scenario, tmp_path)
    st = container_state(pod)
    assert status == 200 and b"Welcome to nginx!" in body
    assert st["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert st["containerID"].startswith("containerd://") and len(st["containerID"]) == len("containerd://") + 64
    assert ("Pulling", 'Pulling image "nginx"') in events
    assert ("Created", "Created container: app") in events
    assert ("Started", "Started container app") in events
