"""The Applications page: one tile per Application, refreshed periodically, with SYNC and REFRESH.

Each tile shows what the UI's tile shows (Project, Status, Repository,
Target Revision, Path, Destination, Namespace, Last Sync), read from the
Application objects through the API. ``+ NEW APP`` opens the creation form;
a tile's name opens the application's resource tree below the tiles.
"""
from __future__ import annotations

import html
import threading
from datetime import datetime

import ipywidgets as widgets
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from gitopslab.argocd.clusters import clusters_from_secrets
from gitopslab.lab.apps import ARGOCD_NAMESPACE, GROUP, IN_CLUSTER, PLURAL, VERSION, app_state
from gitopslab.lab.session import Lab
from gitopslab.widgets import status as st
from gitopslab.widgets.actions import request_refresh, request_sync
from gitopslab.widgets.refresher import Refresher
from gitopslab.widgets.text import api_message, timestamp_fr

REFRESH_SECONDS = 3.0   # real seconds between two reads of the Applications
CLUSTER_SECRETS = "argocd.argoproj.io/secret-type=cluster"
_LIVE_VIEWS: list["ApplicationsView"] = []   # one auto-refreshing view per kernel: a re-run stops the previous


def destination_text(destination: dict, cluster_names: dict[str, str]) -> str:
    """The cluster's name as the UI shows it (``in-cluster``, a cluster Secret's name, else the URL)."""
    if destination.get("name"):
        return destination["name"]
    server = (destination.get("server") or "").rstrip("/")
    return cluster_names.get(server, server)


def last_sync(app: dict) -> str:
    op = (app.get("status") or {}).get("operationState") or {}
    return timestamp_fr(op.get("finishedAt") or op.get("startedAt"))


def tile_fields(app: dict, cluster_names: dict[str, str]) -> list[tuple[str, str]]:
    """The rows of an application tile, as plain text (pure)."""
    spec = app.get("spec") or {}
    source = spec.get("source") or ((spec.get("sources") or [{}])[0])
    destination = spec.get("destination") or {}
    sync, health = app_state(app)
    rows = [("Project", spec.get("project", "")), ("Status", f"{health or st.NO_STATUS} {sync or st.NO_STATUS}"),
            ("Repository", source.get("repoURL", "")), ("Target Revision", source.get("targetRevision", "") or "HEAD")]
    rows.append(("Chart", source["chart"]) if source.get("chart") else ("Path", source.get("path", "")))
    rows += [("Destination", destination_text(destination, cluster_names)),
             ("Namespace", destination.get("namespace", ""))]
    when = last_sync(app)
    if when:
        rows.append(("Last Sync", when))
    return rows


def _fields_html(app: dict, cluster_names: dict[str, str]) -> str:
    sync, health = app_state(app)
    cells = []
    for label, value in tile_fields(app, cluster_names):
        shown = f"{st.health_badge(health)} {st.sync_badge(sync)}" if label == "Status" else html.escape(value)
        cells.append(f'<tr><td style="color: #6d7f8b; padding-right: 8px; vertical-align: top;">{label}:</td>'
                     f'<td style="word-break: break-all;">{shown}</td></tr>')
    return f'<table style="font-size: 12px;">{"".join(cells)}</table>'


class AppTile(widgets.VBox):
    """One application's tile: its name (opens the tree), its fields, SYNC and REFRESH."""

    def __init__(self, lab: Lab, app: dict, view: "ApplicationsView"):
        self.lab, self.view = lab, view
        self.name = app["metadata"]["name"]
        self.app = app
        self.title = widgets.Button(description=self.name, tooltip="Ouvrir l'arbre des ressources",
                                    layout=widgets.Layout(width="auto"))
        self.title.style.font_weight = "bold"
        self.fields = widgets.HTML()
        self.sync_button = widgets.Button(description="SYNC", icon="sync", tooltip="Sync")
        self.refresh_button = widgets.Button(description="REFRESH", icon="redo", tooltip="Refresh")
        self.message = widgets.HTML()
        self.message_text = ""   # what ``message`` shows, as plain text
        self.title.on_click(lambda _: view.open_app(self.name))
        self.sync_button.on_click(lambda _: self.sync())
        self.refresh_button.on_click(lambda _: self.request_refresh())
        super().__init__([self.title, self.fields, widgets.HBox([self.sync_button, self.refresh_button]),
                          self.message],
                         layout=widgets.Layout(width="360px", margin="4px", padding="6px",
                                               border="1px solid #dee6eb"))

    @property
    def sync_status(self) -> str:
        return app_state(self.app)[0]

    @property
    def health_status(self) -> str:
        return app_state(self.app)[1]

    def update(self, app: dict, cluster_names: dict[str, str]) -> None:
        self.app = app
        self.fields.value = _fields_html(app, cluster_names)
        self.layout.border_left = f"6px solid {st.border_color(self.health_status)}"

    def say(self, text: str) -> None:
        self.message_text = text
        self.message.value = f'<span style="font-size: 12px;">{html.escape(text)}</span>'

    def sync(self) -> None:
        self.say(request_sync(self.lab, self.name))
        self.view.refresh()

    def request_refresh(self) -> None:
        self.say(request_refresh(self.lab, self.name))
        self.view.refresh()


class ApplicationsView(widgets.VBox):
    """All Applications of ``namespace`` as tiles; ``refresh()`` rereads them, ``start()``/``stop()`` the timer."""

    def __init__(self, lab: Lab, namespace: str = ARGOCD_NAMESPACE, *, interval: float = REFRESH_SECONDS):
        self.lab, self.namespace = lab, namespace
        self.tiles: dict[str, AppTile] = {}
        self._lock = threading.RLock()
        self.refresher = Refresher(self.refresh, interval)
        self.new_app_button = widgets.Button(description="NEW APP", icon="plus", tooltip="New App")
        self.new_app_button.on_click(lambda _: self.toggle_form())
        self.info = widgets.HTML()
        self.form_box = widgets.VBox()
        self.tiles_box = widgets.Box(layout=widgets.Layout(display="flex", flex_flow="row wrap"))
        self.details_box = widgets.VBox()
        self.form = None
        super().__init__([widgets.HBox([self.new_app_button, self.info]), self.form_box, self.tiles_box,
                          self.details_box])

    def __repr__(self) -> str:   # what a frontend without widgets shows
        states = ", ".join(f"{name} {tile.sync_status or '—'}/{tile.health_status or '—'}"
                           for name, tile in sorted(self.tiles.items()))
        return f"Applications d'Argo CD ({len(self.tiles)}) : {states or 'aucune'}"

    # --- reading the Applications ---------------------------------------------------

    def _list(self) -> list[dict]:
        found = self.lab.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
        return sorted(found.get("items") or [], key=lambda a: a["metadata"]["name"])

    def _cluster_names(self, apps: list[dict]) -> dict[str, str]:
        """Server URL -> cluster name, from the cluster Secrets (read only when an app deploys elsewhere)."""
        names = {IN_CLUSTER: "in-cluster"}
        servers = {(((a.get("spec") or {}).get("destination") or {}).get("server") or "").rstrip("/") for a in apps}
        if not servers - {IN_CLUSTER, ""}:
            return names
        try:
            secrets = self.lab.core.list_namespaced_secret(self.namespace, label_selector=CLUSTER_SECRETS).items
        except ApiException:
            return names   # no right to read Secrets: the UI would show the URL too
        clusters = clusters_from_secrets([self.lab.api.sanitize_for_serialization(s) for s in secrets])
        names.update({c.server.rstrip("/"): c.name for c in clusters})
        return names

    def refresh(self) -> None:
        """Reread the Applications and update the tiles (safe from the timer's thread)."""
        with self._lock:
            try:
                apps = self._list()
                names = self._cluster_names(apps)
            except ApiException as e:
                self._say_error("Argo CD n'est pas installé dans ce cluster (pas de ressource Application)."
                                if e.status == 404 else f"Lecture des applications impossible : {api_message(e)}")
                return
            except HTTPError as e:
                self._say_error(f"Cluster injoignable : {e}")
                return
            self._show(apps, names)

    def _show(self, apps: list[dict], names: dict[str, str]) -> None:
        current = {a["metadata"]["name"] for a in apps}
        for app in apps:
            name = app["metadata"]["name"]
            if name not in self.tiles:
                self.tiles[name] = AppTile(self.lab, app, self)
            self.tiles[name].update(app, names)
        for gone in set(self.tiles) - current:
            self.tiles.pop(gone).close()
        children = tuple(self.tiles[n] for n in sorted(self.tiles))
        if children != tuple(self.tiles_box.children):
            self.tiles_box.children = children
        count = f"{len(apps)} application{'s' if len(apps) > 1 else ''}" if apps else "Aucune application"
        self.info.value = (f'<span style="color: #6d7f8b;">{count} — mis à jour à '
                           f'{datetime.now().strftime("%H:%M:%S")}</span>')

    def _say_error(self, text: str) -> None:
        self.info.value = f'<span style="color: #e96d76;">❌ {html.escape(text)}</span>'

    # --- the timer ----------------------------------------------------------------

    def start(self) -> "ApplicationsView":
        for other in list(_LIVE_VIEWS):
            other.stop()
        _LIVE_VIEWS.append(self)
        self.refresher.start()
        return self

    def stop(self) -> None:
        self.refresher.stop()
        if self in _LIVE_VIEWS:
            _LIVE_VIEWS.remove(self)

    def close(self) -> None:
        self.stop()
        super().close()

    # --- NEW APP and the resource tree ----------------------------------------------

    def toggle_form(self) -> None:
        from gitopslab.widgets.newapp import NewAppForm

        if self.form_box.children:
            self.form_box.children = ()
            return
        if self.form is None:
            self.form = NewAppForm(self.lab, on_created=lambda _name: self.refresh())
        self.form_box.children = (self.form,)

    def open_app(self, name: str) -> None:
        """Show ``name``'s resource tree below the tiles (clicking a tile in the UI)."""
        from gitopslab.widgets.resourcetree import ResourceTreeView

        for old in self.details_box.children:
            old.close()
        self.details_box.children = (ResourceTreeView(self.lab, name, namespace=self.namespace),)


def applications_view(lab: Lab, *, auto_refresh: bool = True, interval: float = REFRESH_SECONDS) -> ApplicationsView:
    """The Applications page of the UI; tiles reread every ``interval`` s (``view.stop()`` stops it)."""
    view = ApplicationsView(lab, interval=interval)
    view.refresh()
    if auto_refresh:
        view.start()
    return view
