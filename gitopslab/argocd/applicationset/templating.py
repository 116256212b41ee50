"""Rendering an ApplicationSet template with one set of parameters (pure).

Follows AC ``applicationset/utils/utils.go`` (``Render.Replace``,
``RenderTemplateParams``, ``RenderGeneratorParams``) and
``controllers/template`` (``GetTempApplication``, ``applyTemplatePatch``):

- fasttemplate (default): every ``{{ key }}`` whose trimmed key is a string
  parameter is replaced; unknown keys stay as written; a string is looked at
  only if one of its lines holds ``{{…}}`` (``isTemplatedRegex``);
- ``goTemplate: true``: Go ``text/template`` (``gitopslab.argocd.gotemplate``)
  named ``base``, with the sprig functions and Argo CD's ``normalize``,
  ``slugify``, ``toYaml``, ``fromYaml``, ``fromYamlArray``; ``goTemplateOptions``
  such as ``missingkey=error``;
- every string of the template is rendered, map keys included; the
  generated Application gets the ``resources-finalizer.argocd.argoproj.io``
  finalizer when the template has none, unless
  ``syncPolicy.preserveResourcesOnDeletion`` (and only when there are
  parameters, as upstream returns the bare template for empty ones).

Errors are ``RenderError`` with Argo CD's wording (``failed to execute go
template {{.x}}: template: base:1:2: executing "base" at <.x>: map has no
entry for key "x"``).
"""
from __future__ import annotations

import copy
import json
import re
import unicodedata

import yaml

from gitopslab.argocd import gotemplate

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
TEMPLATE_NAME = "base"
_TEMPLATED = re.compile(r".*{{.*}}.*")            # Go's regexp: '.' does not match a newline
_INVALID_DNS_CHARS = re.compile(r"[^-a-z0-9.]")
MAX_DNS_NAME_LENGTH = 253
# generator types whose ``values`` (map[string]string) RenderGeneratorParams pre-resolves
GENERATORS_WITH_VALUES = ("clusters", "git", "plugin", "scmProvider", "pullRequest", "clusterDecisionResource")


class RenderError(Exception):
    """A template that cannot be rendered; ``str()`` is Argo CD's error text."""


# --- functions templates may call ---------------------------------------------------------
def sanitize_name(name: str) -> str:
    """``utils.SanitizeName``: lower case, characters outside ``[-a-z0-9.]`` become ``-``, trimmed."""
    name = _INVALID_DNS_CHARS.sub("-", str(name).lower())[:MAX_DNS_NAME_LENGTH]
    return name.strip("-.")


def slugify(*args) -> str:
    """``utils.SlugifyName([maxSize, [smartTruncate,]] name)`` (gosimple/slug after sanitize_name)."""
    max_size, smart = 50, True
    if len(args) >= 2:
        max_size = int(args[0])
    if len(args) >= 3:
        smart = bool(args[1])
    name = sanitize_name(args[-1] if args else "")
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9-_]+", "-", text.lower()).strip("-_")
    slug = re.sub(r"-+", "-", slug)
    if max_size and len(slug) > max_size:
        if smart and "-" in slug[:max_size + 1]:
            cut = slug[:max_size + 1].rfind("-")
            slug = slug[:cut] if cut > 0 else slug[:max_size]
        else:
            slug = slug[:max_size]
    return slug.strip("-")


def _to_yaml(value) -> str:
    if value is None:
        return "null"
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).removesuffix("\n")


def _from_yaml(text) -> dict:
    loaded = yaml.safe_load(str(text)) if text else None
    return loaded if isinstance(loaded, dict) else {}


def _from_yaml_array(text) -> list:
    loaded = yaml.safe_load(str(text)) if text else None
    return loaded if isinstance(loaded, list) else []


FUNCTIONS = {"normalize": sanitize_name, "slugify": slugify, "toYaml": _to_yaml, "fromYaml": _from_yaml,
             "fromYamlArray": _from_yaml_array}


# --- one string ---------------------------------------------------------------------------
def missing_key_option(options: list[str] | None) -> str:
    """The ``missingkey`` value of ``goTemplateOptions`` (the last one wins, as ``Template.Option``)."""
    value = "default"
    for option in options or []:
        key, sep, val = str(option).partition("=")
        if not sep or key != "missingkey":
            raise RenderError(f"unrecognized option: {option}")
        value = val
    return value


def replace(text: str, params: dict, go_template: bool, options: list[str] | None = None) -> str:
    """``Render.Replace``: one string rendered with ``params``."""
    if go_template:
        try:
            parsed = gotemplate.parse(text, TEMPLATE_NAME, FUNCTIONS)
        except gotemplate.TemplateError as e:
            raise RenderError(f"failed to parse template {text}: {e}") from None
        try:
            return parsed.execute(params, FUNCTIONS, missing_key=missing_key_option(options))
        except gotemplate.TemplateError as e:
            raise RenderError(f"failed to execute go template {text}: {e}") from None
    if not _TEMPLATED.search(text):
        return text
    return _fasttemplate(text, params)


def _fasttemplate(text: str, params: dict) -> str:
    out: list[str] = []
    rest = text
    while True:
        start = rest.find("{{")
        if start < 0:
            out.append(rest)
            return "".join(out)
        out.append(rest[:start])
        rest = rest[start + 2:]
        end = rest.find("}}")
        if end < 0:
            raise RenderError(f'invalid template: Cannot find end tag="}}}}" in the template='
                              f'{gotemplate.go_quote(text)} starting from {gotemplate.go_quote(rest)}')
        tag = rest[:end]
        value = params.get(tag.strip())
        out.append(value if tag.strip() and isinstance(value, str) else "{{" + tag + "}}")
        rest = rest[end + 2:]


# --- whole objects ------------------------------------------------------------------------
def render_value(value, params: dict, go_template: bool, options: list[str] | None = None):
    """Every string of ``value`` rendered (map keys too); other scalars unchanged."""
    if isinstance(value, str):
        return replace(value, params, go_template, options)
    if isinstance(value, dict):
        return {replace(k, params, go_template, options) if isinstance(k, str) else k:
                render_value(v, params, go_template, options)
                for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [render_value(v, params, go_template, options) for v in value]
    return copy.deepcopy(value)


def application_template(template: dict) -> dict:
    """``GetTempApplication``: the parts of ``template`` an Application takes (name, namespace,
    labels, annotations, finalizers, spec)."""
    meta = template.get("metadata") or {}
    app_meta = {k: copy.deepcopy(meta[k]) for k in ("name", "namespace", "labels", "annotations", "finalizers")
                if meta.get(k) not in (None, "", {}, [])}
    return {"metadata": app_meta, "spec": copy.deepcopy(template.get("spec") or {})}


def render_application(template: dict, params: dict, *, go_template: bool, options: list[str] | None = None,
                       sync_policy: dict | None = None) -> dict:
    """``RenderTemplateParams``: the Application (``metadata`` + ``spec``) for one parameter set."""
    app = application_template(template)
    if not params:
        return app
    app = render_value(app, params, go_template, options)
    preserve = bool((sync_policy or {}).get("preserveResourcesOnDeletion"))
    if not preserve and not app["metadata"].get("finalizers"):
        app["metadata"]["finalizers"] = [RESOURCES_FINALIZER]
    return app


def render_generator(generator: dict, params: dict, *, go_template: bool, options: list[str] | None = None) -> dict:
    """``RenderGeneratorParams``: a matrix's second generator interpolated with the first one's parameters.

    A generator's ``values`` are rendered with ``missingkey=error`` and kept as written when a key is
    missing (the generator's own parameters fill them later)."""
    if not params:
        return copy.deepcopy(generator)
    resolve_options = options
    if go_template:
        resolve_options = [o for o in options or [] if not str(o).startswith("missingkey=")] + ["missingkey=error"]

    def walk(value, parent=None):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if v is None:
                    continue
                if k == "values" and parent in GENERATORS_WITH_VALUES and isinstance(v, dict):
                    out[k] = {vk: _pre_resolve(vv) if isinstance(vv, str) else vv for vk, vv in v.items()}
                    continue
                out[replace(k, params, go_template, options) if isinstance(k, str) else k] = walk(v, k)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return replace(value, params, go_template, options)
        return copy.deepcopy(value)

    def _pre_resolve(text: str) -> str:
        try:
            return replace(text, params, go_template, resolve_options)
        except RenderError as e:
            if "map has no entry for key" in str(e) or "can't evaluate field" in str(e):
                return text
            raise

    try:
        return walk(generator)
    except RenderError as e:
        raise RenderError(f"failed to replace parameters in generator: {e}") from None


def apply_template_patch(app: dict, patch_text: str) -> dict:
    """``applyTemplatePatch``: a rendered ``templatePatch`` (YAML or JSON) merged into the Application;
    the project cannot be patched."""
    try:
        patch = json.loads(patch_text) if patch_text.strip().startswith("{") else yaml.safe_load(patch_text)
    except (ValueError, yaml.YAMLError) as e:
        raise RenderError(f"error while converting template to json {gotemplate.go_quote(patch_text)}: {e}") from None
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise RenderError(f"invalid templatePatch {gotemplate.go_quote(json.dumps(patch))}: json: cannot unmarshal "
                          f"{_json_kind(patch)} into Go value of type v1alpha1.Application")
    patched = _strategic_merge(copy.deepcopy(app), patch)
    patched.setdefault("spec", {})["project"] = (app.get("spec") or {}).get("project", "")
    if not patched["spec"]["project"]:
        del patched["spec"]["project"]
    return patched


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _strategic_merge(target: dict, patch: dict, path: tuple = ()) -> dict:
    """A merge patch (RFC 7386) where ``metadata.finalizers`` merge as a set (their patch strategy)."""
    for key, value in patch.items():
        here = path + (key,)
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _strategic_merge(target[key], value, here)
        elif here == ("metadata", "finalizers") and isinstance(value, list):
            merged = list(target.get(key) or [])
            merged += [f for f in value if f not in merged]
            target[key] = merged
        else:
            target[key] = copy.deepcopy(value)
    return target
