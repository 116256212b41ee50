"""The NEW APP panel: the UI's creation form, writing an Application through the API.

Fields and their names are the UI's (GENERAL, SOURCE, DESTINATION, Helm
PARAMETERS); CREATE first checks the required fields (French messages),
then creates the Application as argocd-server does: an existing one with
the same spec is left as is, a different one is refused with Argo CD's
message. Kubernetes' own errors (an invalid name…) are shown verbatim.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import yaml
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from gitopslab.argocd.clusters import clusters_from_secrets
from gitopslab.lab.apps import (ARGOCD_NAMESPACE, GROUP, IN_CLUSTER, VERSION, application_manifest,
                                apply_application, get_application)
from gitopslab.lab.session import Lab
from gitopslab.widgets.text import api_message, captured, pre

SPEC_DIFFERENT = ("rpc error: code = InvalidArgument desc = existing application spec is different, "
                  "use upsert flag to force update")
REQUIRED = (("name", "Application Name"), ("project", "Project Name"), ("repo_url", "Repository URL"),
            ("path", "Path"), ("cluster_url", "Cluster URL"))
LABEL_STYLE = {"description_width": "170px"}
FIELD_LAYOUT = {"width": "560px"}


@dataclass
class NewApp:
    """What the form holds, as text and ticks."""

    name: str = ""
    project: str = "default"
    automatic: bool = False
    prune: bool = False
    self_heal: bool = False
    create_namespace: bool = False
    repo_url: str = ""
    revision: str = "HEAD"
    path: str = ""
    cluster_url: str = IN_CLUSTER
    namespace: str = ""
    helm_parameters: str = ""   # one ``name=value`` a line


def parse_helm_parameters(text: str) -> tuple[dict[str, str], list[str]]:
    """``name=value`` lines -> (parameters, French errors) (pure)."""
    params, errors = {}, []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            errors.append(f"Paramètre Helm « {line} » invalide : écrivez nom=valeur (une ligne par paramètre).")
            continue
        params[name.strip()] = value.strip()
    return params, errors


def validation_errors(values: NewApp) -> list[str]:
    """French messages for the required fields left empty, and for malformed Helm parameters (pure)."""
    errors = [f"Le champ « {label} » est obligatoire." for field, label in REQUIRED
              if not getattr(values, field).strip()]
    return errors + parse_helm_parameters(values.helm_parameters)[1]


def manifest_of(values: NewApp) -> dict:
    """The Application the form describes (pure)."""
    params, _ = parse_helm_parameters(values.helm_parameters)
    return application_manifest(
        values.name.strip(), values.repo_url.strip(), values.path.strip(),
        namespace=values.namespace.strip(), target_revision=values.revision.strip() or "HEAD",
        project=values.project.strip(), server=values.cluster_url.strip(),
        automated=values.automatic, prune=values.automatic and values.prune,
        self_heal=values.automatic and values.self_heal, create_namespace=values.create_namespace,
        helm_parameters=params or None)


def create_application(lab: Lab, manifest: dict) -> tuple[bool, str]:
    """Create as argocd-server does (idempotent for the same spec); (created or unchanged, message)."""
    name = manifest["metadata"]["name"]
    existing = get_application(lab, name, manifest["metadata"]["namespace"])
    if existing is not None:
        if existing.get("spec") == manifest["spec"]:
            return True, f"L'application « {name} » existe déjà avec exactement ces réglages : rien à créer."
        return False, f"{SPEC_DIFFERENT}\n(« {name} » existe déjà avec d'autres réglages.)"
    return True, captured(apply_application, lab, manifest).strip()


class NewAppForm(widgets.VBox):
    """The NEW APP panel; ``create_button.click()`` (or CREATE in the notebook) creates the Application."""

    def __init__(self, lab: Lab, *, on_created: Callable[[str], None] | None = None):
        self.lab, self.on_created = lab, on_created
        self.name = self._text("Application Name")
        self.project = widgets.Combobox(description="Project Name", value="default",
                                        options=self._projects(), ensure_option=False,
                                        style=LABEL_STYLE, layout=FIELD_LAYOUT)
        self.sync_policy = widgets.Dropdown(description="SYNC POLICY", options=["Manual", "Automatic"],
                                            value="Manual", style=LABEL_STYLE)
        self.prune = widgets.Checkbox(description="PRUNE RESOURCES", indent=True)
        self.self_heal = widgets.Checkbox(description="SELF HEAL", indent=True)
        self.automatic_box = widgets.VBox([self.prune, self.self_heal], layout={"display": "none"})
        self.create_namespace = widgets.Checkbox(description="AUTO-CREATE NAMESPACE", indent=True)
        self.repo_url = self._text("Repository URL")
        self.revision = self._text("Revision", "HEAD")
        self.path = self._text("Path")
        self.cluster_url = widgets.Combobox(description="Cluster URL", value=IN_CLUSTER,
                                            options=self._cluster_urls(), ensure_option=False,
                                            style=LABEL_STYLE, layout=FIELD_LAYOUT)
        self.namespace = self._text("Namespace")
        self.helm_parameters = widgets.Textarea(description="PARAMETERS", placeholder="namespace.create=true",
                                                style=LABEL_STYLE, layout=FIELD_LAYOUT)
        helm = widgets.Accordion([widgets.VBox([
            widgets.HTML("<i>Charte Helm uniquement : une ligne <code>nom=valeur</code> par paramètre.</i>"),
            self.helm_parameters])], titles=("Helm (facultatif)",), selected_index=None)
        self.create_button = widgets.Button(description="CREATE", button_style="primary", tooltip="Create")
        self.create_button.on_click(lambda _: self.create())
        self.message = widgets.HTML()
        self.message_text = ""   # what ``message`` shows, as plain text
        self.preview = widgets.HTML()
        self.sync_policy.observe(self._on_policy, names="value")
        for field in self._fields():
            field.observe(lambda _change: self._update_preview(), names="value")
        self._update_preview()
        super().__init__([
            widgets.HBox([self.create_button]), self.message,
            self._section("GENERAL"), self.name, self.project, self.sync_policy, self.automatic_box,
            widgets.HTML("<span style='margin-left: 8px;'>SYNC OPTIONS</span>"), self.create_namespace,
            self._section("SOURCE"), self.repo_url, self.revision, self.path, helm,
            self._section("DESTINATION"), self.cluster_url, self.namespace,
            widgets.HTML("<b>L'objet Application que CREATE va écrire :</b>"), self.preview,
        ], layout={"border": "1px solid #dee6eb", "padding": "8px"})

    def __repr__(self) -> str:   # what a frontend without widgets shows
        return "Formulaire NEW APP d'Argo CD : remplissez les champs puis cliquez sur CREATE"

    # --- building -------------------------------------------------------------------

    @staticmethod
    def _text(label: str, value: str = "") -> widgets.Text:
        return widgets.Text(description=label, value=value, style=LABEL_STYLE, layout=FIELD_LAYOUT)

    @staticmethod
    def _section(title: str) -> widgets.HTML:
        return widgets.HTML(f"<p style='margin: 10px 0 2px 0; font-weight: bold;'>{title}</p>")

    def _fields(self) -> list[widgets.ValueWidget]:
        return [self.name, self.project, self.sync_policy, self.prune, self.self_heal, self.create_namespace,
                self.repo_url, self.revision, self.path, self.cluster_url, self.namespace, self.helm_parameters]

    def _projects(self) -> list[str]:
        try:
            found = self.lab.custom.list_namespaced_custom_object(GROUP, VERSION, ARGOCD_NAMESPACE, "appprojects")
        except (ApiException, HTTPError):
            return ["default"]
        return sorted(p["metadata"]["name"] for p in found.get("items") or []) or ["default"]

    def _cluster_urls(self) -> list[str]:
        try:
            secrets = self.lab.core.list_namespaced_secret(
                ARGOCD_NAMESPACE, label_selector="argocd.argoproj.io/secret-type=cluster").items
        except (ApiException, HTTPError):
            return [IN_CLUSTER]
        clusters = clusters_from_secrets([self.lab.api.sanitize_for_serialization(s) for s in secrets])
        return [c.server for c in clusters]

    # --- behaviour ------------------------------------------------------------------

    def values(self) -> NewApp:
        return NewApp(name=self.name.value, project=self.project.value,
                      automatic=self.sync_policy.value == "Automatic", prune=self.prune.value,
                      self_heal=self.self_heal.value, create_namespace=self.create_namespace.value,
                      repo_url=self.repo_url.value, revision=self.revision.value, path=self.path.value,
                      cluster_url=self.cluster_url.value, namespace=self.namespace.value,
                      helm_parameters=self.helm_parameters.value)

    def _on_policy(self, change) -> None:
        self.automatic_box.layout.display = "flex" if change["new"] == "Automatic" else "none"

    def _update_preview(self) -> None:
        self.preview.value = pre(yaml.safe_dump(manifest_of(self.values()), sort_keys=False))

    def say(self, text: str, *, error: bool = False) -> None:
        self.message_text = text
        self.message.value = pre(text, color="#e96d76" if error else "#18be94")

    def create(self) -> bool:
        """Validate, then create the Application; the outcome is shown in ``message``."""
        values = self.values()
        errors = validation_errors(values)
        if errors:
            self.say("\n".join(errors), error=True)
            return False
        try:
            ok, text = create_application(self.lab, manifest_of(values))
        except ApiException as e:
            self.say(f"Kubernetes a refusé l'Application :\n{api_message(e)}", error=True)
            return False
        except HTTPError as e:
            self.say(f"Cluster injoignable : {e}", error=True)
            return False
        self.say(text, error=not ok)
        if ok and self.on_created is not None:
            self.on_created(values.name.strip())
        return ok


def new_app_form(lab: Lab) -> NewAppForm:
    """The UI's NEW APP panel: fill the fields, then click CREATE."""
    return NewAppForm(lab)


