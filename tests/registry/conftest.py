from __future__ import annotations

import pytest

from gitopslab.home import Home
from gitopslab.registry.store import ImageStore

FLASK_APP = """from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "<h1>Quote of the Day</h1>"

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
"""

FLASK_DOCKERFILE = """FROM python:3.9-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 5000
CMD ["python", "app.py"]
"""


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    return tmp_path_factory.mktemp("wheels")


@pytest.fixture
def store(tmp_path, monkeypatch, wheelhouse):
    monkeypatch.setenv("GITOPSLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GITOPSLAB_WHEELHOUSE", str(wheelhouse))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    return ImageStore(Home(tmp_path / "home").ensure())


@pytest.fixture
def flask_context(tmp_path):
    ctx = tmp_path / "quote-app"
    ctx.mkdir()
    (ctx / "app.py").write_text(FLASK_APP)
    (ctx / "requirements.txt").write_text("Flask\n")
    (ctx / "Dockerfile").write_text(FLASK_DOCKERFILE)
    return ctx
