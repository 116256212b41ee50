"""The actions the lab models, by ``owner/name`` (any ``@ref``).

Each module exposes ``ACTIONS = {"owner/name": Handler}``; a handler has
``defaults(inputs, github) -> dict`` (the inputs GitHub shows with their
defaults under ``with:``) and ``run(ctx)``, raising ``StepFailure``.
"""
from __future__ import annotations

from gitopslab.ci.actions import artifacts, checkout, docker, trivy

_REGISTRY = {**checkout.ACTIONS, **docker.ACTIONS, **artifacts.ACTIONS, **trivy.ACTIONS}


def resolve(uses: str):
    name = uses.split("@", 1)[0].strip().lower()
    return _REGISTRY.get(name)


def known() -> list[str]:
    return sorted(_REGISTRY)
