"""The real kubectl (/usr/bin/kubectl) against a running lab daemon."""
from __future__ import annotations

import json
import subprocess
import time

import yaml

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
"""


def test_get_nodes_and_namespaces(lab, kubectl):
    out = kubectl("get", "nodes").stdout
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert row.split()[:3] == ["prod-control-plane", "Ready", "control-plane,master"]
    assert row.split()[4].endswith("+k3s1")
    wide = kubectl("get", "nodes", "-o", "wide").stdout
    assert lab.paths.node_ip() in wide and "containerd://" in wide
    names = kubectl("get", "ns", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system", "namespace/kube-public", "namespace/kube-node-lease"} <= set(names)
    assert "Server Version: v1.32" in kubectl("version").stdout


def test_apply_twice_then_server_side(lab, kubectl):
    ns = lab.namespace("apply")
    first = kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT).stdout
    assert "deployment.apps/web created" in first and "configmap/settings created" in first
    second = kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT).stdout
    assert "deployment.apps/web unchanged" in second and "configmap/settings unchanged" in second
    changed = kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT.replace("color: blue", "color: red")).stdout
    assert "configmap/settings configured" in changed
    assert kubectl("get", "cm", "settings", "-n", ns, "-o", "jsonpath={.data.color}").stdout == "red"
    ssa = kubectl("apply", "--server-side", "--force-conflicts", "-n", ns, "-f", "-",
                  input=DEPLOYMENT.replace("name: settings", "name: ssa-settings")).stdout
    assert "configmap/ssa-settings serverside-applied" in ssa
    obj = json.loads(kubectl("get", "cm", "ssa-settings", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    assert any(m["manager"] == "kubectl" and m["operation"] == "Apply" for m in obj["metadata"]["managedFields"])


def test_get_output_formats(lab, kubectl):
    ns = lab.namespace("get")
    kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    table = kubectl("get", "deploy", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[0] == "web"
    wide = kubectl("get", "deploy", "-n", ns, "-o", "wide").stdout.splitlines()[0].split()
    assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    as_yaml = yaml.safe_load(kubectl("get", "deploy", "web", "-n", ns, "-o", "yaml").stdout)
    assert as_yaml["spec"]["replicas"] == 2 and as_yaml["metadata"]["generation"] == 1
    as_json = json.loads(kubectl("get", "cm", "-n", ns, "-o", "json").stdout)
    assert as_json["kind"] == "List" and {i["metadata"]["name"] for i in as_json["items"]} >= {"settings"}
    assert kubectl("get", "deploy", "-n", ns, "-o", "name").stdout.strip() == "deployment.apps/web"
    all_ns = kubectl("get", "cm", "-A").stdout.splitlines()
    assert all_ns[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [ns, "settings"] for line in all_ns)
    kubectl("label", "cm", "settings", "-n", ns, "tier=front")
    assert kubectl("get", "cm", "-n", ns, "-l", "tier=front", "-o", "name").stdout.strip() == "configmap/settings"
    assert "tier=front" in kubectl("get", "cm", "settings", "-n", ns, "--show-labels").stdout
    kubectl("annotate", "cm", "settings", "-n", ns, "note=hello")
    got = json.loads(kubectl("get", "cm", "settings", "-n", ns, "-o", "json").stdout)
    assert got["metadata"]["annotations"]["note"] == "hello" and got["metadata"]["labels"]["tier"] == "front"
    err = kubectl("get", "cm", "nope", "-n", ns, check=False)
    assert err.returncode == 1 and 'Error from server (NotFound): configmaps "nope" not found' in err.stderr


def test_scale_patch_delete(lab, kubectl):
    ns = lab.namespace("ops")
    kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    assert "deployment.apps/web scaled" in kubectl("scale", "deploy/web", "-n", ns, "--replicas=4").stdout
    dep = json.loads(kubectl("get", "deploy", "web", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 4 and dep["metadata"]["generation"] == 2
    kubectl("patch", "cm", "settings", "-n", ns, "-p", '{"data":{"a":"1"}}')
    kubectl("patch", "cm", "settings", "-n", ns, "--type=merge", "-p", '{"data":{"b":"2"}}')
    kubectl("patch", "cm", "settings", "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/data/color"}]')
    data = json.loads(kubectl("get", "cm", "settings", "-n", ns, "-o", "json").stdout)["data"]
    assert data == {"a": "1", "b": "2"}
    bad = kubectl("patch", "cm", "settings", "-n", ns, "--type=json", "-p",
                  '[{"op":"replace","path":"/data/zzz","value":"x"}]', check=False)
    assert bad.returncode != 0
    out = kubectl("delete", "cm", "settings", "-n", ns).stdout
    assert out.strip() == 'configmap "settings" deleted'
    assert kubectl("get", "cm", "settings", "-n", ns, check=False).returncode == 1


def test_describe_and_api_resources(lab, kubectl):
    ns = lab.namespace("desc")
    kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    out = kubectl("describe", "deploy", "web", "-n", ns).stdout
    assert "Name:                   web" in out and "Selector:               app=web" in out
    assert "Replicas:               2 desired" in out
    node = kubectl("describe", "node", "prod-control-plane").stdout
    assert "Ready            True" in node or "KubeletReady" in node
    resources = kubectl("api-resources").stdout
    assert any(line.split()[:2] == ["deployments", "deploy"] for line in resources.splitlines())
    assert "customresourcedefinitions" in resources


def test_get_watch_for_a_moment(lab, kubectl):
    ns = lab.namespace("w")
    proc = subprocess.Popen(["/usr/bin/kubectl", "--kubeconfig", str(lab.kubeconfig), "--cache-dir",
                             str(lab.home.root / ".kube-cache"), "get", "cm", "-n", ns, "-w",
                             "--request-timeout=5s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "seen-by-watch"}})
        time.sleep(1.0)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "seen-by-watch" in out, out + err


def test_wait_for_condition(lab, kubectl):
    crd = yaml.safe_load("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.lab.example}
spec:
  group: lab.example
  scope: Cluster
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
""")
    kubectl("apply", "-f", "-", input=yaml.safe_dump(crd))
    out = kubectl("wait", "--for=condition=Established", "crd/gadgets.lab.example", "--timeout=20s").stdout
    assert "condition met" in out
    kubectl("apply", "-f", "-", input="apiVersion: lab.example/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {color: red}\n")
    table = kubectl("get", "gadgets").stdout.splitlines()
    assert table[0].split() == ["NAME", "COLOR"] and table[1].split() == ["g1", "red"]
    kubectl("delete", "crd", "gadgets.lab.example", "--timeout=20s")
    assert kubectl("get", "gadgets", check=False).returncode != 0


def test_errors_as_kubectl_prints_them(lab, kubectl):
    bad = kubectl("apply", "-f", "-", check=False, input="""
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: 8080}]
""")
    assert bad.returncode == 1
    assert 'The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the ' \
           'valid range. The range of valid ports is 30000-32767' in bad.stderr
    missing = kubectl("create", "configmap", "x", "-n", "no-such-ns", check=False)
    assert 'error: failed to create configmap: namespaces "no-such-ns" not found' in missing.stderr


def test_imperative_create_sends_protobuf(lab, kubectl):
    """``kubectl create <kind>`` posts protobuf bodies; the course starts with ``kubectl create namespace argocd``."""
    ns = f"proto-{lab.namespace('x')[2:]}"
    assert kubectl("create", "namespace", ns).stdout.strip() == f"namespace/{ns} created"
    kubectl("create", "configmap", "cfg", "-n", ns, "--from-literal=a=b")
    kubectl("create", "secret", "generic", "sec", "-n", ns, "--from-literal=password=s3cret")
    kubectl("create", "deployment", "web", "-n", ns, "--image=nginx:1.27", "--replicas=0", "--port=80")
    kubectl("create", "serviceaccount", "bot", "-n", ns)
    kubectl("create", "role", "reader", "-n", ns, "--verb=get", "--resource=pods")
    assert lab.core.read_namespaced_config_map("cfg", ns).data == {"a": "b"}
    assert lab.core.read_namespaced_secret("sec", ns).data == {"password": "czNjcmV0"}
    dep = lab.apps.read_namespaced_deployment("web", ns)
    assert dep.spec.replicas == 0 and dep.spec.template.spec.containers[0].ports[0].container_port == 80
    assert dep.spec.selector.match_labels == {"app": "web"}
    token = kubectl("create", "token", "bot", "-n", ns).stdout.strip()
    assert token.count(".") == 2
