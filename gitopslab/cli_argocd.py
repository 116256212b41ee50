"""``gitopslab argocd``: install Argo CD and drive Applications as the ``argocd`` CLI does.

Everything goes through the Kubernetes API with the official client, using
the context ``--cluster`` of ``$GITOPSLAB_HOME/kubeconfig``: this command
plays both the ``argocd`` CLI and the part of argocd-server it talks to
(``sync`` and ``rollback`` write the Application's ``operation`` field as
``SetAppOperation`` does, ``delete`` sets the resources finalizer then
deletes). Output is what ``argocd`` prints; our own errors are in French.

The same commands are the ``argocd`` console script (``main``), with
``argocd login``, ``logout``, ``context`` (``cli_argocd_login``) and ``argocd
cluster add|list`` (``cli_argocd_cluster``). Without ``--cluster``, a command
talks to the Argo CD of the current ``argocd login`` context, else to ``prod``.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from datetime import datetime

from gitopslab.argocd import cliformat as fmt
from gitopslab.home import DEFAULT_CLUSTER, Home

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
NAMESPACE = "argocd"
ERROR_GENERIC = 20
FINALIZERS = {"": "resources-finalizer.argocd.argoproj.io",
              "foreground": "resources-finalizer.argocd.argoproj.io/foreground",
              "background": "resources-finalizer.argocd.argoproj.io/background"}
ANOTHER_OPERATION = "another operation is already in progress"
POLL_SECONDS = 0.5
FIRST_LOGIN_HINT = ("This password must be only used for first time login. We strongly recommend you update "
                    "the password using `argocd account update-password`.")


class CommandError(Exception):
    """An error printed as the argocd CLI prints fatal errors (``FATA[…] …``)."""

    def __init__(self, message: str, code: int = ERROR_GENERIC):
        super().__init__(message)
        self.code = code


class LabMissing(Exception):
    """Our own error (French)."""


class CliLog:
    """How log lines (logrus in the real CLI) reach stderr.

    ``json`` is argocd v3's default (``--logformat`` defaults to ``json`` since
    v3.0, AC ``cmd/argocd/commands/root.go``; logrus ``JSONFormatter``: keys
    sorted, RFC 3339 time, HTML characters escaped): the ``argocd`` command prints
    it. ``text`` is the ``LEVEL[elapsed] message`` form ``gitopslab argocd`` prints.
    """

    LEVELS = {"info": "INFO", "warning": "WARN", "error": "ERRO", "fatal": "FATA"}

    def __init__(self) -> None:
        self.format = "text"
        self.started = time.monotonic()

    def line(self, level: str, message: str) -> str:
        if self.format == "json":
            stamp = datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
            text = json.dumps({"level": level, "msg": message, "time": stamp}, ensure_ascii=False,
                              separators=(",", ":"))
            return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return f"{self.LEVELS[level]}[{int(time.monotonic() - self.started):04d}] {message}"

    def __call__(self, level: str, message: str) -> None:
        sys.stdout.flush()
        print(self.line(level, message), file=sys.stderr, flush=True)


LOG = CliLog()


def read_answer() -> str:
    """One line of stdin as Go's ``bufio.Reader.ReadString('\\n')`` reads it; EOF is fatal (``CheckError``)."""
    line = sys.stdin.readline()
    if not line.endswith("\n"):
        raise CommandError("EOF")
    return line.strip()


def ask_to_proceed(message: str) -> bool:
    """``cli.AskToProceed``: ask until the answer is y, yes, n or no."""
    while True:
        sys.stdout.write(message)
        sys.stdout.flush()
        answer = read_answer().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


def rpc_error(code: str, message: str) -> CommandError:
    return CommandError(f"rpc error: code = {code} desc = {message}")


# --- connection -----------------------------------------------------------------

class Session:
    """API clients for one kubeconfig context, created on first use."""

    def __init__(self, cluster: str | None):
        self._cluster = cluster
        self.home = Home.current()
        self._api = None
        self._dynamic: dict[int, object] = {}
        self._remote: dict[object, object] = {}

    @property
    def cluster(self) -> str:
        """``--cluster``, else the lab cluster of the current ``argocd login`` context, else ``prod``."""
        if self._cluster is None:
            from gitopslab.cli_argocd_login import current_login_cluster

            self._cluster = current_login_cluster(self.home) or DEFAULT_CLUSTER
        return self._cluster

    @property
    def api(self):
        if self._api is None:
            from kubernetes import config

            if not self.home.kubeconfig.exists():
                raise LabMissing(f"Pas de kubeconfig dans {self.home.root} : démarrez le labo avec "
                                 f"« gitopslab lab up --cluster {self.cluster} ».")
            try:
                self._api = config.new_client_from_config(config_file=str(self.home.kubeconfig), context=self.cluster)
            except config.ConfigException:
                raise LabMissing(f"Le contexte « {self.cluster} » n'existe pas dans {self.home.kubeconfig} : "
                                 f"démarrez-le avec « gitopslab lab up --cluster {self.cluster} ».") from None
        return self._api

    @property
    def custom(self):
        from kubernetes import client
        return client.CustomObjectsApi(self.api)

    @property
    def core(self):
        from kubernetes import client
        return client.CoreV1Api(self.api)

    def close(self) -> None:
        for remote in self._remote.values():
            remote.close()
        if self._api is not None:
            self._api.close()

    def destination_api(self, app: dict):
        """The client argocd-server reads ``app``'s live objects with: its destination cluster's (one per cluster).

        Raises ``DestinationError`` (Argo CD's text) for an unknown destination.
        """
        from gitopslab.argocd import destination

        cluster = destination.destination_cluster(app, self.api)
        if cluster.in_cluster:
            return self.api
        if cluster not in self._remote:
            self._remote[cluster] = destination.remote_api_client(cluster)
        return self._remote[cluster]

    def get_app(self, name: str, namespace: str = NAMESPACE) -> dict:
        from kubernetes.client.exceptions import ApiException

        try:
            return self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as e:
            if e.status == 404:
                raise rpc_error("NotFound", f'applications.argoproj.io "{name}" not found') from None
            raise _api_error(e) from None

    def list_apps(self, namespace: str = NAMESPACE, selector: str | None = None) -> list[dict]:
        from kubernetes.client.exceptions import ApiException

        try:
            found = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                                              label_selector=selector or None)
        except ApiException as e:
            if e.status == 404:
                return []
            raise _api_error(e) from None
        return sorted(found.get("items") or [], key=lambda a: a["metadata"]["name"])

    def secrets(self) -> list[dict]:
        try:
            items = self.core.list_namespaced_secret(NAMESPACE).items
        except Exception:  # noqa: BLE001 — no argocd namespace: no credentials
            return []
        return [self.api.sanitize_for_serialization(s) for s in items]

    def live_object(self, group: str, version: str, kind: str, namespace: str, name: str, *,
                    api=None) -> dict | None:
        """One live object read with ``api`` (default: this context's client); None if absent."""
        from kubernetes import dynamic
        from kubernetes.client.exceptions import ApiException

        api = api or self.api
        if id(api) not in self._dynamic:
            self._dynamic[id(api)] = dynamic.DynamicClient(api)
        api_version = f"{group}/{version}" if group else version
        try:
            resource = self._dynamic[id(api)].resources.get(api_version=api_version, kind=kind)
            found = resource.get(name=name, namespace=namespace or None) if resource.namespaced \
                else resource.get(name=name)
            return found.to_dict()
        except (ApiException, dynamic.exceptions.ResourceNotFoundError, dynamic.exceptions.NotFoundError):
            return None

    def app_url(self, name: str) -> str:
        """``getAppURL``: argocd-cm ``url``, else the argocd-server address."""
        try:
            cm = self.core.read_namespaced_config_map("argocd-cm", NAMESPACE)
            if (cm.data or {}).get("url"):
                return f"{cm.data['url'].rstrip('/')}/applications/{name}"
        except Exception:  # noqa: BLE001
            pass
        return f"https://{self._server_address()}/applications/{name}"

    def _server_address(self) -> str:
        try:
            svc = self.core.read_namespaced_service("argocd-server", NAMESPACE)
            port = next((p.node_port for p in svc.spec.ports if p.node_port and p.name == "https"), None)
            if svc.spec.type == "NodePort" and port:
                return f"{self._node_address()}:{port}"
        except Exception:  # noqa: BLE001
            pass
        return "localhost:8080"

    def _node_address(self) -> str:
        try:
            for node in self.core.list_node().items:
                for address in node.status.addresses or []:
                    if address.type == "InternalIP":
                        return address.address
        except Exception:  # noqa: BLE001
            pass
        return "127.0.0.1"


def _api_error(e) -> CommandError:
    try:
        message = json.loads(e.body).get("message") or e.reason
    except (TypeError, ValueError):
        message = e.reason
    return CommandError(str(message))


# --- health of resources (argocd-server fills it from the resource tree) ----------

def resource_health(session: Session, app: dict) -> dict:
    """Health of each resource, read on the destination cluster; none for an unknown or unreachable one."""
    from urllib3.exceptions import HTTPError

    from gitopslab.argocd.destination import DestinationError

    try:
        return _resource_health(session, app, session.destination_api(app))
    except (DestinationError, HTTPError):
        return {}


def _resource_health(session: Session, app: dict, api) -> dict:
    from gitopslab.argocd.health import resource_health as health_of

    found = {}
    for res in (app.get("status") or {}).get("resources") or []:
        live = session.live_object(res.get("group", ""), res.get("version", ""), res["kind"],
                                   res.get("namespace", ""), res["name"], api=api)
        if live is None:
            if res.get("status") == "OutOfSync" and not res.get("requiresPruning"):
                found[(res.get("group", ""), res["kind"], res.get("namespace", ""), res["name"])] = "Missing"
            continue
        status = health_of(live)
        if status is not None:
            found[(res.get("group", ""), res["kind"], res.get("namespace", ""), res["name"])] = status.status
    return found


# --- commands -----------------------------------------------------------------------

def cmd_install(args, session: Session) -> int:
    from gitopslab.argocd import install

    report = install.install(session.api, service_type=args.service_type)
    for line in report.lines():
        print(line)
    return 0


def cmd_initial_password(args, session: Session) -> int:
    from kubernetes.client.exceptions import ApiException

    try:
        secret = session.core.read_namespaced_secret("argocd-initial-admin-secret", args.namespace)
    except ApiException as e:
        if e.status == 404:
            raise CommandError('failed to get password: secrets "argocd-initial-admin-secret" not found') from None
        raise _api_error(e) from None
    print(base64.b64decode((secret.data or {}).get("password", "")).decode())
    print()
    print(FIRST_LOGIN_HINT)
    return 0


def cmd_list(args, session: Session) -> int:
    apps = session.list_apps(selector=args.selector)
    if args.project:
        apps = [a for a in apps if ((a.get("spec") or {}).get("project") or "default") in args.project]
    if args.repo:
        apps = [a for a in apps if fmt.source_of(a).get("repoURL") == args.repo]
    if args.output in ("json", "yaml"):
        _print_resource(apps, args.output)
    elif args.output == "name":
        for app in apps:
            print(fmt.qualified_name(app))
    else:
        sys.stdout.write(fmt.app_list_table(apps, args.output))
    return 0


def cmd_get(args, session: Session) -> int:
    if args.refresh or args.hard_refresh:
        app = _refresh(session, args.name, "hard" if args.hard_refresh else "normal")
    else:
        app = session.get_app(args.name)
    if args.output in ("json", "yaml"):
        _print_resource(app, args.output)
        return 0
    sys.stdout.write(fmt.app_get(app, session.app_url(app["metadata"]["name"]), resource_health(session, app),
                                 show_operation=args.show_operation))
    return 0


def _refresh(session: Session, name: str, kind: str, timeout: float = 60.0) -> dict:
    """``Get`` with ``refresh``: set the annotation, wait until the controller removed it."""
    session.get_app(name)
    session.custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, name, {"metadata": {"annotations": {"argocd.argoproj.io/refresh": kind}}})
    deadline = time.monotonic() + timeout
    while True:
        app = session.get_app(name)
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        if "argocd.argoproj.io/refresh" not in annotations or time.monotonic() > deadline:
            return app
        time.sleep(0.2)


def _print_resource(obj, output: str) -> None:
    if output == "json":
        print(json.dumps(obj, indent=2))
    else:
        import yaml
        items = obj if isinstance(obj, list) else [obj]
        print("\n---\n".join(yaml.safe_dump(o, sort_keys=True, default_flow_style=False).rstrip("\n") for o in items))


def cmd_history(args, session: Session) -> int:
    app = session.get_app(args.name)
    history = (app.get("status") or {}).get("history") or []
    if args.output == "id":
        for entry in history:
            print(entry.get("id"))
    else:
        sys.stdout.write(fmt.history_table(history))
    return 0


def set_app_operation(session: Session, name: str, operation: dict) -> dict:
    """``argo.SetAppOperation``: refuse when an operation exists, else write it (retry on conflict)."""
    from kubernetes.client.exceptions import ApiException

    while True:
        app = session.get_app(name)
        if app.get("operation"):
            raise rpc_error("FailedPrecondition", ANOTHER_OPERATION)
        app["operation"] = operation
        app.setdefault("status", {}).pop("operationState", None)
        try:
            return session.custom.replace_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name, app)
        except ApiException as e:
            if e.status != 409:
                raise _api_error(e) from None


def resolve_revision(session: Session, app: dict, revision: str) -> str:
    """The repo server's ``ResolveRevision`` for the app's source (a SHA stays as is)."""
    from gitopslab.argocd import repocreds
    from gitopslab.argocd.gitrepo import GitRepos, SHA_RE
    from gitopslab.argocd.manifesterrors import ManifestError
    from gitopslab.argocd.reposerver import RepoServer

    source = fmt.source_of(app)
    ambiguous = revision or source.get("targetRevision") or "HEAD"
    if SHA_RE.match(ambiguous):
        return ambiguous
    server = RepoServer(GitRepos(session.home.root / "argocd-cli" / "repos", session.home.gitconfig))
    creds = repocreds.credentials_for(source.get("repoURL") or "", session.secrets())
    try:
        return server.resolve_revision(source.get("repoURL") or "", ambiguous, creds)
    except ManifestError as e:
        raise rpc_error("FailedPrecondition", e.message) from None


def _parse_resource(text: str) -> dict:
    """``GROUP:KIND:NAME`` or ``GROUP:KIND:NAMESPACE/NAME``."""
    parts = text.split(":")
    if len(parts) != 3:
        raise CommandError(f"Resource should have GROUP:KIND:NAME, but instead got: {text}")
    group, kind, name = parts
    namespace = ""
    if "/" in name:
        namespace, name = name.split("/", 1)
    out = {"group": group, "kind": kind, "name": name}
    if namespace:
        out["namespace"] = namespace
    return out


def cmd_sync(args, session: Session) -> int:
    app = session.get_app(args.name)
    spec = app.get("spec") or {}
    if app["metadata"].get("deletionTimestamp"):
        raise rpc_error("FailedPrecondition", "application is deleting")
    source = fmt.source_of(app)
    if args.revision and args.revision != (source.get("targetRevision") or "HEAD") and \
            fmt.automated_enabled(app) and not args.dry_run:
        raise rpc_error("FailedPrecondition", f"Cannot sync to {args.revision}: auto-sync currently set to "
                                              f"{source.get('targetRevision', '')}")
    revision = resolve_revision(session, app, args.revision)
    policy = spec.get("syncPolicy") or {}
    options = list(policy.get("syncOptions") or [])
    extra = [o for flag, o in ((args.replace, "Replace=true"), (args.server_side, "ServerSideApply=true"),
                               (args.apply_out_of_sync_only, "ApplyOutOfSyncOnly=true")) if flag]
    if extra:
        options = extra
    sync = {"revision": revision, "prune": args.prune, "dryRun": args.dry_run,
            "syncStrategy": {"apply": {}} if args.strategy == "apply" else {"hook": {}}}
    if args.force:
        next(iter(sync["syncStrategy"].values()))["force"] = True
    if spec.get("source"):
        sync["source"] = spec["source"]
    if options:
        sync["syncOptions"] = options
    resources = [_parse_resource(r) for r in args.resource or []]
    if resources:
        sync["resources"] = resources
    operation = {"sync": sync, "initiatedBy": {"username": "admin"}}
    if args.retry_limit:
        operation["retry"] = {"limit": args.retry_limit,
                              "backoff": {"duration": args.retry_backoff_duration,
                                          "maxDuration": args.retry_backoff_max_duration,
                                          "factor": args.retry_backoff_factor}}
    elif policy.get("retry"):
        operation["retry"] = policy["retry"]
    set_app_operation(session, args.name, operation)
    if args.async_:
        return 0
    app, state = wait_operation(session, args.name, args.timeout, args.output)
    if not args.dry_run:
        if (state or {}).get("phase") != "Succeeded":
            raise CommandError(f"Operation has completed with phase: {(state or {}).get('phase', '')}", 1)
        if not resources and ((app.get("status") or {}).get("sync") or {}).get("status") != "Synced":
            pruning = sum(1 for r in ((state.get("syncResult") or {}).get("resources") or [])
                          if r.get("status") == "PruneSkipped")
            if pruning:
                raise CommandError(f"{pruning} resources require pruning", 1)
    return 0


def cmd_rollback(args, session: Session) -> int:
    app = session.get_app(args.name)
    try:
        entry = fmt.find_history(app, args.id)
    except ValueError as e:
        raise CommandError(str(e)) from None
    if app["metadata"].get("deletionTimestamp"):
        raise rpc_error("FailedPrecondition", "application is deleting")
    if fmt.automated_enabled(app):
        raise rpc_error("FailedPrecondition", "rollback cannot be initiated when auto-sync is enabled")
    sync = {"revision": entry.get("revision", ""), "prune": args.prune, "dryRun": False,
            "syncStrategy": {"apply": {}}, "source": entry.get("source") or {}}
    options = ((app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions")
    if options:
        sync["syncOptions"] = list(options)
    set_app_operation(session, args.name, {"sync": sync, "initiatedBy": {"username": "admin"}})
    wait_operation(session, args.name, args.timeout, args.output)
    return 0


def wait_operation(session: Session, name: str, timeout: float, output: str = "wide") -> tuple[dict, dict | None]:
    """``waitOnApplicationStatus`` with ``operation: true``: resource lines as they change, then the summary."""
    printing = output not in ("json", "yaml")
    previous: dict[str, dict] = {}
    # Go writes the header into the tabwriter and flushes it with the first batch of lines
    pending: list[str] = [fmt.wait_header()] if printing else []
    deadline = time.monotonic() + timeout if timeout else None
    app = session.get_app(name)
    state = (app.get("status") or {}).get("operationState")
    while True:
        state = (app.get("status") or {}).get("operationState")
        if not fmt.operation_in_progress(app):
            break
        health = resource_health(session, app)
        for new in fmt.resource_states(app, health):
            key = "/".join((new["group"], new["kind"], new["namespace"], new["name"]))
            if key in previous:
                changed = fmt.merge_state(previous[key], new)
            else:
                previous[key], changed = dict(new), True
            if changed and printing:
                pending.append(fmt.wait_line(previous[key], fmt.go_timestamp()))
        if pending:
            sys.stdout.write(fmt.tabwrite("\n".join(pending) + "\n", minwidth=5, padding=2))
            sys.stdout.flush()
            pending.clear()
        if deadline is not None and time.monotonic() > deadline:
            app = session.get_app(name)
            if printing:
                print("\nThis is the state of the app after wait timed out:")
            _print_final(session, app, output)
            if printing:
                print("\nThe command timed out waiting for the conditions to be met.")
            raise CommandError(f'timed out ({int(timeout)}s) waiting for app "{name}" match desired state')
        time.sleep(POLL_SECONDS)
        app = session.get_app(name)
    _print_final(session, app, output)
    return app, state


def _print_final(session: Session, app: dict, output: str) -> None:
    if output in ("json", "yaml"):
        _print_resource(app, output)
        return
    print()
    sys.stdout.write(fmt.app_summary(app, session.app_url(app["metadata"]["name"])))
    print()
    sys.stdout.write(fmt.operation_result((app.get("status") or {}).get("operationState")))
    if (app.get("status") or {}).get("resources"):
        print()
        sys.stdout.write(fmt.resources_table(app, resource_health(session, app)))


def cmd_delete(args, session: Session) -> int:
    from kubernetes.client.exceptions import ApiException

    if not args.cascade and args.propagation_policy is not None:
        raise rpc_error("InvalidArgument", "cannot set propagation policy when cascading is disabled")
    for name in args.names:
        app = session.get_app(name)
        if args.cascade and sys.stdin.isatty() and sys.stdout.isatty() and not args.yes:
            answer = input(f"Are you sure you want to delete '{name}' and all its resources? [y/n] ")
            if answer.strip().lower() not in ("y", "yes"):
                print(f"The command to delete '{name}' was cancelled.")
                continue
        finalizers = list(app["metadata"].get("finalizers") or [])
        wanted = finalizers
        if args.cascade:
            policy = (args.propagation_policy or "").lower()
            if policy not in FINALIZERS:
                raise rpc_error("InvalidArgument", f"invalid propagation policy: {args.propagation_policy}")
            if FINALIZERS[policy] not in finalizers and not app["metadata"].get("deletionTimestamp"):
                wanted = finalizers + [FINALIZERS[policy]]
        else:
            wanted = [f for f in finalizers if f not in FINALIZERS.values()]
        try:
            if wanted != finalizers:
                session.custom.patch_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name,
                                                              {"metadata": {"finalizers": wanted}})
            session.custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)
        except ApiException as e:
            raise _api_error(e) from None
        if args.wait:
            while True:
                try:
                    session.get_app(name)
                except CommandError:
                    break
                time.sleep(POLL_SECONDS)
        print(f"application '{name}' deleted")
    return 0


def cmd_diff(args, session: Session) -> int:
    """``argocd app diff``: each differing resource as ``diff`` prints normalized live vs predicted live."""
    from gitopslab.argocd import appdiff

    from urllib3.exceptions import HTTPError

    app = session.get_app(args.name)
    try:
        changes = appdiff.changed_objects(session, app, revision=args.revision or "")
    except appdiff.DiffError as e:
        raise CommandError(str(e)) from None
    except HTTPError as e:  # the destination cluster does not answer
        dest = (app.get("spec") or {}).get("destination") or {}
        raise CommandError(f'rpc error: code = Unknown desc = failed to get cluster info for '
                           f'"{dest.get("server") or dest.get("name")}": {e}') from None
    for change in changes:
        print(f"\n===== {change.group}/{change.kind} {change.namespace}/{change.name} ======", flush=True)
        print(appdiff.external_diff(change.name, change.live, change.target), end="", flush=True)
    return 1 if changes and args.exit_code else 0


# --- argument parsing --------------------------------------------------------------

def _run(handler):
    def run(args) -> int:
        session = Session(getattr(args, "cluster", None))
        try:
            return handler(args, session)
        except LabMissing as e:
            print(f"Erreur : {e}", file=sys.stderr)
            return 1
        except CommandError as e:
            LOG("fatal", str(e))
            return e.code
        finally:
            session.close()
    return run


def _cluster_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None,
                        help="contexte du kubeconfig du labo (défaut : celui de « argocd login », sinon prod)")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("argocd", help="installer Argo CD et piloter les applications (comme la CLI argocd)")
    add_commands(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``argocd`` command of the lab's terminal: the same commands, logs in argocd v3's JSON by default."""
    parser = argparse.ArgumentParser(prog="argocd", description="argocd controls an Argo CD server (laboratoire)")
    parser.add_argument("--logformat", default="json", choices=["json", "text"],
                        help="format des lignes de journal (json, comme argocd v3, ou text)")
    add_commands(parser)
    args = parser.parse_args(argv)
    LOG.format = args.logformat
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The commands of ``argocd`` (and ``gitopslab argocd``) under ``parser``."""
    from gitopslab import cli_argocd_cluster, cli_argocd_login

    sub = parser.add_subparsers(dest="argocd_command", metavar="COMMANDE")

    p = sub.add_parser("install", help="installe Argo CD dans le cluster (namespace argocd)")
    _cluster_flag(p)
    p.add_argument("--service-type", default="ClusterIP", choices=["ClusterIP", "NodePort"],
                   help="type du Service argocd-server (NodePort : ports 30080 et 30443)")
    p.set_defaults(func=_run(cmd_install))

    admin = sub.add_parser("admin", help="commandes d'administration")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="COMMANDE")
    p = admin_sub.add_parser("initial-password", help="mot de passe initial de l'utilisateur admin")
    _cluster_flag(p)
    p.add_argument("-n", "--namespace", default=NAMESPACE)
    p.set_defaults(func=_run(cmd_initial_password))
    admin.set_defaults(func=lambda a: (admin.print_help(), 2)[1])

    app = sub.add_parser("app", help="gérer les applications (list, get, sync, diff, history, rollback, delete)")
    app_sub = app.add_subparsers(dest="app_command", metavar="COMMANDE")

    p = app_sub.add_parser("list", help="liste les applications")
    _cluster_flag(p)
    p.add_argument("-o", "--output", default="wide", choices=["wide", "name", "json", "yaml"])
    p.add_argument("-l", "--selector")
    p.add_argument("-p", "--project", action="append", default=[])
    p.add_argument("-r", "--repo")
    p.set_defaults(func=_run(cmd_list))

    p = app_sub.add_parser("get", help="détails d'une application")
    _cluster_flag(p)
    p.add_argument("name")
    p.add_argument("-o", "--output", default="wide", choices=["wide", "json", "yaml"])
    p.add_argument("--refresh", action="store_true")
    p.add_argument("--hard-refresh", action="store_true")
    p.add_argument("--show-operation", action="store_true")
    p.set_defaults(func=_run(cmd_get))

    p = app_sub.add_parser("sync", help="synchronise une application (écrit son champ operation)")
    _cluster_flag(p)
    p.add_argument("name")
    p.add_argument("--revision", default="")
    p.add_argument("--prune", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--strategy", default="", choices=["", "apply", "hook"])
    p.add_argument("--force", action="store_true")
    p.add_argument("--replace", action="store_true")
    p.add_argument("--server-side", action="store_true")
    p.add_argument("--apply-out-of-sync-only", action="store_true")
    p.add_argument("--resource", action="append")
    p.add_argument("--async", dest="async_", action="store_true")
    p.add_argument("--timeout", type=float, default=0)
    p.add_argument("--retry-limit", type=int, default=0)
    p.add_argument("--retry-backoff-duration", default="5s")
    p.add_argument("--retry-backoff-max-duration", default="3m0s")
    p.add_argument("--retry-backoff-factor", type=int, default=2)
    p.add_argument("-o", "--output", default="wide", choices=["wide", "json", "yaml"])
    p.set_defaults(func=_run(cmd_sync))

    p = app_sub.add_parser("diff", help="différences entre l'état voulu (Git) et l'état réel")
    _cluster_flag(p)
    p.add_argument("name")
    p.add_argument("--revision", default="")
    p.add_argument("--exit-code", type=lambda v: v.lower() != "false", default=True)
    p.set_defaults(func=_run(cmd_diff))

    p = app_sub.add_parser("history", help="historique des déploiements")
    _cluster_flag(p)
    p.add_argument("name")
    p.add_argument("-o", "--output", default="wide", choices=["wide", "id"])
    p.set_defaults(func=_run(cmd_history))

    p = app_sub.add_parser("rollback", help="revient à un déploiement précédent (ID de l'historique)")
    _cluster_flag(p)
    p.add_argument("name")
    p.add_argument("id", nargs="?", type=int, default=-1)
    p.add_argument("--prune", action="store_true")
    p.add_argument("--timeout", type=float, default=0)
    p.add_argument("-o", "--output", default="wide", choices=["wide", "json", "yaml"])
    p.set_defaults(func=_run(cmd_rollback))

    p = app_sub.add_parser("delete", help="supprime une application (et ses ressources avec --cascade)")
    _cluster_flag(p)
    p.add_argument("names", nargs="+")
    p.add_argument("--cascade", type=lambda v: v.lower() != "false", default=True)
    p.add_argument("-p", "--propagation-policy", default=None)
    p.add_argument("-y", "--yes", action="store_true")
    p.add_argument("--wait", action="store_true")
    p.set_defaults(func=_run(cmd_delete))

    app.set_defaults(func=lambda a: (app.print_help(), 2)[1])
    cli_argocd_login.register(sub)
    cli_argocd_cluster.register(sub)
    parser.set_defaults(func=lambda a: (parser.print_help(), 2)[1])


if __name__ == "__main__":
    sys.exit(main())
