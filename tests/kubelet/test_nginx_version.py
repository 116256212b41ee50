"""Which nginx version the nginx model announces (Server header, error pages, start-up notice)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from gitopslab.cluster.runtime.models.nginx import version_of

BASE_ENV = {"NGINX_VERSION": "1.27.3"}


@pytest.mark.parametrize("ref,env,expected", [
    ("docker.io/library/nginx:1.25.3", BASE_ENV, "1.25.3"),            # the tag names nginx's release
    ("docker.io/library/nginx:latest", BASE_ENV, "1.27.3"),
    ("docker.io/library/nginx:1.27-alpine", BASE_ENV, "1.27.3"),
    ("docker.io/datascientestuser/webapp:1.0.0", BASE_ENV, "1.27.3"),  # built FROM nginx: its base's version
    ("docker.io/datascientestuser/webapp:1.0.0", {}, "1.27.3"),
    ("127.0.0.1:5000/nginx:1.26.2", {"NGINX_VERSION": "1.26.2"}, "1.26.2"),
])
def test_version_of(ref, env, expected):
    assert version_of(SimpleNamespace(ref=ref, env=env)) == expected
