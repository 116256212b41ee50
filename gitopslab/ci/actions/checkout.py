"""``actions/checkout``: clone a repository of the lab Git server into the workspace.

The same Git commands as actions/checkout v4 (init, remote, extraheader
auth, shallow fetch of the pushed commit, ``checkout -B``), run for real.
``https://github.com/…`` reaches the lab Git server through the lab's Git
config (``insteadOf``); the token goes in an ``AUTHORIZATION: basic``
extraheader, kept for later ``git push`` (``persist-credentials``) and
removed by the post step.
"""
from __future__ import annotations

import base64
import re
import shutil

from gitopslab.ci.actions.base import ActionContext, StepFailure

GIT = "/usr/bin/git"
GITHUB = "https://github.com/"


class Checkout:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"repository": github["repository"], "token": "***", "ssh-strict": "true", "ssh-user": "git",
                "persist-credentials": "true", "clean": "true", "sparse-checkout-cone-mode": "true",
                "fetch-depth": "1", "fetch-tags": "false", "show-progress": "true", "lfs": "false",
                "submodules": "false", "set-safe-directory": "true"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        if "token" in ctx.inputs and not ctx.inputs["token"]:
            raise StepFailure("Input required and not supplied: token")
        token = ctx.input("token", ctx.github.get("token", ""))
        repository = ctx.input("repository", ctx.github["repository"])
        target = (ctx.machine.workspace / ctx.input("path", "")).resolve()
        ctx.log.line(f"Syncing repository: {repository}")
        ctx.log.group("Getting Git version info")
        ctx.log.line(f"Working directory is '{target}'")
        ctx.command([GIT, "version"], cwd=ctx.machine.workspace)
        ctx.log.endgroup()
        _prepare(ctx, target)
        _init(ctx, target, repository)
        _auth(ctx, target, token)
        branch, fetch_spec, checkout_target = _plan(ctx, target, repository)
        ctx.log.group("Fetching the repository")
        depth = ctx.input("fetch-depth", "1")
        depth_args = [f"--depth={depth}"] if depth != "0" else []
        ctx.command([GIT, "-c", "protocol.version=2", "fetch", "--no-tags", "--prune", "--no-recurse-submodules",
                     *depth_args, "origin", fetch_spec], cwd=target)
        ctx.log.endgroup()
        ctx.log.group("Determining the checkout info")
        ctx.log.endgroup()
        ctx.log.group("Checking out the ref")
        ctx.command([GIT, "checkout", "--progress", "--force", *checkout_target], cwd=target)
        ctx.log.endgroup()
        commit = ctx.command([GIT, "log", "-1", "--format=%H"], cwd=target).stdout.strip()
        ctx.outputs.update(ref=f"refs/heads/{branch}" if branch else "", commit=commit)
        if ctx.flag("persist-credentials", True):
            ctx.post.append(_remove_auth)
            ctx.state["target"] = target
        else:
            _unset_auth(ctx, target)


def _prepare(ctx: ActionContext, target) -> None:
    ctx.log.line(f"Temporarily overriding HOME='{ctx.machine.temp}' before making global git config changes")
    ctx.log.line("Adding repository directory to the temporary git global config as a safe directory")
    ctx.log.command(f"{GIT} config --global --add safe.directory {target}")
    if target.exists() and any(target.iterdir()):
        ctx.log.line(f"Deleting the contents of '{target}'")
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    target.mkdir(parents=True, exist_ok=True)


def _init(ctx: ActionContext, target, repository: str) -> None:
    ctx.log.group("Initializing the repository")
    ctx.command([GIT, "init", str(target)], cwd=target)
    ctx.command([GIT, "remote", "add", "origin", f"{GITHUB}{repository}"], cwd=target)
    ctx.log.endgroup()
    ctx.log.group("Disabling automatic garbage collection")
    ctx.command([GIT, "config", "--local", "gc.auto", "0"], cwd=target)
    ctx.log.endgroup()


def _lab_base(ctx: ActionContext) -> str | None:
    """Where ``https://github.com/`` really goes: the lab Git server (its port survives restarts)."""
    from gitopslab.gitserver.layout import GitPaths

    port = GitPaths.of(ctx.home).read_port()
    return f"http://127.0.0.1:{port}" if port else None


def _auth_keys(ctx: ActionContext) -> list[str]:
    keys = [f"http.{GITHUB}.extraheader"]
    base = _lab_base(ctx)
    if base:
        # The request goes to the rewritten (lab) URL, so Git matches the header against that one.
        keys.append(f"http.{base.rstrip('/')}/.extraheader")
    return keys


def _auth(ctx: ActionContext, target, token: str) -> None:
    ctx.log.group("Setting up auth")
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    ctx.log.masker.add(basic)
    for i, key in enumerate(_auth_keys(ctx)):
        argv = [GIT, "config", "--local", key, f"AUTHORIZATION: basic {basic}"]
        if i == 0:
            ctx.command(argv, cwd=target, shown=f"{GIT} config --local {key} AUTHORIZATION: basic ***")
        else:
            ctx.command(argv, cwd=target, shown="")  # the lab's alias of the same header
    ctx.log.endgroup()


def _unset_auth(ctx: ActionContext, target) -> None:
    for key in _auth_keys(ctx):
        ctx.command([GIT, "config", "--local", "--unset-all", key], cwd=target, check=False,
                    shown=f"{GIT} config --local --unset-all {key}")


def _remove_auth(ctx: ActionContext) -> None:
    target = ctx.state["target"]
    ctx.log.line(f"[command]{GIT} version")
    ctx.log.line("Temporarily overriding HOME before making global git config changes")
    ctx.log.command(f"{GIT} config --local --name-only --get-regexp http\\.https\\:\\/\\/github\\.com\\/\\.extraheader")
    if target.is_dir():
        _unset_auth(ctx, target)


def _default_branch(ctx: ActionContext, target, repository: str) -> str:
    ctx.log.line("Determining the default branch")
    ctx.log.line("Retrieving the default branch name")
    done = ctx.command([GIT, "ls-remote", "--symref", "origin", "HEAD"], cwd=target, shown="", check=False)
    m = re.search(r"ref: refs/heads/(\S+)\s+HEAD", done.stdout)
    if done.returncode != 0 or not m:
        raise StepFailure(f"Not Found - https://docs.github.com/rest/repos/repos#get-a-repository "
                          f"({repository})")
    ctx.log.line(f"Default branch '{m.group(1)}'")
    return m.group(1)


def _plan(ctx: ActionContext, target, repository: str) -> tuple[str, str, list[str]]:
    """(branch, fetch refspec, checkout arguments) for the requested ref."""
    same_repo = repository.lower() == ctx.github["repository"].lower()
    ref = ctx.input("ref", "")
    if not ref and same_repo:
        gh_ref, sha = ctx.github["ref"], ctx.github["sha"]
        if gh_ref.startswith("refs/heads/"):
            branch = gh_ref[len("refs/heads/"):]
            return branch, f"+{sha}:refs/remotes/origin/{branch}", ["-B", branch, f"refs/remotes/origin/{branch}"]
        return "", f"+{sha}:refs/tags/{gh_ref.rsplit('/', 1)[-1]}", [sha]
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        return "", ref, [ref]
    branch = ref.removeprefix("refs/heads/") if ref else _default_branch(ctx, target, repository)
    return (branch, f"+refs/heads/{branch}*:refs/remotes/origin/{branch}*",
            ["-B", branch, f"refs/remotes/origin/{branch}"])


ACTIONS = {"actions/checkout": Checkout}
