"""Docker's actions (login, setup-buildx, build-push) against the lab registry.

They call the same code as the job's ``docker`` command, with the job's
Docker client config (``DOCKER_CONFIG`` of its machine), so a login in one
job is not seen by another, as on GitHub's fresh virtual machines.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from gitopslab.ci.actions.base import ActionContext, StepFailure


def _registry_error(action):
    from gitopslab.registry.build import BuildError
    from gitopslab.registry.distribution import ImageError

    try:
        return action()
    except (BuildError, ImageError) as e:
        raise StepFailure(str(e).splitlines()[-1] if str(e) else type(e).__name__) from e


class Login:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"ecr": "auto", "logout": "true"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        from gitopslab.registry import distribution
        from gitopslab.registry.store import ImageStore

        username, password = ctx.input("username"), ctx.input("password")
        if not username or not password:
            raise StepFailure("Username and password required")
        registry = ctx.input("registry")
        ctx.log.line(f"Logging into {registry or 'Docker Hub'}...")
        _registry_error(lambda: distribution.login(ImageStore(ctx.home), registry or None, username, password,
                                                   out=lambda line: None, config_dir=ctx.machine.docker_config))
        ctx.log.line("Login Succeeded!")
        ctx.state["registry"] = registry
        if ctx.flag("logout", True):
            ctx.post.append(Login.logout)

    @staticmethod
    def logout(ctx: ActionContext) -> None:
        from gitopslab.registry import distribution
        from gitopslab.registry.store import ImageStore

        registry = ctx.state.get("registry") or None
        ctx.log.line(f"Logging out of {registry or 'docker.io'}...")
        distribution.logout(ImageStore(ctx.home), registry, out=ctx.log.line, config_dir=ctx.machine.docker_config)


class SetupBuildx:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"driver": "docker-container", "install": "false", "use": "true", "keep-state": "false",
                "cache-binary": "true", "cleanup": "true"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        name = f"builder-{uuid.uuid4()}"
        ctx.log.group("Docker info")
        ctx.log.command("/usr/bin/docker version")
        ctx.log.line("Client: Docker Engine - Community\n Version:           28.0.4\n"
                     "Server: moteur Docker du labo (registre du labo)")
        ctx.log.endgroup()
        ctx.log.group("Buildx version")
        ctx.log.command("/usr/bin/docker buildx version")
        ctx.log.line("github.com/docker/buildx v0.23.0")
        ctx.log.endgroup()
        ctx.log.group("Creating a new builder instance")
        ctx.log.command(f"/usr/bin/docker buildx create --name {name} --driver docker-container --use")
        ctx.log.line(name)
        ctx.log.endgroup()
        ctx.log.group("Booting builder")
        ctx.log.line("gitopslab : les builds utilisent le constructeur du registre du labo "
                     "(Dockerfile exécuté par le labo, sortie du builder classique).")
        ctx.log.endgroup()
        ctx.outputs.update(name=name, driver="docker-container", platforms="linux/amd64", nodes="[]")


def _list(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", value or "") if item.strip()]


class BuildPush:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"load": "false", "no-cache": "false", "pull": "false", "push": "false",
                "github-token": "***"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        from gitopslab.registry import distribution
        from gitopslab.registry.build import build
        from gitopslab.registry.store import ImageStore

        workspace = ctx.machine.workspace
        context = workspace / ctx.input("context", ".")
        file_input = ctx.input("file")
        dockerfile = (workspace / file_input) if file_input else context / "Dockerfile"
        tags = _list(ctx.input("tags"))
        build_args = dict(a.split("=", 1) for a in _list(ctx.input("build-args")) if "=" in a)
        push, load = ctx.flag("push"), ctx.flag("load")
        argv = ["/usr/bin/docker", "buildx", "build", "--file", file_input or "Dockerfile"]
        argv += [f"--tag {t}" for t in tags] + (["--load"] if load else []) + (["--push"] if push else [])
        ctx.log.command(" ".join(argv + [ctx.input("context", ".")]))
        store = ImageStore(ctx.home)
        result = _registry_error(lambda: build(store, context, dockerfile=Path(dockerfile), tags=tags,
                                               build_args=build_args, out=ctx.log.line))
        if push:
            for tag in tags:
                _registry_error(lambda t=tag: distribution.push(store, t, out=ctx.log.line,
                                                                config_dir=ctx.machine.docker_config))
        digest = getattr(result, "digest", "")
        ctx.outputs.update(imageid=digest, digest=digest, metadata="{}")
        if not load and not push:
            ctx.log.warning("No output specified with docker-container driver. Build result will only remain "
                            "in the build cache. To push result image into registry use --push or to load image "
                            "into docker use --load")


ACTIONS = {"docker/login-action": Login, "docker/setup-buildx-action": SetupBuildx,
           "docker/build-push-action": BuildPush}
