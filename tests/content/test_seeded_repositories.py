"""The seeded course repositories: Helm lint, rendering, the course's ports, names and images."""
from __future__ import annotations

import re
from pathlib import Path

import helm_python
import pytest

from gitopslab.argocd.helm import ChartRenderError, render_chart
from gitopslab.content import seed
from gitopslab.home import Home
from gitopslab.registry.store import ImageStore

COURSE = Path("/work/shared/seed/cours-argocd.md")
CHART_REPO = "nzapanarcisse/datascientest-chart"
APP_REPO = "nzapanarcisse/argocd-datascientest"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """Both repositories as committed (dotfiles restored)."""
    root = tmp_path_factory.mktemp("repos")
    for name in seed.repo_names():
        seed.write_files(seed.repo_files(name), root / name)
    return root


@pytest.fixture
def seeded_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPSLAB_HOME", str(tmp_path / "home"))
    home = Home(tmp_path / "home").ensure()
    seed.seed_once(home)
    return home


@pytest.mark.parametrize("chart", ["odoo", "webapp/webapp-chart"])
def test_charts_pass_helm_lint(checkout, chart):
    report = helm_python.lint(checkout / CHART_REPO / chart, strict=True)
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == []


def _by_kind(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_odoo_chart(checkout):
    chart = checkout / CHART_REPO / "odoo"
    objects = _by_kind(render_chart(chart, "odoo", "odoo", {}, [("namespace.create", "true", False)], []))
    assert ("Namespace", "odoo") in objects
    assert objects[("Service", "odoo")]["spec"]["ports"][0]["nodePort"] == 30089
    assert "odoo-password" in objects[("Secret", "odoo")]["data"]
    images = [c["image"] for o in objects.values() if o["kind"] in ("Deployment", "StatefulSet")
              for c in o["spec"]["template"]["spec"]["containers"]]
    assert sorted(images) == ["odoo:18", "postgres:16"]
    without = _by_kind(render_chart(chart, "odoo", "odoo", {}, [], []))
    assert ("Namespace", "odoo") not in without
    # The derived password is stable, so Argo CD does not see a change at each refresh.
    assert without[("Secret", "odoo")]["data"] == objects[("Secret", "odoo")]["data"]


def test_webapp_chart_and_the_ci_sed(checkout, tmp_path):
    chart = checkout / CHART_REPO / "webapp" / "webapp-chart"
    objects = _by_kind(render_chart(chart, "webapp", "webapp", {}, [], []))
    assert objects[("Service", "webapp")]["spec"]["ports"][0]["nodePort"] == 30000
    container = objects[("Deployment", "webapp")]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "datascientestuser/webapp:1.0.0"
    values = (chart / "values.yaml").read_text()
    assert len(re.findall(r"(?m)^  tag: .*", values)) == 1
    copy = tmp_path / "webapp-chart"
    seed.write_files({p.relative_to(chart).as_posix(): p.read_bytes() for p in chart.rglob("*") if p.is_file()}, copy)
    (copy / "values.yaml").write_text(re.sub(r"(?m)^  tag: .*", '  tag: "abc1234"', values))
    bumped = _by_kind(render_chart(copy, "webapp", "webapp", {}, [], []))
    assert bumped[("Deployment", "webapp")]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "datascientestuser/webapp:abc1234"


def test_webapp_manifests(checkout):
    import yaml

    folder = checkout / CHART_REPO / "webapp" / "webapp-manifest"
    assert sorted(p.name for p in folder.iterdir()) == ["deployment.yaml", "service.yaml"]
    service = yaml.safe_load((folder / "service.yaml").read_text())
    assert service["spec"]["type"] == "NodePort" and service["spec"]["ports"][0]["nodePort"] == 30001


def test_application_repository(checkout):
    app = checkout / APP_REPO
    assert "Dimension" in (app / "app/static-website-example/index.html").read_text()
    assert (app / "app/Dockerfile").read_text().count("FROM nginx") == 1
    if COURSE.exists():
        text = COURSE.read_text()
        workflow = (app / ".github/workflows/cicd-pipeline.yml").read_text()
        assert _as_in_the_course(workflow).strip() in text


def _as_in_the_course(workflow: str) -> str:
    """Our pipeline without its one documented change: the quotes around the new tag (and their comment)."""
    lines = workflow.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "Seul écart avec le cours" in line)
    del lines[start:start + 3]
    return "".join(lines).replace('tag: \\"${{needs.build.outputs.image_tag}}\\"/',
                                  "tag: ${{needs.build.outputs.image_tag}}/")


def _ci_sed_step(checkout) -> str:
    """The script of the pipeline step that writes the new tag into values.yaml."""
    import yaml

    workflow = yaml.safe_load((checkout / APP_REPO / ".github/workflows/cicd-pipeline.yml").read_text())
    steps = workflow["jobs"]["trigger-argocd-sync"]["steps"]
    return next(s["run"] for s in steps if "sed -i" in s.get("run", ""))


@pytest.mark.parametrize("tag", ["abc1234", "9815053", "0123456", "1234e56", "0123489"])
def test_the_ci_sed_keeps_any_short_sha_a_string(checkout, tmp_path, tag):
    """A short SHA made of digits stays a string for Helm (unquoted, 9815053 renders as 9.815053e+06)."""
    import subprocess

    chart = checkout / CHART_REPO / "webapp" / "webapp-chart"
    work = tmp_path / "gitops"
    seed.write_files({f"webapp/webapp-chart/{p.relative_to(chart).as_posix()}": p.read_bytes()
                      for p in chart.rglob("*") if p.is_file()}, work)
    script = _ci_sed_step(checkout).replace("${{needs.build.outputs.image_tag}}", tag)
    subprocess.run(["bash", "-e", "-c", script], cwd=work, check=True)
    objects = _by_kind(render_chart(work / "webapp/webapp-chart", "webapp", "webapp", {}, [], []))
    deployment = objects[("Deployment", "webapp")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"datascientestuser/webapp:{tag}"
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == tag


def test_an_unquoted_numeric_tag_is_a_number_for_helm(checkout, tmp_path):
    """Why the pipeline quotes the tag: real Helm reads 9815053 as a float."""
    chart = checkout / CHART_REPO / "webapp" / "webapp-chart"
    copy = tmp_path / "webapp-chart"
    seed.write_files({p.relative_to(chart).as_posix(): p.read_bytes() for p in chart.rglob("*") if p.is_file()}, copy)
    values = (copy / "values.yaml").read_text()
    (copy / "values.yaml").write_text(re.sub(r"(?m)^  tag: .*", "  tag: 9815053", values))
    objects = _by_kind(render_chart(copy, "webapp", "webapp", {}, [], []))
    assert objects[("Deployment", "webapp")]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "datascientestuser/webapp:9.815053e+06"


def test_seeded_images_are_pullable(seeded_home, checkout):
    store = ImageStore(seeded_home)
    webapp = store.resolve("datascientestuser/webapp:1.0.0")
    assert webapp is not None and webapp.base == "nginx"
    assert "Dimension" in (webapp.rootfs / "usr/share/nginx/html/index.html").read_text()
    for ref in ("odoo:18", "postgres:16"):
        assert store.resolve(ref) is not None
    assert store.local_tags() == {}  # pushed by the course's authors, not built by the learner


def test_render_inputs_and_errors(checkout, tmp_path):
    chart = checkout / CHART_REPO / "webapp" / "webapp-chart"
    (tmp_path / "prod.yaml").write_text("replicaCount: 3\nimage:\n  tag: from-file\n")
    objects = _by_kind(render_chart(chart, "webapp", "w", {"image": {"tag": "from-values"}},
                                    [("service.nodePort", "30123", False), ("image.tag", "007", True)],
                                    [str(tmp_path / "prod.yaml")]))
    deployment = objects[("Deployment", "webapp")]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":007")
    assert objects[("Service", "webapp")]["spec"]["ports"][0]["nodePort"] == 30123
    first = render_chart(chart, "webapp", "w", {}, [], [])
    first[0]["metadata"]["name"] = "mutated"
    assert render_chart(chart, "webapp", "w", {}, [], [])[0]["metadata"]["name"] != "mutated"
    with pytest.raises(ChartRenderError, match="no such file or directory"):
        render_chart(chart, "webapp", "w", {}, [], ["missing.yaml"])
    broken = tmp_path / "broken"
    seed.write_files({"Chart.yaml": b"apiVersion: v2\nname: broken\nversion: 0.1.0\n",
                      "templates/x.yaml": b"{{ .Values.nope.deeper }}\n"}, broken)
    with pytest.raises(ChartRenderError):
        render_chart(broken, "b", "b", {}, [], [])
