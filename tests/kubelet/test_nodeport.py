"""NodePort proxy: forwards to ready endpoints round robin; refuses without one."""
import asyncio
import socket

from harness import pod_manifest, run_lab

from gitopslab.cluster.nodeport import desired_forwards


def free_node_port() -> int:
    for port in range(30100, 32767):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def test_desired_forwards_skip_ports_without_ready_endpoints():
    table = [{"namespace": "d", "name": "web", "type": "NodePort", "clusterIP": "10.43.0.9", "ports": [
        {"name": "", "port": 80, "protocol": "TCP", "nodePort": 30080, "endpoints": [["127.42.0.2", 80, ""]]}]},
        {"namespace": "d", "name": "idle", "type": "NodePort", "ports": [
            {"name": "", "port": 80, "protocol": "TCP", "nodePort": 30081, "endpoints": []}]},
        {"namespace": "d", "name": "internal", "type": "ClusterIP", "ports": [
            {"name": "", "port": 80, "protocol": "TCP", "nodePort": None, "endpoints": [["127.42.0.3", 80, ""]]}]}]
    assert list(desired_forwards(table)) == [30080]


def test_nodeport_serves_nginx_and_refuses_when_no_endpoint(tmp_path):
    node_port = free_node_port()

    async def scenario(lab):
        from gitopslab.cluster.runtime.models.http import http_get

        pod = pod_manifest("web", "nginx:1.27")
        pod["metadata"]["labels"] = {"app": "web"}
        await lab.client.create(pod)
        await lab.client.create({"apiVersion": "v1", "kind": "Service",
                                 "metadata": {"name": "web", "namespace": "default"},
                                 "spec": {"type": "NodePort", "selector": {"app": "web"},
                                          "ports": [{"port": 80, "targetPort": 80, "nodePort": node_port}]}})

        async def served():
            try:
                return await http_get("127.0.0.1", node_port, "/", timeout=1)
            except OSError:
                return None

        status, body = await lab.wait_for(served, what="NodePort answering")
        await lab.client.delete("v1", "Pod", "web", "default")

        async def refused():
            try:
                await http_get("127.0.0.1", node_port, "/", timeout=1)
                return False
            except (ConnectionRefusedError, ConnectionResetError):
                return True
            except (OSError, asyncio.TimeoutError):
                return False

        await lab.wait_for(refused, what="connection refused once the pod is gone")
        return status, body

    status, body = run_lab(scenario, tmp_path)
    assert status == 200 and b"Welcome to nginx!" in body
