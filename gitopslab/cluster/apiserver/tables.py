"""Server-side ``meta.k8s.io/v1`` Tables, as kube-apiserver 1.32 prints them.

Columns and cells follow ``pkg/printers/internalversion/printers.go``; the
real server always generates the wide cells and lets kubectl hide the
``priority: 1`` columns unless ``-o wide``. Custom resources follow the
apiextensions table convertor (``additionalPrinterColumns``), kinds without
a printer the generic convertor (NAME, CREATED AT).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Callable

from gitopslab.cluster.apiserver.model_docs import field_doc
from gitopslab.cluster.kinds import ResourceDef

# --- time ---------------------------------------------------------------------


def human_duration(seconds) -> str:
    """apimachinery ``duration.HumanDuration``: 95s, 5m3s, 45m, 4h12m, 30h, 3d4h, 45d, 2y10d…"""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    secs = int(seconds)  # Go truncates toward zero
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = secs // 60
    if minutes < 10:
        s = secs % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = secs // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value) -> datetime | None:
    """RFC 3339 (seconds or micro) → aware datetime; None when empty or invalid."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _since(value, now: datetime) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a zero time."""
    t = parse_time(value)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


# --- small formatters (apimachinery labels / metav1 helpers) -------------------


def format_labels(labels: dict | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` joined by commas, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def selector_string(selector: dict | None) -> str:
    """``LabelSelectorAsSelector(sel).String()``; requirements sorted by key."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for k, v in (selector.get("matchLabels") or {}).items():
        reqs.append((k, f"{k}={v}"))
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(set(expr.get("values") or []))
        text = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op, key)
        reqs.append((key, text))
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: dict | None) -> str:
    """``metav1.FormatLabelSelector``: like :func:`selector_string`, ``<none>`` when empty."""
    return selector_string(selector) or "<none>"


def _containers_cells(pod_spec: dict | None) -> tuple[str, str]:
    containers = (pod_spec or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _template_spec(obj: dict) -> dict:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _list_with_more(items: list[str], count: int, limit: int = 3, empty: str = "<unset>") -> str:
    shown = ",".join(items[:limit])
    if count > limit:
        return f"{shown} + {count - limit} more..."
    return shown or empty


# --- column definitions --------------------------------------------------------


def _col(name, description="", type_="string", priority=0, fmt="") -> dict:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


def _name_col() -> dict:
    return _col("Name", field_doc("V1ObjectMeta", "name"), fmt="name")


def _age_col() -> dict:
    return _col("Age", field_doc("V1ObjectMeta", "creationTimestamp"))


CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def _wide_template_cols(selector_doc: str | None) -> list[dict]:
    cols = [_col("Containers", CONTAINERS_DOC, priority=1), _col("Images", IMAGES_DOC, priority=1)]
    if selector_doc is not None:
        cols.append(_col("Selector", selector_doc, priority=1))
    return cols


# --- printers: (columns, row cells) per kind ------------------------------------

Printer = Callable[[dict, datetime], list]


def _pod_columns() -> list[dict]:
    return [
        _name_col(),
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        _age_col(),
        _col("IP", field_doc("V1PodStatus", "podIP"), priority=1),
        _col("Node", field_doc("V1PodSpec", "nodeName"), priority=1),
        _col("Nominated Node", field_doc("V1PodStatus", "nominatedNodeName"), priority=1),
        _col("Readiness Gates", field_doc("V1PodSpec", "readinessGates"), priority=1),
    ]


def _condition_true(conditions, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True" for c in conditions or [])


def _later(current: datetime | None, value) -> datetime | None:
    t = parse_time(value)
    if t is not None and (current is None or t > current):
        return t
    return current


def pod_cells(pod: dict, now: datetime) -> list:
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    restartable = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(restartable)
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        last_restart = _later(last_restart, finished)
        is_sidecar = cs.get("name") in restartable
        if is_sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions"), "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"

    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else "") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true_count = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_cell = f"{true_count}/{len(gates)}"
    return [meta.get("name", ""), f"{ready}/{total}", reason, restarts_cell, _since(meta.get("creationTimestamp"), now),
            pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_cell]


def _pod_conditions(pod: dict) -> list | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _age(obj: dict, now: datetime) -> str:
    return _since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# Deployment / ReplicaSet / StatefulSet / DaemonSet / Job / CronJob / RC ------------

def _deployment_columns() -> list[dict]:
    return [_name_col(), _col("Ready", "Number of the pod with ready state"),
            _col("Up-to-date", field_doc("V1DeploymentStatus", "updatedReplicas")),
            _col("Available", field_doc("V1DeploymentStatus", "availableReplicas")), _age_col(),
            *_wide_template_cols(field_doc("V1DeploymentSpec", "selector"))]


def deployment_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
            _int(status.get("updatedReplicas")), _int(status.get("availableReplicas")), _age(obj, now),
            names, images, selector_string(spec.get("selector"))]


def _replicaset_columns() -> list[dict]:
    return [_name_col(), _col("Desired", field_doc("V1ReplicaSetSpec", "replicas"), "integer"),
            _col("Current", field_doc("V1ReplicaSetStatus", "replicas"), "integer"),
            _col("Ready", field_doc("V1ReplicaSetStatus", "readyReplicas"), "integer"), _age_col(),
            *_wide_template_cols(field_doc("V1ReplicaSetSpec", "selector"))]


def replicaset_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), _int(spec.get("replicas")), _int(status.get("replicas")), _int(status.get("readyReplicas")),
            _age(obj, now), names, images, format_label_selector(spec.get("selector"))]


def _rc_columns() -> list[dict]:
    return [_name_col(), _col("Desired", field_doc("V1ReplicationControllerSpec", "replicas"), "integer"),
            _col("Current", field_doc("V1ReplicationControllerStatus", "replicas"), "integer"),
            _col("Ready", field_doc("V1ReplicationControllerStatus", "readyReplicas"), "integer"), _age_col(),
            *_wide_template_cols(field_doc("V1ReplicationControllerSpec", "selector"))]


def rc_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), _int(spec.get("replicas")), _int(status.get("replicas")), _int(status.get("readyReplicas")),
            _age(obj, now), names, images, format_labels(spec.get("selector"))]


def _statefulset_columns() -> list[dict]:
    return [_name_col(), _col("Ready", "Number of the pod with ready state"), _age_col(), *_wide_template_cols(None)]


def statefulset_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}", _age(obj, now), names, images]


def _daemonset_columns() -> list[dict]:
    return [_name_col(),
            _col("Desired", field_doc("V1DaemonSetStatus", "desiredNumberScheduled"), "integer"),
            _col("Current", field_doc("V1DaemonSetStatus", "currentNumberScheduled"), "integer"),
            _col("Ready", field_doc("V1DaemonSetStatus", "numberReady"), "integer"),
            _col("Up-to-date", field_doc("V1DaemonSetStatus", "updatedNumberScheduled"), "integer"),
            _col("Available", field_doc("V1DaemonSetStatus", "numberAvailable"), "integer"),
            _col("Node Selector", field_doc("V1PodSpec", "nodeSelector")), _age_col(),
            *_wide_template_cols(field_doc("V1DaemonSetSpec", "selector"))]


def daemonset_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), _int(status.get("desiredNumberScheduled")), _int(status.get("currentNumberScheduled")),
            _int(status.get("numberReady")), _int(status.get("updatedNumberScheduled")),
            _int(status.get("numberAvailable")), format_labels(_template_spec(obj).get("nodeSelector")),
            _age(obj, now), names, images, format_label_selector(spec.get("selector"))]


def _job_columns() -> list[dict]:
    return [_name_col(), _col("Status", "Status of the job."),
            _col("Completions", field_doc("V1JobStatus", "succeeded")),
            _col("Duration", "Time required to complete the job."), _age_col(),
            *_wide_template_cols(field_doc("V1JobSpec", "selector"))]


def job_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec['completions'])}"
    elif _int(spec.get("parallelism")) > 1:
        completions = f"{succeeded}/1 of {_int(spec['parallelism'])}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((end or now) - start).total_seconds())
    conditions = status.get("conditions") or []

    def has(ctype):  # first condition of that type decides, like hasJobCondition
        return next((c.get("status") == "True" for c in conditions if c.get("type") == ctype), False)

    if has("Complete"):
        job_status = "Complete"
    elif has("Failed"):
        job_status = "Failed"
    elif (obj.get("metadata") or {}).get("deletionTimestamp"):
        job_status = "Terminating"
    elif has("Suspended"):
        job_status = "Suspended"
    elif has("FailureTarget"):
        job_status = "FailureTarget"
    else:
        job_status = "Running"
    names, images = _containers_cells(_template_spec(obj))
    return [_name(obj), job_status, completions, duration, _age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def _cronjob_columns() -> list[dict]:
    return [_name_col(), _col("Schedule", field_doc("V1CronJobSpec", "schedule")),
            _col("Timezone", field_doc("V1CronJobSpec", "timeZone")),
            _col("Suspend", field_doc("V1CronJobSpec", "suspend"), "boolean"),
            _col("Active", field_doc("V1CronJobStatus", "active"), "integer"),
            _col("Last Schedule", field_doc("V1CronJobStatus", "lastScheduleTime")), _age_col(),
            *_wide_template_cols(field_doc("V1JobSpec", "selector"))]


def cronjob_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = _containers_cells(((job_spec.get("template") or {}).get("spec")))
    suspend = spec.get("suspend")
    suspend_cell = "<unset>" if suspend is None else ("True" if suspend else "False")
    last = _since(status["lastScheduleTime"], now) if status.get("lastScheduleTime") else "<none>"
    return [_name(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>", suspend_cell,
            len(status.get("active") or []), last, _age(obj, now), names, images,
            format_label_selector(job_spec.get("selector"))]


# Services and networking ------------------------------------------------------------

def _service_columns() -> list[dict]:
    return [_name_col(), _col("Type", field_doc("V1ServiceSpec", "type")),
            _col("Cluster-IP", field_doc("V1ServiceSpec", "clusterIP")),
            _col("External-IP", field_doc("V1ServiceSpec", "externalIPs")),
            _col("Port(s)", field_doc("V1ServiceSpec", "ports")), _age_col(),
            _col("Selector", field_doc("V1ServiceSpec", "selector"), priority=1)]


def _lb_ingress(status: dict) -> str:
    found = set()
    for ing in ((status or {}).get("loadBalancer") or {}).get("ingress") or []:
        if ing.get("ip"):
            found.add(ing["ip"])
        elif ing.get("hostname"):
            found.add(ing["hostname"])
    return ",".join(sorted(found))


def _service_external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    external = spec.get("externalIPs") or []
    svc_type = spec.get("type", "")
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        lb = _lb_ingress(svc.get("status") or {})
        if external:
            return ",".join((lb.split(",") if lb else []) + external)
        return lb or "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def service_port_string(ports: list | None) -> str:
    pieces = []
    for p in ports or []:
        proto = p.get("protocol", "")
        if _int(p.get("nodePort")) > 0:
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            pieces.append(f"{p.get('port')}/{proto}")
    return ",".join(pieces)


def service_cells(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or []
    return [_name(obj), spec.get("type", ""), cluster_ips[0] if cluster_ips else "<none>",
            _service_external_ip(obj), service_port_string(spec.get("ports")) or "<none>", _age(obj, now),
            format_labels(spec.get("selector"))]


def _endpoints_columns() -> list[dict]:
    return [_name_col(), _col("Endpoints", field_doc("V1Endpoints", "subsets")), _age_col()]


def format_endpoints(endpoints: dict) -> str:
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    items: list[str] = []
    count = 0
    limit = 3
    for ss in subsets:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addresses)
            items.extend(a.get("ip", "") for a in addresses)
            continue
        for port in ports:
            count += len(addresses)
            for a in addresses:
                ip = a.get("ip", "")
                host = f"[{ip}]" if ":" in ip else ip
                items.append(f"{host}:{port.get('port')}")
    shown = ",".join(items[:limit])
    if len(items) > limit:
        return f"{shown} + {count - limit} more..."
    return shown


def endpoints_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), format_endpoints(obj), _age(obj, now)]


def _endpointslice_columns() -> list[dict]:
    return [_name_col(), _col("AddressType", field_doc("V1EndpointSlice", "addressType")),
            _col("Ports", field_doc("V1EndpointSlice", "ports")),
            _col("Endpoints", field_doc("V1EndpointSlice", "endpoints")), _age_col()]


def endpointslice_cells(obj: dict, now: datetime) -> list:
    ports = []
    for p in obj.get("ports") or []:
        if p.get("port") is not None:
            ports.append(str(p["port"]))
        elif p.get("name") is not None:
            ports.append(p["name"])
        else:
            ports.append("*")
    addresses = [a for ep in obj.get("endpoints") or [] for a in ep.get("addresses") or []]
    return [_name(obj), obj.get("addressType", ""), _list_with_more(ports, len(ports)),
            _list_with_more(addresses, len(addresses)), _age(obj, now)]


def _ingress_columns() -> list[dict]:
    return [_name_col(),
            _col("Class", "The name of the IngressClass resource that should be used for additional configuration"),
            _col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
            _col("Address", "Address is a list containing ingress points for the load-balancer"),
            _col("Ports", "Ports of TLS configurations that open"), _age_col()]


def ingress_cells(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    rules = spec.get("rules") or []
    hosts = [r["host"] for r in rules if r.get("host")][:3]
    hosts_cell = ",".join(hosts) if hosts else "*"
    if len(rules) > 3 and hosts:
        hosts_cell = f"{hosts_cell} + {len(rules) - 3} more..."
    return [_name(obj), spec.get("ingressClassName") or "<none>", hosts_cell, _lb_ingress(obj.get("status") or {}),
            "80, 443" if spec.get("tls") else "80", _age(obj, now)]


def _ingressclass_columns() -> list[dict]:
    return [_name_col(), _col("Controller", "Controller that is responsible for handling this class"),
            _col("Parameters", "A reference to a resource with additional parameters"), _age_col()]


def ingressclass_cells(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    params = spec.get("parameters")
    cell = "<none>"
    if params:
        cell = params.get("kind", "")
        if params.get("apiGroup") is not None:
            cell += "." + params["apiGroup"]
        cell += "/" + params.get("name", "")
    return [_name(obj), spec.get("controller", ""), cell, _age(obj, now)]


def _networkpolicy_columns() -> list[dict]:
    return [_name_col(), _col("Pod-Selector", field_doc("V1NetworkPolicySpec", "podSelector")), _age_col()]


def networkpolicy_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), format_label_selector((obj.get("spec") or {}).get("podSelector") or {}), _age(obj, now)]


# Config and identity -------------------------------------------------------------

def _configmap_columns() -> list[dict]:
    return [_name_col(), _col("Data", field_doc("V1ConfigMap", "data")), _age_col()]


def configmap_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _age(obj, now)]


def _secret_columns() -> list[dict]:
    return [_name_col(), _col("Type", field_doc("V1Secret", "type")), _col("Data", field_doc("V1Secret", "data")), _age_col()]


def secret_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), obj.get("type", ""), len(obj.get("data") or {}), _age(obj, now)]


def _serviceaccount_columns() -> list[dict]:
    return [_name_col(), _col("Secrets", field_doc("V1ServiceAccount", "secrets")), _age_col()]


def serviceaccount_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), len(obj.get("secrets") or []), _age(obj, now)]


def _namespace_columns() -> list[dict]:
    return [_name_col(), _col("Status", "The status of the namespace"), _age_col()]


def namespace_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), (obj.get("status") or {}).get("phase", ""), _age(obj, now)]


def _binding_columns(kind_word: str) -> list[dict]:
    return [_name_col(), _col("Role", field_doc("V1RoleBinding", "roleRef")), _age_col(),
            _col("Users", f"Users in the {kind_word}", priority=1),
            _col("Groups", f"Groups in the {kind_word}", priority=1),
            _col("ServiceAccounts", f"ServiceAccounts in the {kind_word}", priority=1)]


def binding_cells(obj: dict, now: datetime) -> list:
    ref = obj.get("roleRef") or {}
    users, groups, sas = [], [], []
    for s in obj.get("subjects") or []:
        kind = s.get("kind")
        if kind == "User":
            users.append(s.get("name", ""))
        elif kind == "Group":
            groups.append(s.get("name", ""))
        elif kind == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(obj, now),
            ", ".join(users), ", ".join(groups), ", ".join(sas)]


# Nodes, events, storage, misc ---------------------------------------------------

def _node_columns() -> list[dict]:
    return [_name_col(), _col("Status", "The status of the node"), _col("Roles", "The roles of the node"), _age_col(),
            _col("Version", field_doc("V1NodeSystemInfo", "kubeletVersion")),
            _col("Internal-IP", field_doc("V1NodeStatus", "addresses"), priority=1),
            _col("External-IP", field_doc("V1NodeStatus", "addresses"), priority=1),
            _col("OS-Image", field_doc("V1NodeSystemInfo", "osImage"), priority=1),
            _col("Kernel-Version", field_doc("V1NodeSystemInfo", "kernelVersion"), priority=1),
            _col("Container-Runtime", field_doc("V1NodeSystemInfo", "containerRuntimeVersion"), priority=1)]


def node_roles(node: dict) -> list[str]:
    roles = set()
    for k, v in ((node.get("metadata") or {}).get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    return sorted(roles)


def node_cells(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    info = status.get("nodeInfo") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    states = [] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if not states:
        states = ["Unknown"]
    if (obj.get("spec") or {}).get("unschedulable"):
        states.append("SchedulingDisabled")
    addresses = status.get("addresses") or []

    def address(kind):
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")

    return [_name(obj), ",".join(states), ",".join(node_roles(obj)) or "<none>", _age(obj, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _event_columns() -> list[dict]:
    return [_col("Last Seen", field_doc("CoreV1Event", "lastTimestamp")),
            _col("Type", field_doc("CoreV1Event", "type")),
            _col("Reason", field_doc("CoreV1Event", "reason")),
            _col("Object", field_doc("CoreV1Event", "involvedObject")),
            _col("Subobject", field_doc("V1ObjectReference", "fieldPath"), priority=1),
            _col("Source", field_doc("CoreV1Event", "source"), priority=1),
            _col("Message", field_doc("CoreV1Event", "message")),
            _col("First Seen", field_doc("CoreV1Event", "firstTimestamp"), priority=1),
            _col("Count", field_doc("CoreV1Event", "count"), priority=1),
            _col("Name", field_doc("V1ObjectMeta", "name"), priority=1, fmt="name")]


def as_core_event(obj: dict) -> dict:
    """An events.k8s.io/v1 Event seen through the core/v1 field names (the printer's internal type)."""
    if "regarding" not in obj and "note" not in obj and "deprecatedSource" not in obj:
        return obj
    return {
        "metadata": obj.get("metadata") or {},
        "involvedObject": obj.get("regarding") or {},
        "reason": obj.get("reason", ""),
        "message": obj.get("note", ""),
        "type": obj.get("type", ""),
        "source": obj.get("deprecatedSource") or {},
        "firstTimestamp": obj.get("deprecatedFirstTimestamp"),
        "lastTimestamp": obj.get("deprecatedLastTimestamp"),
        "count": obj.get("deprecatedCount"),
        "eventTime": obj.get("eventTime"),
        "series": obj.get("series"),
        "reportingComponent": obj.get("reportingController", ""),
        "reportingInstance": obj.get("reportingInstance", ""),
    }


def event_cells(obj: dict, now: datetime) -> list:
    ev = as_core_event(obj)
    first = _since(ev.get("firstTimestamp"), now) if parse_time(ev.get("firstTimestamp")) else _since(ev.get("eventTime"), now)
    last = _since(ev.get("lastTimestamp"), now) if parse_time(ev.get("lastTimestamp")) else first
    count = _int(ev.get("count"))
    series = ev.get("series")
    if series:
        last = _since(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    instance = source.get("host") or ev.get("reportingInstance") or ""
    source_cell = f"{component}, {instance}" if instance else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target, involved.get("fieldPath", ""), source_cell,
            (ev.get("message") or "").strip(), first, count, _name(ev)]


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))


def access_modes_string(modes: list | None) -> str:
    modes = modes or []
    return ",".join(short for full, short in _ACCESS_MODES if full in modes)


def _storage_class_of(obj: dict) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if "volume.beta.kubernetes.io/storage-class" in annotations:
        return annotations["volume.beta.kubernetes.io/storage-class"]
    return (obj.get("spec") or {}).get("storageClassName") or ""


def _pv_columns() -> list[dict]:
    return [_name_col(), _col("Capacity", field_doc("V1PersistentVolumeSpec", "capacity")),
            _col("Access Modes", field_doc("V1PersistentVolumeSpec", "accessModes")),
            _col("Reclaim Policy", field_doc("V1PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
            _col("Status", field_doc("V1PersistentVolumeStatus", "phase")),
            _col("Claim", field_doc("V1PersistentVolumeSpec", "claimRef")),
            _col("StorageClass", "StorageClass of the pv"), _col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
            _col("Reason", field_doc("V1PersistentVolumeStatus", "reason")), _age_col(),
            _col("VolumeMode", field_doc("V1PersistentVolumeSpec", "volumeMode"), priority=1)]


def pv_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef")
    claim_cell = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = "Terminating" if (obj.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    return [_name(obj), str((spec.get("capacity") or {}).get("storage", "0")), access_modes_string(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim_cell, _storage_class_of(obj),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""), _age(obj, now),
            spec.get("volumeMode") or "<unset>"]


def _pvc_columns() -> list[dict]:
    return [_name_col(), _col("Status", field_doc("V1PersistentVolumeClaimStatus", "phase")),
            _col("Volume", field_doc("V1PersistentVolumeClaimSpec", "volumeName")),
            _col("Capacity", field_doc("V1PersistentVolumeClaimStatus", "capacity")),
            _col("Access Modes", field_doc("V1PersistentVolumeClaimStatus", "accessModes")),
            _col("StorageClass", "StorageClass of the pvc"), _col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
            _age_col(), _col("VolumeMode", field_doc("V1PersistentVolumeClaimSpec", "volumeMode"), priority=1)]


def pvc_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = "Terminating" if (obj.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    capacity, modes = "", ""
    if spec.get("volumeName"):
        modes = access_modes_string(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", "0"))
    return [_name(obj), phase, spec.get("volumeName", ""), capacity, modes, _storage_class_of(obj),
            spec.get("volumeAttributesClassName") or "<unset>", _age(obj, now), spec.get("volumeMode") or "<unset>"]


def _storageclass_columns() -> list[dict]:
    return [_name_col(), _col("Provisioner", field_doc("V1StorageClass", "provisioner")),
            _col("ReclaimPolicy", field_doc("V1StorageClass", "reclaimPolicy")),
            _col("VolumeBindingMode", field_doc("V1StorageClass", "volumeBindingMode")),
            _col("AllowVolumeExpansion", field_doc("V1StorageClass", "allowVolumeExpansion")), _age_col()]


def is_default_storage_class(obj: dict) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return "true" in (annotations.get("storageclass.kubernetes.io/is-default-class"),
                      annotations.get("storageclass.beta.kubernetes.io/is-default-class"))


def storageclass_cells(obj: dict, now: datetime) -> list:
    name = _name(obj) + (" (default)" if is_default_storage_class(obj) else "")
    return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", bool(obj.get("allowVolumeExpansion") or False), _age(obj, now)]


def _lease_columns() -> list[dict]:
    return [_name_col(), _col("Holder", field_doc("V1LeaseSpec", "holderIdentity")), _age_col()]


def lease_cells(obj: dict, now: datetime) -> list:
    return [_name(obj), (obj.get("spec") or {}).get("holderIdentity") or "", _age(obj, now)]


def _controllerrevision_columns() -> list[dict]:
    return [_name_col(), _col("Controller", "Controller of the object"),
            _col("Revision", field_doc("V1ControllerRevision", "revision")), _age_col()]


def controllerrevision_cells(obj: dict, now: datetime) -> list:
    owner = next((o for o in (obj.get("metadata") or {}).get("ownerReferences") or [] if o.get("controller")), None)
    controller = "<none>"
    if owner:
        group = owner.get("apiVersion", "").rpartition("/")[0]
        group_kind = f"{owner.get('kind', '')}.{group}" if group else owner.get("kind", "")
        controller = f"{group_kind.lower()}/{owner.get('name', '')}" if group_kind else owner.get("name", "")
    return [_name(obj), controller, _int(obj.get("revision")), _age(obj, now)]


def _hpa_columns() -> list[dict]:
    return [_name_col(), _col("Reference", field_doc("V2HorizontalPodAutoscalerSpec", "scaleTargetRef")),
            _col("Targets", field_doc("V2HorizontalPodAutoscalerSpec", "metrics")),
            _col("MinPods", field_doc("V2HorizontalPodAutoscalerSpec", "minReplicas")),
            _col("MaxPods", field_doc("V2HorizontalPodAutoscalerSpec", "maxReplicas")),
            _col("Replicas", field_doc("V2HorizontalPodAutoscalerStatus", "currentReplicas")), _age_col()]


def _hpa_metric(spec: dict, status: dict | None) -> str:
    mtype = spec.get("type")
    key = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
           "Object": "object", "External": "external"}.get(mtype)
    if key is None:
        return "<unknown type>"
    source, current = spec.get(key) or {}, ((status or {}).get(key) or {}).get("current") or {}
    target = source.get("target") or {}
    have_status = bool(status and status.get(key))
    if mtype in ("Resource", "ContainerResource"):
        name = source.get("name", "")
        if target.get("averageValue") is not None:
            cur = str(current.get("averageValue")) if have_status else "<unknown>"
            return f"{name}: {cur}/{target['averageValue']}"
        cur = f"{current['averageUtilization']}%" if have_status and current.get("averageUtilization") is not None else "<unknown>"
        tgt = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{name}: {cur}/{tgt}"
    if mtype == "Pods":
        cur = str(current.get("averageValue")) if have_status else "<unknown>"
        return f"{cur}/{target.get('averageValue')}"
    if target.get("averageValue") is not None:
        cur = str(current["averageValue"]) if have_status and current.get("averageValue") is not None else "<unknown>"
        return f"{cur}/{target['averageValue']} (avg)"
    cur = str(current.get("value")) if have_status else "<unknown>"
    return f"{cur}/{target.get('value')}"


def hpa_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    metrics = spec.get("metrics") or []
    statuses = status.get("currentMetrics") or []
    if not metrics:
        targets = "<none>"
    else:
        parts = [_hpa_metric(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics)]
        targets = ", ".join(parts[:2]) + (f" + {len(parts) - 2} more..." if len(parts) > 2 else "")
    min_pods = str(spec["minReplicas"]) if spec.get("minReplicas") is not None else "<unset>"
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", targets, min_pods,
            _int(spec.get("maxReplicas")), _int(status.get("currentReplicas")), _age(obj, now)]


def _pdb_columns() -> list[dict]:
    return [_name_col(), _col("Min Available", "The minimum number of pods that must be available."),
            _col("Max Unavailable", "The maximum number of pods that may be unavailable."),
            _col("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", "integer"),
            _age_col()]


def pdb_cells(obj: dict, now: datetime) -> list:
    spec = obj.get("spec") or {}
    min_a = str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_u = str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [_name(obj), min_a, max_u, _int((obj.get("status") or {}).get("disruptionsAllowed")), _age(obj, now)]


# (group, kind) -> (columns factory, cells)
PRINTERS: dict[tuple[str, str], tuple[Callable[[], list[dict]], Printer]] = {
    ("", "Pod"): (_pod_columns, pod_cells),
    ("apps", "Deployment"): (_deployment_columns, deployment_cells),
    ("apps", "ReplicaSet"): (_replicaset_columns, replicaset_cells),
    ("", "ReplicationController"): (_rc_columns, rc_cells),
    ("apps", "StatefulSet"): (_statefulset_columns, statefulset_cells),
    ("apps", "DaemonSet"): (_daemonset_columns, daemonset_cells),
    ("apps", "ControllerRevision"): (_controllerrevision_columns, controllerrevision_cells),
    ("batch", "Job"): (_job_columns, job_cells),
    ("batch", "CronJob"): (_cronjob_columns, cronjob_cells),
    ("", "Service"): (_service_columns, service_cells),
    ("", "Endpoints"): (_endpoints_columns, endpoints_cells),
    ("discovery.k8s.io", "EndpointSlice"): (_endpointslice_columns, endpointslice_cells),
    ("networking.k8s.io", "Ingress"): (_ingress_columns, ingress_cells),
    ("networking.k8s.io", "IngressClass"): (_ingressclass_columns, ingressclass_cells),
    ("networking.k8s.io", "NetworkPolicy"): (_networkpolicy_columns, networkpolicy_cells),
    ("", "ConfigMap"): (_configmap_columns, configmap_cells),
    ("", "Secret"): (_secret_columns, secret_cells),
    ("", "ServiceAccount"): (_serviceaccount_columns, serviceaccount_cells),
    ("", "Namespace"): (_namespace_columns, namespace_cells),
    ("", "Node"): (_node_columns, node_cells),
    ("", "Event"): (_event_columns, event_cells),
    ("events.k8s.io", "Event"): (_event_columns, event_cells),
    ("", "PersistentVolume"): (_pv_columns, pv_cells),
    ("", "PersistentVolumeClaim"): (_pvc_columns, pvc_cells),
    ("storage.k8s.io", "StorageClass"): (_storageclass_columns, storageclass_cells),
    ("rbac.authorization.k8s.io", "RoleBinding"): (lambda: _binding_columns("roleBinding"), binding_cells),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (lambda: _binding_columns("clusterRoleBinding"), binding_cells),
    ("coordination.k8s.io", "Lease"): (_lease_columns, lease_cells),
    ("autoscaling", "HorizontalPodAutoscaler"): (_hpa_columns, hpa_cells),
    ("policy", "PodDisruptionBudget"): (_pdb_columns, pdb_cells),
}


# --- generic and custom-resource convertors ------------------------------------------

def _default_columns() -> list[dict]:
    return [_name_col(), _col("Created At", field_doc("V1ObjectMeta", "creationTimestamp"), "date")]


def _default_cells(obj: dict, now: datetime) -> list:
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    stamp = (created or datetime(1, 1, 1, tzinfo=timezone.utc)).astimezone(timezone.utc)
    return [_name(obj), stamp.strftime("%Y-%m-%dT%H:%M:%SZ")]


_CRD_DEFAULT_COLUMNS = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)


def crd_columns(res: ResourceDef) -> list[dict]:
    specs = res.printer_columns or _CRD_DEFAULT_COLUMNS
    cols = [_name_col()]
    for c in specs:
        desc = c.get("description") or (field_doc("V1ObjectMeta", "creationTimestamp") if c is _CRD_DEFAULT_COLUMNS[0]
                                        else f"Custom resource definition column (in JSONPath format): {c.get('jsonPath', '')}")
        cols.append(_col(c.get("name", ""), desc, c.get("type", "string"), int(c.get("priority") or 0), c.get("format") or ""))
    return cols


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]|\.((?:\\.|[^.\[\\])+)")


def json_path_value(obj, path: str):
    """Evaluate a simple JSONPath (``.status.sync.status``, ``.spec.containers[0].image``,
    ``.metadata.labels.app\\.kubernetes\\.io/name``); a missing key gives None."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    value = obj
    for m in _PATH_TOKEN.finditer(path):
        index, quoted1, quoted2, key = m.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return None
            value = value[int(index)]
            continue
        name = quoted1 if quoted1 is not None else quoted2 if quoted2 is not None else key.replace("\\.", ".")
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def _go_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def crd_cell(column: dict, value, now: datetime):
    """``cellForJSONValue`` of the apiextensions table convertor."""
    if value is None:
        return None
    ctype = column.get("type", "string")
    if ctype == "string":
        return _go_text(value)
    if ctype == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if ctype == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if ctype == "boolean" and isinstance(value, bool):
        return value
    if ctype == "date" and isinstance(value, str):
        t = parse_time(value)
        return "<invalid>" if t is None else human_duration((now - t).total_seconds())
    return None


def crd_cells(res: ResourceDef, obj: dict, now: datetime) -> list:
    specs = res.printer_columns or _CRD_DEFAULT_COLUMNS
    cells: list = [_name(obj)]
    for c in specs:
        value = json_path_value(obj, c.get("jsonPath", ""))
        cells.append(crd_cell(c, value, now))
    return cells


# --- the table ---------------------------------------------------------------------------

def columns_for(res: ResourceDef) -> list[dict]:
    if res.custom:
        return crd_columns(res)
    printer = PRINTERS.get((res.group, res.kind))
    return printer[0]() if printer else _default_columns()


def cells_for(res: ResourceDef, obj: dict, now: datetime) -> list:
    if res.custom:
        return crd_cells(res, obj, now)
    printer = PRINTERS.get((res.group, res.kind))
    return printer[1](obj, now) if printer else _default_cells(obj, now)


def partial_object_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def _row_object(obj: dict, include_object: str):
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return partial_object_metadata(obj)


def to_table(res: ResourceDef, objects: list[dict], *, now: datetime, include_object: str = "Metadata") -> dict:
    """The ``Table`` for ``objects`` of resource ``res`` (``include_object``: None | Metadata | Object).

    ``metadata`` is left empty for the caller to set ``resourceVersion``
    (and ``continue``) from the list it converted.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    rows = []
    for obj in objects:
        row = {"cells": cells_for(res, obj, now), "object": _row_object(obj, include_object)}
        if res.kind == "Pod" and not res.group:
            conditions = _pod_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": columns_for(res), "rows": rows}
