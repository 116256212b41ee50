"""``gitopslab git …``: the lab Git server (repositories, URLs, token, Git environment)."""
from __future__ import annotations

import argparse
import sys

from gitopslab.home import Home


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("git", help="serveur Git du lab : dépôts, URL, jeton, environnement")
    sub = parser.add_subparsers(dest="git_command", required=True)

    p = sub.add_parser("create", help="créer un dépôt PROPRIETAIRE/DEPOT")
    p.add_argument("name", metavar="OWNER/REPO")
    p.add_argument("--private", action="store_true", help="dépôt privé (le jeton est exigé pour le lire)")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("list", help="lister les dépôts")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("url", help="URL du dépôt sur le serveur Git du lab")
    p.add_argument("name", metavar="OWNER/REPO")
    p.add_argument("--github", action="store_true", help="afficher l'URL https://github.com/… du cours")
    p.set_defaults(func=cmd_url)

    p = sub.add_parser("token", help="jeton d'accès personnel (PAT) de l'apprenant")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("env", help="lignes export pour donner à un terminal la configuration Git du lab")
    p.set_defaults(func=cmd_env)
    return parser


def _running_home() -> tuple[Home, str]:
    from gitopslab import gitserver

    home = Home.current()
    return home, gitserver.ensure_running(home)


def cmd_create(args: argparse.Namespace) -> int:
    from gitopslab.gitserver import names
    from gitopslab.gitserver.repos import RepoExists, RepoStore

    home, base_url = _running_home()
    try:
        info = RepoStore(home).create(args.name, private=args.private)
    except names.InvalidRepoName as e:
        print(f"erreur : {e}", file=sys.stderr)
        return 1
    except RepoExists:
        print(f"erreur : le dépôt {names.validate(args.name)} existe déjà", file=sys.stderr)
        return 1
    visibility = "privé" if info.private else "public"
    print(f"Dépôt {visibility} créé : {names.github_url(info.full_name)}")
    print(f"  (servi par le lab : {names.lab_url(base_url, info.full_name)})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gitopslab.gitserver import names
    from gitopslab.gitserver.repos import RepoStore

    home, base_url = _running_home()
    rows = [("DÉPÔT", "VISIBILITÉ", "URL")]
    for info in RepoStore(home).list():
        rows.append((info.full_name, "privé" if info.private else "public", names.github_url(info.full_name)))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0].ljust(widths[0])}   {row[1].ljust(widths[1])}   {row[2]}")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    from gitopslab.gitserver import names
    from gitopslab.gitserver.repos import RepoStore

    home, base_url = _running_home()
    try:
        name = names.validate(args.name)
    except names.InvalidRepoName as e:
        print(f"erreur : {e}", file=sys.stderr)
        return 1
    if not RepoStore(home).exists(name):
        print(f"erreur : le dépôt {name} n'existe pas (gitopslab git create {name})", file=sys.stderr)
        return 1
    print(names.github_url(name) if args.github else names.lab_url(base_url, name))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths

    print(auth.ensure_token(GitPaths.of(Home.current().ensure()).token_file))
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    from gitopslab.gitserver import gitconfig

    home, _ = _running_home()
    sys.stdout.write(gitconfig.export_lines(home))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m gitopslab.cli_git list``) until cli.py mounts it."""
    parser = argparse.ArgumentParser(prog="gitopslab")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["git", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
