"""The ``docker`` command of a job's runner machine, against the lab registry and engine.

``build``/``buildx build``, ``push``, ``pull``, ``tag``, ``images``, ``rmi``,
``save``, ``load``, ``login``, ``logout`` use the lab registry (the same
code as ``gitopslab image …``); ``run``, ``ps``, ``stop``, ``rm``, ``logs``
use the job's engine (``gitopslab.ci.engine``). Messages are Docker's.
Entry: ``python -m gitopslab.ci.docker_cli ARGS…`` (the ``docker`` shim).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from gitopslab.home import Home

USAGE = "Usage:  docker [OPTIONS] COMMAND"


class Usage(Exception):
    pass


def _out(line: str) -> None:
    print(line, flush=True)


def _split(args: list[str], with_value: set[str], flags: set[str], *,
           interspersed: bool = True) -> tuple[dict[str, list[str]], list[str]]:
    """Docker-style options; ``docker run`` stops at the image (``interspersed=False``), as cobra does."""
    opts: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i + 1:]
            break
        if (rest and not interspersed) or not a.startswith("-") or a == "-":
            rest.append(a)
            i += 1
            continue
        key, eq, value = a.partition("=")
        if key in with_value:
            if not eq:
                i += 1
                if i >= len(args):
                    raise Usage(f'flag needs an argument: {key}')
                value = args[i]
            opts.setdefault(key, []).append(value)
        elif key in flags:
            opts.setdefault(key, []).append("true")
        elif len(key) > 2 and key[1] != "-" and all(f"-{c}" in flags for c in key[1:]):
            for c in key[1:]:
                opts.setdefault(f"-{c}", []).append("true")
        else:
            raise Usage(f"unknown flag: {key}\nSee 'docker --help'.")
        i += 1
    return opts, rest


def _one(opts: dict, *names: str, default: str | None = None) -> str | None:
    for n in names:
        if n in opts:
            return opts[n][-1]
    return default


def _many(opts: dict, *names: str) -> list[str]:
    return [v for n in names for v in opts.get(n, [])]


def _store():
    from gitopslab.registry.store import ImageStore

    return ImageStore(Home.current())


def _machine_root() -> Path:
    root = os.environ.get("GITOPSLAB_CI_MACHINE")
    if root:
        return Path(root)
    return Path(tempfile.gettempdir()) / "gitopslab-docker"


def cmd_build(args: list[str]) -> int:
    from gitopslab.registry import distribution
    from gitopslab.registry.build import build

    opts, rest = _split(args, {"-t", "--tag", "-f", "--file", "--build-arg", "--platform", "--target",
                               "--cache-from", "--cache-to", "--label", "--progress", "--builder"},
                        {"--load", "--push", "-q", "--quiet", "--no-cache", "--pull", "--rm"})
    if len(rest) != 1:
        raise Usage('"docker buildx build" requires exactly 1 argument.\nSee \'docker buildx build --help\'.')
    build_args = dict(a.split("=", 1) if "=" in a else (a, os.environ.get(a, "")) for a in _many(opts, "--build-arg"))
    dockerfile = _one(opts, "-f", "--file")
    tags = _many(opts, "-t", "--tag")
    build(_store(), Path(rest[0]), dockerfile=Path(dockerfile) if dockerfile else None, tags=tags,
          build_args=build_args, out=_out)
    if "--push" in opts:
        for tag in tags:
            distribution.push(_store(), tag, out=_out)
    return 0


def cmd_push(args: list[str]) -> int:
    from gitopslab.registry import distribution

    _, rest = _split(args, set(), {"-q", "--quiet", "-a", "--all-tags"})
    if len(rest) != 1:
        raise Usage('"docker push" requires exactly 1 argument.')
    distribution.push(_store(), rest[0], out=_out)
    return 0


def cmd_pull(args: list[str]) -> int:
    from gitopslab.registry import refs
    from gitopslab.registry.build import pull_error

    _, rest = _split(args, {"--platform"}, {"-q", "--quiet"})
    if len(rest) != 1:
        raise Usage('"docker pull" requires exactly 1 argument.')
    parsed = refs.parse(rest[0])
    store = _store()
    if ":" not in rest[0].rsplit("/", 1)[-1] and "@" not in rest[0]:
        _out("Using default tag: latest")
    digest = store.remote_digest(str(parsed))
    if digest is None:
        print(pull_error(parsed), file=sys.stderr)
        return 1
    _out(f"{parsed.tag}: Pulling from {parsed.repository}")
    _out(f"Digest: {digest}")
    up_to_date = store.local_digest(str(parsed)) == digest
    store.tag_local(str(parsed), digest)
    _out(f"Status: {'Image is up to date' if up_to_date else 'Downloaded newer image'} for {parsed.familiar}")
    _out(str(parsed))
    return 0


def cmd_tag(args: list[str]) -> int:
    from gitopslab.registry import distribution

    if len(args) != 2:
        raise Usage('"docker tag" requires exactly 2 arguments.')
    distribution.tag(_store(), args[0], args[1])
    return 0


def cmd_images(args: list[str]) -> int:
    from gitopslab.registry import distribution

    distribution.list_images(_store(), out=_out)
    return 0


def cmd_rmi(args: list[str]) -> int:
    from gitopslab.registry import distribution

    _, rest = _split(args, set(), {"-f", "--force"})
    for ref in rest:
        distribution.remove(_store(), ref, out=_out)
    return 0


def cmd_save(args: list[str]) -> int:
    from gitopslab.registry import distribution

    opts, rest = _split(args, {"-o", "--output"}, set())
    output = _one(opts, "-o", "--output")
    if not rest:
        raise Usage('"docker save" requires at least 1 argument.')
    if output is None:
        if sys.stdout.isatty():
            print("cowardly refusing to save to a terminal. Use the -o flag or redirect", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "image.tar"
            distribution.save(_store(), rest, path)
            sys.stdout.buffer.write(path.read_bytes())
        return 0
    distribution.save(_store(), rest, Path(output))
    return 0


def cmd_load(args: list[str]) -> int:
    from gitopslab.registry import distribution

    opts, _ = _split(args, {"-i", "--input"}, {"-q", "--quiet"})
    source = _one(opts, "-i", "--input")
    if source is None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "image.tar"
            path.write_bytes(sys.stdin.buffer.read())
            distribution.load(_store(), path, out=_out)
        return 0
    distribution.load(_store(), Path(source), out=_out)
    return 0


def cmd_login(args: list[str]) -> int:
    from gitopslab.registry import distribution

    opts, rest = _split(args, {"-u", "--username", "-p", "--password"}, {"--password-stdin"})
    password = _one(opts, "-p", "--password", default="")
    if "--password-stdin" in opts:
        password = sys.stdin.read().strip()
    elif password:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", file=sys.stderr)
    distribution.login(_store(), rest[0] if rest else None, _one(opts, "-u", "--username", default=""), password,
                       out=_out)
    return 0


def cmd_logout(args: list[str]) -> int:
    from gitopslab.registry import distribution

    distribution.logout(_store(), args[0] if args else None, out=_out)
    return 0


def cmd_run(args: list[str]) -> int:
    from gitopslab.ci import engine

    opts, rest = _split(args, {"-p", "--publish", "--name", "-e", "--env", "-v", "--volume", "-w", "--workdir",
                               "--network", "--restart", "-m", "--memory", "--entrypoint", "--platform"},
                        {"-d", "--detach", "--rm", "-i", "--interactive", "-t", "--tty", "-P"}, interspersed=False)
    if not rest:
        raise Usage('"docker run" requires at least 1 argument.\nSee \'docker run --help\'.')
    env = {}
    for item in _many(opts, "-e", "--env"):
        key, eq, value = item.partition("=")
        env[key] = value if eq else os.environ.get(key, "")
    if _many(opts, "-v", "--volume"):
        print("gitopslab : les volumes (-v) ne sont pas montés par le moteur Docker du labo.", file=sys.stderr)
    runner_ip = os.environ.get("GITOPSLAB_CI_RUNNER_IP", "127.0.0.1")
    container_id = engine.run(Home.current(), _machine_root(), image=rest[0], name=_one(opts, "--name"),
                              ports=_many(opts, "-p", "--publish"), env=env, command=rest[1:], runner_ip=runner_ip)
    if "-d" in opts or "--detach" in opts:
        _out(container_id)
        return 0
    found = engine.find(_machine_root(), container_id)
    import time

    while found and engine.running(found[0]):
        time.sleep(0.1)
    sys.stdout.write(engine.logs(_machine_root(), container_id))
    code = int((found[0] / "exit").read_text().strip() or 0) if found and (found[0] / "exit").exists() else 0
    if "--rm" in opts:
        engine.remove(_machine_root(), container_id, force=True)
    return code


def cmd_ps(args: list[str]) -> int:
    from gitopslab.ci import engine

    opts, _ = _split(args, {"--format", "-f", "--filter"}, {"-a", "--all", "-q", "--quiet"})
    rows = engine.list_containers(_machine_root(), all="-a" in opts or "--all" in opts)
    if "-q" in opts or "--quiet" in opts:
        for r in rows:
            _out(r["id"][:12])
        return 0
    _out(f"{'CONTAINER ID':<15}{'IMAGE':<35}{'STATUS':<22}{'PORTS':<30}NAMES")
    for r in rows:
        ports = ", ".join(f"0.0.0.0:{p['host_port']}->{p['container_port']}/tcp" for p in r["ports"])
        status = "Up" if r["running"] else f"Exited ({r['exit_code']})"
        _out(f"{r['id'][:12]:<15}{r['shown_image']:<35}{status:<22}{ports:<30}{r['name']}")
    return 0


def cmd_stop(args: list[str]) -> int:
    from gitopslab.ci import engine

    _, rest = _split(args, {"-t", "--time", "-s", "--signal"}, set())
    for ref in rest:
        _out(engine.stop(_machine_root(), ref))
    return 0


def cmd_rm(args: list[str]) -> int:
    from gitopslab.ci import engine

    opts, rest = _split(args, set(), {"-f", "--force", "-v", "--volumes"})
    for ref in rest:
        _out(engine.remove(_machine_root(), ref, force="-f" in opts or "--force" in opts))
    return 0


def cmd_logs(args: list[str]) -> int:
    from gitopslab.ci import engine

    _, rest = _split(args, {"--tail", "--since"}, {"-f", "--follow", "-t", "--timestamps"})
    if len(rest) != 1:
        raise Usage('"docker logs" requires exactly 1 argument.')
    sys.stdout.write(engine.logs(_machine_root(), rest[0]))
    return 0


def cmd_version(args: list[str]) -> int:
    _out("Client: Docker Engine - Community (gitopslab)\n Version:           28.0.4\n API version:       1.48\n\n"
         "Server: gitopslab (moteur Docker du labo : registre et runtime du labo)")
    return 0


COMMANDS = {
    "build": cmd_build, "push": cmd_push, "pull": cmd_pull, "tag": cmd_tag, "images": cmd_images,
    "rmi": cmd_rmi, "save": cmd_save, "load": cmd_load, "login": cmd_login, "logout": cmd_logout,
    "run": cmd_run, "ps": cmd_ps, "stop": cmd_stop, "rm": cmd_rm, "logs": cmd_logs, "version": cmd_version,
    "info": cmd_version,
}
_ALIASES = {("image", "build"): "build", ("image", "push"): "push", ("image", "pull"): "pull",
            ("image", "ls"): "images", ("image", "rm"): "rmi", ("image", "save"): "save",
            ("image", "load"): "load", ("image", "tag"): "tag", ("buildx", "build"): "build",
            ("container", "run"): "run", ("container", "ls"): "ps", ("container", "stop"): "stop",
            ("container", "rm"): "rm", ("container", "logs"): "logs"}


def main(argv: list[str]) -> int:
    from gitopslab.ci.engine import EngineError
    from gitopslab.registry.build import BuildError
    from gitopslab.registry.distribution import ImageError

    if not argv:
        print(USAGE, file=sys.stderr)
        return 1
    name, args = argv[0], argv[1:]
    if len(argv) > 1 and (argv[0], argv[1]) in _ALIASES:
        name, args = _ALIASES[(argv[0], argv[1])], argv[2:]
    elif argv[0] == "buildx" and len(argv) > 1 and argv[1] in ("version", "ls", "create", "use", "inspect"):
        _out("github.com/docker/buildx v0.23.0 (modèle du labo)")
        return 0
    command = COMMANDS.get(name)
    if command is None:
        print(f"docker: '{name}' is not a docker command.\nSee 'docker --help'", file=sys.stderr)
        return 1
    try:
        return command(args)
    except Usage as e:
        print(f"docker: {e}" if not str(e).startswith('"') else str(e), file=sys.stderr)
        return 125 if name == "run" else 1
    except (BuildError, ImageError) as e:
        print(str(e), file=sys.stderr)
        return 1
    except EngineError as e:
        print(str(e), file=sys.stderr)
        return 125 if name == "run" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
