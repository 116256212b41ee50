"""``argocd login``, ``argocd logout``, ``argocd context``: the CLI's sessions with an Argo CD server.

A lab's argocd-server is reached where the real one is: its Service's NodePort
(30080 or 30443) on the address of the node of the cluster it runs in. Login
plays both sides as ``cmd/argocd/commands/login.go`` and argocd-server do:
the TLS test (the real server presents a self-signed certificate for
``localhost`` and ``argocd-server[.argocd[.svc[.cluster.local]]]``, so the CLI
asks to proceed insecurely), the ``Username:``/``Password:`` prompts, the
session service's check of the admin password (the lab's is in
``argocd-initial-admin-secret``), a session JWT (subject ``admin:login``), then
the context written to the local config file (``gitopslab.argocd.localconfig``).
The current context tells the other commands which lab cluster's Argo CD they
talk to (``current_login_cluster``).
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import json
import socket
import sys
import time
import uuid

from gitopslab.argocd import cliformat as fmt
from gitopslab.argocd import localconfig
from gitopslab.argocd.serveraddress import DialError, certificate_error, dial, split_address
from gitopslab.cli_argocd import LOG, NAMESPACE, CommandError, Session, _run, ask_to_proceed, read_answer, rpc_error
from gitopslab.home import Home

SESSION_SECONDS = 24 * 3600  # users.session.duration default
INVALID_LOGIN = "Invalid username or password"  # AC util/session/sessionmanager.go invalidLoginError
GRPC_NOT_READY = "gRPC connection not ready: context deadline exceeded"


def _node_clusters(home: Home, ip: str) -> list[str]:
    return [name for name in home.cluster_names() if home.cluster(name).node_ip() == ip]


def argocd_server_cluster(home: Home, ip: str, port: int) -> str | None:
    """The lab cluster whose node is ``ip`` and whose argocd-server Service has NodePort ``port``."""
    for name in _node_clusters(home, ip):
        session = Session(name)
        try:
            svc = session.core.read_namespaced_service("argocd-server", NAMESPACE)
            if svc.spec.type in ("NodePort", "LoadBalancer") and \
                    any(p.node_port == port for p in svc.spec.ports or []):
                return name
        except Exception:  # noqa: BLE001 — no Argo CD there, or the cluster is down
            continue
        finally:
            session.close()
    return None


def current_login_cluster(home: Home) -> str | None:
    """The lab cluster of the current login context's server (None without a login).

    A server nothing answers at is the apiclient's fatal error (``log.Fatalf``, exit 1).
    """
    config = localconfig.read(localconfig.config_path(home))
    context = localconfig.resolve_context(config) if config else None
    if context is None:
        return None
    server = context["server"]["server"]
    try:
        host, _ = split_address(server)
        ip = socket.getaddrinfo(host or "127.0.0.1", None, socket.AF_INET)[0][4][0]
    except (DialError, socket.gaierror):
        ip = ""
    found = _node_clusters(home, ip)
    if found:
        return found[0]
    try:
        dial(server)
        reason = "context deadline exceeded"
    except DialError as e:
        reason = str(e)
    raise CommandError(f"Failed to establish connection to {server}: {reason}", 1)


# --- the session service (argocd-server's side) --------------------------------------

def _admin_password(session: Session) -> str | None:
    try:
        secret = session.core.read_namespaced_secret("argocd-initial-admin-secret", NAMESPACE)
    except Exception:  # noqa: BLE001 — deleted after the first login: no password to compare with
        return None
    raw = (secret.data or {}).get("password")
    return base64.b64decode(raw).decode() if raw else None


def _admin_enabled(session: Session) -> bool:
    try:
        data = session.core.read_namespaced_config_map("argocd-cm", NAMESPACE).data or {}
    except Exception:  # noqa: BLE001
        return True
    return data.get("admin.enabled", "true") != "false"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def session_token(username: str, key: str, now: float | None = None) -> str:
    """The JWT ``SessionManager.Create`` signs (HS256) for ``<username>:login``."""
    now = int(now if now is not None else time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": "argocd", "sub": f"{username}:login", "exp": now + SESSION_SECONDS, "nbf": now, "iat": now,
              "jti": str(uuid.uuid4())}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def create_session(session: Session, username: str, password: str) -> str:
    """``SessionService.Create``: the token, or the rpc error argocd-server answers."""
    if not username or not password:
        raise rpc_error("Unauthenticated", "no credentials supplied")
    expected = _admin_password(session)
    if username != "admin" or expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
        raise rpc_error("Unauthenticated", INVALID_LOGIN)
    if not _admin_enabled(session):
        raise rpc_error("Unauthenticated", f"Account {username} is disabled")
    return session_token(username, expected)  # the lab's argocd-secret has no server.secretkey: signed with it


# --- prompts (util/cli) ----------------------------------------------------------------

def prompt_message(message: str, value: str) -> str:
    """``PromptMessage``: ask until a non-empty value (unless already supplied)."""
    while not value:
        sys.stdout.write(f"{message}: ")
        sys.stdout.flush()
        value = read_answer()
    return value


def prompt_password(password: str) -> str:
    """``PromptPassword``: without echo on a terminal, else one line of stdin."""
    while not password:
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ", stream=sys.stdout)
        else:
            sys.stdout.write("Password: ")
            sys.stdout.flush()
            return read_answer()
    return password


def _accept_certificate(address: str) -> None:
    """``TestTLS`` met argocd-server's self-signed certificate: proceed insecurely if the user says so, else exit 1."""
    host, _ = split_address(address)
    if not ask_to_proceed(f"WARNING: server certificate had error: {certificate_error(host)}. "
                          "Proceed insecurely (y/n)? "):
        raise SystemExit(1)


# --- commands ------------------------------------------------------------------------------

def cmd_login(args, session: Session) -> int:
    if not args.server:
        args.parser.print_help()
        return 1
    server = args.server
    try:
        ip, port = dial(server)
    except DialError as e:
        raise CommandError(f"error dial proxy: {e}") from None
    cluster = argocd_server_cluster(session.home, ip, port)
    if cluster is None:
        raise CommandError(GRPC_NOT_READY)
    insecure = args.insecure
    if not args.skip_test_tls and not insecure:
        _accept_certificate(server)
        insecure = True
    context = args.name or server
    argocd = Session(cluster)
    try:
        username = prompt_message("Username", args.username)
        password = prompt_password(args.password)
        token = create_session(argocd, username, password)
    finally:
        argocd.close()
    print(f"'{username}:login' logged in successfully")
    path = localconfig.config_path(session.home)
    config = localconfig.read(path) or localconfig.empty()
    entry = localconfig.server_entry(server, insecure=insecure, plain_text=args.plaintext, grpc_web=args.grpc_web)
    localconfig.write(path, localconfig.login(config, context, entry, token))
    print(f"Context '{context}' updated")
    return 0


def cmd_logout(args, session: Session) -> int:
    if not args.context:
        args.parser.print_help()
        return 1
    path = localconfig.config_path(session.home)
    config = localconfig.read(path)
    if config is None:
        raise CommandError("Nothing to logout from", 1)
    if config.get("prompts-enabled") and not ask_to_proceed(
            f"Are you sure you want to log out from '{args.context}'?"):
        LOG("info", f"Logout from '{args.context}' cancelled")
        return 0
    token = next((u.get("auth-token") for u in config["users"] if u.get("name") == args.context), "")
    try:
        ip, port = dial(args.context)
        tls_error = None if argocd_server_cluster(session.home, ip, port) else GRPC_NOT_READY
        dial_error = None
    except DialError as e:
        dial_error = e
        tls_error = f"error dial proxy: {e}"
    if tls_error is None and not args.insecure:
        _accept_certificate(args.context)
    elif tls_error is not None:
        LOG("warning", f"failed to check the TLS config settings for the server : {tls_error}.")
    if not token:
        LOG("warning", "failed to invalidate token on server: error getting token from local context file.")
    elif tls_error is None:
        LOG("info", "token successfully invalidated on server")
    elif dial_error is not None:
        LOG("warning", f'failed to invalidate token on server: Post "http://{args.context}/auth/logout": '
                       f"{dial_error}.")
    if not localconfig.remove_token(config, args.context):
        raise CommandError(f"Context {args.context} does not exist", 1)
    localconfig.write(path, config)
    print(f"Logged out from '{args.context}'")
    return 0


def cmd_context(args, session: Session) -> int:
    path = localconfig.config_path(session.home)
    config = localconfig.read(path)
    if config is None:
        print("No local configuration found")
        return 1
    if args.delete:
        if not args.context:
            args.parser.print_help()
            return 1
        if not localconfig.delete_context(config, args.context):
            raise CommandError(f"context {args.context} does not exist")
        if config["servers"]:
            localconfig.write(path, config)
        else:
            path.unlink()
        print(f"Context '{args.context}' deleted")
        return 0
    if not args.context:
        rows = ["CURRENT\tNAME\tSERVER"]
        for ref in config["contexts"]:
            current = "*" if ref.get("name") == config.get("current-context") else " "
            rows.append(f"{current}\t{ref.get('name', '')}\t{ref.get('server', '')}")
        sys.stdout.write(fmt.tabwrite("\n".join(rows) + "\n", padding=2))
        return 0
    if config.get("current-context") == args.context:
        print(f"Already at context '{args.context}'")
        return 0
    if localconfig.resolve_context(config, args.context) is None:
        raise CommandError(f"Context '{args.context}' undefined", 1)
    previous = config.get("current-context") or ""
    config["current-context"] = args.context
    localconfig.write(path, config)
    (path.parent / ".prev-ctx").write_text(previous)
    print(f"Switched to context '{args.context}'")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="se connecter à un Argo CD (adresse du NodePort d'argocd-server)")
    p.add_argument("server", nargs="?", metavar="SERVER")
    p.add_argument("--username", default="")
    p.add_argument("--password", default="")
    p.add_argument("--name", default="", help="nom du contexte (défaut : SERVER)")
    p.add_argument("--insecure", action="store_true", help="accepter le certificat auto-signé sans question")
    p.add_argument("--plaintext", action="store_true")
    p.add_argument("--grpc-web", action="store_true")
    p.add_argument("--skip-test-tls", action="store_true")
    p.set_defaults(func=_run(cmd_login), parser=p)

    p = sub.add_parser("logout", help="oublier le jeton d'un contexte")
    p.add_argument("context", nargs="?", metavar="CONTEXT")
    p.add_argument("--insecure", action="store_true")
    p.set_defaults(func=_run(cmd_logout), parser=p)

    p = sub.add_parser("context", aliases=["ctx"], help="lister ou changer de contexte argocd")
    p.add_argument("context", nargs="?", metavar="CONTEXT")
    p.add_argument("--delete", action="store_true")
    p.set_defaults(func=_run(cmd_context), parser=p)
