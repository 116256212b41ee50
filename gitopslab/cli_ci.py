"""``gitopslab ci …``: the lab's GitHub Actions (runs, logs, repository secrets)."""
from __future__ import annotations

import argparse
import sys
import time

from gitopslab.home import Home


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("ci", help="GitHub Actions du labo : exécutions, journaux, secrets")
    sub = parser.add_subparsers(dest="ci_command", required=True, metavar="ACTION")

    p = sub.add_parser("run", help="lancer un workflow sur le dernier commit d'une branche")
    p.add_argument("repository", metavar="PROPRIETAIRE/DEPOT")
    p.add_argument("--workflow", help="fichier du workflow (défaut : tous ceux de .github/workflows)")
    p.add_argument("--ref", help="branche (défaut : la branche par défaut du dépôt)")
    p.add_argument("--detach", action="store_true", help="exécuter en arrière-plan")
    p.add_argument("--quiet", action="store_true", help="n'afficher que le résumé")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("list", help="lister les exécutions (les plus récentes d'abord)")
    p.add_argument("--repo", help="seulement ce dépôt")
    p.add_argument("-n", "--limit", type=int, default=20)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("logs", help="journaux d'une exécution, étape par étape")
    p.add_argument("run", type=int, metavar="ID")
    p.add_argument("--job", help="seulement ce job")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("view", help="résumé d'une exécution (jobs et conclusion)")
    p.add_argument("run", type=int, metavar="ID")
    p.set_defaults(func=cmd_view)

    p = sub.add_parser("wait", help="attendre la fin d'une exécution")
    p.add_argument("run", type=int, metavar="ID")
    p.add_argument("--timeout", type=float, default=600)
    p.set_defaults(func=cmd_wait)

    secret = sub.add_parser("secret", help="secrets d'un dépôt (Settings > Secrets and variables > Actions)")
    ssub = secret.add_subparsers(dest="secret_command", required=True, metavar="ACTION")
    p = ssub.add_parser("set", help="définir un secret (valeur lue sur l'entrée standard si absente)")
    p.add_argument("repository", metavar="PROPRIETAIRE/DEPOT")
    p.add_argument("name")
    p.add_argument("value", nargs="?")
    p.set_defaults(func=cmd_secret_set)
    p = ssub.add_parser("list", help="noms des secrets d'un dépôt")
    p.add_argument("repository", metavar="PROPRIETAIRE/DEPOT")
    p.set_defaults(func=cmd_secret_list)
    p = ssub.add_parser("rm", help="supprimer un secret")
    p.add_argument("repository", metavar="PROPRIETAIRE/DEPOT")
    p.add_argument("name")
    p.set_defaults(func=cmd_secret_rm)
    return parser


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)


def _progress(line: str) -> None:
    """Live view of a foreground run: one line per step, GitHub-style."""
    if not line.startswith("\x00"):
        return
    kind, _, rest = line[1:].partition(" ")
    if kind == "step":
        job, _, name = rest.partition(" ")
        print(f"  ● {job} › {name}", flush=True)
    elif kind == "end":
        job, _, conclusion = rest.partition(" ")
        from gitopslab.ci.render import icon

        print(f"    {icon(conclusion)} {conclusion}", flush=True)
    elif kind == "skipped":
        print(f"  ⊘ {rest} : job ignoré", flush=True)


def cmd_run(args) -> int:
    from gitopslab.ci import render, runner

    home = Home.current()
    try:
        branch = args.ref or runner.default_branch(home, args.repository)
        sha = runner.resolve(home, args.repository, branch)
        files = [args.workflow] if args.workflow else runner.workflow_files(home, args.repository, sha)
    except runner.RunError as e:
        print(f"Erreur : {e}", file=sys.stderr)
        return 1
    files = [f if "/" in f else f".github/workflows/{f}" for f in files]
    if not files:
        print(f"Aucun workflow dans .github/workflows de {args.repository}@{branch}.", file=sys.stderr)
        return 1
    code = 0
    for path in files:
        try:
            record = runner.create_run(home, args.repository, path, ref=f"refs/heads/{branch}", sha=sha,
                                       event="workflow_dispatch")
        except runner.RunError as e:
            print(f"Erreur : {e}", file=sys.stderr)
            return 1
        if args.detach:
            runner.spawn(home, record["id"])
            print(f"Exécution {record['id']} lancée en arrière-plan : gitopslab ci logs {record['id']}")
            continue
        print(f"Exécution {record['id']} : {record['name']} ({args.repository}@{branch}, {sha[:7]})")
        record = runner.execute(home, record["id"], echo=None if args.quiet else _progress)
        _print(render.summary(record))
        code = code or (0 if record["conclusion"] == "success" else 1)
    return code


def cmd_list(args) -> int:
    from gitopslab.ci import render
    from gitopslab.ci.store import RunStore

    records = [r for r in RunStore(Home.current()).list() if not args.repo or r["repository"] == args.repo]
    if not records:
        print("Aucune exécution pour l'instant : poussez un commit ou lancez « gitopslab ci run PROPRIETAIRE/DEPOT ».")
        return 0
    _print(render.table(records[: args.limit]))
    return 0


def _load(run_id: int):
    from gitopslab.ci.store import RunStore

    store = RunStore(Home.current())
    record = store.load(run_id)
    if record is None:
        print(f"Erreur : exécution inconnue : {run_id} (voir « gitopslab ci list »)", file=sys.stderr)
    return store, record


def cmd_logs(args) -> int:
    from gitopslab.ci import render

    store, record = _load(args.run)
    if record is None:
        return 1
    _print(render.run_logs(store.paths(args.run), record, args.job))
    return 0


def cmd_view(args) -> int:
    from gitopslab.ci import render

    _, record = _load(args.run)
    if record is None:
        return 1
    _print(render.summary(record))
    return 0


def cmd_wait(args) -> int:
    from gitopslab.ci import render

    deadline = time.monotonic() + args.timeout
    while True:
        _, record = _load(args.run)
        if record is None:
            return 1
        if record["status"] == "completed":
            _print(render.summary(record))
            return 0 if record["conclusion"] == "success" else 1
        if time.monotonic() > deadline:
            print(f"L'exécution {args.run} n'est pas terminée après {args.timeout:.0f} s.", file=sys.stderr)
            return 1
        time.sleep(0.2)


def cmd_secret_set(args) -> int:
    from gitopslab.ci import secrets

    value = args.value if args.value is not None else sys.stdin.read().rstrip("\n")
    try:
        name = secrets.set_secret(Home.current(), args.repository, args.name, value)
    except secrets.SecretError as e:
        print(f"Erreur : {e}", file=sys.stderr)
        return 1
    print(f"✓ Secret {name} enregistré pour {args.repository}")
    return 0


def cmd_secret_list(args) -> int:
    from gitopslab.ci import secrets

    names = sorted(secrets.load(Home.current(), args.repository))
    if not names:
        print(f"Aucun secret pour {args.repository}.")
    for name in names:
        print(name)
    return 0


def cmd_secret_rm(args) -> int:
    from gitopslab.ci import secrets

    if secrets.remove_secret(Home.current(), args.repository, args.name):
        print(f"✓ Secret {args.name.upper()} supprimé de {args.repository}")
        return 0
    print(f"Erreur : pas de secret {args.name.upper()} pour {args.repository}", file=sys.stderr)
    return 1
