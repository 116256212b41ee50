"""``aquasecurity/trivy-action``: a simulated image scan, in Trivy's own table format.

The lab is offline: there is no vulnerability database to download. The
action checks the image exists (as Trivy would), prints Trivy's report for
an image with no known vulnerability, and says in French that the scan is
simulated. ``exit-code`` therefore never fails the step.
"""
from __future__ import annotations

import time

from gitopslab.ci.actions.base import ActionContext, StepFailure

NOTE = ("gitopslab : scan simulé — la base de vulnérabilités de Trivy n'est pas disponible dans le labo "
        "(hors ligne) ; aucune vulnérabilité connue du labo dans cette image.")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _table(target: str) -> list[str]:
    cells = [("Target", "Type", "Vulnerabilities"), (target, "debian", "0")]
    widths = [max(len(c[i]) for c in cells) + 2 for i in range(3)]

    def row(values) -> str:
        return "│" + "│".join(v.center(w) if i else f" {v}".ljust(w) for i, (v, w) in enumerate(zip(values, widths))) + "│"

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * w for w in widths) + right

    return [rule("┌", "┬", "┐"), row(cells[0]).replace(f" {cells[0][0]}".ljust(widths[0]), cells[0][0].center(widths[0])),
            rule("├", "┼", "┤"), row(cells[1]), rule("└", "┴", "┘")]


class Trivy:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"scan-type": "image", "format": "table", "exit-code": "0", "ignore-unfixed": "false",
                "vuln-type": "os,library", "severity": "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", "cache": "true"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        from gitopslab.registry.refs import normalize_ref
        from gitopslab.registry.store import ImageStore

        ref = ctx.input("image-ref")
        scan_type = ctx.input("scan-type", "image")
        if scan_type == "image" and not ref:
            raise StepFailure("Input required and not supplied: image-ref")
        options = f"trivy {scan_type} {ref}".rstrip()
        ctx.log.line(f"Running Trivy with options: {options}")
        store = ImageStore(ctx.home)
        if scan_type == "image":
            normalized = normalize_ref(ref)
            if store.local_digest(normalized) is None and store.remote_digest(normalized) is None:
                ctx.log.line(f"{_now()}\tFATAL\tFatal error\trun error: image scan error: scan error: unable to "
                             f"initialize a scan service: unable to initialize an image scan service: unable to "
                             f"find the specified image \"{ref}\" in [\"docker\" \"containerd\" \"podman\" \"remote\"]")
                raise StepFailure("Process completed with exit code 1.")
        for line in ("[vulndb] Need to update DB", "[vulndb] Downloading vulnerability DB...",
                     "[vuln] Vulnerability scanning is enabled", "Detected OS\tfamily=\"debian\" version=\"12.11\"",
                     "[debian] Detecting vulnerabilities...\tos_version=\"12\" pkg_num=149",
                     "Number of language-specific files\tnum=0"):
            ctx.log.line(f"{_now()}\tINFO\t{line}")
        ctx.log.line(NOTE)
        if ctx.input("format", "table") == "table":
            ctx.log.line("")
            ctx.log.line("Report Summary")
            ctx.log.line("")
            for line in _table(f"{ref} (debian 12.11)"):
                ctx.log.line(line)
            ctx.log.line("Legend:\n- '-': Not scanned\n- '0': Clean (no security findings detected)")
        else:
            ctx.log.line('{"SchemaVersion": 2, "ArtifactName": "%s", "ArtifactType": "container_image", '
                         '"Results": []}' % ref)


ACTIONS = {"aquasecurity/trivy-action": Trivy}
