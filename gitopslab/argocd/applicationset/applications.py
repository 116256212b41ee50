"""The Applications an ApplicationSet generates (pure, given a ``GeneratorContext``).

AC v3.4 ``controllers/template/template.go GenerateApplications``: for each
generator entry, its parameter sets (``generators.transform``) rendered into
the merged template, then ``templatePatch`` (if any) rendered with the same
parameters and merged in; every Application lands in the ApplicationSet's
namespace. The first failure is reported with its reason
(``ApplicationGenerationFromParamsError`` for a generator,
``RenderTemplateParamsError`` for a template) while the other generators
still run, as upstream.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.argocd.applicationset import generators, status, templating
from gitopslab.argocd.applicationset.generators import GeneratorContext, GeneratorError


@dataclass
class Generated:
    applications: list[dict] = field(default_factory=list)   # {"metadata": …, "spec": …}
    reason: str = ""
    error: str = ""                                          # the first error, "" when all went well


def generate_applications(appset: dict, ctx: GeneratorContext) -> Generated:
    spec = appset.get("spec") or {}
    go_template = bool(spec.get("goTemplate"))
    options = spec.get("goTemplateOptions")
    namespace = (appset.get("metadata") or {}).get("namespace")
    out = Generated()

    def fail(reason: str, message: str) -> None:
        if not out.error:
            out.reason, out.error = reason, message

    for generator in spec.get("generators") or []:
        try:
            results = generators.transform(generator or {}, appset, ctx, spec.get("template") or {})
        except GeneratorError as e:
            fail(status.REASON_PARAMS_GENERATION_ERROR, str(e))
            continue
        for result in results:
            for params in result.params:
                try:
                    app = templating.render_application(result.template, params, go_template=go_template,
                                                        options=options, sync_policy=spec.get("syncPolicy"))
                except templating.RenderError as e:
                    fail(status.REASON_RENDER_TEMPLATE_PARAMS_ERROR, str(e))
                    continue
                if spec.get("templatePatch") is not None:
                    try:
                        app = _patched(app, spec["templatePatch"], params, go_template, options)
                    except templating.RenderError as e:
                        fail(status.REASON_RENDER_TEMPLATE_PARAMS_ERROR, str(e))
                        continue
                app["metadata"]["namespace"] = namespace
                out.applications.append(app)
    return out


def _patched(app: dict, patch: str, params: dict, go_template: bool, options) -> dict:
    try:
        text = templating.replace(str(patch), params, go_template, options)
    except templating.RenderError as e:
        raise templating.RenderError(f"error replacing values in templatePatch: {e}") from None
    return templating.apply_template_patch(app, text)


def requeue_after_seconds(appset: dict) -> float:
    """``getMinRequeueAfter``: the smallest requeue of the generators (0: events only)."""
    found = [t for t in (generators.requeue_after_seconds(g or {})
                         for g in (appset.get("spec") or {}).get("generators") or []) if t]
    return min(found) if found else 0.0
