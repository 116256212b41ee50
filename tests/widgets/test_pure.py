"""Pure parts of the widgets: the NEW APP form's checks and manifest, tile rows, tree labels, diff colours."""
from __future__ import annotations

from gitopslab.widgets.newapp import NewApp, manifest_of, parse_helm_parameters, validation_errors
from gitopslab.widgets.resourcetree import diff_html, node_label
from gitopslab.widgets.text import relative_fr
from gitopslab.widgets.tiles import tile_fields
from gitopslab.lab.tree import TreeNode

FILLED = NewApp(name="webapp", repo_url="https://github.com/o/r.git", path="webapp", namespace="webapp")


def test_every_required_field_left_empty_is_named_in_french():
    errors = validation_errors(NewApp(project=" ", cluster_url=""))
    assert errors == ["Le champ « Application Name » est obligatoire.",
                      "Le champ « Project Name » est obligatoire.",
                      "Le champ « Repository URL » est obligatoire.", "Le champ « Path » est obligatoire.",
                      "Le champ « Cluster URL » est obligatoire."]
    assert validation_errors(FILLED) == []


def test_helm_parameters_are_name_value_lines():
    assert parse_helm_parameters("namespace.create=true\n\n image.tag = v2 \n") == (
        {"namespace.create": "true", "image.tag": "v2"}, [])
    params, errors = parse_helm_parameters("replicas")
    assert params == {} and errors == ["Paramètre Helm « replicas » invalide : écrivez nom=valeur "
                                       "(une ligne par paramètre)."]


def test_manifest_is_the_new_app_forms_application():
    values = NewApp(**{**FILLED.__dict__, "automatic": True, "self_heal": True, "create_namespace": True,
                       "helm_parameters": "namespace.create=true"})
    spec = manifest_of(values)["spec"]
    assert spec["syncPolicy"] == {"automated": {"prune": False, "selfHeal": True},
                                  "syncOptions": ["CreateNamespace=true"]}
    assert spec["source"] == {"repoURL": "https://github.com/o/r.git", "path": "webapp", "targetRevision": "HEAD",
                              "helm": {"parameters": [{"name": "namespace.create", "value": "true"}]}}
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "webapp"}
    manual = manifest_of(NewApp(**{**FILLED.__dict__, "prune": True, "self_heal": True}))["spec"]
    assert "syncPolicy" not in manual   # Manual: the ticks under Automatic do not apply


def test_tile_rows_are_the_uis():
    app = {"metadata": {"name": "webapp"},
           "spec": {"project": "default",
                    "source": {"repoURL": "file:///r.git", "path": "k8s", "targetRevision": "HEAD"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"}},
           "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Healthy"}}}
    rows = dict(tile_fields(app, {"https://kubernetes.default.svc": "in-cluster"}))
    assert rows == {"Project": "default", "Status": "Healthy OutOfSync", "Repository": "file:///r.git",
                    "Target Revision": "HEAD", "Path": "k8s", "Destination": "in-cluster", "Namespace": "web"}


def test_node_label_and_diff_colours():
    node = TreeNode("Deployment", "web", "ns", "apps/v1", None, "OutOfSync")
    assert node_label(node) == "👻 🟡 Deployment/web"
    page = diff_html("5c5\n<   replicas: 3\n---\n>   replicas: 1")
    assert '<span style="color: #e96d76;">&lt;   replicas: 3</span>' in page
    assert '<span style="color: #18be94;">&gt;   replicas: 1</span>' in page


def test_relative_time_in_french():
    assert [relative_fr(s) for s in (5, 125, 7300, 90000)] == ["il y a 5 s", "il y a 2 min", "il y a 2 h",
                                                                 "il y a 1 j"]
