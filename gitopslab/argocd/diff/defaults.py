"""Scheme defaults applied to predicted and live objects (k8s ``SetDefaults_*``), pure.

gitops-engine applies the Kubernetes scheme defaulters to both the predicted
and the live object before comparing them, so a field the API server would
default never makes a difference. This is the subset of
``pkg/apis/{core,apps,batch}/v1/defaults.go`` that matters for the lab's
kinds; everything is "set if absent".
"""

from __future__ import annotations

from typing import Any, Callable

_POD_TEMPLATE_PATHS = {
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    ("", "ReplicationController"): ("spec", "template"),
    ("", "PodTemplate"): ("template",),
}


def apply_defaults(obj: dict) -> dict:
    """Set scheme defaults in place on a built-in object; returns it."""
    api_version = str(obj.get("apiVersion") or "")
    key = (api_version.split("/", 1)[0] if "/" in api_version else "", str(obj.get("kind") or ""))
    specific = _BY_KIND.get(key)
    if specific is not None:
        specific(obj)
    template_path = _POD_TEMPLATE_PATHS.get(key)
    if template_path is not None:
        template = _dig(obj, template_path)
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            _pod_spec(template["spec"])
    return obj


def _dig(obj: Any, path: tuple) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _spec(obj: dict) -> dict:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def _pod_spec(spec: dict) -> None:
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            if isinstance(container, dict):
                _container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            _volume(volume)


def _container(container: dict) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = "Always" if _image_tag(str(container.get("image") or "")) == "latest" \
            else "IfNotPresent"
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            _probe(probe)
    for env in container.get("env") or []:
        field_ref = _dig(env, ("valueFrom", "fieldRef"))
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")


def _image_tag(image: str) -> str:
    """Tag as ParseImageName sees it: none -> latest; a digest has no tag."""
    if "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _probe(probe: dict) -> None:
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not probe.get(key):
            probe[key] = value
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        http_get.setdefault("path", "/")
        http_get.setdefault("scheme", "HTTP")


def _volume(volume: dict) -> None:
    for source in ("configMap", "secret", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", 420)


def _deployment(obj: dict) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


def _statefulset(obj: dict) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    policy.setdefault("whenDeleted", "Retain")
    policy.setdefault("whenScaled", "Retain")


def _daemonset(obj: dict) -> None:
    spec = _spec(obj)
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)


def _replicaset(obj: dict) -> None:
    _spec(obj).setdefault("replicas", 1)


def _job_spec(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")


def _job(obj: dict) -> None:
    _job_spec(_spec(obj))


def _cronjob(obj: dict) -> None:
    spec = _spec(obj)
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_spec = _dig(spec, ("jobTemplate", "spec"))
    if isinstance(job_spec, dict):
        _job_spec(job_spec)


def _service(obj: dict) -> None:
    spec = _spec(obj)
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("type", "ClusterIP")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, "") and "port" in port:
                port["targetPort"] = port["port"]
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _pod(obj: dict) -> None:
    spec = _spec(obj)
    _pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)


def _secret(obj: dict) -> None:
    obj.setdefault("type", "Opaque")


def _pvc(obj: dict) -> None:
    _spec(obj).setdefault("volumeMode", "Filesystem")


def _namespace(obj: dict) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name:
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = name


_BY_KIND: dict[tuple[str, str], Callable[[dict], None]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("", "Service"): _service,
    ("", "Pod"): _pod,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Namespace"): _namespace,
}
