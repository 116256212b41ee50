"""The application page: its resource tree (click a node for its details) and the DIFF tab.

The tree is the app's ``status.resources`` and what they own; clicking a
node shows SUMMARY, MANIFEST (the live object), EVENTS and, for a pod,
LOGS. DIFF shows what ``argocd app diff`` prints for the out-of-sync
resources. SYNC and REFRESH write what the UI's buttons write.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
from kubernetes import dynamic
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from gitopslab.argocd.appdiff import DiffError
from gitopslab.argocd.clusters import DestinationError
from gitopslab.lab.apps import ARGOCD_NAMESPACE, app_state, get_application
from gitopslab.lab.session import Lab
from gitopslab.widgets import details, status as st
from gitopslab.widgets.actions import request_refresh, request_sync
from gitopslab.widgets.diffview import app_diff_text
from gitopslab.widgets.text import api_message, pre
from gitopslab.lab.tree import TreeNode, app_tree, destination_lab, walk

TREE_TAB, DIFF_TAB = 0, 1
INDENT_PX = 28


def node_label(node: TreeNode) -> str:
    """A node as the tree line shows it: health and sync icons, Kind/name."""
    icons = st.health_icon(node.health) if node.health else "  "
    if node.sync:
        icons += " " + st.sync_icon(node.sync)
    return f"{icons} {node.kind}/{node.name}"


def diff_html(text: str) -> str:
    """``diff`` output with the live side (``<``) in red and the target side (``>``) in green."""
    lines = []
    for line in text.splitlines():
        color = "#e96d76" if line.startswith("<") else "#18be94" if line.startswith(">") else None
        escaped = html.escape(line)
        lines.append(f'<span style="color: {color};">{escaped}</span>' if color else escaped)
    return '<pre style="white-space: pre-wrap; font-size: 12px;">' + "\n".join(lines) + "</pre>"


class ResourceTreeView(widgets.VBox):
    """One Application's page; ``refresh()`` rereads it, ``select(kind, name)`` clicks a node."""

    def __init__(self, lab: Lab, name: str, *, namespace: str = ARGOCD_NAMESPACE):
        self.lab, self.name, self.namespace = lab, name, namespace
        self.app: dict | None = None
        self.nodes: dict[str, TreeNode] = {}
        self.node_buttons: dict[str, widgets.Button] = {}
        self.selected: str | None = None
        self.panels: dict[str, str] = {}   # the selected node's details, by tab title
        self.header = widgets.HTML()
        self.sync_button = widgets.Button(description="SYNC", icon="sync", tooltip="Sync")
        self.refresh_button = widgets.Button(description="REFRESH", icon="redo", tooltip="Refresh")
        self.sync_button.on_click(lambda _: self._act(request_sync))
        self.refresh_button.on_click(lambda _: self._act(request_refresh))
        self.message = widgets.HTML()
        self.tree_box = widgets.VBox()
        self.details = widgets.Tab(layout=widgets.Layout(display="none"))  # shown once a node is selected
        self.diff = widgets.HTML()
        self.diff_text = ""
        self.tabs = widgets.Tab([widgets.VBox([self.tree_box, self.details]), self.diff],
                                titles=("RESSOURCES", "DIFF"))
        self.tabs.observe(self._on_tab, names="selected_index")
        super().__init__([self.header, widgets.HBox([self.sync_button, self.refresh_button]), self.message,
                          self.tabs])
        self.refresh()

    def __repr__(self) -> str:   # what a frontend without widgets shows
        nodes = ", ".join(f"{n.kind}/{n.name}" for n in self.nodes.values())
        return f"Arbre des ressources de « {self.name} » : {nodes or 'aucune ressource'}"

    # --- reading ------------------------------------------------------------------

    def refresh(self) -> None:
        """Reread the Application and its live resources; the selected node stays selected."""
        try:
            self.app = get_application(self.lab, self.name, self.namespace)
        except (ApiException, HTTPError) as e:
            self._header_error(f"Lecture de l'application impossible : {_error_text(e)}")
            return
        if self.app is None:
            self._header_error(f"Application « {self.name} » introuvable dans le namespace {self.namespace}.")
            self._show_nodes([])
            return
        sync, health = app_state(self.app)
        self.header.value = (f"<b>{html.escape(self.name)}</b> &nbsp; APP HEALTH {st.health_badge(health)}"
                             f" &nbsp; SYNC STATUS {st.sync_badge(sync)}")
        try:
            with destination_lab(self.lab, self.app) as dest:
                self._show_nodes(app_tree(dynamic.DynamicClient(dest.api), self.app))
        except DestinationError as e:
            self._tree_error(f"Destination invalide : {e}")
        except (ApiException, HTTPError) as e:
            self._tree_error(f"Cluster de destination injoignable : {_error_text(e)}")
        if self.tabs.selected_index == DIFF_TAB:
            self.show_diff()

    def _tree_error(self, text: str) -> None:
        _close_all(self.tree_box)
        self.tree_box.children = (widgets.HTML(pre(text, color="#e96d76")),)

    def _header_error(self, text: str) -> None:
        self.header.value = pre(f"❌ {text}", color="#e96d76")

    def _show_nodes(self, roots: list[TreeNode]) -> None:
        _close_all(self.tree_box)
        self.nodes, self.node_buttons, rows = {}, {}, []
        app_line = widgets.HTML(f"<b>{st.health_icon(app_state(self.app)[1]) if self.app else ''} "
                                f"Application/{html.escape(self.name)}</b>")
        for depth, node in walk(roots):
            margin = f"1px 0 1px {INDENT_PX * (depth + 1)}px"
            button = widgets.Button(description=node_label(node), tooltip=node.key,
                                    layout=widgets.Layout(width="fit-content", margin=margin))
            button.on_click(lambda _b, key=node.key: self.select_key(key))
            self.nodes[node.key], self.node_buttons[node.key] = node, button
            rows.append(button)
        self.tree_box.children = (app_line, *rows)
        if self.selected in self.nodes:
            self.select_key(self.selected)
        else:
            self.selected, self.panels, self.details.children = None, {}, ()
            self.details.layout.display = "none"

    # --- clicking a node ------------------------------------------------------------

    def find(self, kind: str, name: str | None = None) -> TreeNode | None:
        """The first node of ``kind`` (named ``name`` if given), in tree order."""
        return next((n for n in self.nodes.values() if n.kind == kind and name in (None, n.name)), None)

    def select(self, kind: str, name: str | None = None) -> TreeNode:
        node = self.find(kind, name)
        if node is None:
            raise KeyError(f"pas de {kind}{'/' + name if name else ''} dans l'arbre de « {self.name} »")
        self.select_key(node.key)
        return node

    def select_key(self, key: str) -> None:
        self.selected = key
        node = self.nodes[key]
        for k, button in self.node_buttons.items():
            button.button_style = "info" if k == key else ""
        self.panels = {"SUMMARY": details.summary_text(node), "MANIFEST": details.manifest_text(node)}
        try:
            with destination_lab(self.lab, self.app) as dest:
                self.panels["EVENTS"] = details.events_text(dest, node)
                if node.kind == "Pod" and node.live is not None:
                    self.panels["LOGS"] = details.logs_text(dest, node)
        except (DestinationError, ApiException, HTTPError) as e:
            self.panels["EVENTS"] = f"Cluster de destination injoignable : {_error_text(e)}"
        _close_all(self.details)
        self.details.children = tuple(widgets.HTML(pre(text)) for text in self.panels.values())
        self.details.layout.display = None
        self.details.titles = tuple(self.panels)
        self.details.selected_index = len(self.panels) - 1 if "LOGS" in self.panels else 0

    # --- DIFF and actions -----------------------------------------------------------

    def _on_tab(self, change) -> None:
        if change["new"] == DIFF_TAB:
            self.show_diff()

    def show_diff(self) -> str:
        """Compute the diff (rendering the app's source, as ``argocd app diff``) and show it."""
        self.diff.value = pre("Calcul du diff…")
        if self.app is None:
            self.diff_text = ""
            self.diff.value = pre(f"Application « {self.name} » introuvable.")
            return ""
        try:
            self.diff_text = app_diff_text(self.lab, self.app)
        except DiffError as e:
            self.diff_text = ""
            self.diff.value = pre(f"Argo CD ne peut pas calculer le diff :\n{e}", color="#e96d76")
            return ""
        if self.diff_text:
            self.diff.value = ("<i>Pour chaque ressource qui diffère : « &lt; » l'état réel du cluster, "
                               "« &gt; » l'état voulu (Git).</i>" + diff_html(self.diff_text))
        else:
            self.diff.value = pre("Aucune différence entre Git et le cluster.")
        return self.diff_text

    def _act(self, action) -> None:
        self.message.value = pre(action(self.lab, self.name))
        self.refresh()


def _close_all(box: widgets.Box) -> None:
    """Close a box's children before replacing them (each open widget holds a comm with the frontend)."""
    for child in box.children:
        child.close()


def _error_text(error: Exception) -> str:
    return api_message(error) if isinstance(error, ApiException) else str(error)


def resource_tree(lab: Lab, app_name: str, *, namespace: str = ARGOCD_NAMESPACE) -> ResourceTreeView:
    """The UI's application page for ``app_name``: resource tree, details of a clicked node, DIFF."""
    return ResourceTreeView(lab, app_name, namespace=namespace)
