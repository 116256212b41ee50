"""Auto-sync, self-heal back-off, retries, history and rollback decisions (pure, Argo CD appcontroller rules).

Matrix: not OutOfSync / no policy / prune-only without prune → no op;
first auto-sync → full op with retry limit 5; same revision → selfHeal only,
with 0, 2, 6, 18 … 300 s back-off; failed attempt → SyncError message;
prune without allowEmpty and no targets → refusal; history only for full
successful syncs; rollback refused while automated.
"""
from datetime import datetime, timedelta, timezone

import pytest

from gitopslab.argocd import operation as op

NOW = datetime(2026, 11, 28, 15, 4, tzinfo=timezone.utc)
SRC = {"repoURL": "file:///r", "path": ".", "targetRevision": "HEAD"}


def app(automated=None, state=None, retry=None):
    spec = {"source": SRC, "syncPolicy": {}}
    if automated is not None:
        spec["syncPolicy"]["automated"] = automated
    if retry:
        spec["syncPolicy"]["retry"] = retry
    return {"metadata": {"name": "a"}, "spec": spec, "status": {"operationState": state} if state else {}}


OUT = {"status": "OutOfSync", "revision": "abc"}
RES = [{"kind": "Deployment", "name": "web", "namespace": "d", "group": "apps", "status": "OutOfSync"}]


def test_no_policy_or_synced_means_no_operation():
    assert op.auto_sync_decision(app(), OUT, RES, has_targets=True, now=NOW) == (None, "", 0.0)
    assert op.auto_sync_decision(app({}), {"status": "Synced"}, RES, has_targets=True, now=NOW)[0] is None
    assert op.auto_sync_decision(app({"enabled": False}), OUT, RES, has_targets=True, now=NOW)[0] is None


def test_first_auto_sync_uses_retry_limit_5():
    operation, cond, _ = op.auto_sync_decision(app({"prune": True}), OUT, RES, has_targets=True, now=NOW)
    assert cond == ""
    assert operation == {"sync": {"revision": "abc", "prune": True}, "initiatedBy": {"automated": True},
                         "retry": {"limit": 5}}


def test_prune_only_changes_are_skipped_without_prune():
    prune_only = [{"kind": "ConfigMap", "name": "x", "status": "OutOfSync", "requiresPruning": True}]
    assert op.auto_sync_decision(app({}), OUT, prune_only, has_targets=True, now=NOW)[0] is None


def test_wipe_out_refused():
    _, cond, _ = op.auto_sync_decision(app({"prune": True}), OUT, RES, has_targets=False, now=NOW)
    assert cond == "Skipping sync attempt to abc: auto-sync will wipe out all resources"


def done(phase="Succeeded", finished=NOW, attempts=0, message="successfully synced (all tasks run)"):
    sync = {"revision": "abc"}
    if attempts:
        sync["selfHealAttemptsCount"] = attempts
    return {"phase": phase, "message": message, "finishedAt": op.now_text(finished),
            "operation": {"sync": sync}, "syncResult": {"revision": "abc", "source": SRC}}


def test_same_revision_needs_self_heal():
    assert op.auto_sync_decision(app({}, done()), OUT, RES, has_targets=True, now=NOW)[0] is None
    operation, _, _ = op.auto_sync_decision(app({"selfHeal": True}, done()), OUT, RES, has_targets=True, now=NOW)
    assert operation["sync"]["resources"] == [{"group": "apps", "kind": "Deployment", "name": "web", "namespace": "d"}]
    assert operation["sync"]["selfHealAttemptsCount"] == 1


@pytest.mark.parametrize("attempts,delay", [(0, 0), (1, 2), (2, 6), (3, 18), (4, 54), (5, 162), (6, 300), (9, 300)])
def test_self_heal_backoff(attempts, delay):
    assert op.self_heal_delay(attempts) == delay


def test_self_heal_waits_for_backoff():
    state = done(attempts=2, finished=NOW - timedelta(seconds=1))
    operation, _, wait = op.auto_sync_decision(app({"selfHeal": True}, state), OUT, RES, has_targets=True, now=NOW)
    assert operation is None and wait == pytest.approx(5.0)


def test_failed_attempt_becomes_sync_error():
    state = done("Failed", message="one or more objects failed to apply")
    _, cond, _ = op.auto_sync_decision(app({"selfHeal": True}, state), OUT, RES, has_targets=True, now=NOW)
    assert cond == "Failed last sync attempt to abc: one or more objects failed to apply"


def test_retry_backoff_and_message():
    assert [op.retry_delay(None, n) for n in range(7)] == [5, 10, 20, 40, 80, 160, 180]
    assert op.retry_delay({"backoff": {"duration": "1s", "factor": 3, "maxDuration": "10s"}}, 3) == 10
    message = op.retry_message("one or more objects failed to apply", 2, NOW)
    assert message.startswith("one or more objects failed to apply. Retrying attempt #2 at ")
    assert message.endswith("M.")


def test_history_only_for_full_successful_syncs():
    assert op.records_history({"sync": {}}, "Succeeded")
    assert not op.records_history({"sync": {"resources": [{"kind": "X"}]}}, "Succeeded")
    assert not op.records_history({"sync": {"dryRun": True}}, "Succeeded")
    assert not op.records_history({"sync": {}}, "Failed")
    history = []
    for i in range(12):
        history = op.append_history(history, op.history_entry(history, f"r{i}", SRC, "s", "f", {}), None)
    assert len(history) == 10 and history[0]["id"] == 2 and history[-1]["id"] == 11


def test_rollback():
    a = app({"prune": True})
    with pytest.raises(ValueError, match="rollback cannot be initiated when auto-sync is enabled"):
        op.rollback_operation(a, 0)
    b = app()
    b["status"]["history"] = [{"id": 0, "revision": "r0", "source": SRC}]
    assert op.rollback_operation(b, 0)["sync"]["revision"] == "r0"
