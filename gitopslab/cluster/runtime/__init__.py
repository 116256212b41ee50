"""The lab's container runtime: image models, real processes, the pod network.

``create_container`` picks how a container runs: images built from Python
Dockerfiles (``Image.python`` set) run as real processes, every other
catalog image runs its model (see ``models``).
"""
from __future__ import annotations

from gitopslab.cluster.runtime.container import Container, ContainerConfig, Exit, Mount, StartError
from gitopslab.cluster.runtime.models import ModelContainer, model_class
from gitopslab.cluster.runtime.network import LOW_PORT_OFFSET, PodNetwork, target_port
from gitopslab.cluster.runtime.process import ProcessContainer


def runs_as_process(image) -> bool:
    return bool(getattr(image, "python", None))


def create_container(config: ContainerConfig) -> Container:
    if runs_as_process(config.image):
        return ProcessContainer(config)
    return ModelContainer(config, model_class(config.image, config.argv))


__all__ = ["Container", "ContainerConfig", "Exit", "LOW_PORT_OFFSET", "Mount", "PodNetwork", "StartError",
           "create_container", "runs_as_process", "target_port"]
