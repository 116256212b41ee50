"""Admission of the lab cluster: defaulting and validation as kube-apiserver
1.32 (k3s) does them on create and update.

``admit()`` returns the defaulted copy of the object or raises a 422
``Invalid`` ``ApiError`` whose causes carry the real field paths and
messages. It never mutates its input. The caller (the registry) sets
``metadata.uid``/``creationTimestamp`` before calling it on CREATE (Jobs
derive their selector from the uid) and stores what it returns.
"""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Callable, Protocol

from gitopslab.cluster import errors
from gitopslab.cluster.admission import core, pods, services, storage, workloads
from gitopslab.cluster.admission.fields import FieldError, causes, forbidden
from gitopslab.cluster.admission.names import (dns1035_label, dns1123_label, dns1123_subdomain, path_segment_name,
                                                validate_object_meta)
from gitopslab.cluster.kinds import ResourceDef


class AdmissionContext(Protocol):
    """What admission needs to know about the rest of the cluster."""

    def used_node_ports(self) -> set[int]: ...

    def used_cluster_ips(self) -> set[str]: ...

    def now(self) -> datetime: ...


Defaulter = Callable[[dict, dict | None, str], None]
Validator = Callable[[dict, dict | None], list[FieldError]]


def _no_default(obj: dict, old: dict | None, operation: str) -> None:
    return None


def _no_validation(obj: dict, old: dict | None) -> list[FieldError]:
    return []


def _default_pod(obj: dict, old: dict | None, operation: str) -> None:
    if operation == "CREATE":
        pods.default_pod(obj)
    else:
        pods.default_pod_spec(obj.setdefault("spec", {}))


POD_MUTABLE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def _validate_pod(obj: dict, old: dict | None) -> list[FieldError]:
    errs = pods.validate_pod_spec(obj.get("spec") or {}, "spec")
    if old is not None:
        def comparable(spec: dict) -> dict:
            spec = copy.deepcopy(spec or {})
            for key in ("containers", "initContainers"):
                for c in spec.get(key) or []:
                    c.pop("image", None)
            for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName"):
                spec.pop(key, None)
            return spec
        if comparable(obj.get("spec")) != comparable(old.get("spec")):
            errs.append(forbidden("spec", POD_MUTABLE_MESSAGE))
    return errs


def _default_service(obj: dict, old: dict | None, operation: str) -> None:
    services.default_service(obj)
    if old is not None:
        services.carry_over_allocations(obj["spec"], old.get("spec") or {})
        services.clear_node_ports(obj["spec"], old.get("spec") or {})


def _adapt(fn: Callable[[dict], None]) -> Defaulter:
    return lambda obj, old, operation: fn(obj)


# (group, kind) -> (name validation, defaulter, validator)
RULES: dict[tuple[str, str], tuple[Callable[[str], list[str]], Defaulter, Validator]] = {
    ("", "Pod"): (dns1123_subdomain, _default_pod, _validate_pod),
    ("", "Service"): (dns1035_label, _default_service, services.validate_service),
    ("", "Namespace"): (dns1123_label, lambda o, old, op: core.default_namespace(o, op), core.validate_namespace),
    ("", "Secret"): (dns1123_subdomain, _adapt(core.default_secret), core.validate_secret),
    ("", "ConfigMap"): (dns1123_subdomain, _no_default, core.validate_configmap),
    ("", "PersistentVolumeClaim"): (dns1123_subdomain, lambda o, old, op: storage.default_pvc(o, op), storage.validate_pvc),
    ("apps", "Deployment"): (dns1123_subdomain, _adapt(workloads.default_deployment), workloads.validate_deployment),
    ("apps", "ReplicaSet"): (dns1123_subdomain, _adapt(workloads.default_replicaset), workloads.validate_replicaset),
    ("apps", "StatefulSet"): (dns1123_subdomain, _adapt(workloads.default_statefulset), workloads.validate_statefulset),
    ("apps", "DaemonSet"): (dns1123_subdomain, _adapt(workloads.default_daemonset), workloads.validate_daemonset),
    ("batch", "Job"): (dns1123_subdomain, _adapt(workloads.default_job), workloads.validate_job),
    ("batch", "CronJob"): (dns1123_subdomain, _adapt(workloads.default_cronjob), workloads.validate_cronjob),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (dns1123_subdomain, _adapt(core.default_crd), core.validate_crd),
    ("rbac.authorization.k8s.io", "Role"): (path_segment_name, _no_default, _no_validation),
    ("rbac.authorization.k8s.io", "ClusterRole"): (path_segment_name, _no_default, _no_validation),
    ("rbac.authorization.k8s.io", "RoleBinding"): (path_segment_name, _no_default, _no_validation),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (path_segment_name, _no_default, _no_validation),
}


def rules_for(res: ResourceDef):
    return RULES.get((res.group, res.kind), (dns1123_subdomain, _no_default, _no_validation))


def admit(res: ResourceDef, obj: dict, old: dict | None, ctx: AdmissionContext, *, operation: str) -> dict:
    """Default then validate ``obj`` (``operation`` CREATE or UPDATE); return the admitted copy."""
    if operation not in ("CREATE", "UPDATE"):
        raise ValueError(f"unknown admission operation {operation!r}")
    obj = copy.deepcopy(obj)
    old = old if operation == "UPDATE" else None
    name_fn, defaulter, validator = rules_for(res)
    defaulter(obj, old, operation)
    errs = validate_object_meta(obj.get("metadata") or {}, name_fn)
    errs += validator(obj, old)
    if not errs and res.kind == "Service" and not res.group:
        errs += services.allocate(obj, old, ctx.used_node_ports(), ctx.used_cluster_ips())
    if errs:
        name = (obj.get("metadata") or {}).get("name") or (obj.get("metadata") or {}).get("generateName") or ""
        raise errors.invalid(res.group, res.kind, name, causes(errs))
    return obj


__all__ = ["AdmissionContext", "admit", "RULES"]
