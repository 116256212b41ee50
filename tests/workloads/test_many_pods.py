"""100 pods on the one node: all Running and Ready, the daemon keeps serving, and scale-down cleans up."""
from __future__ import annotations

from .helpers import deployment, wait


def test_hundred_pods_on_one_node(lab):
    ns = lab.namespace("many")
    lab.apps.create_namespaced_deployment(ns, deployment("many", "nginx:1.27", replicas=100))
    out = lab.kubectl("-n", ns, "rollout", "status", "deploy/many", "--timeout=180s", timeout=200).stdout
    assert out.rstrip().endswith('deployment "many" successfully rolled out')
    pods = lab.core.list_namespaced_pod(ns).items
    assert len(pods) == 100 and len({p.status.pod_ip for p in pods}) == 100
    assert all(p.status.phase == "Running" and p.status.container_statuses[0].ready for p in pods)
    # the API still answers while the node runs them
    assert lab.kubectl("get", "--raw", "/readyz").stdout == "ok"
    node = lab.kubectl("describe", "node").stdout
    assert "Non-terminated Pods:" in node and "(10" in node.split("Non-terminated Pods:")[1].splitlines()[0]

    # one more pod than the node's 110 fits nowhere, as the scheduler words it
    lab.apps.patch_namespaced_deployment_scale("many", ns, {"spec": {"replicas": 111}})

    def unschedulable():
        pending = [p for p in lab.core.list_namespaced_pod(ns, field_selector="status.phase=Pending").items
                   if any(c.type == "PodScheduled" and c.status == "False" for c in p.status.conditions or [])]
        return pending
    pending = wait(unschedulable, timeout=120, what="a pod that does not fit")
    cond = next(c for c in pending[0].status.conditions if c.type == "PodScheduled")
    assert cond.reason == "Unschedulable" and "Too many pods" in cond.message

    lab.apps.patch_namespaced_deployment_scale("many", ns, {"spec": {"replicas": 0}})
    wait(lambda: not lab.core.list_namespaced_pod(ns).items, timeout=120, what="every pod gone")
    lab.kubectl("delete", "namespace", ns, "--wait=false")
