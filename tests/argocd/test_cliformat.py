"""What the argocd CLI prints (pure): Go tabwriter, Go durations, list/history/get tables."""
from datetime import timezone

import pytest

from gitopslab.argocd import cliformat as fmt


@pytest.mark.parametrize("text, expected", [
    ("a\tbb\tc\nddd\te\tf\n", "a    bb  c\nddd  e   f\n"),
    # a line without tabs ends the column blocks; the last cell is never padded
    ("SOURCE\turl\nID\tDATE\tREV\n0\tx\ty\n\nSOURCE\tu2\n", "SOURCE  url\nID      DATE  REV\n0       x     y\n\nSOURCE  u2\n"),
    ("k\t\tv\n", "k    v\n"),
])
def test_tabwriter(text, expected):
    assert fmt.tabwrite(text) == expected


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (5, "5s"), (65, "1m5s"), (3600, "1h0m0s"), (3723, "1h2m3s")])
def test_go_duration(seconds, text):
    assert fmt.go_duration(seconds) == text


def _app(**status):
    return {"metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {"project": "default", "destination": {"server": "https://kubernetes.default.svc",
                                                           "namespace": "default"},
                     "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                                "path": "guestbook", "targetRevision": "HEAD"},
                     "syncPolicy": {"automated": {"prune": True}}},
            "status": status}


def test_app_list_wide():
    app = _app(sync={"status": "Synced", "revision": "a" * 40}, health={"status": "Healthy"},
               conditions=[{"type": "SyncError"}, {"type": "SyncError"}, {"type": "ComparisonError"}])
    lines = fmt.app_list_table([app]).splitlines()
    assert lines[0] == ("NAME              CLUSTER                         NAMESPACE  PROJECT  STATUS  HEALTH   "
                        "SYNCPOLICY  CONDITIONS                    REPO                                        "
                        "         PATH       TARGET")
    assert lines[1].split() == ["argocd/guestbook", "https://kubernetes.default.svc", "default", "default", "Synced",
                                "Healthy", "Auto-Prune", "ComparisonError,SyncError(2)",
                                "https://github.com/argoproj/argocd-example-apps.git", "guestbook", "HEAD"]


def test_app_summary_and_resources():
    app = _app(sync={"status": "OutOfSync", "revision": "0123456789abcdef0123456789abcdef01234567"},
               health={"status": "Missing"},
               resources=[{"version": "v1", "kind": "Service", "namespace": "default", "name": "ui",
                           "status": "OutOfSync"}])
    text = fmt.app_get(app, "https://argocd.example.com/applications/guestbook",
                       {("", "Service", "default", "ui"): "Missing"})
    assert "Sync Status:        OutOfSync from HEAD (0123456)\n" in text
    assert "Sync Policy:        Automated (Prune)\n" in text
    assert text.endswith("GROUP  KIND     NAMESPACE  NAME  STATUS     HEALTH   HOOK  MESSAGE\n"
                         "       Service  default    ui    OutOfSync  Missing        \n")


def test_history_and_find():
    history = [{"id": 0, "revision": "a" * 40, "deployedAt": "2026-01-02T03:04:05Z",
                "source": {"repoURL": "https://r", "targetRevision": "HEAD"}},
               {"id": 1, "revision": "b" * 40, "deployedAt": "2026-01-02T03:05:05Z",
                "source": {"repoURL": "https://r", "targetRevision": "HEAD"}}]
    text = fmt.history_table(history)
    date = fmt.go_time("2026-01-02T03:04:05Z")
    assert text.splitlines()[0] == "SOURCE  https://r"
    assert text.splitlines()[2] == f"0       {date}  HEAD (aaaaaaa)"
    app = {"metadata": {"name": "g"}, "status": {"history": history}}
    assert fmt.find_history(app, -1)["id"] == 0
    with pytest.raises(ValueError, match="application 'g' does not have deployment id '7' in history"):
        fmt.find_history(app, 7)


def test_go_time_utc():
    assert fmt.go_time("2026-01-02T03:04:05Z", tz=timezone.utc) == "2026-01-02 03:04:05 +0000 UTC"
    assert fmt.go_time(None) == "<nil>"
