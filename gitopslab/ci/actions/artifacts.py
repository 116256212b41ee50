"""``actions/upload-artifact`` and ``actions/download-artifact`` (v4): files between the jobs of a run.

Artifacts are kept in the run's folder (``artifacts/<name>/``), with the
paths relative to the least common ancestor of the uploaded files, as v4 does.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
from pathlib import Path

from gitopslab.ci.actions.base import ActionContext, StepFailure

NOT_FOUND_HELP = ("\n        Please ensure that your artifact is not expired and the artifact was uploaded using a "
                  "compatible version of toolkit/upload-artifact.\n        For more information, visit the GitHub "
                  "Artifacts FAQ: https://github.com/actions/toolkit/blob/main/packages/artifact/docs/faq.md")


def _artifact_id(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10**9


def _matches(workspace: Path, patterns: list[str]) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        raw = pattern[1:] if negated else pattern
        base = raw if os.path.isabs(raw) else str(workspace / raw)
        found = [Path(p) for p in glob.glob(base, recursive=True)]
        expanded = []
        for p in found:
            expanded += [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        if negated:
            files = [f for f in files if f not in expanded]
        else:
            files += [f for f in expanded if f not in files]
    return files


class Upload:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"if-no-files-found": "warn", "compression-level": "6", "overwrite": "false",
                "include-hidden-files": "false"}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        name = ctx.input("name", "artifact")
        patterns = [p.strip() for p in ctx.input("path").splitlines() if p.strip()]
        if not patterns:
            raise StepFailure("Input required and not supplied: path")
        files = _matches(ctx.machine.workspace, patterns)
        if not files:
            mode = ctx.input("if-no-files-found", "warn")
            message = f"No files were found with the provided path: {ctx.input('path')}. No artifacts will be uploaded."
            if mode == "error":
                raise StepFailure(message)
            ctx.log.warning(message) if mode == "warn" else ctx.log.line(message)
            return
        ctx.log.line(f"With the provided path, there will be {len(files)} file{'s' if len(files) > 1 else ''} uploaded")
        ctx.log.line("Artifact name is valid!")
        ctx.log.line("Root directory input is valid!")
        target = ctx.run_root / "artifacts" / name
        if target.exists():
            if not ctx.flag("overwrite"):
                raise StepFailure("Failed to CreateArtifact: Received non-retryable error: Failed request: (409) "
                                  "Conflict: an artifact with this name already exists on the workflow run")
            shutil.rmtree(target)
        root = Path(os.path.commonpath([str(f.parent) for f in files]))
        size, digest = 0, hashlib.sha256()
        ctx.log.line("Beginning upload of artifact content to blob storage")
        for f in sorted(files):
            dest = target / f.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)
            size += f.stat().st_size
            digest.update(f.read_bytes())
        artifact_id = _artifact_id(f"{ctx.github['run_id']}/{name}")
        ctx.log.line(f"Uploaded bytes {size}")
        ctx.log.line("Finished uploading artifact content to blob storage!")
        ctx.log.line(f"SHA256 digest of uploaded artifact zip is {digest.hexdigest()}")
        ctx.log.line("Finalizing artifact upload")
        ctx.log.line(f"Artifact {name}.zip successfully finalized. Artifact ID {artifact_id}")
        ctx.log.line(f"Artifact {name} has been successfully uploaded! Final size is {size} bytes. "
                     f"Artifact ID is {artifact_id}")
        ctx.log.line(f"Artifact download URL: https://github.com/{ctx.github['repository']}/actions/runs/"
                     f"{ctx.github['run_id']}/artifacts/{artifact_id}")
        ctx.outputs.update({"artifact-id": str(artifact_id), "artifact-digest": digest.hexdigest(),
                            "artifact-url": f"https://github.com/{ctx.github['repository']}/actions/runs/"
                                            f"{ctx.github['run_id']}/artifacts/{artifact_id}"})


class Download:
    @staticmethod
    def defaults(inputs: dict, github: dict) -> dict:
        return {"merge-multiple": "false", "repository": github["repository"], "run-id": github["run_id"]}

    @staticmethod
    def run(ctx: ActionContext) -> None:
        root = ctx.run_root / "artifacts"
        name = ctx.input("name")
        dest = ctx.machine.workspace / ctx.input("path", "")
        if name:
            if not (root / name).is_dir():
                raise StepFailure(f"Unable to download artifact(s): Artifact not found for name: {name}{NOT_FOUND_HELP}")
            ctx.log.line("Downloading single artifact")
            chosen = [(name, dest)]
        else:
            ctx.log.line("No input name, artifact-ids or pattern filtered specified, downloading all artifacts")
            ctx.log.line("An extra directory with the artifact name will be created for each download")
            names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
            chosen = [(n, dest / n) for n in names]
        ctx.log.line("Preparing to download the following artifacts:")
        for n, _ in chosen:
            size = sum(f.stat().st_size for f in (root / n).rglob("*") if f.is_file())
            ctx.log.line(f"- {n} (ID: {_artifact_id(ctx.github['run_id'] + '/' + n)}, Size: {size})")
        for n, target in chosen:
            ctx.log.line(f"Starting download of artifact to: {target}")
            shutil.copytree(root / n, target, dirs_exist_ok=True)
            ctx.log.line("Artifact download completed successfully.")
        ctx.log.line(f"Total of {len(chosen)} artifact(s) downloaded")
        ctx.log.line("Download artifact has finished successfully")
        ctx.outputs["download-path"] = str(dest)


ACTIONS = {"actions/upload-artifact": Upload, "actions/download-artifact": Download}
