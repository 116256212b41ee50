"""Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and CronJob: defaults
(apps/v1 and batch/v1 defaults.go) and validation (apps and batch validation)."""
from __future__ import annotations

from gitopslab.cluster.admission.fields import (FieldError, GoValue, forbidden, go_label_selector, go_map,
                                                 immutable, invalid, not_supported, required)
from gitopslab.cluster.admission.names import validate_labels
from gitopslab.cluster.admission.pods import default_pod_spec, validate_pod_spec
from gitopslab.cluster.admission.storage import default_pvc_spec


def _template_spec(spec: dict) -> dict:
    return spec.setdefault("template", {}).setdefault("spec", {})


# --- defaults ------------------------------------------------------------------

def default_deployment(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_pod_spec(_template_spec(spec))


def default_replicaset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    default_pod_spec(_template_spec(spec))


def default_statefulset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
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
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        default_pvc_spec(claim.setdefault("spec", {}))
        claim.setdefault("status", {"phase": "Pending"})
    default_pod_spec(_template_spec(spec))


def default_daemonset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    default_pod_spec(_template_spec(spec))


def default_job(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _generate_job_selector(obj)
    default_pod_spec(_template_spec(spec))


def _generate_job_selector(obj: dict) -> None:
    """batch ``generateSelector``: the controller-uid selector and template labels (needs metadata.uid)."""
    spec = obj["spec"]
    uid = (obj.get("metadata") or {}).get("uid")
    if spec.get("manualSelector") or not uid:
        return
    name = obj["metadata"].get("name", "")
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault("batch.kubernetes.io/controller-uid", uid)
    labels.setdefault("batch.kubernetes.io/job-name", name)
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", name)
    if spec.get("selector") is None:
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}


def default_cronjob(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
    default_pod_spec(_template_spec(job_spec))


# --- validation -------------------------------------------------------------------

def _non_negative(spec: dict, key: str, path: str) -> list[FieldError]:
    v = spec.get(key)
    if isinstance(v, int) and not isinstance(v, bool) and v < 0:
        return [invalid(f"{path}.{key}", v, "must be greater than or equal to 0")]
    return []


def selector_matches(selector: dict, labels: dict) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _validate_selector_and_template(spec: dict, path: str, kind_word: str, restart_policies: list[str] | None,
                                    template: dict | None = None, *, pod_spec: bool = True) -> list[FieldError]:
    errs: list[FieldError] = []
    selector = spec.get("selector")
    template = spec.get("template") if template is None else template
    if selector is None:
        errs.append(required(f"{path}.selector"))
    elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errs.append(invalid(f"{path}.selector", GoValue(go_label_selector(selector)), f"empty selector is invalid for {kind_word}"))
    for i, e in enumerate((selector or {}).get("matchExpressions") or []):
        op = e.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errs.append(invalid(f"{path}.selector.matchExpressions[{i}].operator", op, "not a valid selector operator"))
    if not template:
        errs.append(required(f"{path}.template"))
        return errs
    labels = (template.get("metadata") or {}).get("labels") or {}
    errs.extend(validate_labels(labels, f"{path}.template.metadata.labels"))
    if selector and (selector.get("matchLabels") or selector.get("matchExpressions")) and not selector_matches(selector, labels):
        errs.append(invalid(f"{path}.template.metadata.labels", GoValue(go_map(labels)), "`selector` does not match template `labels`"))
    if pod_spec:
        errs.extend(validate_pod_spec(template.get("spec") or {}, f"{path}.template.spec", restart_policies))
    return errs


def _validate_int_or_percent(value, path: str) -> list[FieldError]:
    if isinstance(value, str):
        if not value.endswith("%") or not value[:-1].isdigit():
            return [invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
    elif isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _is_zero(value) -> bool:
    return value in (0, "0%", "0")


def validate_deployment(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _non_negative(spec, "replicas", "spec")
    errs += _validate_selector_and_template(spec, "spec", "deployment", ["Always"])
    strategy = spec.get("strategy") or {}
    stype = strategy.get("type")
    if stype not in ("Recreate", "RollingUpdate"):
        errs.append(not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"]) if stype
                    else required("spec.strategy.type"))
    elif stype == "Recreate" and strategy.get("rollingUpdate") is not None:
        errs.append(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    elif stype == "RollingUpdate":
        ru = strategy.get("rollingUpdate") or {}
        mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
        errs += _validate_int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable")
        errs += _validate_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge")
        if _is_zero(mu) and _is_zero(ms):
            errs.append(invalid("spec.strategy.rollingUpdate.maxUnavailable", mu, "may not be 0 when `maxSurge` is 0"))
    errs += _non_negative(spec, "revisionHistoryLimit", "spec")
    errs += _non_negative(spec, "minReadySeconds", "spec")
    pds = spec.get("progressDeadlineSeconds")
    if isinstance(pds, int):
        errs += _non_negative(spec, "progressDeadlineSeconds", "spec")
        if pds <= int(spec.get("minReadySeconds") or 0):
            errs.append(invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    if old is not None:
        errs += _immutable_selector(spec, old, "spec.selector")
    return errs


def _immutable_selector(spec: dict, old: dict, path: str) -> list[FieldError]:
    old_sel = (old.get("spec") or {}).get("selector")
    if spec.get("selector") != old_sel:
        return [immutable(path, GoValue(go_label_selector(spec.get("selector"))))]
    return []


def validate_replicaset(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _non_negative(spec, "replicas", "spec") + _non_negative(spec, "minReadySeconds", "spec")
    errs += _validate_selector_and_template(spec, "spec", "replicaset", ["Always"])
    if old is not None:
        errs += _immutable_selector(spec, old, "spec.selector")
    return errs


def validate_statefulset(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _non_negative(spec, "replicas", "spec")
    policy = spec.get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        errs.append(not_supported("spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"]) if policy
                    else required("spec.podManagementPolicy", ""))
    utype = (spec.get("updateStrategy") or {}).get("type")
    if utype not in ("RollingUpdate", "OnDelete"):
        errs.append(not_supported("spec.updateStrategy.type", utype, ["OnDelete", "RollingUpdate"]) if utype
                    else required("spec.updateStrategy"))
    # As upstream (ValidatePodTemplateSpecForStatefulSet): the template's pod spec is not validated,
    # since its volumeMounts may name volumeClaimTemplates that only exist once pods are made.
    errs += _validate_selector_and_template(spec, "spec", "statefulset", ["Always"], pod_spec=False)
    if old is not None:
        old_spec = old.get("spec") or {}
        mutable = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                   "minReadySeconds", "revisionHistoryLimit")
        if {k: v for k, v in spec.items() if k not in mutable} != {k: v for k, v in old_spec.items() if k not in mutable}:
            errs.append(forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                          "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                          "'minReadySeconds' are forbidden"))
    return errs


def validate_daemonset(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs = _validate_selector_and_template(spec, "spec", "daemonset", ["Always"])
    utype = (spec.get("updateStrategy") or {}).get("type")
    if utype not in ("RollingUpdate", "OnDelete"):
        errs.append(not_supported("spec.updateStrategy.type", utype, ["OnDelete", "RollingUpdate"]))
    if old is not None:
        errs += _immutable_selector(spec, old, "spec.selector")
    return errs


JOB_RESTART_POLICIES = ["OnFailure", "Never"]


def validate_job(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        errs += _non_negative(spec, key, "spec")
    if spec.get("manualSelector") or spec.get("selector") is not None:
        errs += _validate_selector_and_template(spec, "spec", "job", JOB_RESTART_POLICIES)
    else:
        errs += validate_pod_spec(((spec.get("template") or {}).get("spec") or {}), "spec.template.spec", JOB_RESTART_POLICIES)
    mode = spec.get("completionMode")
    if mode not in (None, "NonIndexed", "Indexed"):
        errs.append(not_supported("spec.completionMode", mode, ["NonIndexed", "Indexed"]))
    if old is not None:
        old_spec = old.get("spec") or {}
        if spec.get("template") != old_spec.get("template"):
            errs.append(immutable("spec.template", GoValue(_go_pod_template(spec.get("template")))))
        if spec.get("selector") != old_spec.get("selector"):
            errs.append(immutable("spec.selector", GoValue(go_label_selector(spec.get("selector")))))
        if spec.get("completions") != old_spec.get("completions"):
            errs.append(immutable("spec.completions", spec.get("completions")))
    return errs


def _go_pod_template(template: dict | None) -> str:
    """Abbreviated ``%#v`` of a PodTemplateSpec (the real one dumps every field)."""
    labels = ((template or {}).get("metadata") or {}).get("labels")
    return f"core.PodTemplateSpec{{ObjectMeta:v1.ObjectMeta{{Labels:{go_map(labels)}}}, Spec:core.PodSpec{{...}}}}"


CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]


def validate_cronjob(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    if len(name) > 52:
        errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    schedule = spec.get("schedule")
    if not schedule:
        errs.append(required("spec.schedule"))
    elif len(schedule.split()) not in (5, 6) and not schedule.startswith("@"):
        errs.append(invalid("spec.schedule", schedule, f"expected exactly 5 fields, found {len(schedule.split())}: {schedule}"))
    policy = spec.get("concurrencyPolicy")
    if policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"):
        errs += _non_negative(spec, key, "spec")
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    errs += validate_pod_spec(((job_spec.get("template") or {}).get("spec") or {}),
                              "spec.jobTemplate.spec.template.spec", JOB_RESTART_POLICIES)
    return errs
