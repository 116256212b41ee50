"""``argocd cluster add CONTEXT`` and ``argocd cluster list`` (AC ``cmd/argocd/commands/cluster.go``).

``add`` reads CONTEXT from the kubeconfig (``--kubeconfig``, else
``$KUBECONFIG``, else the lab's ``$GITOPSLAB_HOME/kubeconfig``), asks on a
terminal as the real CLI does, installs the argocd-manager RBAC on that
cluster, then registers it with the Argo CD the command talks to (``--cluster``,
else the current ``argocd login`` context's, else ``prod``'s). ``list``
prints the registered clusters with the real columns.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path

import yaml

from gitopslab.argocd import cliformat as fmt
from gitopslab.argocd import clusterregistry
from gitopslab.cli_argocd import LOG, CommandError, Session, _api_error, _cluster_flag, _run, ask_to_proceed, rpc_error

ADD_WARNING = ("WARNING: This will create a service account `argocd-manager` on the cluster referenced by context "
               "`{context}` with full cluster level privileges. Do you want to continue [y/N]? ")


def kubeconfig_files(explicit: str | None, home) -> list[Path]:
    """``--kubeconfig``, else the files of ``$KUBECONFIG``, else the lab's kubeconfig."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [home.kubeconfig]


def load_kubeconfig(files: list[Path]) -> dict:
    """The files merged as clientcmd merges them: the first definition of a name wins."""
    merged: dict = {"contexts": {}, "clusters": {}, "current-context": "", "files": {}}
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except OSError:
            continue
        merged["current-context"] = merged["current-context"] or doc.get("current-context") or ""
        for kind in ("contexts", "clusters"):
            for item in doc.get(kind) or []:
                if item.get("name") not in merged[kind]:
                    merged[kind][item["name"]] = item.get(kind[:-1]) or {}
                    if kind == "contexts":
                        merged["files"][item["name"]] = path
    return merged


def kube_contexts_table(kubeconfig: dict) -> str:
    """``PrintKubeContexts``: CURRENT NAME CLUSTER SERVER, sorted by name."""
    rows = ["CURRENT\tNAME\tCLUSTER\tSERVER"]
    for name in sorted(kubeconfig["contexts"]):
        cluster_name = kubeconfig["contexts"][name].get("cluster", "")
        cluster = kubeconfig["clusters"].get(cluster_name)
        if cluster is None:
            continue
        current = "*" if kubeconfig["current-context"] == name else " "
        rows.append(f"{current}\t{name}\t{cluster_name}\t{cluster.get('server', '')}")
    return fmt.tabwrite("\n".join(rows) + "\n", padding=2)


def _ca_data(cluster: dict) -> str:
    if cluster.get("certificate-authority-data"):
        return cluster["certificate-authority-data"]
    if cluster.get("certificate-authority"):
        return base64.b64encode(Path(cluster["certificate-authority"]).expanduser().read_bytes()).decode()
    return ""


def cmd_cluster_add(args, session: Session) -> int:
    from kubernetes import config
    from kubernetes.client.exceptions import ApiException

    kubeconfig = load_kubeconfig(kubeconfig_files(args.kubeconfig, session.home))
    if not args.context:
        LOG("error", "Choose a context name from:")
        sys.stdout.write(kube_contexts_table(kubeconfig))
        return 1
    context = kubeconfig["contexts"].get(args.context)
    cluster = kubeconfig["clusters"].get((context or {}).get("cluster", ""))
    if context is None or cluster is None:
        raise CommandError(f"context {args.context} does not exist in kubeconfig")
    server = cluster.get("server", "")
    target = config.new_client_from_config(config_file=str(kubeconfig["files"][args.context]), context=args.context)
    try:
        if sys.stdout.isatty() and not args.yes and not ask_to_proceed(ADD_WARNING.format(context=args.context)):
            return 1
        try:
            token = clusterregistry.install_manager_rbac(target, lambda line: LOG("info", line))
        except ApiException as e:
            raise _api_error(e) from None
        except TimeoutError as e:
            raise CommandError(str(e)) from None
        except OSError as e:  # the cluster's API does not answer
            raise CommandError(f'failed to create service account "{clusterregistry.MANAGER}" in namespace '
                               f'"{clusterregistry.SYSTEM_NAMESPACE}": {e}') from None
    finally:
        target.close()
    try:
        clusterregistry.register_cluster(session.api, args.name or args.context, server, token, _ca_data(cluster),
                                         upsert=args.upsert)
    except clusterregistry.ClusterSpecDiffers as e:
        raise rpc_error("InvalidArgument", str(e)) from None
    except ApiException as e:
        if e.status == 404:  # no Argo CD in that cluster: no server to talk to
            raise CommandError("Argo CD server address unspecified", 1) from None
        raise _api_error(e) from None
    print(f"Cluster '{server.rstrip('/')}' added")
    return 0


def cmd_cluster_list(args, session: Session) -> int:
    from kubernetes.client.exceptions import ApiException

    try:
        rows = clusterregistry.cluster_rows(session.api)
    except ApiException as e:
        raise _api_error(e) from None
    if args.output == "server":
        for row in rows:
            print(row["server"])
    else:
        sys.stdout.write(fmt.cluster_list_table(rows))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    cluster = sub.add_parser("cluster", help="enregistrer et lister les clusters (add, list)")
    cluster_sub = cluster.add_subparsers(dest="cluster_command", metavar="COMMANDE")

    p = cluster_sub.add_parser("add", help="enregistre le cluster d'un contexte du kubeconfig auprès d'Argo CD")
    _cluster_flag(p)
    p.add_argument("context", nargs="?", metavar="CONTEXT")
    p.add_argument("--name", default="", help="nom du cluster dans Argo CD (défaut : CONTEXT)")
    p.add_argument("-y", "--yes", action="store_true", help="ne pas demander de confirmation")
    p.add_argument("--upsert", action="store_true")
    p.add_argument("--kubeconfig", default=None, help="kubeconfig à lire (défaut : $KUBECONFIG, sinon celui du labo)")
    p.set_defaults(func=_run(cmd_cluster_add))

    p = cluster_sub.add_parser("list", help="liste les clusters connus d'Argo CD")
    _cluster_flag(p)
    p.add_argument("-o", "--output", default="wide", choices=["wide", "server"])
    p.set_defaults(func=_run(cmd_cluster_list))

    cluster.set_defaults(func=lambda a: (cluster.print_help(), 1)[1])
