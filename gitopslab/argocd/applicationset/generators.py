"""Generators: the parameter sets of an ApplicationSet (pure, given a ``GeneratorContext``).

Follows AC ``applicationset/generators`` (v3.4): ``Transform``
(generator ``template`` merged over the ApplicationSet's, parameters
filtered by the generator's ``selector`` on their flattened form), and the
generators the lab serves:

- ``list``: ``elements`` (strings only without goTemplate; ``values.<k>``)
  plus ``elementsYaml``;
- ``clusters``: in-cluster (unless a selector is given or a cluster Secret
  has its server) and the cluster Secrets matching ``selector``:
  ``name``, ``nameNormalized``, ``server``, ``project``,
  ``metadata.labels.<k>``/``metadata.annotations.<k>`` (nested
  ``metadata`` with goTemplate), ``values.<k>`` rendered with them;
- ``git``: ``directories`` (every non-hidden folder, ``path.Match``
  includes/excludes) giving ``path``, ``path.basename``,
  ``path.basenameNormalized``, ``path[N]`` (goTemplate: ``.path.path``,
  ``.path.basename``, ``.path.segments``…), or ``files`` (JSON/YAML files,
  one object or a list, flattened with ``.``; plus ``path.filename``…);
- ``matrix`` of two generators (the second interpolated with each
  parameter set of the first).

Git and Secrets come from the context, so tests run without a server.
Errors are ``GeneratorError`` worded as upstream's.
"""
from __future__ import annotations

import base64
import copy
import json
import posixpath
from dataclasses import dataclass, field
from typing import Protocol

import yaml

from gitopslab.argocd.applicationset import templating
from gitopslab.argocd.applicationset.pathmatch import BadPattern, go_path_match
from gitopslab.argocd.gotemplate import format_value
from gitopslab.cluster.controllers import selectors

KINDS = ("list", "clusters", "git", "scmProvider", "clusterDecisionResource", "pullRequest", "matrix", "merge",
         "plugin")
SUPPORTED = ("list", "clusters", "git", "matrix")
IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
DEFAULT_REQUEUE_AFTER_SECONDS = 180.0   # generators.DefaultRequeueAfter (3 min)
ERR_EMPTY = "ApplicationSet is empty"


class GeneratorError(Exception):
    """A generator that cannot produce parameters; ``str()`` is Argo CD's error text."""


class RepoService(Protocol):
    """What the git generator asks the repo server (``services.Repos``); failures raise GeneratorError."""

    def directories(self, repo_url: str, revision: str, no_cache: bool) -> list[str]: ...

    def files(self, repo_url: str, revision: str, pattern: str, no_cache: bool) -> dict[str, bytes]: ...


@dataclass
class GeneratorContext:
    secrets: list[dict] = field(default_factory=list)   # Secrets of Argo CD's namespace (data base64)
    projects: frozenset = frozenset()                    # AppProject names
    repos: RepoService | None = None
    no_revision_cache: bool = False                      # the refresh annotation is set


@dataclass
class TransformResult:
    params: list[dict]
    template: dict


# --- Transform -----------------------------------------------------------------------------
def relevant_kinds(generator: dict) -> list[str]:
    """``GetRelevantGenerators``: the generator types set in one generator entry, in struct order."""
    return [kind for kind in KINDS if generator.get(kind) is not None]


def transform(generator: dict, appset: dict, ctx: GeneratorContext, base_template: dict,
              gen_params: dict | None = None) -> list[TransformResult]:
    """``Transform``: parameters and merged template of each generator type in ``generator``."""
    selector = generator.get("selector")
    results: list[TransformResult] = []
    first_error: GeneratorError | None = None
    for kind in relevant_kinds(generator):
        merged = merge_template((generator.get(kind) or {}).get("template") or {}, base_template)
        interpolated = generator
        if gen_params:
            try:
                interpolated = templating.render_generator(generator, gen_params, go_template=_go(appset),
                                                           options=_options(appset))
            except templating.RenderError as e:
                first_error = first_error or GeneratorError(str(e))
                continue
        try:
            params = generate_params(kind, interpolated, appset, ctx)
        except GeneratorError as e:
            first_error = first_error or e
            continue
        if selector is not None:
            params = [p for p in params if selectors.matches(selector, flatten_parameters(p))]
        results.append(TransformResult(params, merged))
    if first_error is not None:
        raise first_error
    return results


def merge_template(dest: dict, base: dict) -> dict:
    """``mergo.Merge(dest, base)``: the generator's template, its empty fields filled from the ApplicationSet's."""
    out = copy.deepcopy(dest)
    for key, value in (base or {}).items():
        mine = out.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            out[key] = merge_template(mine, value)
        elif _is_empty(mine):
            out[key] = copy.deepcopy(value)
    return out


def _is_empty(value) -> bool:
    return value is None or value is False or value == 0 and not isinstance(value, bool) or value in ("", [], {})


def flatten_parameters(params: dict) -> dict[str, str]:
    """``flattenParameters``: nested maps and lists joined with ``.``, values printed with ``%v``."""
    flat: dict[str, str] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{prefix}.{i}" if prefix else str(i))
        else:
            flat[prefix] = format_value(value)

    walk(params, "")
    return flat


def generate_params(kind: str, generator: dict, appset: dict, ctx: GeneratorContext) -> list[dict]:
    if kind == "list":
        return list_params(generator.get("list"), go_template=_go(appset))
    if kind == "clusters":
        return cluster_params(generator.get("clusters"), ctx.secrets, go_template=_go(appset),
                              options=_options(appset))
    if kind == "git":
        return git_params(generator.get("git"), appset, ctx)
    if kind == "matrix":
        return matrix_params(generator.get("matrix"), appset, ctx)
    raise GeneratorError(f"the lab's ApplicationSet controller does not serve the {kind} generator "
                         f"(supported: {', '.join(SUPPORTED)})")


def _go(appset: dict) -> bool:
    return bool((appset.get("spec") or {}).get("goTemplate"))


def _options(appset: dict) -> list[str] | None:
    return (appset.get("spec") or {}).get("goTemplateOptions")


# --- requeue -------------------------------------------------------------------------------
def requeue_after_seconds(generator: dict) -> float:
    """``GetRequeueAfter`` of one generator entry (0: only events requeue it), smallest of its types."""
    found = [t for t in (_requeue_of(kind, generator.get(kind) or {}) for kind in relevant_kinds(generator)) if t]
    return min(found) if found else 0.0


def _requeue_of(kind: str, spec: dict) -> float:
    if kind == "git":
        seconds = spec.get("requeueAfterSeconds")
        return float(seconds) if seconds is not None else DEFAULT_REQUEUE_AFTER_SECONDS
    if kind == "matrix":
        found = [t for t in (requeue_after_seconds(g or {}) for g in spec.get("generators") or []) if t]
        return min(found) if found else 0.0
    return 0.0


# --- list ----------------------------------------------------------------------------------
def list_params(spec: dict | None, *, go_template: bool) -> list[dict]:
    if spec is None:
        raise GeneratorError(ERR_EMPTY)
    out: list[dict] = []
    for element in spec.get("elements") or []:
        if not isinstance(element, dict):
            raise GeneratorError(f"error unmarshling list element json: cannot unmarshal {_json_type(element)} "
                                 "into Go value of type map[string]interface {}")
        if go_template:
            out.append(copy.deepcopy(element))
            continue
        params: dict = {}
        for key, value in element.items():
            if key == "values":
                if not isinstance(value, dict):
                    raise GeneratorError("error parsing values map")
                for k, v in value.items():
                    if not isinstance(v, str):
                        raise GeneratorError("error parsing value as string %!w(<nil>)")
                    params[f"values.{k}"] = v
            else:
                if not isinstance(value, str):
                    raise GeneratorError("error parsing value as string %!w(<nil>)")
                params[key] = value
        out.append(params)
    elements_yaml = spec.get("elementsYaml") or ""
    if elements_yaml:
        try:
            loaded = yaml.safe_load(elements_yaml)
        except yaml.YAMLError as e:
            raise GeneratorError(f"error unmarshling decoded ElementsYaml {_yaml_error(e)}") from None
        if loaded is not None and not (isinstance(loaded, list) and all(isinstance(x, dict) for x in loaded)):
            raise GeneratorError("error unmarshling decoded ElementsYaml error unmarshaling JSON: while decoding JSON: "
                                 f"json: cannot unmarshal {_json_type(loaded)} into Go value of type "
                                 "[]map[string]interface {}")
        out += loaded or []
    return out


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"error converting YAML to JSON: yaml: line {mark.line + 1}: {problem}" if mark else \
        f"error converting YAML to JSON: yaml: {problem}"


# --- clusters ------------------------------------------------------------------------------
def _secret_text(secret: dict, key: str) -> str:
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return str((secret.get("stringData") or {}).get(key, ""))
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def _has_key(secret: dict, key: str) -> bool:
    return key in (secret.get("data") or {}) or key in (secret.get("stringData") or {})


def cluster_params(spec: dict | None, secrets: list[dict], *, go_template: bool,
                   options: list[str] | None = None) -> list[dict]:
    if spec is None:
        raise GeneratorError(ERR_EMPTY)
    selector = dict(spec.get("selector") or {})
    ignore_local = bool(selector.get("matchLabels") or selector.get("matchExpressions"))
    wanted = {"matchLabels": dict(selector.get("matchLabels") or {}, **{SECRET_TYPE_LABEL: "cluster"}),
              "matchExpressions": list(selector.get("matchExpressions") or [])}
    by_name: dict[str, dict] = {}
    for secret in secrets:
        if selectors.matches(wanted, (secret.get("metadata") or {}).get("labels") or {}):
            by_name[_secret_text(secret, "name")] = secret
    values = spec.get("values") or {}
    out: list[dict] = []
    for name in sorted(by_name):
        secret = by_name[name]
        params = _cluster_secret_params(secret, go_template)
        try:
            append_templated_values(values, params, go_template, options)
        except GeneratorError as e:
            raise GeneratorError(f"error appending templated values for cluster: {e}") from None
        out.append(params)
    has_in_cluster = any(_secret_text(s, "server") == IN_CLUSTER_SERVER for s in by_name.values())
    if not ignore_local and not has_in_cluster:
        params = {"name": IN_CLUSTER_NAME, "nameNormalized": IN_CLUSTER_NAME, "server": IN_CLUSTER_SERVER,
                  "project": ""}
        try:
            append_templated_values(values, params, go_template, options)
        except GeneratorError as e:
            raise GeneratorError(f"error appending templated values for local cluster: {e}") from None
        out.append(params)
    if spec.get("flatList"):
        return [{"clusters": out}]
    return out


def _cluster_secret_params(secret: dict, go_template: bool) -> dict:
    meta = secret.get("metadata") or {}
    name = _secret_text(secret, "name")
    params: dict = {"name": name, "nameNormalized": templating.sanitize_name(name),
                    "server": _secret_text(secret, "server"),
                    "project": _secret_text(secret, "project") if _has_key(secret, "project") else ""}
    annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
    if go_template:
        metadata: dict = {}
        if annotations:
            metadata["annotations"] = dict(annotations)
        if labels:
            metadata["labels"] = dict(labels)
        params["metadata"] = metadata
    else:
        for key, value in annotations.items():
            params[f"metadata.annotations.{key}"] = value
        for key, value in labels.items():
            params[f"metadata.labels.{key}"] = value
    return params


def append_templated_values(values: dict, params: dict, go_template: bool, options: list[str] | None) -> None:
    """``appendTemplatedValues``: each value rendered with ``params``, added as ``values.<k>``."""
    rendered: dict[str, str] = {}
    for key, value in (values or {}).items():
        try:
            rendered[key] = templating.replace(str(value), params, go_template, options)
        except templating.RenderError as e:
            raise GeneratorError(f"failed to replace templated string: failed to replace templated string with "
                                 f"rendered values: {e}") from None
    if not rendered:
        return
    if go_template:
        params["values"] = rendered
    else:
        params.update({f"values.{k}": v for k, v in rendered.items()})


# --- git -----------------------------------------------------------------------------------
def git_params(spec: dict | None, appset: dict, ctx: GeneratorContext) -> list[dict]:
    if spec is None:
        raise GeneratorError(ERR_EMPTY)
    project = str((((appset.get("spec") or {}).get("template") or {}).get("spec") or {}).get("project") or "")
    if "{{" not in project:
        if not project:
            raise GeneratorError("error getting project : resource name may not be empty")
        if project not in ctx.projects:
            raise GeneratorError(f'error getting project {project}: appprojects.argoproj.io "{project}" not found')
    go_template, options = _go(appset), _options(appset)
    try:
        if spec.get("directories"):
            return _git_directories(spec, ctx, go_template, options)
        if spec.get("files"):
            return _git_files(spec, ctx, go_template, options)
    except GeneratorError as e:
        raise GeneratorError(f"error generating params from git: {e}") from None
    raise GeneratorError(ERR_EMPTY)


def _repos(ctx: GeneratorContext) -> RepoService:
    if ctx.repos is None:
        raise GeneratorError("error in GetRepository: no repo server")
    return ctx.repos


def _git_directories(spec: dict, ctx: GeneratorContext, go_template: bool, options) -> list[dict]:
    try:
        all_paths = _repos(ctx).directories(spec.get("repoURL") or "", spec.get("revision") or "",
                                            ctx.no_revision_cache)
    except GeneratorError as e:
        raise GeneratorError(f"error getting directories from repo: {e}") from None
    requested = filter_directories(spec.get("directories") or [], all_paths)
    prefix = spec.get("pathParamPrefix") or ""
    out = []
    for path in requested:
        params: dict = {}
        basename = posixpath.basename(path)
        if go_template:
            value = {"path": path, "basename": basename, "basenameNormalized": templating.sanitize_name(basename),
                     "segments": path.split("/")}
            if prefix:
                params[prefix] = {"path": value}
            else:
                params["path"] = value
        else:
            name = f"{prefix}.path" if prefix else "path"
            params[name] = path
            params[f"{name}.basename"] = basename
            params[f"{name}.basenameNormalized"] = templating.sanitize_name(basename)
            for i, segment in enumerate(path.split("/")):
                if segment:
                    params[f"{name}[{i}]"] = segment
        try:
            append_templated_values(spec.get("values") or {}, params, go_template, options)
        except GeneratorError as e:
            raise GeneratorError(f"error generating params from apps: failed to append templated values: {e}") \
                from None
        out.append(params)
    return out


def filter_directories(items: list[dict], paths: list[str]) -> list[str]:
    """``filterApps``: paths matched by an include pattern and by no exclude pattern."""
    out = []
    for path in paths:
        include = exclude = False
        for item in items:
            try:
                matched = go_path_match(str(item.get("path") or ""), path)
            except BadPattern:
                continue
            if matched and not item.get("exclude"):
                include = True
            if matched and item.get("exclude"):
                exclude = True
        if include and not exclude:
            out.append(path)
    return out


def _git_files(spec: dict, ctx: GeneratorContext, go_template: bool, options) -> list[dict]:
    repos = _repos(ctx)
    url, revision = spec.get("repoURL") or "", spec.get("revision") or ""
    contents: dict[str, bytes] = {}
    items = spec.get("files") or []
    for item in (i for i in items if not i.get("exclude")):
        contents.update(repos.files(url, revision, str(item.get("path") or ""), ctx.no_revision_cache))
    for item in (i for i in items if i.get("exclude")):
        for path in repos.files(url, revision, str(item.get("path") or ""), ctx.no_revision_cache):
            contents.pop(path, None)
    out: list[dict] = []
    for path in sorted(contents):
        try:
            out += params_from_file(path, contents[path], spec.get("values") or {}, go_template, options,
                                    spec.get("pathParamPrefix") or "")
        except GeneratorError as e:
            raise GeneratorError(f"unable to process file '{path}': {e}") from None
    return out


def params_from_file(path: str, content: bytes, values: dict, go_template: bool, options,
                     prefix: str = "") -> list[dict]:
    """``generateParamsFromGitFile``: one parameter set per object of a JSON/YAML file."""
    try:
        loaded = _load_yaml(content)
    except yaml.YAMLError as e:
        raise GeneratorError(f"unable to parse file: {_yaml_error(e)}") from None
    if loaded is None:
        objects: list = [{}]
    elif isinstance(loaded, dict):
        objects = [loaded]
    elif isinstance(loaded, list) and all(isinstance(o, dict) or o is None for o in loaded):
        objects = [o or {} for o in loaded]
    else:
        raise GeneratorError("unable to parse file: error unmarshaling JSON: while decoding JSON: json: cannot "
                             f"unmarshal {_json_type(loaded)} into Go value of type []map[string]interface {{}}")
    folder = posixpath.dirname(path) or "."
    filename = posixpath.basename(path)
    out = []
    for obj in objects:
        params: dict = {}
        if go_template:
            params.update(copy.deepcopy(obj))
            value = {"path": folder, "basename": posixpath.basename(folder), "filename": filename,
                     "basenameNormalized": templating.sanitize_name(posixpath.basename(folder)),
                     "filenameNormalized": templating.sanitize_name(filename), "segments": folder.split("/")}
            if prefix:
                params[prefix] = {"path": value}
            else:
                params["path"] = value
        else:
            params.update(flatten_parameters(obj))
            name = f"{prefix}.path" if prefix else "path"
            params[name] = folder
            params[f"{name}.basename"] = posixpath.basename(folder)
            params[f"{name}.filename"] = filename
            params[f"{name}.basenameNormalized"] = templating.sanitize_name(posixpath.basename(folder))
            params[f"{name}.filenameNormalized"] = templating.sanitize_name(filename)
            for i, segment in enumerate(folder.split("/")):
                if segment:
                    params[f"{name}[{i}]"] = segment
        try:
            append_templated_values(values, params, go_template, options)
        except GeneratorError as e:
            raise GeneratorError(f"failed to append templated values: {e}") from None
        out.append(params)
    return out


class _StringTimestampLoader(yaml.SafeLoader):
    """YAML as Go's sigs.k8s.io/yaml reads it: timestamps stay strings."""


_StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(content: bytes):
    text = content.decode("utf-8", errors="replace")
    if text.lstrip().startswith(("{", "[")):
        try:
            return _json_numbers(json.loads(text))
        except ValueError:
            pass
    return _json_numbers(yaml.load(text, Loader=_StringTimestampLoader))


def _json_numbers(value):
    """Numbers as Go's JSON decoding into ``any`` holds them (float64)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


# --- matrix --------------------------------------------------------------------------------
def matrix_params(spec: dict | None, appset: dict, ctx: GeneratorContext) -> list[dict]:
    if spec is None:
        raise GeneratorError(ERR_EMPTY)
    children = spec.get("generators") or []
    if len(children) < 2:
        raise GeneratorError("found less than two generators, Matrix support only two")
    if len(children) > 2:
        raise GeneratorError("found more than two generators, Matrix support only two")
    try:
        first = _child_params(children[0], appset, ctx, None)
    except GeneratorError as e:
        raise GeneratorError(f"error failed to get params for first generator in matrix generator: {e}") from None
    out: list[dict] = []
    go_template = _go(appset)
    for a in first:
        try:
            second = _child_params(children[1], appset, ctx, a)
        except GeneratorError as e:
            raise GeneratorError(f"failed to get params for second generator in the matrix generator: {e}") from None
        for b in second:
            out.append(deep_merge(b, a) if go_template else combine_string_maps(a, b))
    return out


def _child_params(child: dict, appset: dict, ctx: GeneratorContext, params: dict | None) -> list[dict]:
    try:
        results = transform(child or {}, appset, ctx, {}, params)
    except GeneratorError as e:
        raise GeneratorError(f"child generator returned an error on parameter generation: {e}") from None
    if not results:
        raise GeneratorError("child generator generated no parameters")
    if len(results) > 1:
        raise GeneratorError("found more than one generator in matrix.Generators")
    return results[0].params


def combine_string_maps(a: dict, b: dict) -> dict:
    """``utils.CombineStringMaps``: both printed as strings; a key with two different values is an error."""
    left = {k: format_value(v) for k, v in a.items()}
    right = {k: format_value(v) for k, v in b.items()}
    out = dict(left)
    for key, value in right.items():
        if key in out and out[key] != value:
            raise GeneratorError(f"failed to combine string maps with merging params for the matrix generator: "
                                 f"found duplicate key {key} with different value, a: {out[key]} ,b: {value}")
        out[key] = value
    return out


def deep_merge(base: dict, override: dict) -> dict:
    """``mergo.Merge(&tmp, base); mergo.Merge(&tmp, override, WithOverride)``: nested maps merged,
    non-empty values of ``override`` win."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        mine = out.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            out[key] = deep_merge(mine, value)
        elif key not in out or not _is_empty(value):
            out[key] = copy.deepcopy(value)
    return out
