"""Builds, digests, push rules, ls/rm/save/load, and the bad inputs with Docker's messages."""
from __future__ import annotations

import subprocess

import pytest

from gitopslab.registry import distribution
from gitopslab.registry.build import BuildError, build


def run_build(store, context, tags=("alice/quote-app:latest",), **kwargs):
    lines = []
    result = build(store, context, tags=list(tags), out=lines.append, **kwargs)
    return result, "\n".join(lines)


def test_flask_image_builds_installs_and_is_stable(store, flask_context):
    result, output = run_build(store, flask_context)
    assert "Step 1/7 : FROM python:3.9-slim" in output
    assert "Successfully installed" in output and "Flask" in output
    assert f"Successfully built {result.short_id}" in output
    assert output.endswith("Successfully tagged alice/quote-app:latest")

    image = store.resolve("alice/quote-app", pulled_only=False)
    assert image.digest == result.digest and image.base == "python"
    assert image.cmd == ["python", "app.py"] and image.workdir == "/app" and image.exposed_ports == ["5000/tcp"]
    assert (image.rootfs / "app" / "app.py").is_file()
    imported = subprocess.run([str(image.python), "-c", "import flask; print(flask.__name__)"],
                              capture_output=True, text=True)
    assert imported.stdout.strip() == "flask"

    again, output = run_build(store, flask_context)
    assert again.digest == result.digest
    assert " ---> Using cache" in output

    (flask_context / "app.py").write_text("print('changed')\n")
    changed, _ = run_build(store, flask_context)
    assert changed.digest != result.digest


def test_built_image_is_pullable_only_once_pushed(store, flask_context):
    run_build(store, flask_context)
    assert store.resolve("alice/quote-app") is None
    assert store.resolve("alice/quote-app", pulled_only=False) is not None

    with pytest.raises(distribution.ImageError, match="denied: requested access to the resource is denied"):
        distribution.push(store, "alice/quote-app", out=lambda line: None)
    distribution.login(store, None, "bob", "secret", out=lambda line: None)
    with pytest.raises(distribution.ImageError, match="denied: requested access"):
        distribution.push(store, "alice/quote-app", out=lambda line: None)
    assert store.resolve("alice/quote-app") is None

    lines = []
    distribution.login(store, None, "alice", "pw", out=lines.append)
    digest = distribution.push(store, "alice/quote-app", out=lines.append)
    assert lines[0] == "Login Succeeded"
    assert lines[1] == "The push refers to repository [docker.io/alice/quote-app]"
    assert lines[-1].startswith(f"latest: digest: {digest} size: ")
    assert store.resolve("docker.io/alice/quote-app:latest").digest == digest


def test_login_with_a_wrong_password_is_refused(store):
    distribution.login(store, None, "datascientestuser", "datascientestuser", out=lambda line: None)
    with pytest.raises(distribution.ImageError, match="unauthorized: incorrect username or password"):
        distribution.login(store, None, "datascientestuser", "nope", out=lambda line: None)


def test_ls_rm_save_load(store, flask_context, tmp_path):
    result, _ = run_build(store, flask_context)
    lines = []
    distribution.list_images(store, out=lines.append)
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.startswith("alice/quote-app") and result.short_id in line for line in lines)

    archive = tmp_path / "image.tar"
    distribution.save(store, ["alice/quote-app"], archive)
    lines = []
    distribution.remove(store, "alice/quote-app", out=lines.append)
    assert lines == ["Untagged: alice/quote-app:latest", f"Deleted: {result.digest}"]
    assert store.resolve("alice/quote-app", pulled_only=False) is None
    with pytest.raises(distribution.ImageError, match="No such image: alice/quote-app:latest"):
        distribution.remove(store, "alice/quote-app", out=lambda line: None)

    lines = []
    distribution.load(store, archive, out=lines.append)
    assert lines == ["Loaded image: alice/quote-app:latest"]
    assert store.resolve("alice/quote-app", pulled_only=False).digest == result.digest


def _assert_nothing_tagged(store):
    assert not any("quote-app" in ref for ref in store.local_tags())


@pytest.mark.parametrize("dockerfile, message", [
    ("FROM python:3.9-slim\nWROKDIR /app\n", "Error response from daemon: dockerfile parse error on line 2: "
                                             "unknown instruction: WROKDIR (did you mean WORKDIR?)"),
    ("FROM pyhton:3.9-slim\n", "pull access denied for pyhton, repository does not exist or may require "
                               "'docker login': denied: requested access to the resource is denied"),
    ("FROM nginx:0.0.1\n", "manifest for nginx:0.0.1 not found: manifest unknown: manifest unknown"),
    ("FROM python:3.9-slim\nCOPY requirement.txt .\n", "COPY failed: file not found in build context or "
                                                       "excluded by .dockerignore: stat requirement.txt: "
                                                       "file does not exist"),
    ("FROM nginx\nRUN pip install flask\n", "The command '/bin/sh -c pip install flask' returned a non-zero code: 127"),
])
def test_bad_inputs_fail_as_docker_does(store, flask_context, dockerfile, message):
    (flask_context / "Dockerfile").write_text(dockerfile)
    with pytest.raises(BuildError) as error:
        run_build(store, flask_context)
    assert str(error.value) == message
    _assert_nothing_tagged(store)


def test_a_requirement_that_cannot_be_installed(store, flask_context):
    (flask_context / "requirements.txt").write_text("gitopslab-no-such-package-xyz==1.0\n")
    lines = []
    with pytest.raises(BuildError) as error:
        build(store, flask_context, tags=["alice/quote-app"], out=lines.append)
    assert str(error.value) == ("The command '/bin/sh -c pip install --no-cache-dir -r requirements.txt' "
                                "returned a non-zero code: 1")
    output = "\n".join(lines)
    assert "ERROR: No matching distribution found for gitopslab-no-such-package-xyz==1.0" in output
    _assert_nothing_tagged(store)
    assert not [p for p in store.envs.root.iterdir() if not p.name.startswith(".")]


def test_other_run_lines_are_recorded_not_executed(store, tmp_path):
    ctx = tmp_path / "site"
    ctx.mkdir()
    (ctx / "index.html").write_text("<h1>Dimension</h1>")
    (ctx / "Dockerfile").write_text("FROM nginx\nRUN apt-get update && apt-get install -y curl\n"
                                    "COPY index.html /usr/share/nginx/html/\n")
    result, output = run_build(store, ctx, tags=["alice/site:1"])
    assert "commande non exécutée dans le lab" in output and "apt-get update" in output
    image = store.resolve("alice/site:1", pulled_only=False)
    assert image.base == "nginx" and image.python is None
    assert image.not_executed == ["apt-get update", "apt-get install -y curl"]
    assert "Dimension" in (image.rootfs / "usr/share/nginx/html/index.html").read_text()
    assert (image.rootfs / "usr/share/nginx/html/50x.html").is_file()  # from the nginx base


def test_catalog_images_resolve_with_their_size(store):
    image = store.resolve("nginx")
    assert image.catalog and image.base == "nginx" and image.size == 59774010
    assert image.exposed_ports == ["80/tcp"]
    assert store.resolve("nosuchimage") is None
    assert store.resolve("nginx:0.0.1") is None


def test_multi_stage_copy_from_a_named_stage_and_by_index(store, tmp_path):
    ctx = tmp_path / "multi"
    ctx.mkdir()
    (ctx / "index.html").write_text("<h1>Dimension</h1>")
    (ctx / "Dockerfile").write_text(
        "FROM busybox AS assets\nWORKDIR /build\nCOPY index.html site/index.html\n"
        "FROM nginx\nCOPY --from=assets /build/site/ /usr/share/nginx/html/\n"
        "COPY --from=0 /build/site/index.html /srv/copy.html\n")
    result, output = run_build(store, ctx, tags=["alice/multi:1"])
    assert "Step 4/6 : FROM nginx" in output and f"Successfully built {result.short_id}" in output
    assert "Step 5/6 : COPY --from=assets /build/site/ /usr/share/nginx/html/" in output
    image = store.resolve("alice/multi:1", pulled_only=False)
    assert image.base == "nginx"
    assert (image.rootfs / "usr/share/nginx/html/index.html").read_text() == "<h1>Dimension</h1>"
    assert (image.rootfs / "srv/copy.html").read_text() == "<h1>Dimension</h1>"
    assert not (image.rootfs / "build").exists()   # the first stage's files stay out of the final image


def test_copy_from_an_unknown_stage_or_image_fails_as_docker_does(store, tmp_path):
    ctx = tmp_path / "bad"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM nginx\nCOPY --from=nosuchstage /x /y\n")
    with pytest.raises(BuildError) as e:
        run_build(store, ctx, tags=["alice/bad:1"])
    assert "nosuchstage" in str(e.value)
