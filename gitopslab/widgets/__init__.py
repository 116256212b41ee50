"""Argo CD's UI as ipywidgets views in the notebooks: application tiles, the NEW APP form, the resource tree.

Everything they show is read through the Kubernetes API, and everything
they do is written through it (Application objects, their ``operation``
field, the refresh annotation), as the real UI does through argocd-server.
"""
from gitopslab.widgets.newapp import new_app_form
from gitopslab.widgets.resourcetree import resource_tree
from gitopslab.widgets.tiles import applications_view

__all__ = ["applications_view", "new_app_form", "resource_tree"]
