"""Image models: which behaviour a modelled image gets, by catalog family.

Data-driven: ``FAMILIES`` maps an image's catalog base (``Image.base``) or
repository name to its ``Model``. A shell command (``sh -c …``) runs in
the shell model whatever the image, as it would run busybox's or the
image's own ``sh``.
"""
from __future__ import annotations

import os

from gitopslab.cluster.runtime.models.argocd import COMPONENT_PORTS, ArgoCDModel, without_init
from gitopslab.cluster.runtime.models.base import Model, ModelContainer
from gitopslab.cluster.runtime.models.busybox import GenericModel, ShellModel
from gitopslab.cluster.runtime.models.nginx import NginxModel
from gitopslab.cluster.runtime.models.odoo import OdooModel
from gitopslab.cluster.runtime.models.postgres import PostgresModel
from gitopslab.cluster.runtime.models.redis import RedisModel
from gitopslab.cluster.runtime.models.shell import SHELLS

FAMILIES: dict[str, type[Model]] = {
    "nginx": NginxModel,
    "postgres": PostgresModel,
    "redis": RedisModel,
    "odoo": OdooModel,
    "busybox": ShellModel,
    "alpine": ShellModel,
    "ubuntu": ShellModel,
    "debian": ShellModel,
    "argocd": ArgoCDModel,
    "dex": ArgoCDModel,
}


def family_of(image) -> str:
    base = getattr(image, "base", None)
    if base:
        return str(base).rpartition("/")[2]
    ref = str(getattr(image, "ref", ""))
    repo = ref.split("@")[0].rpartition(":")[0] if ":" in ref.rpartition("/")[2] else ref.split("@")[0]
    return repo.rpartition("/")[2]


def model_class(image, argv: list[str]) -> type[Model]:
    if argv and os.path.basename(argv[0]) in SHELLS:
        return ShellModel
    if argv and any(os.path.basename(a) in COMPONENT_PORTS for a in without_init(argv)[:2]):
        return ArgoCDModel
    return FAMILIES.get(family_of(image), GenericModel)


__all__ = ["FAMILIES", "Model", "ModelContainer", "family_of", "model_class"]
