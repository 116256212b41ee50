"""The quote-app exam's given material: the application code, the broken Deployment, names and places.

The course gives ``app.py`` and a ``k8s/deployment.yaml`` whose
``containerPort`` is wrong. On a real cluster a wrong ``containerPort`` is
informational only; what makes the course's scenario true is a probe on that
port, so the given Deployment names the port (``name: http``, 8080) and
probes ``port: http`` while Flask listens on 5000: the probes really fail,
the kubelet restarts the container into CrashLoopBackOff, and Argo CD shows
the application Progressing, then Degraded.
"""
from __future__ import annotations

import os
from pathlib import Path

from gitopslab.lab.identity import learner_name
from gitopslab.lab.repos import github_url

APP_NAME = "quote-app"
REPO_NAME = "quote-app"
IMAGE_PLACEHOLDER = "VOTRE_USER"
DEPLOYMENT_NAME = "quote-app-deployment"
NAMESPACE = "default"
POD_SELECTOR = "app=quote-app"

APP_PY = '''from flask import Flask
import random

app = Flask(__name__)

quotes = [
    "The only way to do great work is to love what you do. - Steve Jobs",
    "Innovation distinguishes between a leader and a follower. - Steve Jobs",
    "Your time is limited, don't waste it living someone else's life. - Steve Jobs",
    "Stay hungry, stay foolish. - Steve Jobs",
    "Talk is cheap. Show me the code. - Linus Torvalds"
]

@app.route('/')
def get_quote():
    return f"<h1>Quote of the Day</h1><p>{random.choice(quotes)}</p>"

if __name__ == '__main__':
    # L'application tourne sur le port 5000
    app.run(host='0.0.0.0', port=5000)
'''

BROKEN_DEPLOYMENT = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: quote-app-deployment
spec:
  replicas: 1
  selector:
    matchLabels:
      app: quote-app
  template:
    metadata:
      labels:
        app: quote-app
    spec:
      containers:
      - name: quote-app
        # Assurez-vous de remplacer par votre image
        image: VOTRE_USER/quote-app:latest
        ports:
        # Attention, il y a une erreur dans cette section
        - name: http
          containerPort: 8080
        # Kubernetes vérifie la santé du conteneur sur le port nommé « http »
        livenessProbe:
          httpGet:
            path: /
            port: http
          initialDelaySeconds: 10
          periodSeconds: 10
          failureThreshold: 3
        readinessProbe:
          httpGet:
            path: /
            port: http
          periodSeconds: 5
'''

GIVEN_FILES = {"app.py": APP_PY, "k8s/deployment.yaml": BROKEN_DEPLOYMENT}


def project_dir() -> Path:
    """The exam's project folder: ``quote-app/`` next to the notebook (``GITOPSLAB_WORKDIR`` when grading)."""
    base = os.environ.get("GITOPSLAB_WORKDIR")
    return (Path(base) if base else Path.cwd()) / REPO_NAME


def repo_url(user: str | None = None) -> str:
    """The learner's exam repository, as on GitHub: ``https://github.com/<user>/quote-app.git``."""
    return github_url(f"{user or learner_name()}/{REPO_NAME}")


def image_ref(user: str | None = None, tag: str = "latest") -> str:
    """The learner's image on the lab's Docker Hub: ``<user>/quote-app:<tag>``."""
    return f"{user or learner_name()}/{REPO_NAME}:{tag}"


def write_given_files(project: Path | None = None, *, quiet: bool = False) -> Path:
    """Write ``app.py`` and the broken ``k8s/deployment.yaml`` (never over the learner's own edits)."""
    project = Path(project or project_dir())
    for rel, text in GIVEN_FILES.items():
        path = project / rel
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if not quiet:
        print(f"Projet : {project}")
        for rel in GIVEN_FILES:
            print(f"  {rel}")
    return project


def show_file(path: str | Path) -> str:
    """Print a file with its name, as ``cat`` would after a header."""
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    print(f"─── {path.name} ───" if path.exists() else f"(fichier absent : {path})")
    print(text, end="" if text.endswith("\n") or not text else "\n")
    return text


def verifier(lab, user: str | None = None) -> bool:
    """Self-check: every success criterion of the exam with ✅/❌ and a French hint (same checks as the grader)."""
    from gitopslab.grading.checks import verifier as run_checks

    return run_checks(lab, repo_url(user), user=user or learner_name())
