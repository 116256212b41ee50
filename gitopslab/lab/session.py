"""Connecting a notebook to a cluster: the embedded lab by default, a real one through KUBECONFIG."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client, config

from gitopslab.home import DEFAULT_CLUSTER, Home


class CommandOutput(str):
    """A command's output, already printed: a notebook does not display it a second time."""

    def _ipython_display_(self) -> None:
        pass


@dataclass
class Lab:
    """A connection to one cluster (one kubeconfig context)."""

    kubeconfig: Path
    context: str
    embedded: bool
    api: client.ApiClient = field(repr=False)
    home: Home | None = None   # the lab's home (None on a real cluster)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def time_scale(self) -> float:
        """How much faster than real time the lab clock runs (1 on a real cluster)."""
        if not self.embedded or self.home is None:
            return 1.0
        try:
            return float(self.home.cluster(self.context).time_scale_file.read_text().strip()) or 1.0
        except (OSError, ValueError):
            return 1.0

    def real_seconds(self, lab_seconds: float) -> float:
        """A wait expressed in lab time (what the learner reads) converted to real seconds."""
        return lab_seconds / self.time_scale

    def kubectl(self, *args: str, echo: bool = True, check: bool = False) -> str:
        """Run the real kubectl against this cluster; prints its output like a terminal would."""
        exe = shutil.which("kubectl") or "/usr/bin/kubectl"
        cmd = [exe, "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        if echo:
            print(out, end="" if out.endswith("\n") or not out else "\n")
        if check and proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} a échoué (code {proc.returncode})")
        return CommandOutput(out)


def _use_lab_git(home: Home) -> None:
    try:
        from gitopslab.gitserver import gitconfig
    except ImportError:
        return
    gitconfig.apply(home)


def _real_kubeconfig(home: Home) -> Path | None:
    """A KUBECONFIG that is not the lab's own means: use that (real) cluster."""
    env = os.environ.get("KUBECONFIG")
    if not env:
        return None
    path = Path(env.split(os.pathsep)[0]).expanduser()
    if path.resolve() == home.kubeconfig.resolve():
        return None
    return path


def env_time_scale() -> float | None:
    """``GITOPSLAB_TIME_SCALE`` (tests and grading accelerate the lab clock with it), if set and valid."""
    raw = os.environ.get("GITOPSLAB_TIME_SCALE", "").strip()
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def connect(cluster: str = DEFAULT_CLUSTER, *, time_scale: float | None = None, quiet: bool = False) -> Lab:
    """Connect to ``cluster``: starts the embedded lab cluster if needed, or uses KUBECONFIG's cluster.

    The lab clock runs at ``time_scale``, else ``GITOPSLAB_TIME_SCALE``, else
    as the running cluster already does. The notebook's process also gets the
    lab's Git configuration, so ``git`` and GitPython reach the lab Git server
    for the course's ``https://github.com/…`` URLs.
    """
    home = Home.current()
    real = _real_kubeconfig(home)
    if real is not None:
        contexts, current = config.list_kube_config_contexts(config_file=str(real))
        names = [c["name"] for c in contexts]
        context = cluster if cluster in names else current["name"]
        api = config.new_client_from_config(config_file=str(real), context=context)
        if not quiet:
            print(f"Cluster réel : contexte « {context} » ({real})")
        return Lab(real, context, False, api)

    from gitopslab.cluster import lifecycle

    lifecycle.up(home.ensure(), cluster, time_scale=time_scale if time_scale is not None else env_time_scale())
    _use_lab_git(home)
    api = config.new_client_from_config(config_file=str(home.kubeconfig), context=cluster)
    if not quiet:
        print(f"Cluster de labo « {cluster} » prêt (kubeconfig : {home.kubeconfig})")
    return Lab(home.kubeconfig, cluster, True, api, home)
