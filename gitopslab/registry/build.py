"""``docker build`` for the lab: a Dockerfile read with dockerfile-parse, run step by step.

Supported: FROM (catalog, registry or earlier stage; ``AS`` names), ARG, ENV,
LABEL, WORKDIR, COPY/ADD from the context (with ``.dockerignore``) or
``--from`` a stage, RUN, EXPOSE, USER, CMD/ENTRYPOINT in both forms, and the
metadata-only HEALTHCHECK, STOPSIGNAL, VOLUME, SHELL, ONBUILD, MAINTAINER.
``pip install`` in a RUN really installs into the image's venv; any other
command is recorded in the image's history and reported as not executed.
The output follows the classic builder (``Step n/m``, ``--->``, ``Successfully
built``); failures raise ``BuildError`` with the message Docker prints.
"""
from __future__ import annotations

import copy
import posixpath
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gitopslab.registry import catalog, layers, refs
from gitopslab.registry.context import BuildContext
from gitopslab.registry.dockerfile import DockerfileError, Instruction, expand, key_values, parse
from gitopslab.registry.fsutil import canonical_json, human_size, read_json, sha256, write_json
from gitopslab.locks import file_lock
from gitopslab.registry.image import env_dict
from gitopslab.registry.pyenv import PipFailed, PipStep, env_key
from gitopslab.registry.store import ImageStore

Out = Callable[[str], None]
NOT_EXECUTED_NOTE = "[gitopslab] commande non exécutée dans le lab (seuls les « pip install » le sont) : {}"
_NO_OP_REQUIREMENTS = {"pip", "setuptools", "wheel"}
_PIP_VALUE_OPTIONS = {"-i", "--index-url", "--extra-index-url", "--trusted-host", "--timeout", "--root-user-action",
                      "--progress-bar", "--cache-dir", "--upgrade-strategy", "-f", "--find-links", "--retries"}
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
_PIP_KEPT_FLAGS = {"-U", "--upgrade", "--no-deps", "--pre", "--force-reinstall"}


class BuildError(Exception):
    pass


@dataclass
class Stage:
    name: str | None
    base: str
    from_ref: str
    base_digest: str
    base_size: int
    base_layers: int
    config: dict[str, Any]
    diff_ids: list[str]
    history: list[dict]
    files: layers.Files
    pip_steps: list[PipStep] = field(default_factory=list)
    not_executed: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    python_base: bool = False

    def variables(self) -> dict[str, str]:
        return {**self.args, **env_dict(self.config.get("Env") or [])}

    def image_config(self) -> dict[str, Any]:
        return {
            "architecture": "amd64", "os": "linux", "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": list(self.diff_ids)}, "history": list(self.history),
            "gitopslab": {"base": self.base, "from": self.from_ref, "base_digest": self.base_digest,
                          "base_size": self.base_size, "base_layers": self.base_layers,
                          "pip_steps": [s.to_json() for s in self.pip_steps],
                          "not_executed": list(self.not_executed)},
        }

    def state_id(self) -> str:
        return sha256(canonical_json(self.image_config()))


@dataclass
class BuildResult:
    digest: str
    tags: list[str]

    @property
    def short_id(self) -> str:
        return self.digest.split(":", 1)[1][:12]


def build(store: ImageStore, context_dir: Path, *, dockerfile: Path | None = None, tags: list[str] = (),
          build_args: dict[str, str] | None = None, out: Out = print) -> BuildResult:
    return Builder(store, Path(context_dir), dockerfile, list(tags), build_args or {}, out).run()


class Builder:
    def __init__(self, store: ImageStore, context_dir: Path, dockerfile: Path | None, tags: list[str],
                 build_args: dict[str, str], out: Out):
        self.store, self.context_dir, self.out = store, context_dir, out
        self.dockerfile = dockerfile or context_dir / "Dockerfile"
        self.tags, self.build_args = tags, build_args
        self.stages: list[Stage] = []
        self.global_args: dict[str, str] = {}
        self.cache_file = store.root / "build-cache.json"

    # -- driver ------------------------------------------------------------------
    def run(self) -> BuildResult:
        try:
            normalized_tags = [refs.normalize_ref(t) for t in self.tags]
        except refs.InvalidReference as e:
            raise BuildError(f'invalid argument "{self.tags[0]}" for "-t, --tag" flag: {e}') from e
        if not self.context_dir.is_dir():
            raise BuildError(f'unable to prepare context: path "{self.context_dir}" not found')
        if not self.dockerfile.is_file():
            raise BuildError(f"unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                             f"lstat {self.dockerfile}: no such file or directory")
        try:
            instructions = parse(self.dockerfile.read_text(), self.dockerfile.name)
        except DockerfileError as e:
            raise BuildError(f"Error response from daemon: {e}") from e
        self.context = BuildContext.load(self.context_dir)
        self.out(f"Sending build context to Docker daemon  {human_size(self.context.size)}")
        total = len(instructions)
        for number, ins in enumerate(instructions, 1):
            self.out(f"Step {number}/{total} : {ins.display()}")
            self.step(ins)
        stage = self.stages[-1]
        digest = self.store.put_config(stage.image_config())
        self.store.rootfs(digest)
        self.out(f"Successfully built {digest.split(':', 1)[1][:12]}")
        for given, ref in zip(self.tags, normalized_tags):
            self.store.tag_local(ref, digest)
            self.out(f"Successfully tagged {refs.familiar(ref)}")
        return BuildResult(digest, normalized_tags)

    def step(self, ins: Instruction) -> None:
        if ins.keyword == "FROM":
            return self.from_(ins)
        if ins.keyword == "ARG" and not self.stages:
            return self.global_arg(ins)
        stage = self.stages[-1]
        handler = getattr(self, f"do_{ins.keyword.lower()}")
        handler(stage, ins)

    # -- FROM / ARG --------------------------------------------------------------
    def global_arg(self, ins: Instruction) -> None:
        for key, value in key_values(ins.value):
            self.global_args[key] = self.build_args.get(key, value)
        self.out(f" ---> {_short(sha256(canonical_json(self.global_args)))}")

    def from_(self, ins: Instruction) -> None:
        words = expand(ins.value, self.global_args).split()
        ref, name = words[0], (words[2] if len(words) == 3 else None)
        if len(words) == 3 and words[1].upper() != "AS":
            raise BuildError(f"Error response from daemon: dockerfile parse error on line {ins.line}: "
                             "FROM requires either one or three arguments")
        earlier = next((s for s in self.stages if s.name and s.name == ref.lower()), None)
        if earlier is not None:
            stage = copy.deepcopy(earlier)
            stage.name = name.lower() if name else None
        elif ref == "scratch":
            stage = Stage(name, "scratch", "scratch", "", 0, 0, _empty_config(), [], [], {})
        else:
            stage = self.pull_base(ref, name.lower() if name else None)
        self.stages.append(stage)
        self.out(f" ---> {_short(stage.state_id() if earlier or ref == 'scratch' else stage.base_digest)}")

    def pull_base(self, ref: str, name: str | None) -> Stage:
        try:
            parsed = refs.parse(ref)
        except refs.InvalidReference as e:
            raise BuildError(str(e)) from e
        normalized = str(parsed)
        digest = self.store.local_digest(normalized)
        if digest is None:
            digest = self.store.remote_digest(normalized)
            if digest is None:
                raise BuildError(pull_error(parsed))
            self.out(f"{parsed.tag or parsed.digest}: Pulling from {parsed.repository if parsed.registry == refs.DEFAULT_REGISTRY else parsed.name}")
            self.out(f"Digest: {digest}")
            self.out(f"Status: Downloaded newer image for {parsed.familiar}")
            self.store.tag_local(normalized, digest)
        config = self.store.config(digest)
        meta = config.get("gitopslab", {})
        is_catalog = bool(meta.get("catalog"))
        return Stage(
            name=name, base=meta.get("base", ""), from_ref=normalized, base_digest=digest,
            base_size=int(meta["size"] if is_catalog else meta.get("base_size", 0)),
            base_layers=len(config["rootfs"]["diff_ids"]) if is_catalog else int(meta.get("base_layers", 0)),
            config=_clean_config(config.get("config") or {}), diff_ids=list(config["rootfs"]["diff_ids"]),
            history=list(config.get("history", [])), files=self.store.files(config),
            pip_steps=[PipStep.from_json(s) for s in meta.get("pip_steps", [])],
            not_executed=list(meta.get("not_executed", [])), python_base=meta.get("base") == "python",
        )

    # -- metadata instructions ---------------------------------------------------
    def _metadata(self, stage: Stage, ins: Instruction, text: str | None = None) -> None:
        container = secrets.token_hex(6)
        self.out(f" ---> Running in {container}")
        stage.history.append({"created_by": f"/bin/sh -c #(nop)  {text or ins.display()}", "empty_layer": True})
        self.out(f"Removing intermediate container {container}")
        self._done(stage)

    def _done(self, stage: Stage, cached: bool = False) -> None:
        state = stage.state_id()
        seen = self._seen(state)
        if cached or seen:
            self.out(" ---> Using cache")
        self.out(f" ---> {_short(state)}")

    def do_arg(self, stage: Stage, ins: Instruction) -> None:
        for key, value in key_values(ins.value):
            stage.args[key] = self.build_args.get(key, self.global_args.get(key, value))
        self._metadata(stage, ins)

    def do_env(self, stage: Stage, ins: Instruction) -> None:
        env = env_dict(stage.config.get("Env") or [])
        for key, value in key_values(ins.value):
            env[key] = expand(value, stage.variables())
        stage.config["Env"] = [f"{k}={v}" for k, v in env.items()]
        self._metadata(stage, ins)

    def do_label(self, stage: Stage, ins: Instruction) -> None:
        labels = dict(stage.config.get("Labels") or {})
        for key, value in key_values(ins.value):
            labels[expand(key, stage.variables())] = expand(value, stage.variables())
        stage.config["Labels"] = labels
        self._metadata(stage, ins)

    def do_maintainer(self, stage: Stage, ins: Instruction) -> None:
        self._metadata(stage, ins)

    def do_workdir(self, stage: Stage, ins: Instruction) -> None:
        path = expand(ins.value.strip(), stage.variables())
        workdir = posixpath.normpath(posixpath.join(stage.config.get("WorkingDir") or "/", path))
        stage.config["WorkingDir"] = workdir
        rel = workdir.lstrip("/")
        if rel and rel not in stage.files:
            self._add_layer(stage, {rel: layers.Entry("dir")}, f"WORKDIR {workdir}")
        self._metadata(stage, ins)

    def do_expose(self, stage: Stage, ins: Instruction) -> None:
        ports = dict(stage.config.get("ExposedPorts") or {})
        for word in expand(ins.value, stage.variables()).split():
            port = word if "/" in word else f"{word}/tcp"
            ports[port.lower()] = {}
        stage.config["ExposedPorts"] = ports
        self._metadata(stage, ins)

    def do_user(self, stage: Stage, ins: Instruction) -> None:
        stage.config["User"] = expand(ins.value.strip(), stage.variables())
        self._metadata(stage, ins)

    def do_cmd(self, stage: Stage, ins: Instruction) -> None:
        stage.config["Cmd"] = _command(ins)
        self._metadata(stage, ins, f"CMD {_quoted(stage.config['Cmd'])}")

    def do_entrypoint(self, stage: Stage, ins: Instruction) -> None:
        stage.config["Entrypoint"] = _command(ins)
        self._metadata(stage, ins, f"ENTRYPOINT {_quoted(stage.config['Entrypoint'])}")

    def do_healthcheck(self, stage: Stage, ins: Instruction) -> None:
        self._metadata(stage, ins)

    def do_stopsignal(self, stage: Stage, ins: Instruction) -> None:
        stage.config["StopSignal"] = ins.value.strip()
        self._metadata(stage, ins)

    def do_volume(self, stage: Stage, ins: Instruction) -> None:
        volumes = dict(stage.config.get("Volumes") or {})
        for path in ins.json_args or ins.value.split():
            volumes[path] = {}
        stage.config["Volumes"] = volumes
        self._metadata(stage, ins)

    def do_shell(self, stage: Stage, ins: Instruction) -> None:
        self._metadata(stage, ins)

    def do_onbuild(self, stage: Stage, ins: Instruction) -> None:
        self._metadata(stage, ins)

    # -- COPY / ADD ----------------------------------------------------------------
    def do_add(self, stage: Stage, ins: Instruction) -> None:
        self.do_copy(stage, ins)

    def do_copy(self, stage: Stage, ins: Instruction) -> None:
        words = ins.json_args if ins.json_args is not None else shlex.split(ins.value)
        words = [expand(w, stage.variables()) for w in words]
        sources, dest = words[:-1], words[-1]
        provider = self._source_provider(stage, ins)
        workdir = stage.config.get("WorkingDir") or "/"
        dest_path = posixpath.normpath(posixpath.join(workdir, dest)).lstrip("/")
        into_dir = dest.endswith("/") or len(sources) > 1 or dest in (".", "./") or \
            stage.files.get(dest_path, layers.Entry("file")).kind == "dir"
        layer: layers.Files = {}
        for source in sources:
            if "://" in source:
                raise BuildError(f"{ins.keyword} failed: les URL distantes ne sont pas prises en charge dans le lab : {source}")
            selected = provider.select(source)
            if selected is None:
                raise BuildError(f"{ins.keyword} failed: file not found in build context or excluded by "
                                 f".dockerignore: stat {source}: file does not exist")
            single_file = provider.is_file(source)
            for rel, entry in selected.items():
                if single_file and not into_dir:
                    target = dest_path
                else:
                    target = posixpath.join(dest_path, rel) if dest_path else rel
                layer[target] = entry
            if not selected and dest_path:
                layer.setdefault(dest_path, layers.Entry("dir"))
        if ins.keyword == "ADD":
            layer = _extract_archives(layer)
        self._add_layer(stage, layer, ins.display())
        self._done(stage)

    def _source_provider(self, stage: Stage, ins: Instruction) -> BuildContext:
        origin = ins.flags.get("from")
        if not origin:
            return self.context
        named = next((s for s in self.stages[:-1] if s.name == origin.lower()), None)
        if named is None and origin.isdigit() and int(origin) < len(self.stages) - 1:
            named = self.stages[int(origin)]
        if named is None:
            named = self.pull_base(origin, None)
        return BuildContext(Path("/"), named.files)

    def _add_layer(self, stage: Stage, layer: layers.Files, created_by: str) -> None:
        full = layers.with_parents(layer)
        # Parent directories already in the image are not repeated in the layer.
        delta = {p: e for p, e in full.items() if p in layer or p not in stage.files}
        diff_id = self.store.put_blob(layers.make_tar(delta))
        stage.diff_ids.append(diff_id)
        stage.history.append({"created_by": f"/bin/sh -c #(nop) {created_by}"})
        stage.files = layers.apply(stage.files, delta)

    # -- RUN -------------------------------------------------------------------------
    def do_run(self, stage: Stage, ins: Instruction) -> None:
        exec_form = ins.json_args
        shown = " ".join(exec_form) if exec_form is not None else f"/bin/sh -c {ins.value}"
        segments = [exec_form] if exec_form is not None else _shell_segments(ins.value)
        container = secrets.token_hex(6)
        self.out(f" ---> Running in {container}")
        cache_key = sha256(canonical_json([stage.state_id(), ins.display(), self._pip_inputs(stage, segments)]))
        cached = read_json(self.cache_file, {}).get(cache_key)
        skipped: list[str] = []
        if cached and self.store.has_blob(cached["diff_id"]) and self.store.envs.exists(cached["env"]):
            stage.pip_steps = [PipStep.from_json(s) for s in cached["pip_steps"]]
            skipped = cached["skipped"]
            diff_id = cached["diff_id"]
        else:
            diff_id, skipped = self._run_segments(stage, segments, shown)
            self._remember(cache_key, {"diff_id": diff_id, "env": env_key(stage.pip_steps) if stage.pip_steps else "",
                                       "pip_steps": [s.to_json() for s in stage.pip_steps], "skipped": skipped})
        for text in skipped:
            self.out(NOT_EXECUTED_NOTE.format(text))
        if diff_id:
            stage.diff_ids.append(diff_id)
            stage.history.append({"created_by": shown})
        else:
            stage.history.append({"created_by": shown, "empty_layer": True})
        stage.not_executed.extend(skipped)
        self.out(f"Removing intermediate container {container}")
        self._done(stage, cached=bool(cached))

    def _pip_inputs(self, stage: Stage, segments: list[list[str]]) -> list:
        inputs = []
        for tokens in segments:
            pip_args = _pip_install_args(tokens)
            if pip_args is not None:
                inputs.append(self._pip_step(stage, pip_args).to_json() if self._can_read(stage, pip_args) else None)
        return inputs

    def _run_segments(self, stage: Stage, segments: list[list[str]], shown: str) -> tuple[str, list[str]]:
        skipped, installed_any = [], False
        for tokens in segments:
            pip_args = _pip_install_args(tokens)
            if pip_args is None:
                skipped.append(" ".join(tokens))
                continue
            if not stage.python_base and stage.base != "python":
                self.out(f"/bin/sh: 1: {tokens[0]}: not found")
                raise BuildError(f"The command '{shown}' returned a non-zero code: 127")
            requirements = [a for a in pip_args if not a.startswith("-")]
            if requirements and all(r.lower() in _NO_OP_REQUIREMENTS for r in requirements) and "-r" not in pip_args:
                continue
            self._check_requirement_files(stage, pip_args, shown)
            stage.pip_steps.append(self._pip_step(stage, pip_args))
            try:
                key = self.store.envs.ensure(stage.pip_steps, self.out)
            except PipFailed as e:
                for line in e.output.splitlines():
                    self.out(line)
                raise BuildError(f"The command '{shown}' returned a non-zero code: {e.code}") from e
            installed_any = True
        if not installed_any:
            return "", skipped
        layer = {"run": shown, "installed": self.store.envs.meta(key)["installed"]}
        return self.store.put_blob(canonical_json(layer)), skipped

    def _pip_step(self, stage: Stage, pip_args: list[str]) -> PipStep:
        files = []
        for option, name in zip(pip_args, pip_args[1:]):
            if option in ("-r", "--requirement", "-c", "--constraint"):
                entry = stage.files.get(self._in_image(stage, name))
                files.append((name, entry.data.decode() if entry else ""))
        return PipStep(tuple(pip_args), tuple(files))

    def _can_read(self, stage: Stage, pip_args: list[str]) -> bool:
        return all(self._in_image(stage, n) in stage.files for o, n in zip(pip_args, pip_args[1:])
                   if o in ("-r", "--requirement", "-c", "--constraint"))

    def _check_requirement_files(self, stage: Stage, pip_args: list[str], shown: str) -> None:
        for option, name in zip(pip_args, pip_args[1:]):
            if option in _FILE_OPTIONS and self._in_image(stage, name) not in stage.files:
                self.out(f"ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{name}'")
                raise BuildError(f"The command '{shown}' returned a non-zero code: 1")

    @staticmethod
    def _in_image(stage: Stage, name: str) -> str:
        return posixpath.normpath(posixpath.join(stage.config.get("WorkingDir") or "/", name)).lstrip("/")

    # -- build cache ---------------------------------------------------------------
    def _seen(self, state: str) -> bool:
        with file_lock(self.store.root / ".cache.lock"):
            cache = read_json(self.cache_file, {})
            seen = state in cache.setdefault("states", {})
            if not seen:
                cache["states"][state] = True
                write_json(self.cache_file, cache)
        return seen

    def _remember(self, key: str, value: dict) -> None:
        with file_lock(self.store.root / ".cache.lock"):
            cache = read_json(self.cache_file, {})
            cache[key] = value
            write_json(self.cache_file, cache)


# -- helpers (pure) --------------------------------------------------------------------
def pull_error(parsed: refs.Reference) -> str:
    if catalog.is_known_repository(str(parsed)):
        return (f"manifest for {parsed.familiar} not found: manifest unknown: manifest unknown")
    return (f"pull access denied for {parsed.familiar_name}, repository does not exist or may require "
            "'docker login': denied: requested access to the resource is denied")


def _short(digest: str) -> str:
    return digest.split(":", 1)[1][:12]


def _empty_config() -> dict[str, Any]:
    return {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}


def _clean_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in config.items() if v not in (None, "", {}, [])}


def _command(ins: Instruction) -> list[str]:
    args = ins.json_args
    return args if args is not None else ["/bin/sh", "-c", ins.value]


def _quoted(args: list[str]) -> str:
    return "[" + " ".join(f'"{a}"' for a in args) + "]"


def _shell_segments(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    segments, current = [], []
    try:
        tokens = list(lexer)
    except ValueError:
        return [command.split()]
    for token in tokens:
        if token in ("&&", ";", "||", "|", "&"):
            if current:
                segments.append(current)
            current = []
        else:
            current.append(token)
    if current:
        segments.append(current)
    return segments


def _pip_install_args(tokens: list[str]) -> list[str] | None:
    """The arguments of a ``pip install`` we execute, or None for any other command."""
    if not tokens:
        return None
    program = posixpath.basename(tokens[0])
    if program.startswith("pip") and len(tokens) > 1 and tokens[1] == "install":
        rest = tokens[2:]
    elif program.startswith("python") and tokens[1:4] == ["-m", "pip", "install"]:
        rest = tokens[4:]
    else:
        return None
    args, i = [], 0
    while i < len(rest):
        arg = rest[i]
        option = arg.split("=", 1)[0]
        if arg in _FILE_OPTIONS and i + 1 < len(rest):
            args += [arg, rest[i + 1]]
            i += 2
            continue
        if option in _PIP_VALUE_OPTIONS:
            i += 1 if "=" in arg else 2
            continue
        if arg.startswith("-"):
            if arg in _PIP_KEPT_FLAGS:
                args.append(arg)
        elif arg.startswith((".", "/")) or "://" in arg:
            return None  # local paths and URLs are not installed by the lab
        else:
            args.append(arg)
        i += 1
    return args


def _extract_archives(layer: layers.Files) -> layers.Files:
    result: layers.Files = {}
    for path, entry in layer.items():
        if entry.kind == "file" and path.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            try:
                content = layers.read_tar(entry.data)
            except Exception:
                result[path] = entry
                continue
            directory = posixpath.dirname(path)
            for rel, sub in content.items():
                result[posixpath.join(directory, rel) if directory else rel] = sub
        else:
            result[path] = entry
    return result
