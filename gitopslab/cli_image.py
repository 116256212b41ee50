"""``gitopslab image …``: the Docker CLI commands of the lab registry.

Messages Docker prints stay as Docker prints them; the lab's own notes are in
French.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitopslab.home import Home

LOGIN_HELP = ("Connexion au registre du lab. Un nom d'utilisateur inconnu crée le compte à la première "
              "connexion ; le compte du cours datascientestuser/datascientestuser existe déjà. "
              "Pousser <utilisateur>/<image> exige d'être connecté sous ce nom.")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("image", help="images : build, push, ls, rm, save, load, login")
    sub = parser.add_subparsers(dest="image_command", required=True)

    p = sub.add_parser("build", help="construire une image à partir d'un Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[], help="nom:tag de l'image (répétable)")
    p.add_argument("-f", "--file", help="chemin du Dockerfile (par défaut : CONTEXTE/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], help="NOM=VALEUR")
    p.add_argument("context", help="dossier du contexte de build")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("push", help="pousser une image vers le registre du lab")
    p.add_argument("ref")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("ls", aliases=["images"], help="lister les images locales")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("rm", aliases=["rmi"], help="supprimer une image locale")
    p.add_argument("refs", nargs="+")
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("tag", help="donner un autre nom à une image locale")
    p.add_argument("source")
    p.add_argument("target")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("save", help="enregistrer des images dans une archive tar")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("refs", nargs="+")
    p.set_defaults(func=cmd_save)

    p = sub.add_parser("load", help="charger des images depuis une archive tar")
    p.add_argument("-i", "--input", required=True)
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("login", help=LOGIN_HELP, description=LOGIN_HELP)
    p.add_argument("server", nargs="?")
    p.add_argument("-u", "--username", default="")
    p.add_argument("-p", "--password", default="")
    p.set_defaults(func=cmd_login)

    p = sub.add_parser("logout", help="se déconnecter du registre")
    p.add_argument("server", nargs="?")
    p.set_defaults(func=cmd_logout)
    return parser


def _store():
    from gitopslab.registry.store import ImageStore

    return ImageStore(Home.current())


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _run(action) -> int:
    from gitopslab.registry.build import BuildError
    from gitopslab.registry.distribution import ImageError

    try:
        action()
    except (BuildError, ImageError) as e:
        return _fail(str(e))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from gitopslab.registry.build import build

    build_args = dict(a.split("=", 1) if "=" in a else (a, "") for a in args.build_arg)
    dockerfile = Path(args.file) if args.file else None
    return _run(lambda: build(_store(), Path(args.context), dockerfile=dockerfile, tags=args.tag,
                              build_args=build_args, out=_print))


def cmd_push(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.push(_store(), args.ref, out=_print))


def cmd_ls(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.list_images(_store(), out=_print))


def cmd_rm(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return max(_run(lambda r=ref: distribution.remove(_store(), r, out=_print)) for ref in args.refs)


def cmd_tag(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.tag(_store(), args.source, args.target))


def cmd_save(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.save(_store(), args.refs, Path(args.output)))


def cmd_load(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.load(_store(), Path(args.input), out=_print))


def cmd_login(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.login(_store(), args.server, args.username, args.password, out=_print))


def cmd_logout(args: argparse.Namespace) -> int:
    from gitopslab.registry import distribution

    return _run(lambda: distribution.logout(_store(), args.server, out=_print))


def _print(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m gitopslab.cli_image build …``) until cli.py mounts it."""
    parser = argparse.ArgumentParser(prog="gitopslab")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["image", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
