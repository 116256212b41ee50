"""Pure parts of the notifications controller, table-driven from YAML fixtures.

expr conditions, the Go template engine, trigger runs with the dedup state
(false→true, oncePer), the annotation format and its 100-entry cap,
subscriptions (annotations, YAML annotation, config), the config parser with
``$secret`` references, and notification rendering of the catalog templates.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from gitopslab.argocd import gotime
from gitopslab.argocd.notifications import dispatch, expr, subscriptions, variables
from gitopslab.argocd.notifications.config import ConfigError, parse_config
from gitopslab.argocd.gotemplate import TemplateError, render
from gitopslab.argocd.notifications.state import ANNOTATION, NotificationsState
from gitopslab.argocd.notifications.subscriptions import Destination
from gitopslab.argocd.notifications.triggers import Condition, Triggers

FIXTURES = Path(__file__).parent / "fixtures"


def _cases(name: str) -> list[dict]:
    return yaml.safe_load((FIXTURES / name).read_text())


def _ids(cases):
    return [c["name"] for c in cases]


EXPR = _cases("expr.yaml")
TEMPLATES = _cases("gotemplate.yaml")
TRIGGERS = _cases("triggers.yaml")


@pytest.mark.parametrize("case", EXPR, ids=_ids(EXPR))
def test_expr(case):
    env = {**case["env"], "time": gotime.helpers()}
    if "error" in case:
        with pytest.raises(expr.ExprError) as err:
            expr.run(case["expr"], env)
        assert case["error"] in str(err.value)
    else:
        assert expr.run(case["expr"], env) == case["expect"]


def _fake_commit(url, sha, project):
    return {"message": f"feat: titre ({sha})", "author": "Jane <jane@example.com>", "date": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize("case", TEMPLATES, ids=_ids(TEMPLATES))
def test_gotemplate(case):
    app = {**(case["data"] or {}).get("app", {}), "spec": {"source": {"repoURL": "u"}, "project": "p"}}
    data = {"time": gotime.helpers(), "strings": variables.strings_helpers(),
            "repo": variables.repo_helpers(app, _fake_commit), **(case["data"] or {})}
    if "error" in case:
        with pytest.raises(TemplateError) as err:
            render(case["template"], data, name="t")
        assert case["error"] in str(err.value)
    else:
        assert render(case["template"], data, name="t") == case["expect"]


def _key0(when: str) -> str:
    return "[0]." + base64.urlsafe_b64encode(hashlib.sha1(when.encode()).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("case", TRIGGERS, ids=_ids(TRIGGERS))
def test_trigger_runs_and_dedup_state(case):
    triggers = Triggers({name: [Condition.from_dict(c) for c in conds] for name, conds in case["trigger"].items()})
    when = next(iter(case["trigger"].values()))[0]["when"]
    destinations = {t: [Destination(*d.split(":", 1)) for d in ds] for t, ds in case["destinations"].items()}
    annotations: dict = {}
    for i, step in enumerate(case["steps"]):
        state = NotificationsState.from_annotations(annotations)
        work = dispatch.plan(triggers, destinations, {"app": step["app"], "time": gotime.helpers()}, state, now=i)
        sent = [f"{d.trigger}:{d.destination.service}:{d.destination.recipient}" for d in work.to_send]
        assert sent == step["sent"], f"step {i}"
        annotations = state.annotations(annotations)
        keys = sorted(json.loads(annotations.get(ANNOTATION, "{}")))
        assert keys == sorted(k.replace("KEY0", _key0(when)) for k in step["keys"]), f"step {i}"
        assert work.errors == step.get("errors", []), f"step {i}"


def test_failed_delivery_is_retried_unless_once_per():
    once = Triggers({"t": [Condition("true", ("x",), "app.rev")]})
    plain = Triggers({"t": [Condition("true", ("x",))]})
    dest = {"t": [Destination("slack", "#c")]}
    for triggers, retried in ((plain, True), (once, False)):
        state = NotificationsState()
        first = dispatch.plan(triggers, dest, {"app": {"rev": "r1"}}, state)
        assert len(first.to_send) == 1
        dispatch.forget(state, first.to_send[0])
        again = dispatch.plan(triggers, dest, {"app": {"rev": "r1"}}, state)
        assert len(again.to_send) == (1 if retried else 0)


def test_state_annotation_keeps_the_100_newest_entries():
    state = NotificationsState({f"k{i:03d}": 1000 + i for i in range(130)})
    annotations = state.annotations({"other": "x"})
    kept = json.loads(annotations[ANNOTATION])
    assert len(kept) == 100 and min(kept.values()) == 1030 and annotations["other"] == "x"
    assert annotations[ANNOTATION] == json.dumps(kept, separators=(",", ":"), sort_keys=True)
    assert ANNOTATION not in NotificationsState().annotations({ANNOTATION: "{}", "other": "x"})
    assert NotificationsState.from_annotations({ANNOTATION: "not json"}) == {}


def test_subscriptions_from_annotations():
    annotations = {
        "notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "#a; #b",
        "notifications.argoproj.io/subscribe.on-sync-failed.webhook": "",
        "notifications.argoproj.io/subscribe.slack": "#defaut",
        "notifications.argoproj.io/subscriptions": yaml.safe_dump([
            {"trigger": ["on-health-degraded"], "destinations": [{"service": "slack", "recipients": ["#c"]}]}]),
        "unrelated": "x",
    }
    dests, problems = subscriptions.from_annotations(annotations, ["on-deployed"], {})
    assert problems == []
    assert dests == {
        "on-sync-succeeded": [Destination("slack", "#a"), Destination("slack", "#b")],
        "on-sync-failed": [Destination("webhook", "")],
        "on-deployed": [Destination("slack", "#defaut")],
        "on-health-degraded": [Destination("slack", "#c")],
    }
    by_service, _ = subscriptions.from_annotations({"notifications.argoproj.io/subscribe.slack": "#d"},
                                                   ["on-deployed"], {"slack": ["on-sync-failed"]})
    assert by_service == {"on-sync-failed": [Destination("slack", "#d")]}
    assert str(Destination("slack", "#a")) == "{slack #a}"


def test_global_subscriptions_match_labels():
    subs = subscriptions.parse_default_subscriptions([
        {"recipients": ["slack:#prod"], "triggers": ["on-sync-failed"], "selector": "env=prod"},
        {"recipients": ["slack:#tout"]}])
    dests = subscriptions.global_destinations(subs, ["on-deployed"], {"env": "prod"})
    assert dests == {"on-sync-failed": [Destination("slack", "#prod")], "on-deployed": [Destination("slack", "#tout")]}
    assert subscriptions.global_destinations(subs, ["on-deployed"], {"env": "dev"}) == {
        "on-deployed": [Destination("slack", "#tout")]}
    merged = subscriptions.merge(dests, {"on-deployed": [Destination("slack", "#tout"), Destination("x", "")]})
    assert merged["on-deployed"] == [Destination("slack", "#tout"), Destination("x", "")]


def _configmap(data):
    return {"metadata": {"name": "argocd-notifications-cm", "namespace": "argocd"}, "data": data}


def test_config_services_secrets_triggers_templates():
    secret = {"data": {"slack-token": base64.b64encode(b"xoxb-123").decode()}, "stringData": {"pw": "s3"}}
    cfg = parse_config(_configmap({
        "service.slack": "token: $slack-token\napiURL: http://127.0.0.1:1/api/\n",
        "service.webhook.github": "url: https://api.github.com\nbasicAuth:\n  username: u\n  password: $pw\n"
                                  "headers:\n- name: X\n  value: $missing\n",
        "trigger.on-x": "- when: 'true'\n  send: [t]\n",
        "template.t": "message: hi {{.app.metadata.name}}\n",
        "defaultTriggers": "- on-x\n",
        "defaultTriggers.slack": "- on-x\n",
        "context": "argocdUrl: https://argocd.lab\n",
    }), secret)
    assert cfg.services["slack"].type == "slack" and cfg.services["slack"].options["token"] == "xoxb-123"
    assert cfg.services["github"].type == "webhook"
    assert cfg.services["github"].options["basicAuth"]["password"] == "s3"
    assert cfg.services["github"].options["headers"][0]["value"] == "$missing"
    assert cfg.warnings == ["config referenced '$missing', but key does not exist in secret"]
    assert cfg.default_triggers == ["on-x"] and cfg.service_default_triggers == {"slack": ["on-x"]}
    assert cfg.context == {"argocdUrl": "https://argocd.lab"}
    assert cfg.templates.format({"app": {"metadata": {"name": "w"}}}, ["t"]).message == "hi w"
    with pytest.raises(ConfigError, match="invalid service key"):
        parse_config(_configmap({"service.a.b.c": "x: 1"}), None)
    with pytest.raises(ConfigError, match="unexpected token"):
        parse_config(_configmap({"trigger.bad": "- when: 'a =='\n  send: [t]\n"}), None)
    with pytest.raises(ConfigError, match="unclosed action"):
        parse_config(_configmap({"template.bad": "message: '{{.x'\n"}), None)


def test_catalog_templates_render_for_slack():
    from gitopslab.lab.notifications import CATALOG_TEMPLATES, CATALOG_TRIGGERS, _literal_yaml

    data = {f"template.{k}": _literal_yaml(v) for k, v in CATALOG_TEMPLATES.items()}
    data.update({f"trigger.{k}": _literal_yaml(v) for k, v in CATALOG_TRIGGERS.items()})
    data["context"] = "argocdUrl: https://argocd.example.com\n"
    cfg = parse_config(_configmap(data), None)
    app = {"metadata": {"name": "webapp"},
           "spec": {"source": {"repoURL": "https://github.com/o/r.git"}, "project": "default"},
           "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"},
                      "operationState": {"phase": "Succeeded", "finishedAt": "2024-01-01T10:00:00Z"},
                      "conditions": [{"type": "SyncError", "message": "bad thing"}]}}
    env = variables.build(app, context=cfg.context, secrets={}, app_project=None, service="slack",
                          recipient="#deployments")
    note = cfg.templates.format(env, ["app-sync-succeeded"])
    assert note.message == (":white_check_mark: Application webapp has been successfully synced at "
                            "2024-01-01T10:00:00Z.\nSync operation details are available at: "
                            "https://argocd.example.com/applications/webapp?operation=true .\n")
    attachments = json.loads(note.slack["attachments"])
    assert attachments[0]["title_link"] == "https://argocd.example.com/applications/webapp"
    assert attachments[0]["fields"][:2] == [
        {"title": "Sync Status", "value": "Synced", "short": True},
        {"title": "Repository", "value": ":arrow_heading_up: https://github.com/o/r.git", "short": True}]
    assert attachments[0]["fields"][2] == {"title": "SyncError", "value": "bad thing", "short": True}
    webhook_env = variables.build(app, context=cfg.context, secrets={}, app_project=None, service="webhook",
                                  recipient="")
    assert cfg.templates.format(webhook_env, ["app-sync-succeeded"]).message.startswith(" Application webapp")


def test_repo_helpers():
    assert variables.repo_url_to_https("git@github.com:org/repo.git") == "https://github.com/org/repo.git"
    assert variables.repo_url_to_https("https://user:pw@example.com:8443/a/b") == "https://example.com:8443/a/b"
    assert variables.full_name_by_repo_url("ssh://git@github.com/org/repo.git") == "org/repo"
    assert variables.query_escape("a b/c&d") == "a+b%2Fc%26d"


def test_go_time_and_durations():
    t = gotime.parse_rfc3339("2024-03-05T08:09:10.5+02:00")
    assert str(t) == "2024-03-05 08:09:10.5 +0200 +02"
    assert str(t.UTC()) == "2024-03-05 06:09:10.5 +0000 UTC"
    assert t.Format(gotime.helpers()["RFC3339"]) == "2024-03-05T08:09:10+02:00"
    assert t.Add(gotime.MINUTE * 90).Format("15:04:05.000") == "09:39:10.500"
    assert [str(gotime.Duration(n)) for n in (0, 1500, 1_500_000_000, 3_723_000_000_000)] == \
        ["0s", "1.5µs", "1.5s", "1h2m3s"]
    with pytest.raises(gotime.TimeError):
        gotime.parse_rfc3339("2024-03-05 08:09:10")
