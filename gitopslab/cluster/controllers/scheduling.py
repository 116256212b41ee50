"""Pure scheduling decisions (default-scheduler filter plugins, simplified):
NodeUnschedulable, TaintToleration, NodeAffinity (nodeSelector and required
node affinity), NodeResourcesFit; and the FailedScheduling message."""
from __future__ import annotations

from collections import Counter

from gitopslab.cluster.controllers import quantity
from gitopslab.cluster.controllers.pods import is_terminated

# reasons whose nodes preemption cannot help (UnschedulableAndUnresolvable)
UNRESOLVABLE_PREFIXES = ("node(s) didn't match", "node(s) had untolerated taint", "node(s) were unschedulable")


def pod_requests(pod: dict) -> dict[str, int]:
    """Effective requests: max(Σ containers, max init container) + overhead, per resource."""
    spec = pod.get("spec") or {}
    total: Counter = Counter()
    for c in spec.get("containers") or []:
        for r, q in ((c.get("resources") or {}).get("requests") or {}).items():
            total[r] += _amount(r, q)
    for c in spec.get("initContainers") or []:
        for r, q in ((c.get("resources") or {}).get("requests") or {}).items():
            total[r] = max(total[r], _amount(r, q))
    for r, q in (spec.get("overhead") or {}).items():
        total[r] += _amount(r, q)
    return dict(total)


def _amount(resource: str, q) -> int:
    try:
        return quantity.amount(resource, q)
    except ValueError:
        return 0


def allocatable(node: dict) -> dict[str, int]:
    st = node.get("status") or {}
    alloc = st.get("allocatable") or st.get("capacity") or {}
    out = {r: _amount(r, q) for r, q in alloc.items()}
    out.setdefault("pods", 110)
    return out


def used_on_node(pods: list[dict], node_name: str) -> tuple[dict[str, int], int]:
    """(Σ requests, pod count) of the non-terminated pods bound to ``node_name``."""
    used: Counter = Counter()
    n = 0
    for p in pods:
        if (p.get("spec") or {}).get("nodeName") != node_name or is_terminated(p):
            continue
        n += 1
        used.update(pod_requests(p))
    return dict(used), n


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _selector_term_matches(term: dict, labels: dict, fields: dict | None = None) -> bool:
    for e in term.get("matchFields") or []:
        value = (fields or {}).get(e.get("key"))
        if (e.get("operator") == "In") != (value in (e.get("values") or [])):
            return False
    for e in term.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        ok = {"In": key in labels and labels.get(key) in vals,
              "NotIn": labels.get(key) not in vals,
              "Exists": key in labels, "DoesNotExist": key not in labels}.get(op, False)
        if not ok:
            return False
    return True


def _affinity_matches(pod: dict, node: dict) -> bool:
    spec, labels = pod.get("spec") or {}, (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    fields = {"metadata.name": (node.get("metadata") or {}).get("name")}
    return not terms or any(_selector_term_matches(t, labels, fields) for t in terms)


def node_fit_reasons(pod: dict, node: dict, pods_on_cluster: list[dict]) -> list[str]:
    """Why ``pod`` does not fit ``node`` (empty when it fits), in upstream wording."""
    spec = node.get("spec") or {}
    if spec.get("unschedulable"):
        return ["node(s) were unschedulable"]
    for taint in spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates((pod.get("spec") or {}).get("tolerations") or [], taint):
            value = f": {taint['value']}" if taint.get("value") else ""
            return [f"node(s) had untolerated taint {{{taint.get('key')}{value}}}"]
    if not _affinity_matches(pod, node):
        return ["node(s) didn't match Pod's node affinity/selector"]
    alloc = allocatable(node)
    used, count = used_on_node(pods_on_cluster, (node.get("metadata") or {}).get("name"))
    reasons = []
    if count + 1 > alloc.get("pods", 110):
        reasons.append("Too many pods")
    for r, want in sorted(pod_requests(pod).items()):
        if want <= 0:
            continue
        if r not in alloc:
            if r.startswith("hugepages-") or "/" in r or r in ("cpu", "memory", "ephemeral-storage"):
                reasons.append(f"Insufficient {r}")
            continue
        if used.get(r, 0) + want > alloc[r]:
            reasons.append(f"Insufficient {r}")
    return reasons


def failure_message(reasons_by_node: dict[str, list[str]]) -> str:
    """``FitError.Error()`` plus the preemption post-filter diagnosis (1.32 wording)."""
    total = len(reasons_by_node)
    if total == 0:
        return "no nodes available to schedule pods"
    counts = Counter(r for rs in reasons_by_node.values() for r in rs)
    parts = sorted(f"{n} {r}" for r, n in counts.items())
    msg = f"0/{total} nodes are available: {', '.join(parts)}."
    unresolvable = sum(1 for rs in reasons_by_node.values()
                       if any(r.startswith(UNRESOLVABLE_PREFIXES) for r in rs))
    resolvable = total - unresolvable
    pre = []
    if unresolvable:
        pre.append(f"{unresolvable} Preemption is not helpful for scheduling")
    if resolvable:
        pre.append(f"{resolvable} No preemption victims found for incoming pod")
    return msg + f" preemption: 0/{total} nodes are available: {', '.join(sorted(pre))}."
