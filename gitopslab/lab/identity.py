"""Who the learner is: one name for their Git repositories, registry path and Argo CD objects.

On GitHub and Docker Hub the learner has a user name; in the lab it comes
from ``GITOPSLAB_USER`` (the grader sets it to the student id), else the
JupyterHub user, else the system account, normalised so that it is valid
both as a GitHub owner and as a Docker repository namespace.
"""
from __future__ import annotations

import getpass
import os
import re

FALLBACK = "apprenant"


def normalize(raw: str) -> str:
    """A name valid as GitHub owner and Docker namespace: ``[a-z0-9]`` runs joined by single ``-``."""
    parts = re.findall(r"[a-z0-9]+", raw.lower())
    name = "-".join(parts)[:39].strip("-")
    return name or FALLBACK


def learner_name() -> str:
    for key in ("GITOPSLAB_USER", "JUPYTERHUB_USER"):
        value = os.environ.get(key, "").strip()
        if value:
            return normalize(value)
    try:
        return normalize(getpass.getuser())
    except (KeyError, OSError):
        return FALLBACK
