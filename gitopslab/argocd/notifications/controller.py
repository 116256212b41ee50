"""The embedded argocd-notifications-controller: ``run(ctx)`` inside each lab cluster daemon.

Idle until Argo CD is installed (namespace ``argocd`` and the Application
CRD). Then, as the real controller (AC ``notification_controller``, NE
``pkg/controller``): Applications, AppProjects, ``argocd-notifications-cm``
and ``argocd-notifications-secret`` are watched through ``ctx.client``; each
Application change (and a resync every 60 s, lab clock) is processed:

1. skipped while its sync status is older than its last operation
   (``reconciledAt`` before ``operationState.finishedAt``);
2. destinations = config ``subscriptions`` + the app's and its project's
   subscription annotations;
3. each subscribed trigger is evaluated; a condition that turned true sends
   its templates to each destination not yet notified (the
   ``notified.notifications.argoproj.io`` annotation, patched back);
4. a failed delivery is logged and forgotten so that it is retried (unless
   the condition has ``oncePer``, as upstream).

The daemon log reads like the real controller's (``Trigger 'on-sync-succeeded'
TRIGGERED | revision: …``, ``Sending notification about condition …``).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import aiohttp

from gitopslab.argocd.notifications import dispatch, subscriptions, variables
from gitopslab.argocd.notifications.config import CONFIGMAP, SECRET, ConfigError, parse_config
from gitopslab.argocd.gotemplate import TemplateError
from gitopslab.argocd.notifications.services import UnsupportedService, make_service
from gitopslab.argocd.notifications.state import NotificationsState
from gitopslab.argocd.notifications.templates import TemplateNotFound
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import Informer, WorkQueue, object_key, run_workers, split_key
from gitopslab.argocd import presence

log = logging.getLogger("gitopslab.argocd.notifications")

NAMESPACE = "argocd"
APP_API = "argoproj.io/v1alpha1"
RESYNC_SECONDS = 60.0
WORKERS = 2
REPO_SECRET_SELECTOR = "argocd.argoproj.io/secret-type in (repository,repo-creds)"


async def run(ctx) -> None:
    """Daemon entry point (``gitopslab.argocd.notifications.controller:run``)."""
    while True:
        await presence.wait_installed(ctx)
        controller = NotificationsController(ctx)
        try:
            await controller.serve()
        finally:
            await controller.stop()


def _logrus(message: str, key: str | None = None) -> str:
    """A logrus text line body: ``msg="…" resource=ns/name``."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'msg="{escaped}"' + (f" resource={key}" if key else "")


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def sync_status_refreshed(app: dict) -> bool:
    """AC ``isAppSyncStatusRefreshed``: a finished operation must be older than the last reconcile."""
    status = app.get("status") or {}
    op = status.get("operationState")
    if not isinstance(op, dict) or not op.get("phase"):
        return True
    if op["phase"] not in ("Failed", "Error", "Succeeded"):
        return True
    finished = _parse_time(op.get("finishedAt"))
    if finished is None:
        return False
    epoch = datetime.min.replace(tzinfo=finished.tzinfo)
    reconciled = _parse_time(status.get("reconciledAt")) or epoch
    observed = _parse_time(status.get("observedAt")) or epoch
    return not (finished > reconciled and finished > observed)


class NotificationsController:
    def __init__(self, ctx):
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        resync = self.clock.delay(RESYNC_SECONDS)
        self.apps = Informer(self.client, APP_API, "Application", NAMESPACE, resync_seconds=resync)
        self.projects = Informer(self.client, APP_API, "AppProject", NAMESPACE)
        self.configmaps = Informer(self.client, "v1", "ConfigMap", NAMESPACE,
                                   field_selector=f"metadata.name={CONFIGMAP}")
        self.secrets = Informer(self.client, "v1", "Secret", NAMESPACE, field_selector=f"metadata.name={SECRET}")
        self.repo_secrets = Informer(self.client, "v1", "Secret", NAMESPACE, label_selector=REPO_SECRET_SELECTOR)
        self.queue = WorkQueue()
        self._tasks: list[asyncio.Task] = []
        self._session: aiohttp.ClientSession | None = None
        self._config_key: tuple | None = None
        self._config = None
        self._services: dict = {}
        self._config_error: str | None = None
        self._repos = None

    # --- lifecycle ---------------------------------------------------------
    async def serve(self) -> None:
        enqueue = lambda obj: self.queue.add(object_key(obj))  # noqa: E731
        self.apps.add_handler(on_add=enqueue, on_update=lambda old, new: enqueue(new))
        informers = (self.apps, self.projects, self.configmaps, self.secrets, self.repo_secrets)
        for informer in informers:
            self._tasks.append(asyncio.create_task(informer.run()))
        for informer in informers:
            await informer.wait_synced()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                              connector=aiohttp.TCPConnector(limit=8))
        log.info(_logrus("Controller is running."))
        self._tasks.append(asyncio.create_task(run_workers(self.queue, self.process, workers=WORKERS,
                                                           name="notifications")))
        await presence.wait_uninstalled(self.client, self.clock)
        log.info(_logrus("Controller has stopped."))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- configuration --------------------------------------------------------
    def _current_config(self):
        cm = self.configmaps.get(f"{NAMESPACE}/{CONFIGMAP}")
        secret = self.secrets.get(f"{NAMESPACE}/{SECRET}")
        key = (_rv(cm), _rv(secret))
        if key != self._config_key:
            self._config_key = key
            try:
                config = parse_config(cm, secret)
                services = {name: make_service(svc, self.clock.sleep) for name, svc in config.services.items()}
                for warning in config.warnings:
                    log.warning(_logrus(warning))
                self._config, self._services, self._config_error = config, services, None
            except (ConfigError, UnsupportedService) as e:
                self._config, self._services, self._config_error = None, {}, str(e)
        return self._config, self._services, self._config_error

    # --- processing -----------------------------------------------------------
    async def process(self, key: str) -> None:
        namespace, name = split_key(key)
        app = await self.client.get_or_none(APP_API, "Application", name, namespace)
        if app is None:
            return
        if not sync_status_refreshed(app):
            log.debug(_logrus("Processing skipped: sync status out of date", key))
            return
        config, services, error = self._current_config()
        if error is not None:
            log.error(_logrus(f"Failed to get api: {error}", key))
            return
        destinations = self._destinations(app, config, key)
        if not destinations:
            return
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        state = NotificationsState.from_annotations(annotations)
        project = self._project(app)
        trigger_vars = variables.build(app, context=config.context, secrets=config.secrets, app_project=project,
                                       commit_lookup=self._commit_metadata)
        where = f"using the configuration in namespace {config.namespace}"
        work = dispatch.plan(config.triggers, destinations, trigger_vars, state)
        for problem in work.errors:
            log.error(_logrus(f"{problem} {where}" if problem.startswith("Failed to evaluate") else problem, key))
        for trigger, result in work.evaluated:
            status = "TRIGGERED" if result.triggered else "FAILED"
            log.info(_logrus(f"Trigger '{trigger}' {status} | revision: {result.once_per[:8]} | "
                             f"templates: [{' '.join(result.templates)}]", key))
        for delivery in work.deliveries:
            to = delivery.destination
            if delivery.already_sent:
                log.info(_logrus(f"Notification about condition '{delivery.condition}' already sent to '{to}' "
                                 f"{where}", key))
                continue
            log.info(_logrus(f"Sending notification about condition '{delivery.condition}' to '{to}' {where}", key))
            try:
                await self._send(app, config, services, project, delivery.result.templates, to)
            except Exception as e:  # noqa: BLE001 - a delivery failure is logged, never fatal
                log.error(_logrus(f"Failed to notify recipient {to} defined in resource {namespace}/{name}: {e} "
                                  f"{where}", key))
                dispatch.forget(state, delivery)
        await self._persist(app, annotations, state.annotations(annotations), key)

    def _destinations(self, app: dict, config, key: str) -> dict:
        meta = app.get("metadata") or {}
        found = subscriptions.global_destinations(config.subscriptions, config.default_triggers, meta.get("labels"))
        own, problems = subscriptions.from_annotations(meta.get("annotations"), config.default_triggers,
                                                       config.service_default_triggers)
        merged = subscriptions.merge(found, own)
        project = self._project(app)
        if project:
            from_project, more = subscriptions.from_annotations(
                (project.get("metadata") or {}).get("annotations"), config.default_triggers,
                config.service_default_triggers)
            merged = subscriptions.merge(merged, from_project)
            problems += more
        for problem in problems:
            log.error(_logrus(problem, key))
        return merged

    def _project(self, app: dict) -> dict | None:
        name = (app.get("spec") or {}).get("project") or "default"
        namespace = (app.get("metadata") or {}).get("namespace") or NAMESPACE
        return self.projects.get(f"{namespace}/{name}")

    async def _send(self, app: dict, config, services: dict, project, templates, to) -> None:
        service = services.get(to.service)
        if service is None:
            raise LookupError(f"notification service '{to.service}' is not supported")
        send_vars = variables.build(app, context=config.context, secrets=config.secrets, app_project=project,
                                    service=to.service, recipient=to.recipient, commit_lookup=self._commit_metadata)
        try:
            # templates may call the repo server (GetCommitMetadata): keep git off the event loop
            notification = await asyncio.to_thread(config.templates.format, send_vars, templates)
        except (TemplateError, TemplateNotFound) as e:
            raise RuntimeError(str(e)) from None
        await service.send(notification, to, self._session)

    async def _persist(self, app: dict, before: dict, after: dict, key: str) -> None:
        if before == after:
            return
        patch = {k: v for k, v in after.items() if before.get(k) != v}
        patch.update({k: None for k in before if k not in after})
        meta = app["metadata"]
        try:
            await self.client.patch(APP_API, "Application", meta["name"], {"metadata": {"annotations": patch}},
                                    meta.get("namespace"), field_manager="argocd-notifications-controller")
        except ApiError as e:
            log.warning(_logrus(f"Failed to patch resource: {e}", key))

    # --- repo server ------------------------------------------------------------
    def _commit_metadata(self, repo_url: str, sha: str, project: str) -> dict:
        """``GetCommitMetadata`` (called from the rendering thread)."""
        from gitopslab.argocd import repocreds
        from gitopslab.argocd.gitrepo import GitRepos

        if self._repos is None:
            cache = Path(self.ctx.paths.root) / "argocd" / "notifications-repos"
            self._repos = GitRepos(cache, getattr(self.ctx.home, "gitconfig", None))
        creds = repocreds.credentials_for(repo_url, self.repo_secrets.items())
        self._repos.checkout(repo_url, sha, creds)
        return self._repos.commit_metadata(repo_url, sha)


def _rv(obj: dict | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion") if obj else None
