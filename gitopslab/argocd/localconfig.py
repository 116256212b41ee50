"""The ``argocd`` CLI's local config file: contexts, servers and users, the current context.

Shaped like the real CLI's ``~/.config/argocd/config`` (AC ``util/localconfig``:
``current-context``, ``contexts`` ``{name, server, user}``, ``servers``
``{server, insecure, grpc-web, grpc-web-root-path, plain-text}``, ``users``
``{name, auth-token}``, ``prompts-enabled``), written with sorted keys and mode
0600 (``MarshalLocalYAMLFile``). The lab keeps it in ``$GITOPSLAB_HOME/argocd-cli/config``
so that two lab homes never share a login. Pure functions on a dict, plus read/write.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from gitopslab.home import Home


def config_path(home: Home) -> Path:
    return home.root / "argocd-cli" / "config"


def read(path: Path) -> dict | None:
    """The config, or None when the file does not exist (``ReadLocalConfig``)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    config = yaml.safe_load(text) or {}
    for key in ("contexts", "servers", "users"):
        config[key] = list(config.get(key) or [])
    config.setdefault("current-context", "")
    config.setdefault("prompts-enabled", False)
    return config


def write(path: Path, config: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(config, out, sort_keys=True, default_flow_style=False)
    os.chmod(path, 0o600)


def empty() -> dict:
    return {"contexts": [], "current-context": "", "prompts-enabled": False, "servers": [], "users": []}


def _upsert(items: list[dict], key: str, item: dict) -> None:
    for i, existing in enumerate(items):
        if existing.get(key) == item[key]:
            items[i] = item
            return
    items.append(item)


def server_entry(server: str, *, insecure: bool = False, plain_text: bool = False, grpc_web: bool = False) -> dict:
    """A ``servers`` item as ``Server`` marshals it (false booleans omitted, root path always present)."""
    entry = {"grpc-web-root-path": "", "server": server}
    for field, value in (("insecure", insecure), ("plain-text", plain_text), ("grpc-web", grpc_web)):
        if value:
            entry[field] = True
    return entry


def login(config: dict, context: str, server: dict, token: str) -> dict:
    """What ``argocd login`` stores: server, user and context upserted, the context made current."""
    _upsert(config["servers"], "server", server)
    _upsert(config["users"], "name", {"auth-token": token, "name": context})
    config["current-context"] = context
    _upsert(config["contexts"], "name", {"name": context, "server": server["server"], "user": context})
    return config


def resolve_context(config: dict, name: str = "") -> dict | None:
    """``ResolveContext``: ``{name, server, user}`` with the server and user entries, or None."""
    name = name or config.get("current-context") or ""
    for context in config["contexts"]:
        if context.get("name") != name:
            continue
        server = next((s for s in config["servers"] if s.get("server") == context.get("server")), None)
        user = next((u for u in config["users"] if u.get("name") == context.get("user")), None)
        if server is None or user is None:
            return None
        return {"name": name, "server": server, "user": user}
    return None


def remove_token(config: dict, context: str) -> bool:
    """``RemoveToken``: forget the user's tokens; False when there is no such user."""
    for user in config["users"]:
        if user.get("name") == context:
            user.pop("auth-token", None)
            user.pop("refresh-token", None)
            return True
    return False


def delete_context(config: dict, context: str) -> bool:
    """``argocd context --delete``: drop the context, its user and its server; False if unknown."""
    found = next((c for c in config["contexts"] if c.get("name") == context), None)
    if found is None:
        return False
    config["contexts"].remove(found)
    config["users"] = [u for u in config["users"] if u.get("name") != context]
    config["servers"] = [s for s in config["servers"] if s.get("server") != found.get("server")]
    if config.get("current-context") == context:
        config["current-context"] = ""
    return True
