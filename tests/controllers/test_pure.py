"""Pure controller logic, table-driven: cron schedules, FailedScheduling wording,
pod-template hashes, rollout arithmetic, deployment conditions, GC decisions,
namespace conditions, endpoint subsets."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from gitopslab.cluster.controllers import cron, deployment_util as du, endpoints_util as eu, hashing, quantity, scheduling
from gitopslab.cluster.controllers.garbagecollector import dependent_action
from gitopslab.cluster.controllers.namespace import deletion_conditions

FIXTURES = Path(__file__).parent / "fixtures"


def _t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", yaml.safe_load((FIXTURES / "cron.yaml").read_text()), ids=lambda c: c["schedule"])
def test_cron_next_run(case):
    s = cron.parse(case["schedule"], case.get("time_zone"))
    assert s.next_after(_t(case["after"])) == _t(case["next"])


@pytest.mark.parametrize("bad", ["* * * *", "61 * * * *", "*/0 * * * *", "0 0 * * funday"])
def test_cron_rejects_bad_schedules(bad):
    with pytest.raises(cron.CronError):
        cron.parse(bad)


def test_cron_counts_missed_runs():
    s = cron.parse("*/10 * * * *")
    last, missed = s.last_before(_t("2024-01-01T00:00:00Z"), _t("2024-01-01T00:35:00Z"))
    assert (last, missed) == (_t("2024-01-01T00:30:00Z"), 3)


@pytest.mark.parametrize("case", yaml.safe_load((FIXTURES / "scheduling.yaml").read_text()), ids=lambda c: c["message"][:40])
def test_failed_scheduling_message(case):
    assert scheduling.failure_message(case["reasons"]) == case["message"]


def test_node_fit_counts_requests_of_bound_pods():
    node = {"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "2"}}}
    pod = lambda cpu, bound=True: {"spec": {"nodeName": "n" if bound else None, "containers": [  # noqa: E731
        {"resources": {"requests": {"cpu": cpu}}}]}, "status": {"phase": "Running"}}
    assert scheduling.node_fit_reasons(pod("500m", False), node, [pod("400m")]) == []
    assert scheduling.node_fit_reasons(pod("700m", False), node, [pod("400m")]) == ["Insufficient cpu"]
    assert scheduling.node_fit_reasons(pod("1m", False), node, [pod("1m"), pod("1m")]) == ["Too many pods"]
    done = {**pod("900m"), "status": {"phase": "Succeeded"}}
    assert scheduling.node_fit_reasons(pod("700m", False), node, [done]) == []


@pytest.mark.parametrize("q,milli,value", [("100m", 100, 1), ("2", 2000, 2), ("0.5", 500, 1), ("1Gi", None, 2**30),
                                           ("128Mi", None, 128 * 2**20), ("1e3", None, 1000), ("500M", None, 500 * 10**6)])
def test_quantities(q, milli, value):
    if milli is not None:
        assert quantity.milli(q) == milli
    assert quantity.value(q) == value


def test_pod_template_hash_alphabet_and_stability():
    tpl = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    h = hashing.compute_hash(tpl)
    assert h == hashing.compute_hash(yaml.safe_load(yaml.safe_dump(tpl)))
    assert set(h) <= set("456789bcdf") and 1 <= len(h) <= 10
    assert hashing.compute_hash(tpl, 1) != h
    assert hashing.safe_encode_string("0123456789") == "456789bcdf"
    assert hashing.fnv32a(b"") == 0x811C9DC5 and hashing.fnv32a(b"a") == 0xE40C292C


def _d(replicas=10, surge="25%", unavailable="25%", generation=1, **status):
    return {"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                "maxSurge": surge, "maxUnavailable": unavailable}}}, "status": status}


def _rs(name, spec, available=0, ts="2024-01-01T00:00:00Z", revision="1"):
    return {"metadata": {"name": name, "creationTimestamp": ts, "annotations": {du.REVISION: revision}},
            "spec": {"replicas": spec}, "status": {"replicas": spec, "availableReplicas": available, "readyReplicas": available}}


@pytest.mark.parametrize("replicas,surge,unavailable,expected", [
    (10, "25%", "25%", (3, 2)), (3, "25%", "25%", (1, 0)), (1, 0, 0, (0, 1)), (4, 1, "50%", (1, 2))])
def test_fenceposts(replicas, surge, unavailable, expected):
    assert du.resolve_fenceposts(_d(replicas, surge, unavailable)) == expected


def test_new_rs_scales_up_within_surge():
    d = _d(replicas=4, surge=1, unavailable=1)
    old, new = _rs("old", 4, 4), _rs("new", 0)
    assert du.new_rs_new_replicas(d, [old, new], new) == 1
    assert du.rolling_max_scaled_down(d, [old, _rs("new", 1)], _rs("new", 1)) == 1


def test_rollout_conditions_progress_then_complete():
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    d = _d(replicas=2, unavailable=1)  # 25 % of 2 rounds down to 0
    new = _rs("web-abc", 2, 1)
    st = du.rollout_status(d, [new], new, now)
    c = du.get_condition(st, du.PROGRESSING)
    assert (c["reason"], c["message"]) == ("ReplicaSetUpdated", 'ReplicaSet "web-abc" is progressing.')
    assert du.get_condition(st, du.AVAILABLE)["reason"] == "MinimumReplicasAvailable"
    d["status"] = st
    done = _rs("web-abc", 2, 2)
    st = du.rollout_status(d, [done], done, now + timedelta(seconds=5))
    c = du.get_condition(st, du.PROGRESSING)
    assert (c["status"], c["reason"], c["message"]) == ("True", "NewReplicaSetAvailable",
                                                        'ReplicaSet "web-abc" has successfully progressed.')


def test_rollout_times_out_after_deadline_on_the_lab_clock():
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    d = _d(replicas=1)
    stuck = _rs("web-abc", 1, 0)
    d["status"] = du.rollout_status(d, [stuck], stuck, now)
    d["status"]["replicas"] = 1
    later = now + timedelta(seconds=61)
    assert du.get_condition(du.rollout_status(d, [stuck], stuck, later, scale=1), du.PROGRESSING)["reason"] != du.TIMED_OUT
    st = du.rollout_status(d, [stuck], stuck, later, scale=10)
    c = du.get_condition(st, du.PROGRESSING)
    assert (c["status"], c["reason"], c["message"]) == ("False", "ProgressDeadlineExceeded",
                                                        'ReplicaSet "web-abc" has timed out progressing.')


def test_cleanup_keeps_revision_history_limit():
    d = _d()
    d["spec"]["revisionHistoryLimit"] = 1
    old = [_rs(f"r{i}", 0, revision=str(i)) for i in (3, 1, 2)]
    assert [rs["metadata"]["name"] for rs in du.cleanup_candidates(d, old)] == ["r1", "r2"]


@pytest.mark.parametrize("states,blocking,action", [
    (["absent"], False, "delete"), (["present"], False, "none"), (["absent", "present"], False, "patch"),
    (["foreground"], True, "delete-foreground"), (["foreground"], False, "delete"), ([], False, "none")])
def test_garbage_collector_decisions(states, blocking, action):
    refs = [{"uid": str(i), "blockOwnerDeletion": blocking} for i in range(len(states))]
    assert dependent_action(refs, states)[0] == action


def test_namespace_conditions_wording():
    c = {x["type"]: x for x in deletion_conditions({"pods": 2, "deployments.apps": 1}, {}, "t")}
    assert c["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: deployments.apps has 1 resource instances, pods has 2 resource instances")
    assert c["NamespaceFinalizersRemaining"]["reason"] == "ContentHasNoFinalizers"


def test_endpoint_subsets_split_by_named_port_per_pod():
    svc = {"metadata": {"namespace": "d"}, "spec": {"selector": {"app": "w"}, "ports": [{"name": "h", "port": 80, "targetPort": "http"}]}}

    def pod(name, ip, port, ready=True):
        return {"metadata": {"name": name, "namespace": "d", "labels": {"app": "w"}, "uid": name},
                "spec": {"containers": [{"ports": [{"name": "http", "containerPort": port}]}]},
                "status": {"podIP": ip, "phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    noport = {**pod("c", "10.0.0.9", 1), "spec": {"containers": [{}]}}
    subsets = eu.endpoints_subsets(svc, [pod("a", "10.0.0.2", 8080), pod("b", "10.0.0.3", 9090, ready=False), noport])
    assert [(s["ports"][0]["port"], [a["ip"] for a in s.get("addresses", [])],
             [a["ip"] for a in s.get("notReadyAddresses", [])]) for s in subsets] == [
        (8080, ["10.0.0.2"], []), (9090, [], ["10.0.0.3"])]
    assert subsets[0]["ports"] == [{"name": "h", "port": 8080, "protocol": "TCP"}]
