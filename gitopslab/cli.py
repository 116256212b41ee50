"""The ``gitopslab`` command.

``gitopslab lab up|down|status|kubeconfig`` lives here; the other command
groups (git, image, argocd, ci, grade) are registered by their own modules
through ``register(subparsers)`` when they are installed.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from gitopslab.home import DEFAULT_CLUSTER, Home

EXTENSIONS = ("gitopslab.cli_git", "gitopslab.cli_image", "gitopslab.cli_argocd", "gitopslab.cli_ci",
              "gitopslab.cli_grade")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _lab_up(args) -> int:
    from gitopslab.cluster import lifecycle

    info = lifecycle.up(Home.current(), args.cluster, time_scale=args.time_scale)
    print(f"Cluster {info.name} prêt : {info.server} (contexte kubeconfig « {info.name} »)")
    if info.time_scale and info.time_scale != 1:
        print(f"Horloge du labo accélérée ×{info.time_scale:g}")
    print(f"export KUBECONFIG={info.kubeconfig}")
    return EXIT_OK


def _lab_down(args) -> int:
    from gitopslab.cluster import lifecycle

    if args.all:
        stopped = lifecycle.down(Home.current(), None, all=True)
        if stopped:
            print("Clusters arrêtés : " + ", ".join(stopped))
        else:
            print("Aucun cluster n'était démarré.")
        return EXIT_OK
    stopped = lifecycle.down(Home.current(), args.cluster)
    if stopped:
        print(f"Cluster {args.cluster} arrêté (son état est conservé ; « gitopslab lab up » le relance).")
    else:
        print(f"Le cluster {args.cluster} n'était pas démarré.")
    return EXIT_OK


def _lab_status(args) -> int:
    from gitopslab.cluster import lifecycle

    infos = lifecycle.status(Home.current())
    if args.json:
        print(lifecycle.as_json(infos))
        return EXIT_OK
    if not infos:
        print("Aucun cluster dans ce labo. Démarrez-en un avec « gitopslab lab up ».")
        return EXIT_OK
    print(f"{'CLUSTER':<12}{'ÉTAT':<12}{'SERVEUR':<30}{'PID':<9}HORLOGE")
    for i in infos:
        state = "démarré" if i.running else "arrêté"
        scale = f"×{i.time_scale:g}" if i.time_scale else "-"
        print(f"{i.name:<12}{state:<12}{i.server or '-':<30}{str(i.pid or '-'):<9}{scale}")
    print(f"kubeconfig : {Home.current().kubeconfig}")
    return EXIT_OK


def _lab_kubeconfig(args) -> int:
    from gitopslab.cluster import lifecycle

    path = lifecycle.write_kubeconfig(Home.current()) if args.refresh else Home.current().kubeconfig
    if args.export:
        print(f"export KUBECONFIG={path}")
    else:
        print(path)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitopslab",
        description="Laboratoire GitOps / Argo CD : cluster embarqué, Argo CD, Git, images, CI, correction.")
    parser.add_argument("--home", help="dossier du labo (par défaut $GITOPSLAB_HOME ou ~/.gitopslab)")
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE")

    lab = sub.add_parser("lab", help="démarrer, arrêter et inspecter les clusters du labo")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    p = lab_sub.add_parser("up", help="démarre (ou réutilise) un cluster de labo")
    p.add_argument("--cluster", default=DEFAULT_CLUSTER, help="nom du cluster (défaut : prod)")
    p.add_argument("--time-scale", type=float, default=None,
                   help="accélère l'horloge du labo (10 = délais divisés par 10)")
    p.set_defaults(func=_lab_up)
    p = lab_sub.add_parser("down", help="arrête un cluster (ou tous avec --all)")
    p.add_argument("--cluster", default=DEFAULT_CLUSTER)
    p.add_argument("--all", action="store_true", help="arrête tous les clusters et le serveur Git du labo")
    p.set_defaults(func=_lab_down)
    p = lab_sub.add_parser("status", help="état des clusters du labo")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lab_status)
    p = lab_sub.add_parser("kubeconfig", help="chemin du kubeconfig du labo")
    p.add_argument("--export", action="store_true", help="affiche la ligne « export KUBECONFIG=… »")
    p.add_argument("--refresh", action="store_true", help="réécrit le fichier d'après les clusters démarrés")
    p.set_defaults(func=_lab_kubeconfig)
    lab.set_defaults(func=lambda a: (lab.print_help(), EXIT_USAGE)[1])

    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            if e.name and name.startswith(e.name):
                continue
            raise
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.home:
        os.environ["GITOPSLAB_HOME"] = os.path.abspath(os.path.expanduser(args.home))
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    from gitopslab.cluster.lifecycle import LabError

    try:
        code = func(args)
    except LabError as e:
        print(f"Erreur : {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    return EXIT_OK if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
