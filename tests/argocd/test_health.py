"""Resource and application health against upstream fixtures and our own table.

Matrix:
* every row of shared/reference/conformance/expected.tsv (gitops-engine and
  argo-cd engines); where both engines have a row for the same fixture and
  disagree, we implement Argo CD 3.x (in-tree) and the gitops-engine row is
  asserted to be superseded by the argo-cd expectation;
* fixtures/health_cases.yaml: inline objects for rules the upstream fixtures
  do not cover (ReplicaSet, Workflow, CronJob, Pod edge cases, GVK errors...);
* is_worse ordering and application aggregation (Argo CD 3.4+ rules).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gitopslab.argocd import health
from gitopslab.argocd.health import ManagedResource, aggregate_app_health

from .yamlload import load

CONFORMANCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "conformance"
CASES = Path(__file__).resolve().parent / "fixtures" / "health_cases.yaml"


def _conformance_rows() -> list[dict]:
    with open(CONFORMANCE / "expected.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    in_tree = {}
    for row in rows:
        if row["engine"] == "argo-cd":
            in_tree[row["fixture"]] = row
    for row in rows:
        row["expected_message"] = row["expected_message"].replace("\\n", "\n")
        superseding = in_tree.get(row["fixture"]) if row["engine"] == "gitops-engine" else None
        if superseding and _expected(superseding) != _expected(row):
            row["superseded_by"] = superseding
    return rows


def _expected(row: dict) -> tuple[str, str]:
    return row["expected_status"], row["expected_message"].replace("\\n", "\n")


def _row_id(row: dict) -> str:
    name = Path(row["fixture"]).stem
    suffix = "-superseded" if "superseded_by" in row else ""
    divergence = "-divergence" if row["status_basis"].startswith("derived only") else ""
    return f"{row['engine']}:{name}{divergence}{suffix}"


ROWS = _conformance_rows()


def test_conformance_data_is_complete():
    """Does the shared conformance table still hold the 103 documented rows?"""
    assert len(ROWS) == 103
    superseded = sorted(Path(r["fixture"]).stem for r in ROWS if "superseded_by" in r)
    # The documented divergences: Job suspended message, HPA condition order,
    # HPA v2beta1/v2beta2 no longer supported.
    assert superseded == [
        "hpa-v1-healthy",
        "hpa-v2beta1-healthy",
        "hpa-v2beta1-healthy-disabled",
        "hpa-v2beta2-healthy",
        "job-suspended",
    ]


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_conformance_fixture(row):
    """Does each upstream fixture get the status and message Argo CD 3.x gives?"""
    obj = load((CONFORMANCE / row["fixture"]).read_text())
    expected = row.get("superseded_by", row)
    result = health.resource_health(obj)
    if expected["expected_status"] == "(nil)":
        assert result is None
        return
    assert result is not None
    assert (result.status, result.message) == _expected(expected)


def _cases() -> list[dict]:
    return load(CASES.read_text())["cases"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_health_case(case):
    """Does each inline case of health_cases.yaml get its documented health?"""
    result = health.resource_health(case["input"])
    if case["expected"] is None:
        assert result is None
    else:
        assert result == health.HealthStatus(case["expected"]["status"], case["expected"].get("message", ""))


def test_custom_check_overrides_built_in_and_falls_through_on_none():
    """Is an argocd-cm customization consulted first, and ignored when it returns None?"""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"paused": True}}
    custom = health.HealthStatus(health.DEGRADED, "custom")
    assert health.resource_health(deployment, custom=lambda obj: custom) == custom
    assert health.resource_health(deployment, custom=lambda obj: None).status == health.SUSPENDED


@pytest.mark.parametrize(
    "current, new, worse",
    [
        ("Healthy", "Suspended", True),
        ("Suspended", "Progressing", True),
        ("Progressing", "Missing", True),
        ("Missing", "Degraded", True),
        ("Degraded", "Unknown", True),
        ("Unknown", "Healthy", False),
        ("Degraded", "Progressing", False),
        ("Healthy", "Healthy", False),
    ],
)
def test_is_worse(current, new, worse):
    assert health.is_worse(current, new) is worse


def _obj(kind, name, api_version="v1", annotations=None, **fields):
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": "demo", "annotations": annotations or {}}, **fields}


READY_POD = _obj("Pod", "ready", spec={"restartPolicy": "Always"},
                 status={"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})
PENDING_POD = _obj("Pod", "pending", spec={"restartPolicy": "Always"}, status={"phase": "Pending"})
FAILED_POD = _obj("Pod", "failed", spec={"restartPolicy": "Always"}, status={"phase": "Failed", "message": "boom"})
PAUSED = _obj("Deployment", "paused", "apps/v1", spec={"paused": True})
CONFIGMAP = _obj("ConfigMap", "cm")
UNKNOWN_HPA = _obj("HorizontalPodAutoscaler", "hpa", "autoscaling/v2beta1")


def _pair(obj, missing=False):
    return ManagedResource(target=obj, live=None if missing else obj)


AGGREGATE_CASES = {
    "no resources -> Healthy": ([], "Healthy"),
    "worst wins": ([_pair(READY_POD), _pair(PENDING_POD), _pair(PAUSED)], "Progressing"),
    "degraded beats progressing": ([_pair(PENDING_POD), _pair(FAILED_POD)], "Degraded"),
    "unknown is worst": ([_pair(FAILED_POD), _pair(UNKNOWN_HPA)], "Unknown"),
    "nil health skipped": ([_pair(CONFIGMAP)], "Healthy"),
    "one missing among live ones is ignored (3.4+)": ([_pair(READY_POD), _pair(PENDING_POD, missing=True)], "Healthy"),
    "all missing -> Missing": ([_pair(PENDING_POD, missing=True), _pair(CONFIGMAP, missing=True)], "Missing"),
    "a single missing resource -> Missing": ([_pair(FAILED_POD, missing=True)], "Missing"),
    "ignore-healthcheck annotation": (
        [_pair(READY_POD), _pair(_obj("Pod", "x", annotations={"argocd.argoproj.io/ignore-healthcheck": "true"},
                                      spec={"restartPolicy": "Always"}, status={"phase": "Failed"}))],
        "Healthy",
    ),
    "live hook skipped": (
        [_pair(READY_POD), _pair(_obj("Pod", "hook", annotations={"argocd.argoproj.io/hook": "PreSync"},
                                      spec={"restartPolicy": "Never"}, status={"phase": "Failed"}))],
        "Healthy",
    ),
    "only live hooks -> Healthy": (
        [ManagedResource(target=None, live=_obj("Job", "hook", "batch/v1",
                                                annotations={"argocd.argoproj.io/hook": "PostSync"}))],
        "Healthy",
    ),
    "missing resources beside a live hook -> Missing": (
        [_pair(READY_POD, missing=True),
         ManagedResource(target=None, live=_obj("Job", "hook", "batch/v1",
                                                annotations={"argocd.argoproj.io/hook": "PostSync"}))],
        "Missing",
    ),
    "Skip target skipped": (
        [_pair(READY_POD), _pair(_obj("Pod", "s", annotations={"argocd.argoproj.io/hook": "Skip"}), missing=True)],
        "Healthy",
    ),
    "helm test hook ignored": (
        [_pair(_obj("Pod", "t", annotations={"helm.sh/hook": "test"}, status={"phase": "Failed"}))],
        "Healthy",
    ),
    "pending deletion is progressing": (
        [_pair({**READY_POD, "metadata": {**READY_POD["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}})],
        "Progressing",
    ),
}


@pytest.mark.parametrize("case", AGGREGATE_CASES, ids=list(AGGREGATE_CASES))
def test_aggregate_app_health(case):
    resources, expected = AGGREGATE_CASES[case]
    assert aggregate_app_health(resources) == expected


def _app(name, health_status=None, namespace="argocd"):
    obj = _obj("Application", name, "argoproj.io/v1alpha1")
    obj["metadata"]["namespace"] = namespace
    if health_status:
        obj["status"] = {"health": {"status": health_status}}
    return obj


def test_child_app_missing_or_unknown_health_does_not_count():
    """With the app-of-apps customization, are child apps aggregated except Missing/Unknown?"""
    from gitopslab.argocd.health import application

    def with_custom(obj):
        return health.resource_health(obj, custom=application.health)

    degraded = [_pair(_app("child", "Degraded"))]
    missing = [_pair(_app("child", "Missing")), _pair(READY_POD)]
    assert aggregate_app_health(degraded, health_of=with_custom) == "Degraded"
    assert aggregate_app_health(missing, health_of=with_custom) == "Healthy"
    assert aggregate_app_health(degraded) == "Healthy"  # no built-in Application health


def test_app_managing_itself_is_not_counted():
    me = _app("root", "Degraded")
    from gitopslab.argocd.health import application

    def with_custom(obj):
        return health.resource_health(obj, custom=application.health)

    assert aggregate_app_health([_pair(me)], app=("argocd", "root"), health_of=with_custom) == "Healthy"
    assert aggregate_app_health([_pair(me)], app=("argocd", "other"), health_of=with_custom) == "Degraded"
