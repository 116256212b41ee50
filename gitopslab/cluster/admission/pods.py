"""Pod and pod-template defaulting (core/v1 defaults.go + Pod admission plugins)
and ``ValidatePodSpec`` for the rules learners meet."""
from __future__ import annotations

import random

from gitopslab.cluster.admission.fields import (FieldError, duplicate, invalid, not_found, not_supported,
                                                 required)
from gitopslab.cluster.admission.names import dns1123_label, port_name, port_number

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"

DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


# --- defaults -----------------------------------------------------------------

def image_tag_is_latest(image: str) -> bool:
    """``imagePullPolicy`` defaulting: no tag or ``:latest`` (a digest counts as a tag)."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def default_probe(probe: dict | None) -> None:
    if not probe:
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http = probe.get("httpGet")
    if http is not None:
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def default_container(c: dict) -> None:
    if not c.get("imagePullPolicy") and c.get("image"):
        c["imagePullPolicy"] = "Always" if image_tag_is_latest(c["image"]) else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef")
        if ref is not None:
            ref.setdefault("apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        default_probe(c.get(key))


def default_pod_spec(spec: dict) -> None:
    """``SetDefaults_PodSpec`` and the per-container defaults (pods and templates)."""
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        default_container(c)
    for v in spec.get("volumes") or []:
        for source in ("configMap", "secret", "downwardAPI", "projected"):
            if source in v and isinstance(v[source], dict):
                v[source].setdefault("defaultMode", 420)
        if "hostPath" in v and isinstance(v["hostPath"], dict):
            v["hostPath"].setdefault("type", "")


def _random_suffix(n: int = 5) -> str:
    return "".join(random.choice(_NAME_CHARS) for _ in range(n))


def kube_api_access_volume() -> dict:
    """The projected service-account volume the ServiceAccount admission plugin adds to pods."""
    return {
        "name": f"kube-api-access-{_random_suffix()}",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace",
                                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    }


def qos_class(spec: dict) -> str:
    """``qos.GetPodQOS`` for cpu and memory."""
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    requests_seen = limits_seen = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for r in ("cpu", "memory"):
            if r in req:
                requests_seen = True
            if r in lim:
                limits_seen = True
            if r not in lim or str(req.get(r, lim.get(r))) != str(lim.get(r)):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def default_pod(pod: dict) -> None:
    """A Pod object: template defaults plus SetDefaults_Pod and the admission plugins
    (ServiceAccount, Priority, DefaultTolerationSeconds) a k3s server runs."""
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        res = c.get("resources")
        if res and res.get("limits"):
            requests = res.setdefault("requests", {})
            for k, v in res["limits"].items():
                requests.setdefault(k, v)
        c.setdefault("resources", {})
    spec.setdefault("enableServiceLinks", True)
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa
    spec["serviceAccount"] = sa
    if spec.get("automountServiceAccountToken") is not False and not any(
            (v.get("name") or "").startswith("kube-api-access-") for v in spec.get("volumes") or []):
        volume = kube_api_access_volume()
        spec.setdefault("volumes", []).append(volume)
        mount = {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            c.setdefault("volumeMounts", []).append(dict(mount))
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for t in DEFAULT_TOLERATIONS:
        if not any(x.get("key") == t["key"] and x.get("effect") in (None, "", "NoExecute") for x in tolerations):
            tolerations.append(dict(t))
    pod.setdefault("status", {})
    pod["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


# --- validation -------------------------------------------------------------------

def _validate_ports(c: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, p in enumerate(c.get("ports") or []):
        pp = f"{path}.ports[{i}]"
        if p.get("name"):
            errs.extend(invalid(f"{pp}.name", p["name"], m) for m in port_name(p["name"]))
            if p["name"] in names:
                errs.append(duplicate(f"{pp}.name", p["name"]))
            names.add(p["name"])
        port = p.get("containerPort")
        if not port:
            errs.append(required(f"{pp}.containerPort"))
        elif not isinstance(port, int):
            errs.append(invalid(f"{pp}.containerPort", port, "must be an integer"))
        else:
            errs.extend(invalid(f"{pp}.containerPort", port, m) for m in port_number(port))
        if p.get("hostPort"):
            errs.extend(invalid(f"{pp}.hostPort", p["hostPort"], m) for m in port_number(p["hostPort"]))
        if p.get("protocol") not in PROTOCOLS:
            errs.append(not_supported(f"{pp}.protocol", p.get("protocol"), PROTOCOLS) if p.get("protocol")
                        else required(f"{pp}.protocol"))
    return errs


def _validate_probe(probe: dict | None, path: str) -> list[FieldError]:
    if not probe:
        return []
    errs: list[FieldError] = []
    handlers = [k for k in ("exec", "httpGet", "tcpSocket", "grpc") if probe.get(k) is not None]
    if not handlers:
        errs.append(required(path, "must specify a handler type"))
    elif len(handlers) > 1:
        errs.append(FieldError("FieldValueForbidden", f"{path}.{handlers[1]}", detail="may not specify more than 1 handler type"))
    for key in ("httpGet", "tcpSocket"):
        action = probe.get(key)
        if action is not None:
            port = action.get("port")
            if port in (None, "", 0):
                errs.append(required(f"{path}.{key}.port"))
            elif isinstance(port, int):
                errs.extend(invalid(f"{path}.{key}.port", port, m) for m in port_number(port))
            else:
                errs.extend(invalid(f"{path}.{key}.port", port, m) for m in port_name(str(port)))
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        v = probe.get(key)
        if isinstance(v, int) and v < 0:
            errs.append(invalid(f"{path}.{key}", v, "must be greater than or equal to 0"))
    return errs


def _validate_container(c: dict, path: str, volumes: set[str], is_init: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name = c.get("name")
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs.extend(invalid(f"{path}.name", name, m) for m in dns1123_label(name))
    if not c.get("image"):
        errs.append(required(f"{path}.image"))
    policy = c.get("imagePullPolicy")
    if policy and policy not in PULL_POLICIES:
        errs.append(not_supported(f"{path}.imagePullPolicy", policy, PULL_POLICIES))
    errs.extend(_validate_ports(c, path))
    for i, env in enumerate(c.get("env") or []):
        if not env.get("name"):
            errs.append(required(f"{path}.env[{i}].name"))
    mount_paths: set[str] = set()
    for i, m in enumerate(c.get("volumeMounts") or []):
        mp = f"{path}.volumeMounts[{i}]"
        if not m.get("name"):
            errs.append(required(f"{mp}.name"))
        elif m["name"] not in volumes:
            errs.append(not_found(f"{mp}.name", m["name"]))
        if not m.get("mountPath"):
            errs.append(required(f"{mp}.mountPath"))
        elif m["mountPath"] in mount_paths:
            errs.append(invalid(f"{mp}.mountPath", m["mountPath"], "must be unique"))
        else:
            mount_paths.add(m["mountPath"])
    if not is_init:
        for key in ("livenessProbe", "readinessProbe", "startupProbe"):
            errs.extend(_validate_probe(c.get(key), f"{path}.{key}"))
        if (c.get("livenessProbe") or {}).get("successThreshold", 1) != 1:
            errs.append(invalid(f"{path}.livenessProbe.successThreshold", c["livenessProbe"]["successThreshold"], "must be 1"))
    return errs


def validate_pod_spec(spec: dict, path: str, restart_policies: list[str] | None = None) -> list[FieldError]:
    """The ``ValidatePodSpec`` rules; ``restart_policies`` narrows the allowed policies (templates)."""
    errs: list[FieldError] = []
    volumes: set[str] = set()
    for i, v in enumerate(spec.get("volumes") or []):
        vname = v.get("name")
        if not vname:
            errs.append(required(f"{path}.volumes[{i}].name"))
            continue
        errs.extend(invalid(f"{path}.volumes[{i}].name", vname, m) for m in dns1123_label(vname))
        if vname in volumes:
            errs.append(duplicate(f"{path}.volumes[{i}].name", vname))
        volumes.add(vname)
    containers = spec.get("containers") or []
    if not containers:
        errs.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for kind, items in (("initContainers", spec.get("initContainers") or []), ("containers", containers)):
        for i, c in enumerate(items):
            cpath = f"{path}.{kind}[{i}]"
            errs.extend(_validate_container(c, cpath, volumes, kind == "initContainers"))
            name = c.get("name")
            if name:
                if name in seen:
                    errs.append(duplicate(f"{cpath}.name", name))
                seen.add(name)
    policy = spec.get("restartPolicy")
    allowed = restart_policies or RESTART_POLICIES
    if not policy:
        errs.append(required(f"{path}.restartPolicy"))
    elif policy not in allowed:
        errs.append(not_supported(f"{path}.restartPolicy", policy, allowed))
    dns = spec.get("dnsPolicy")
    if dns and dns not in DNS_POLICIES:
        errs.append(not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES))
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"))
    return errs
