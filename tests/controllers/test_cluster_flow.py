"""Garbage collection, namespace deletion, endpoints, service accounts, load
balancers and claims against the in-memory client.

Matrix: background cascade (Deployment -> RS -> pods), orphan finalizer,
foreground finalizer; terminating namespace emptied then finalized; Endpoints
and EndpointSlices with ready/unready pods and named targetPort; default SA,
kube-root-ca.crt and token Secret; LoadBalancer and Ingress status; a PVC
waiting for its first consumer.
"""
from __future__ import annotations

import base64

from gitopslab.cluster.controllers.deployment import DeploymentController
from gitopslab.cluster.controllers.endpoints import EndpointsController
from gitopslab.cluster.controllers.garbagecollector import GarbageCollector
from gitopslab.cluster.controllers.loadbalancer import IngressStatusController, ServiceLBController
from gitopslab.cluster.controllers.namespace import NamespaceController
from gitopslab.cluster.controllers.replicaset import ReplicaSetController
from gitopslab.cluster.controllers.scheduler import Scheduler
from gitopslab.cluster.controllers.serviceaccount import (ServiceAccountController, TokenController, signing_key,
                                                          verify_token)
from gitopslab.cluster.controllers.volumes import VolumeController

from .harness import FakeKubelet, Lab, run_async
from .test_deployment_flow import available, deployment

WORKLOAD = [DeploymentController, ReplicaSetController, Scheduler, GarbageCollector]


def alive(lab, kind):
    return [o for o in lab.client.find(kind) if not o["metadata"].get("deletionTimestamp")]


def test_background_cascade_deletes_replicasets_and_pods(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None)
        async with Lab(tmp_path, WORKLOAD, kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create(deployment(replicas=2))
            await lab.wait_for(available(lab, n=2), what="available")
            await lab.client.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Background")
            await lab.wait_for(lambda: not lab.client.find("ReplicaSet") and not lab.client.find("Pod"), what="cascade")
    run_async(scenario())


def test_orphan_keeps_dependents_without_owner_reference(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None)
        async with Lab(tmp_path, WORKLOAD, kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create(deployment(replicas=1))
            await lab.wait_for(available(lab, n=1), what="available")
            await lab.client.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Orphan")
            await lab.wait_for(lambda: not lab.client.find("Deployment"), what="deployment gone")
            rs = lab.client.find("ReplicaSet")
            assert len(rs) == 1 and not rs[0]["metadata"].get("ownerReferences")
            assert len(lab.client.find("Pod")) == 1
    run_async(scenario())


def test_foreground_deletes_dependents_before_owner(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None)
        async with Lab(tmp_path, WORKLOAD, kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create(deployment(replicas=1))
            await lab.wait_for(available(lab, n=1), what="available")
            d = await lab.client.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Foreground")
            assert "foregroundDeletion" in d["metadata"]["finalizers"]
            await lab.wait_for(lambda: not lab.client.find("Deployment"), what="deployment gone")
            assert not lab.client.find("ReplicaSet") and not lab.client.find("Pod")
    run_async(scenario())


def test_terminating_namespace_is_emptied_then_finalized(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [NamespaceController]) as lab:
            await lab.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
            await lab.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "doomed"}})
            await lab.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "namespace": "doomed",
                                                                                          "finalizers": ["example.com/hold"]}})
            await lab.client.delete("v1", "Namespace", "doomed")

            async def reported():
                ns = await lab.get("v1", "Namespace", "doomed", None)
                c = {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or []}
                return c.get("NamespaceFinalizersRemaining", {}).get("status") == "True" and c
            c = await lab.wait_for(reported, what="conditions")
            assert c["NamespaceContentRemaining"]["message"] == "Some resources are remaining: configmaps has 1 resource instances"
            assert c["NamespaceFinalizersRemaining"]["message"] == (
                "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances")
            assert c["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
            await lab.client.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": None}}, "doomed")
            await lab.wait_for(lambda: not [n for n in lab.client.find("Namespace") if n["metadata"]["name"] == "doomed"]
                               or not (lab.client.objects[("v1", "Namespace", None, "doomed")].get("spec") or {}).get("finalizers"),
                               what="namespace finalized")
    run_async(scenario())


def _pod(name, ip, ready, labels=None, ports=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}},
            "spec": {"nodeName": "prod-control-plane", "containers": [{"name": "c", "image": "nginx", "ports": ports or []}]},
            "status": {"phase": "Running", "podIP": ip,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_endpoints_and_slices_follow_pod_readiness_and_named_ports(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [EndpointsController, GarbageCollector]) as lab:
            await lab.client.create(_pod("a", "127.42.0.2", True, ports=[{"name": "http", "containerPort": 8080}]))
            await lab.client.create(_pod("b", "127.42.0.3", False, ports=[{"name": "http", "containerPort": 8080}]))
            await lab.client.create(_pod("c", "127.42.0.4", True, labels={"app": "other"}))
            await lab.client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                                     "spec": {"selector": {"app": "web"},
                                              "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]}})
            ep = await lab.wait_for(lambda: lab.client.get_or_none("v1", "Endpoints", "web", "default"), what="endpoints")
            subset = ep["subsets"][0]
            assert [a["ip"] for a in subset["addresses"]] == ["127.42.0.2"]
            assert [a["ip"] for a in subset["notReadyAddresses"]] == ["127.42.0.3"]
            assert subset["addresses"][0]["targetRef"]["name"] == "a" and subset["addresses"][0]["nodeName"] == "prod-control-plane"
            assert subset["ports"] == [{"port": 8080, "protocol": "TCP"}]
            slices = await lab.wait_for(lambda: lab.client.find("EndpointSlice"), what="slice")
            s = slices[0]
            assert s["metadata"]["name"].startswith("web-") and len(s["metadata"]["name"]) == len("web-") + 5
            assert s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
            assert s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
            assert s["addressType"] == "IPv4" and s["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
            assert {e["addresses"][0]: e["conditions"]["ready"] for e in s["endpoints"]} == {"127.42.0.2": True, "127.42.0.3": False}
            b = await lab.get("v1", "Pod", "b")
            b["status"]["conditions"][0]["status"] = "True"
            await lab.client.replace(b, subresource="status")

            async def both_ready():
                ep = await lab.get("v1", "Endpoints", "web")
                return len(ep["subsets"][0].get("addresses", [])) == 2 and "notReadyAddresses" not in ep["subsets"][0]
            await lab.wait_for(both_ready, what="b ready")
    run_async(scenario())


def test_service_accounts_root_ca_and_tokens(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [ServiceAccountController, TokenController]) as lab:
            await lab.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
            await lab.wait_for(lambda: lab.client.get_or_none("v1", "ServiceAccount", "default", "team"), what="default sa")
            cm = await lab.wait_for(lambda: lab.client.get_or_none("v1", "ConfigMap", "kube-root-ca.crt", "team"), what="ca cm")
            assert "ca.crt" in cm["data"] and "kubernetes.io/description" in cm["metadata"]["annotations"]
            sa = await lab.client.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "team"}})
            await lab.client.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                                     "metadata": {"name": "ci-token", "namespace": "team",
                                                  "annotations": {"kubernetes.io/service-account.name": "ci"}}})

            async def populated():
                s = await lab.get("v1", "Secret", "ci-token", "team")
                return (s.get("data") or {}).get("token") and s
            s = await lab.wait_for(populated, what="token")
            assert base64.b64decode(s["data"]["namespace"]).decode() == "team"
            assert s["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == sa["metadata"]["uid"]
            claims = verify_token(base64.b64decode(s["data"]["token"]).decode(), signing_key(lab.ctx.paths.root))
            assert claims["sub"] == "system:serviceaccount:team:ci"
            assert verify_token(base64.b64decode(s["data"]["token"]).decode() + "x", signing_key(lab.ctx.paths.root)) is None
    run_async(scenario())


def test_load_balancer_and_ingress_get_the_node_address(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [ServiceLBController, IngressStatusController]) as lab:
            await lab.client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "default"},
                                     "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
            await lab.client.create({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                     "metadata": {"name": "web", "namespace": "default"},
                                     "spec": {"rules": [{"host": "web.local"}]}})

            async def svc_ok():
                s = await lab.get("v1", "Service", "lb")
                return ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress")
            assert await lab.wait_for(svc_ok, what="lb") == [{"ip": "127.0.0.1", "ipMode": "VIP"}]

            async def ing_ok():
                i = await lab.get("networking.k8s.io/v1", "Ingress", "web")
                return ((i.get("status") or {}).get("loadBalancer") or {}).get("ingress")
            assert await lab.wait_for(ing_ok, what="ingress") == [{"ip": "127.0.0.1"}]
            assert [e["message"] for e in lab.events("UpdatedLoadBalancer")] == ["Updated LoadBalancer with new IPs: [] -> [127.0.0.1]"]
            assert lab.client.find("IngressClass")[0]["metadata"]["name"] == "traefik"
    run_async(scenario())


def test_claim_waits_for_first_consumer(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [VolumeController, Scheduler]) as lab:
            await lab.client.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                     "metadata": {"name": "data", "namespace": "default"},
                                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}})
            ev = await lab.wait_for(lambda: lab.events("WaitForFirstConsumer"), what="WaitForFirstConsumer")
            assert ev[0]["message"] == "waiting for first consumer to be created before binding"
            sc = lab.client.find("StorageClass")[0]
            assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
            assert (sc["provisioner"], sc["volumeBindingMode"]) == ("rancher.io/local-path", "WaitForFirstConsumer")
            assert (await lab.get("v1", "PersistentVolumeClaim", "data"))["status"]["phase"] == "Pending"
            await lab.client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user", "namespace": "default"},
                                     "spec": {"containers": [{"name": "c", "image": "busybox"}],
                                              "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}})

            async def bound():
                p = await lab.get("v1", "Pod", "user")
                c = await lab.get("v1", "PersistentVolumeClaim", "data")
                return p["spec"].get("nodeName") and c["status"]["phase"] == "Bound" and c
            c = await lab.wait_for(bound, what="bound and scheduled")
            assert c["status"]["capacity"] == {"storage": "2Gi"} and c["spec"]["volumeName"] == f"pvc-{c['metadata']['uid']}"
            assert [e["message"] for e in lab.events("ProvisioningSucceeded")] == [f"Successfully provisioned volume pvc-{c['metadata']['uid']}"]
    run_async(scenario())
