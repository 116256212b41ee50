"""Hundreds of malformed or conflicting requests: every one gets a Status error
with the right code, the daemon keeps serving, and nothing stored is lost or
half-written (the state read back after a restart is the state before)."""
from __future__ import annotations

import json
import random
import threading

from gitopslab.cluster import lifecycle

GOOD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"k": "v"}}


def _snapshot(lab) -> dict:
    out = {}
    for path in ("/api/v1/configmaps", "/api/v1/namespaces", "/apis/apps/v1/deployments", "/api/v1/services"):
        code, body = lab.raw("GET", path)
        assert code == 200
        for item in json.loads(body)["items"]:
            m = item["metadata"]
            out[(path, m.get("namespace"), m["name"])] = (m["resourceVersion"], json.dumps(item, sort_keys=True))
    return out


def _cases(ns: str, rng: random.Random) -> list[tuple[str, str, object, dict, set[int]]]:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    dep = f"/apis/apps/v1/namespaces/{ns}/deployments"
    cases = [
        ("POST", base, b"{not json", {}, {400}),
        ("POST", base, b"", {}, {400}),
        ("POST", base, b"\xff\xfe\x00garbage", {}, {400}),
        ("POST", base, b"[1,2,3]", {}, {400}),
        ("POST", base, b'"just a string"', {}, {400}),
        ("POST", base, {"apiVersion": "apps/v2", "kind": "ConfigMap", "metadata": {"name": "x"}}, {}, {400}),
        ("POST", base, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}, {}, {422}),
        ("POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "UPPER"}}, {}, {422}),
        ("POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a/b"}}, {}, {422}),
        ("POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, {}, {422}),
        ("POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": "nope"}, {}, {400}),
        ("POST", base, {"apiVersion": 7, "kind": "ConfigMap", "metadata": {"name": "x"}}, {}, {400}),
        ("POST", base, {"metadata": {"name": "x", "namespace": "other"}}, {}, {400}),
        ("POST", base, GOOD, {}, {409}),
        ("POST", f"/api/v1/namespaces/{ns}/nosuchthings", GOOD, {}, {404}),
        ("POST", "/apis/nope.example/v1/things", GOOD, {}, {404}),
        ("PUT", f"{base}/good", {**GOOD, "metadata": {"name": "other"}}, {}, {400}),
        ("PUT", f"{base}/good", {**GOOD, "metadata": {"name": "good", "resourceVersion": "1"}}, {}, {409}),
        ("PUT", f"{base}/missing", {**GOOD, "metadata": {"name": "missing"}}, {}, {404}),
        ("PATCH", f"{base}/good", b'{"data":', {"Content-Type": "application/merge-patch+json"}, {400}),
        ("PATCH", f"{base}/good", b'{"data":{}}', {"Content-Type": "text/plain"}, {415}),
        ("PATCH", f"{base}/good", b'[{"op":"replace","path":"/data/none","value":"x"}]',
         {"Content-Type": "application/json-patch+json"}, {422}),
        ("PATCH", f"{base}/good", b'[{"op":"bogus"}]', {"Content-Type": "application/json-patch+json"}, {400, 422}),
        ("PATCH", f"{base}/good", b'{"op":"add"}', {"Content-Type": "application/json-patch+json"}, {400}),
        ("PATCH", f"{base}/good", b'{"metadata":{"resourceVersion":"1"}}',
         {"Content-Type": "application/merge-patch+json"}, {409}),
        ("PATCH", f"{base}/good", b'{"data":{"k":"w"}}', {"Content-Type": "application/apply-patch+yaml"}, {400}),
        ("PATCH", f"{base}/good", b'{"metadata":{"name":"renamed"}}',
         {"Content-Type": "application/merge-patch+json"}, {422}),
        ("PATCH", f"{base}/good", b'{"data":{"k":5}}', {"Content-Type": "application/merge-patch+json"}, {400, 422}),
        ("DELETE", f"{base}/missing", None, {}, {404}),
        ("DELETE", f"{base}/good", {"preconditions": {"uid": "not-the-uid"}}, {}, {409}),
        ("DELETE", f"{base}/good", {"propagationPolicy": "Sideways"}, {}, {422}),
        ("DELETE", f"{base}/good", b"{garbage", {"Content-Type": "application/json"}, {400}),
        ("GET", f"{base}?labelSelector=a%20in%20(", None, {}, {400}),
        ("GET", f"{base}?fieldSelector=data.k%3Dv", None, {}, {400}),
        ("GET", f"{base}?limit=abc", None, {}, {400}),
        ("GET", f"{base}?continue=%%%%", None, {}, {400}),
        ("GET", f"{base}?watch=true&resourceVersion=abc", None, {}, {400}),
        ("GET", f"{base}/good/nosub", None, {}, {404}),
        ("GET", f"{base}/good/status", None, {}, {404}),
        ("PUT", base, GOOD, {}, {405}),
        ("PATCH", base, b"{}", {"Content-Type": "application/merge-patch+json"}, {405}),
        ("POST", f"{base}/good", GOOD, {}, {404, 405}),
        ("DELETE", "/api/v1/namespaces/default", None, {}, {403}),
        ("GET", "/no/such/path", None, {}, {404}),
        ("POST", f"{dep}", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                            "spec": {"replicas": -1}}, {}, {422}),
        ("PATCH", f"{dep}/nope/scale", b'{"spec":{"replicas":2}}', {"Content-Type": "application/merge-patch+json"},
         {404}),
        ("POST", base, b"x" * (3 * 1024 * 1024 + 10), {"Content-Type": "application/json"}, {413}),
        ("POST", f"/api/v1/namespaces/{ns}/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                                   "spec": {"containers": []}}, {}, {422}),
    ]
    for i in range(150):  # random junk bodies and paths
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        method = rng.choice(["POST", "PUT", "PATCH"])
        path = rng.choice([base, f"{base}/good", f"{base}/junk{i}", dep])
        ctype = rng.choice(["application/json", "application/yaml", "application/merge-patch+json",
                            "application/strategic-merge-patch+json", "application/vnd.kubernetes.protobuf"])
        cases.append((method, path, junk, {"Content-Type": ctype}, {400, 404, 405, 409, 415, 422}))
    for i in range(60):  # structurally plausible, semantically wrong objects
        body = {"apiVersion": rng.choice(["v1", "apps/v1", "v2", ""]), "kind": rng.choice(["ConfigMap", "Pod", "", 3]),
                "metadata": rng.choice([{"name": f"r{i}"}, {"name": ""}, {"name": "-bad-"}, {"generateName": 5},
                                        {"name": f"r{i}", "labels": {"bad key!": "v"}}]),
                "data": rng.choice([{"k": "v"}, {"k": 1}, "str", None])}
        cases.append(("POST", base, body, {}, {201, 400, 409, 422}))
    return cases


def test_malformed_requests_leave_store_intact(fresh_lab, lab_factory):
    lab = fresh_lab
    ns = lab.namespace("fuzz")
    code, _ = lab.raw("POST", f"/api/v1/namespaces/{ns}/configmaps", GOOD)
    assert code == 201
    rng = random.Random(1234)
    cases = _cases(ns, rng)
    assert len(cases) >= 250
    for method, path, body, headers, expected in cases:
        code, raw = lab.raw(method, path, body, headers=headers)
        assert code in expected, (method, path, str(body)[:80], code, raw[:300])
        if code >= 400:
            status = json.loads(raw)
            assert status["kind"] == "Status" and status["status"] == "Failure" and status["code"] == code
            assert status["message"] and status["reason"]
    # concurrent writers on one object: each write either wins or gets a real 409 Conflict
    results: list[int] = []
    code, raw = lab.raw("GET", f"/api/v1/namespaces/{ns}/configmaps/good")
    rv = json.loads(raw)["metadata"]["resourceVersion"]

    def writer(i: int) -> None:
        body = {**GOOD, "metadata": {"name": "good", "resourceVersion": rv}, "data": {"k": f"w{i}"}}
        c, r = lab.raw("PUT", f"/api/v1/namespaces/{ns}/configmaps/good", body)
        results.append(c)
        if c == 409:
            assert "the object has been modified" in json.loads(r)["message"]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(200) == 1 and results.count(409) == 7
    before = _snapshot(lab)
    assert lab.raw("GET", "/readyz")[0] == 200
    lifecycle.kill(lab.home, "prod")
    lab2 = lab_factory(lab.home.root)
    after = _snapshot(lab2)
    assert {k: v for k, v in after.items() if k in before} == before
