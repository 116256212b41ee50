"""The embedded argocd-applicationset-controller: ``run(ctx)`` inside each lab cluster daemon.

Idle until Argo CD is installed (namespace ``argocd``, the Application and
ApplicationSet CRDs), then reconciles ApplicationSets until the namespace
goes away, as the application controller does. A pure API client:
ApplicationSets, Applications, AppProjects and the Secrets of ``argocd`` are
watched through ``ctx.client``; git through the controller's own repository
cache.

Reconcile (AC v3.4 ``ApplicationSetReconciler.Reconcile``): generate the
Applications (``applications``), validate them, create/update/delete them
under the ``applicationsSync`` policy with a controller ownerReference,
write ``status.conditions``/``health``/``resources`` through the status
subresource, drop the ``argocd.argoproj.io/application-set-refresh``
annotation, and requeue after the git generators' ``requeueAfterSeconds``
(180 s by default, lab clock) or 3 min after an error. An ApplicationSet is
reconciled again when its spec, labels, finalizers or refresh annotation
change, when one of its Applications changes its spec, labels, annotations
or finalizers or is deleted, when a cluster Secret changes (cluster
generators), and when the lab Git server reports a push to a repository a
git generator reads (the refresh annotation is set, as the webhook does).
"""
from __future__ import annotations

import asyncio
import copy
import logging
from pathlib import Path

from gitopslab.argocd import presence
from gitopslab.argocd.applicationset import applications, plan, status
from gitopslab.argocd.applicationset.generators import GeneratorContext
from gitopslab.argocd.applicationset.reposervice import RepoListings
from gitopslab.argocd.clusters import clusters_from_secrets
from gitopslab.argocd.gitrepo import GitRepos, normalize_url
from gitopslab.argocd.operation import now_text
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.informer import Informer, WorkQueue, run_workers

log = logging.getLogger(__name__)

NAMESPACE = "argocd"
APP_API = "argoproj.io/v1alpha1"
APPSET_CRD = "applicationsets.argoproj.io"
REFRESH_ANNOTATION = "argocd.argoproj.io/application-set-refresh"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
COMPONENT = "applicationset-controller"
ERROR_REQUEUE_SECONDS = 180.0      # ReconcileRequeueOnValidationError (3 min)
WORKERS = 4
OWNER_INDEX = "controller"


async def run(ctx) -> None:
    """Daemon entry point (``gitopslab.argocd.applicationset.controller:run``)."""
    while True:
        await presence.wait_installed(ctx)
        if not await _crd_installed(ctx.client):
            await ctx.clock.sleep(presence.POLL_SECONDS)
            continue
        controller = ApplicationSetController(ctx)
        try:
            await controller.serve()
        finally:
            await controller.stop()


async def _crd_installed(client) -> bool:
    try:
        return await client.get_or_none("apiextensions.k8s.io/v1", "CustomResourceDefinition", APPSET_CRD) is not None
    except ApiError:
        return False


class ApplicationSetController:
    def __init__(self, ctx):
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        cache = Path(ctx.paths.root) / "argocd" / "applicationset-repos"
        self.listings = RepoListings(GitRepos(cache, getattr(ctx.home, "gitconfig", None)))
        self.appsets = Informer(self.client, APP_API, "ApplicationSet", NAMESPACE)
        self.apps = Informer(self.client, APP_API, "Application", NAMESPACE)
        self.apps.add_index(OWNER_INDEX, lambda app: [n for n in [plan.owner_name(app)] if n])
        self.projects = Informer(self.client, APP_API, "AppProject", NAMESPACE)
        self.secrets = Informer(self.client, "v1", "Secret", NAMESPACE)
        self.queue = WorkQueue()
        self.recorder = EventRecorder(self.client, COMPONENT)
        self._tasks: list[asyncio.Task] = []

    # --- lifecycle ---------------------------------------------------------
    async def serve(self) -> None:
        self.appsets.add_handler(on_add=self._enqueue, on_update=self._appset_updated, on_delete=self._enqueue)
        self.apps.add_handler(on_update=self._app_updated, on_delete=self._app_deleted)
        self.secrets.add_handler(on_add=self._secret_changed, on_update=lambda old, new: self._secret_changed(new),
                                 on_delete=self._secret_changed)
        informers = (self.projects, self.secrets, self.apps, self.appsets)
        for informer in informers:
            self._tasks.append(asyncio.create_task(informer.run()))
        for informer in informers:
            await informer.wait_synced()
        self._tasks += [
            asyncio.create_task(run_workers(self.queue, self.reconcile, workers=WORKERS, name="applicationset")),
            asyncio.create_task(self._webhooks()),
        ]
        await presence.wait_uninstalled(self.client, self.clock)
        log.info("applicationset: namespace %s deleted, controller idle", NAMESPACE)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self.queue.shutdown()

    # --- event handlers ----------------------------------------------------
    def _enqueue(self, appset: dict) -> None:
        self.queue.add(appset["metadata"]["name"])

    def _appset_updated(self, old: dict, new: dict) -> None:
        if should_requeue_appset(old, new):
            self._enqueue(new)

    def _app_updated(self, old: dict, new: dict) -> None:
        owner = plan.owner_name(new)
        if owner and should_requeue_app(old, new):
            self.queue.add(owner)

    def _app_deleted(self, app: dict) -> None:
        owner = plan.owner_name(app)
        if owner:
            self.queue.add(owner)

    def _secret_changed(self, secret: dict) -> None:
        if ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL) != "cluster":
            return
        for appset in self.appsets.items():
            if uses_generator(appset, "clusters"):
                self._enqueue(appset)

    async def _webhooks(self) -> None:
        hub = (self.ctx.extras or {}).get("git_webhooks")
        if hub is None:
            return
        events = hub.subscribe()
        try:
            while True:
                payload = await events.get()
                urls = {normalize_url(u) for u in (payload.get("url"), payload.get("github_url"),
                                                    payload.get("repository")) if u}
                for url in urls:
                    self.listings.invalidate(url)
                for appset in self.appsets.items():
                    if refreshed_by_push(appset, urls, str(payload.get("ref") or "")):
                        await self._request_refresh(appset)
        finally:
            hub.unsubscribe(events)

    async def _request_refresh(self, appset: dict) -> None:
        """``refreshApplicationSet``: the webhook sets the refresh annotation, the reconcile removes it."""
        try:
            await self.client.patch(APP_API, "ApplicationSet", appset["metadata"]["name"],
                                    {"metadata": {"annotations": {REFRESH_ANNOTATION: "true"}}}, NAMESPACE)
        except ApiError as e:
            log.info("applicationset: refresh of %s: %s", appset["metadata"]["name"], e)

    # --- reconcile ---------------------------------------------------------
    async def reconcile(self, name: str) -> None:
        appset = self.appsets.get(f"{NAMESPACE}/{name}")
        if appset is None:
            return
        appset = copy.deepcopy(appset)
        if (appset.get("metadata") or {}).get("deletionTimestamp"):
            await self._finalize(appset)
            return
        context = GeneratorContext(secrets=self.secrets.items(), projects=self._project_names(),
                                   repos=self.listings.service(self.secrets.items()),
                                   no_revision_cache=REFRESH_ANNOTATION in _annotations(appset))
        generated = await asyncio.to_thread(applications.generate_applications, appset, context)
        if generated.error:
            log.error("applicationset %s: unable to generate applications: %s", name, generated.error)
            await self._set_condition(appset, status.error_condition(generated.reason, generated.error), False)
            self.queue.add_after(name, self.clock.delay(ERROR_REQUEUE_SECONDS))
            return
        apps = generated.applications
        errors = plan.validation_errors(apps, name, self._project_names(), clusters_from_secrets(self.secrets.items()))
        if errors:
            appset = await self._set_condition(appset, status.error_condition(
                status.REASON_VALIDATION_ERROR, plan.validation_message(errors)), True)
        valid = sorted((a for a in apps if a["metadata"]["name"] not in errors), key=lambda a: a["metadata"]["name"])
        current = {a["metadata"]["name"]: a for a in self._owned(name)}
        policy = plan.policy(appset)
        failure = await self._create_or_update(appset, valid, current, only_create=not plan.allow_update(policy))
        if failure:
            reason = status.REASON_UPDATE_APPLICATION_ERROR if plan.allow_update(policy) else \
                status.REASON_CREATE_APPLICATION_ERROR
            await self._set_condition(appset, status.error_condition(reason, failure), True)
            raise _ReconcileError(500, "InternalError", failure)
        if plan.allow_delete(policy):
            failure = await self._delete_extra(appset, {a["metadata"]["name"] for a in apps}, current)
            if failure:
                await self._set_condition(appset, status.error_condition(status.REASON_DELETE_APPLICATION_ERROR,
                                                                         failure), True)
                raise _ReconcileError(500, "InternalError", failure)
        appset = await self._write_resources(appset, list(current.values()))
        if REFRESH_ANNOTATION in _annotations(appset):
            appset = await self._remove_refresh(appset)
        requeue = applications.requeue_after_seconds(appset)
        if not errors:
            await self._set_condition(appset, status.up_to_date_condition(), True)
        elif not requeue:
            requeue = ERROR_REQUEUE_SECONDS
        if requeue:
            self.queue.add_after(name, self.clock.delay(requeue))

    def _project_names(self) -> frozenset:
        return frozenset(p["metadata"]["name"] for p in self.projects.items())

    def _owned(self, name: str) -> list[dict]:
        return [a for a in self.apps.by_index(OWNER_INDEX, name) if a["metadata"].get("namespace") == NAMESPACE]

    async def _create_or_update(self, appset: dict, desired: list[dict], current: dict[str, dict], *,
                                only_create: bool) -> str:
        """Creates (and updates unless ``only_create``) the Applications; ``current`` follows what was written.
        Returns the first error's message ("" when none)."""
        first_error = ""
        for generated in desired:
            name = generated["metadata"]["name"]
            if only_create and name in current:
                continue
            try:
                written, action = await self._apply(appset, generated)
            except (ApiError, plan.AlreadyOwned) as e:
                message = f"error while wrapping using MutateFn: {e}" if isinstance(e, plan.AlreadyOwned) else \
                    _api_message(e)
                log.error("applicationset %s: failed to write Application %s: %s",
                          appset["metadata"]["name"], name, message)
                first_error = first_error or message
                continue
            if written is not None:
                current[name] = written
            if action:
                await self.recorder.event(appset, "Normal", action, f'{action} Application "{name}"')
                log.info("applicationset %s: %s Application %s", appset["metadata"]["name"], action, name)
        return first_error

    async def _apply(self, appset: dict, generated: dict) -> tuple[dict | None, str]:
        """``utils.CreateOrUpdate``: (the Application as written, ``created``/``updated``/"")."""
        name = generated["metadata"]["name"]
        live = await self.client.get_or_none(APP_API, "Application", name, NAMESPACE)
        if live is None:
            try:
                return await self.client.create(plan.new_application(generated, appset), namespace=NAMESPACE), \
                    "created"
            except ApiError as e:
                if e.code != 409:
                    raise
                live = await self.client.get(APP_API, "Application", name, NAMESPACE)
        desired = plan.updated_application(live, generated, appset)
        if not plan.needs_update(live, desired):
            return (live if plan.owner_name(live) == appset["metadata"]["name"] else None), ""
        written = await self.client.patch(APP_API, "Application", name, plan.update_patch(live, desired), NAMESPACE)
        return written, "updated"

    async def _delete_extra(self, appset: dict, generated_names: set[str], current: dict[str, dict]) -> str:
        """``deleteInCluster``: the owned Applications no longer generated."""
        clusters = clusters_from_secrets(self.secrets.items())
        first_error = ""
        for name in sorted(n for n in current if n not in generated_names):
            app = current.pop(name)
            try:
                if app["metadata"].get("finalizers") and not plan.destination_is_valid(app, clusters):
                    await self._drop_resources_finalizer(appset, app)
                await self.client.delete(APP_API, "Application", name, NAMESPACE)
            except ApiError as e:
                if e.code == 404:
                    continue
                first_error = first_error or _api_message(e)
                continue
            await self.recorder.event(appset, "Normal", "Deleted", f'Deleted Application "{name}"')
            log.info("applicationset %s: Deleted application %s", appset["metadata"]["name"], name)
        return first_error

    async def _drop_resources_finalizer(self, appset: dict, app: dict) -> None:
        finalizers = app["metadata"].get("finalizers") or []
        kept = [f for f in finalizers if f != plan.RESOURCES_FINALIZER]
        if len(kept) == len(finalizers):
            return
        await self.client.patch(APP_API, "Application", app["metadata"]["name"],
                                {"metadata": {"finalizers": kept or None}}, NAMESPACE)
        await self.recorder.event(appset, "Normal", "Updated",
                                  f'Updated Application "{app["metadata"]["name"]}" finalizer before deletion, '
                                  "because application has an invalid destination")

    # --- deletion ----------------------------------------------------------
    async def _finalize(self, appset: dict) -> None:
        """An ApplicationSet being deleted: orphan its Applications if the policy keeps them, release it."""
        name = appset["metadata"]["name"]
        if not plan.allow_delete(plan.policy(appset)):
            for app in self._owned(name):
                refs = [r for r in app["metadata"].get("ownerReferences") or [] if r.get("uid") !=
                        appset["metadata"].get("uid")]
                try:
                    await self.client.patch(APP_API, "Application", app["metadata"]["name"],
                                            {"metadata": {"ownerReferences": refs or None}}, NAMESPACE)
                except ApiError as e:
                    if e.code != 404:
                        raise
        finalizers = appset["metadata"].get("finalizers") or []
        if plan.RESOURCES_FINALIZER in finalizers:
            kept = [f for f in finalizers if f != plan.RESOURCES_FINALIZER]
            await self.client.patch(APP_API, "ApplicationSet", name, {"metadata": {"finalizers": kept or None}},
                                    NAMESPACE)

    # --- status ------------------------------------------------------------
    async def _set_condition(self, appset: dict, condition: dict, parameters_generated: bool) -> dict:
        before = (appset.get("status") or {}).get("conditions") or []
        after = status.with_condition(before, condition, parameters_generated, now_text(),
                                      rolling_sync=_rolling_sync(appset))
        if not status.conditions_changed(before, after):
            return appset
        return await self._patch_status(appset, {"conditions": after, "health": status.health(after)})

    async def _write_resources(self, appset: dict, apps: list[dict]) -> dict:
        resources = status.resources(apps)
        current = appset.get("status") or {}
        if (current.get("resources") or []) == resources and int(current.get("resourcesCount") or 0) == len(resources):
            return appset
        return await self._patch_status(appset, {"resources": resources or None,
                                                 "resourcesCount": len(resources) or None})

    async def _patch_status(self, appset: dict, patch: dict) -> dict:
        try:
            written = await self.client.patch(APP_API, "ApplicationSet", appset["metadata"]["name"],
                                              {"status": patch}, NAMESPACE, subresource="status")
        except ApiError as e:
            if e.code == 404:
                return appset
            raise
        return written or appset

    async def _remove_refresh(self, appset: dict) -> dict:
        try:
            return await self.client.patch(APP_API, "ApplicationSet", appset["metadata"]["name"],
                                           {"metadata": {"annotations": {REFRESH_ANNOTATION: None}}}, NAMESPACE)
        except ApiError as e:
            log.warning("applicationset %s: error occurred while updating ApplicationSet: %s",
                        appset["metadata"]["name"], e)
            await self._set_condition(appset, status.error_condition(status.REASON_REFRESH_APPLICATION_ERROR,
                                                                     _api_message(e)), True)
            raise


class _ReconcileError(ApiError):
    """A reconcile that wrote its error condition and wants the rate-limited retry (as a returned error)."""


def _api_message(error: ApiError) -> str:
    return getattr(error, "message", None) or str(error)


def _annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _rolling_sync(appset: dict) -> bool:
    strategy = (appset.get("spec") or {}).get("strategy") or {}
    return strategy.get("type") == "RollingSync"


# --- requeue rules (pure) ---------------------------------------------------------------------
def should_requeue_appset(old: dict, new: dict) -> bool:
    """``shouldRequeueForApplicationSet``: spec, labels, finalizers, deletion, or a newly added refresh annotation."""
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    if not plan.semantically_equal(old.get("spec"), new.get("spec")) or \
            not plan.semantically_equal(om.get("labels"), nm.get("labels")) or \
            not plan.semantically_equal(om.get("finalizers"), nm.get("finalizers")) or \
            om.get("deletionTimestamp") != nm.get("deletionTimestamp"):
        return True
    if not plan.semantically_equal(om.get("annotations"), nm.get("annotations")):
        return not (REFRESH_ANNOTATION in (om.get("annotations") or {}) and
                    REFRESH_ANNOTATION not in (nm.get("annotations") or {}))
    return False


def should_requeue_app(old: dict, new: dict) -> bool:
    """``shouldRequeueForApplication`` (progressive syncs off): what the ApplicationSet controller owns changed."""
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    return not plan.semantically_equal(old.get("spec"), new.get("spec")) or any(
        not plan.semantically_equal(om.get(k), nm.get(k)) for k in ("annotations", "labels", "finalizers"))


def uses_generator(appset: dict, kind: str) -> bool:
    """Whether a generator of ``kind`` appears at the top level or inside a matrix/merge."""
    def walk(generators) -> bool:
        for generator in generators or []:
            generator = generator or {}
            if generator.get(kind) is not None:
                return True
            for combo in ("matrix", "merge"):
                if walk((generator.get(combo) or {}).get("generators")):
                    return True
        return False
    return walk((appset.get("spec") or {}).get("generators"))


def git_generators(appset: dict) -> list[dict]:
    found: list[dict] = []

    def walk(generators) -> None:
        for generator in generators or []:
            generator = generator or {}
            if generator.get("git") is not None:
                found.append(generator["git"])
            for combo in ("matrix", "merge"):
                walk((generator.get(combo) or {}).get("generators"))
    walk((appset.get("spec") or {}).get("generators"))
    return found


def refreshed_by_push(appset: dict, urls: set[str], ref: str) -> bool:
    """The webhook's ``shouldRefreshGitGenerator``: a git generator reads a pushed repository at the pushed
    revision (``HEAD``/empty: any branch push, the lab not telling the default branch apart)."""
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    for git in git_generators(appset):
        if normalize_url(str(git.get("repoURL") or "")) not in urls:
            continue
        revision = str(git.get("revision") or "")
        if revision in ("", "HEAD") or revision in (branch, ref):
            return True
    return False
