"""Container images from a notebook: ``docker build``, ``docker login``, ``docker push`` on the lab registry.

Output is what the Docker CLI prints. The registry is the lab's Docker Hub
(``<user>/<image>`` means ``docker.io/<user>/<image>``); as on GitHub's
registry, the learner's personal access token serves as password.
"""
from __future__ import annotations

from pathlib import Path

from gitopslab.home import Home
from gitopslab.lab.identity import learner_name


class ImageCommandFailed(RuntimeError):
    """A build, login or push failed; the message is Docker's."""


def _store(home: Home | None):
    from gitopslab.registry.store import ImageStore

    return ImageStore((home or Home.current()).ensure())


def _run(action):
    from gitopslab.registry.build import BuildError
    from gitopslab.registry.distribution import ImageError

    try:
        return action()
    except (BuildError, ImageError) as e:
        raise ImageCommandFailed(str(e)) from None


def build(context: str | Path, tag: str, *, dockerfile: str | Path | None = None,
          home: Home | None = None, quiet: bool = False):
    """``docker build -t TAG CONTEXT``; returns the build result (``digest``, ``short_id``)."""
    from gitopslab.registry.build import build as docker_build

    out = (lambda line: None) if quiet else (lambda line: print(line, flush=True))
    context = Path(context)
    return _run(lambda: docker_build(_store(home), context, tags=[tag],
                                     dockerfile=Path(dockerfile) if dockerfile else None, out=out))


def login(username: str | None = None, password: str | None = None, *, home: Home | None = None,
          quiet: bool = False) -> None:
    """``docker login -u USER`` (the learner's token as password by default)."""
    from gitopslab.lab.repos import token
    from gitopslab.registry import distribution

    out = (lambda line: None) if quiet else print
    _run(lambda: distribution.login(_store(home), None, username or learner_name(),
                                    password if password is not None else token(home), out=out))


def push(ref: str, *, home: Home | None = None, quiet: bool = False) -> None:
    """``docker push REF`` (log in first as the owner of REF's namespace)."""
    from gitopslab.registry import distribution

    out = (lambda line: None) if quiet else (lambda line: print(line, flush=True))
    _run(lambda: distribution.push(_store(home), ref, out=out))
