"""Does the apply patch take a live object to exactly the configured lists (the exam's port fix)?"""
from gitopslab.argocd.apply import three_way_patch
from gitopslab.cluster.patch import strategic_merge_patch


def deployment(port: int, extra: dict | None = None) -> dict:
    container = {"name": "quote-app", "image": "alice/quote-app:latest",
                 "ports": [{"name": "http", "containerPort": port}], **(extra or {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "quote-app-deployment"},
            "spec": {"template": {"spec": {"containers": [container]}}}}


def test_changed_container_port_replaces_the_port_list():
    original = deployment(8080)
    live = deployment(8080, {"terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "Always"})
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = "TCP"
    patch = three_way_patch(original, deployment(5000), live, strategic=True)
    result = strategic_merge_patch(live, patch, "apps/v1", "Deployment")
    assert result["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"name": "http", "containerPort": 5000}]


def test_emptied_list_is_emptied():
    original = deployment(8080)
    live = deployment(8080)
    wanted = deployment(8080)
    wanted["spec"]["template"]["spec"]["containers"][0]["ports"] = []
    patch = three_way_patch(original, wanted, live, strategic=True)
    result = strategic_merge_patch(live, patch, "apps/v1", "Deployment")
    assert not result["spec"]["template"]["spec"]["containers"][0].get("ports")


def test_unchanged_object_gives_no_patch():
    live = deployment(5000, {"terminationMessagePath": "/dev/termination-log"})
    assert three_way_patch(deployment(5000), deployment(5000), live, strategic=True) == {}


def test_merge_patch_for_custom_resources_has_no_directive():
    patch = three_way_patch({"spec": {"items": [{"a": 1}]}}, {"spec": {"items": [{"a": 2}]}},
                            {"spec": {"items": [{"a": 1}]}})
    assert patch == {"spec": {"items": [{"a": 2}]}}
