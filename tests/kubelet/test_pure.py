"""Pure kubelet and runtime logic, table-driven where the cases are data."""
import ipaddress
from pathlib import Path

import pytest
import yaml

from gitopslab.cluster.kubelet import messages as M
from gitopslab.cluster.kubelet.backoff import Backoff
from gitopslab.cluster.kubelet.envvars import ConfigError, PodFacts, build_env, expand
from gitopslab.cluster.kubelet.images import default_pull_policy, image_id, pull_error_message
from gitopslab.cluster.kubelet.status import pod_conditions, pod_phase, qos_class
from gitopslab.cluster.runtime.container import container_argv
from gitopslab.cluster.runtime import network
from gitopslab.cluster.runtime.network import PodNetwork, container_port, target_port

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return yaml.safe_load((FIXTURES / name).read_text())


@pytest.mark.parametrize("case", load("phase.yaml"), ids=lambda c: c["name"])
def test_pod_phase(case):
    assert pod_phase(case["spec"], case.get("init") or [], case["statuses"], case.get("terminal", False)) == case["phase"]


@pytest.mark.parametrize("case", load("env.yaml"), ids=lambda c: c["name"])
def test_build_env(case):
    pod = {"metadata": {"name": "web-0", "namespace": "default", "labels": {"tier": "front"}}, "spec": {}}
    facts = PodFacts(pod_ip="127.42.0.9", host_ip="127.0.0.1")
    args = (case["container"], pod, case.get("configmaps") or {}, case.get("secrets") or {}, facts)
    if "error" in case:
        with pytest.raises(ConfigError) as e:
            build_env(*args)
        assert str(e.value) == case["error"]
    else:
        env, _ = build_env(*args)
        assert env == case["env"]


def test_expand_leaves_unterminated_reference():
    assert expand("$(A", {}.get) == "$(A"
    assert expand("a$b", {}.get) == "a$b"


def test_conditions_for_unready_container_keep_transition_times():
    spec = {"containers": [{"name": "app"}]}
    statuses = [{"name": "app", "ready": False, "state": {"running": {}}}]
    first = pod_conditions(spec, [], statuses, "Running", True, [], "T1")
    assert [c["type"] for c in first] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                          "ContainersReady", "PodScheduled"]
    ready = first[2]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "ContainersNotReady", "containers with unready status: [app]")
    again = pod_conditions(spec, [], statuses, "Running", True, first, "T2")
    assert again[2]["lastTransitionTime"] == "T1"
    statuses[0]["ready"] = True
    now_ready = pod_conditions(spec, [], statuses, "Running", True, again, "T3")
    assert now_ready[2] == {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": "T3"}


def test_initialized_condition_lists_incomplete_init_containers():
    spec = {"initContainers": [{"name": "wait-db"}], "containers": [{"name": "app"}]}
    init = [{"name": "wait-db", "state": {"running": {}}}]
    conds = pod_conditions(spec, init, [{"name": "app", "state": {"waiting": {}}}], "Pending", True, [], "T")
    assert conds[1]["message"] == "containers with incomplete status: [wait-db]"


@pytest.mark.parametrize("resources,qos", [
    ([{}], "BestEffort"),
    ([{"requests": {"cpu": "100m"}}], "Burstable"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
])
def test_qos_class(resources, qos):
    spec = {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}
    assert qos_class(spec) == qos


def test_crash_backoff_doubles_to_five_minutes_and_resets_after_ten():
    b = Backoff()
    seen = []
    t = 0.0
    for _ in range(8):
        b.next("k", t, t)
        seen.append(M.go_duration(b.get("k")))
        t += 1
    assert seen == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s", "5m0s"]
    b.next("k", t + 601, t + 601)
    assert b.get("k") == 10


def test_crash_backoff_window_is_measured_from_the_exit():
    b = Backoff()
    b.next("k", 100.0, 100.0)
    assert b.in_backoff_since("k", 100.0, 105.0)
    assert not b.in_backoff_since("k", 100.0, 111.0)


def test_messages_match_kubelet_wording():
    assert M.pulled("nginx", 1.2869, 1.2869, 59774010) == \
        'Successfully pulled image "nginx" in 1.286s (1.286s including waiting). Image size: 59774010 bytes.'
    assert M.crash_loop_message(40, "app", M.format_pod("app", "default", "u1")) == \
        "back-off 40s restarting failed container=app pod=app_default(u1)"
    assert M.go_duration(0.452) == "452ms"
    assert M.field_path("app") == "spec.containers{app}"


def test_pull_errors_are_containerd_messages():
    assert pull_error_message("nginx:nope", True) == (
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": '
        'failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found')
    assert pull_error_message("someone/private", False).endswith(
        'failed to resolve reference "docker.io/someone/private:latest": pull access denied, repository does not '
        'exist or may require authorization: server message: insufficient_scope: authorization failed')
    assert "lookup registry.example.com: no such host" in pull_error_message("registry.example.com/app:1", False)


def test_pull_policy_and_image_id():
    assert default_pull_policy("nginx") == "Always"
    assert default_pull_policy("nginx:latest") == "Always"
    assert default_pull_policy("nginx:1.27") == "IfNotPresent"

    class Img:
        ref, digest = "nginx:1.27", "sha256:" + "0" * 64
    assert image_id(Img) == "docker.io/library/nginx@sha256:" + "0" * 64


@pytest.mark.parametrize("entrypoint,cmd,command,args,argv", [
    (["ep"], ["c1"], None, None, ["ep", "c1"]),
    (["ep"], ["c1"], ["x"], None, ["x"]),
    (["ep"], ["c1"], None, ["a"], ["ep", "a"]),
    (["ep"], ["c1"], ["x"], ["a"], ["x", "a"]),
    ([], ["python", "app.py"], None, None, ["python", "app.py"]),
])
def test_container_argv(entrypoint, cmd, command, args, argv):
    assert container_argv(entrypoint, cmd, command, args) == argv


def test_low_ports_are_mapped_consistently():
    assert target_port(80) == 20080 and target_port(443) == 20443
    assert target_port(5000) == 5000 and target_port(8080) == 8080
    assert container_port(20080) == 80


def _next_ip(ip: str, step: int = 1) -> str:
    return str(ipaddress.ip_address(ip) + step)


def test_pod_ips_are_stable_and_not_reused_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(network, "addresses_in_use", lambda: set())
    net = PodNetwork(tmp_path / "net.json")
    a, b = net.allocate("a"), net.allocate("b")
    assert ipaddress.ip_address(a) in network.POD_CIDR and b == _next_ip(a)
    net.release("a")
    c = net.allocate("c")
    assert c == _next_ip(b)
    again = PodNetwork(tmp_path / "net.json")
    assert again.ip_of("b") == b and again.ip_of("c") == c and again.ip_of("a") is None
    again.retain_only({"c"})
    assert again.allocations() == {"c": c}


def test_each_cluster_starts_elsewhere_and_skips_addresses_in_use(tmp_path, monkeypatch):
    first = PodNetwork(tmp_path / "prod" / "net.json").allocate("x")
    other = PodNetwork(tmp_path / "staging" / "net.json").allocate("x")
    assert first != other
    # another lab already listens on the next two addresses this cluster would hand out
    net = PodNetwork(tmp_path / "prod" / "net.json")
    monkeypatch.setattr(network, "addresses_in_use", lambda: {_next_ip(first), _next_ip(first, 2)})
    assert net.allocate("y") == _next_ip(first, 3)


@pytest.mark.parametrize("field,ip", [("0100007F:1F90", "127.0.0.1"), ("02002A7F:4E20", "127.42.0.2")])
def test_proc_net_addresses(field, ip):
    assert network.decode_proc_address(field) == ip


def test_node_lease_and_heartbeat_conditions():
    from gitopslab.cluster.kubelet.heartbeat import lease_object, micro_time, refreshed_conditions

    node = {"metadata": {"name": "prod-control-plane", "uid": "u1"}}
    lease = lease_object(node, "2026-11-28T14:31:44.123456Z")
    assert lease["metadata"] == {"name": "prod-control-plane", "namespace": "kube-node-lease", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Node", "name": "prod-control-plane", "uid": "u1"}]}
    assert lease["spec"] == {"holderIdentity": "prod-control-plane", "leaseDurationSeconds": 40,
                             "renewTime": "2026-11-28T14:31:44.123456Z"}
    assert len(micro_time()) == len("2026-11-28T14:31:44.123456Z")
    before = [{"type": "Ready", "status": "True", "lastHeartbeatTime": "a", "lastTransitionTime": "t"}]
    assert refreshed_conditions(before, "b") == [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "b", "lastTransitionTime": "t"}]


def test_probe_ticks_follow_the_pod_ticker_and_a_late_probe_runs_at_once():
    from gitopslab.cluster.kubelet.probes import next_tick

    # a ticker started at 100.0 every 10 s: the next tick strictly after a moment
    assert next_tick(100.0, 10.0, 100.0) == 110.0
    assert next_tick(100.0, 10.0, 104.5) == 110.0
    assert next_tick(100.0, 10.0, 110.0) == 120.0
    assert next_tick(100.0, 10.0, 95.0) == 110.0   # never the ticker's own start
    # a probe begun at 112 and lasting 12 s: its next tick (120) is past, so the next probe runs at once
    assert next_tick(100.0, 10.0, 112.0) == 120.0 < 124.0
    # the PLEG relist (every second) sees a container started at 7.3 s at 8.0 s
    assert next_tick(0.0, 1.0, 7.3) == 8.0
