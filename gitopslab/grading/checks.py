"""The quote-app exam's success criteria, checked through the Kubernetes API and Git.

Each check reads only what a real cluster exposes (the Application, its
repository Secret, live objects, the NodePort) and the learner's Git
history, so the same checks grade a submission on the embedded lab and on a
real cluster with the real Argo CD. A check never raises for a learner's
mistake: it returns a ``Result`` whose ``hint`` says, in French, what to do.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass

import yaml
from kubernetes.client.exceptions import ApiException

from gitopslab.lab.apps import ARGOCD_NAMESPACE, app_state, get_application
from gitopslab.lab.network import http_get, node_address
from gitopslab.lab.session import Lab

APP_NAME = "quote-app"
DEPLOYMENT_FILE = "k8s/deployment.yaml"
QUOTES = (
    "The only way to do great work is to love what you do. - Steve Jobs",
    "Innovation distinguishes between a leader and a follower. - Steve Jobs",
    "Your time is limited, don't waste it living someone else's life. - Steve Jobs",
    "Stay hungry, stay foolish. - Steve Jobs",
    "Talk is cheap. Show me the code. - Linus Torvalds",
)


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str       # what was found (French)
    hint: str = ""    # what to do when not ok (French)


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    points: int


CRITERIA = (
    Criterion("app_exists", "L'application quote-app existe dans Argo CD", 1),
    Criterion("app_source", "Source : votre dépôt, dossier k8s, synchro automatique avec prune et self-heal", 2),
    Criterion("synced_healthy", "L'application est Synced et Healthy", 3),
    Criterion("fix_commit", "Le commit de correction (8080 → 5000) est dans l'historique Git et déployé", 2),
    Criterion("quote_served", "Une citation est servie sur le NodePort", 2),
)


# --- criterion 1 -----------------------------------------------------------
def app_exists(lab: Lab, name: str = APP_NAME) -> Result:
    app = get_application(lab, name)
    if app is None:
        return Result(False, f"aucune Application « {name} » dans le namespace {ARGOCD_NAMESPACE}",
                      "Créez l'Application avec metadata.name: quote-app dans le namespace argocd.")
    return Result(True, f"Application « {name} » trouvée")


# --- criterion 2 -----------------------------------------------------------
def _same_repo(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        return re.sub(r"(\.git)?/*$", "", u.strip().lower())
    return norm(a) == norm(b)


def app_source(lab: Lab, repo_url: str | None = None, name: str = APP_NAME) -> Result:
    app = get_application(lab, name)
    if app is None:
        return Result(False, "application absente", "Créez d'abord l'Application quote-app.")
    spec = app.get("spec") or {}
    src = spec.get("source") or {}
    problems = []
    if repo_url and not _same_repo(src.get("repoURL", ""), repo_url):
        problems.append(f"repoURL vaut « {src.get('repoURL')} » au lieu de votre dépôt « {repo_url} »")
    elif not src.get("repoURL"):
        problems.append("repoURL est vide")
    if (src.get("path") or "").strip("/") != "k8s":
        problems.append(f"path vaut « {src.get('path')} » au lieu de « k8s »")
    auto = (spec.get("syncPolicy") or {}).get("automated")
    if auto is None or auto.get("enabled") is False:
        problems.append("la synchronisation automatique n'est pas activée")
    else:
        if not auto.get("prune"):
            problems.append("prune n'est pas activé")
        if not auto.get("selfHeal"):
            problems.append("selfHeal n'est pas activé")
    if problems:
        return Result(False, " ; ".join(problems),
                      "Corrigez spec.source (repoURL, path: k8s) et spec.syncPolicy.automated "
                      "(prune: true, selfHeal: true) dans le manifeste de l'Application.")
    return Result(True, f"source {src.get('repoURL')} (k8s), synchro automatique avec prune et self-heal")


# --- criterion 3 -----------------------------------------------------------
def synced_healthy(lab: Lab, name: str = APP_NAME) -> Result:
    app = get_application(lab, name)
    sync, health = app_state(app)
    if (sync, health) == ("Synced", "Healthy"):
        return Result(True, "Synced et Healthy")
    hint = ("Regardez l'arbre des ressources, les événements et les journaux du pod : "
            "les sondes échouent-elles ? Corrigez la cause dans Git puis poussez.")
    if sync == "OutOfSync":
        hint = "Le dépôt et le cluster diffèrent : attendez la synchronisation automatique ou vérifiez les conditions de l'application."
    return Result(False, f"état actuel : {sync or '—'} / {health or '—'}", hint)


# --- criterion 4 -----------------------------------------------------------
def _repo_credentials(lab: Lab, repo_url: str) -> tuple[str, str] | None:
    """Username/password Argo CD would use for ``repo_url``: its repository Secret, else a matching repo-creds."""
    import base64

    def secrets_of(kind: str) -> list[dict]:
        items = lab.core.list_namespaced_secret(
            ARGOCD_NAMESPACE, label_selector=f"argocd.argoproj.io/secret-type={kind}").items
        return [{k: base64.b64decode(v).decode(errors="replace") for k, v in (s.data or {}).items()} for s in items]

    for data in secrets_of("repository"):
        if _same_repo(data.get("url", ""), repo_url) and data.get("password"):
            return data.get("username", "git"), data["password"]
    templates = [d for d in secrets_of("repo-creds") if d.get("password")
                 and repo_url.lower().startswith(d.get("url", "\0").lower())]
    if templates:
        best = max(templates, key=lambda d: len(d["url"]))
        return best.get("username", "git"), best["password"]
    return None


def _clone(repo_url: str, creds: tuple[str, str] | None, dest: str):
    """Clone as Argo CD would, with the repository Secret's credentials (through GIT_ASKPASS)."""
    from gitopslab.lab.repos import clone

    username, password = creds if creds else ("", "")
    return clone(repo_url, dest, username=username, password=password)


def _container_ports(manifest_text: str) -> set[int]:
    ports: set[int] = set()
    for doc in yaml.safe_load_all(manifest_text):
        if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
            continue
        for c in (((doc.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
                    ports.add(p["containerPort"])
    return ports


def find_fix_commit(repo) -> str | None:
    """The newest commit whose parent declares containerPort 8080 and which declares 5000."""
    for commit in repo.iter_commits():
        if not commit.parents:
            continue
        try:
            after = (commit.tree / DEPLOYMENT_FILE).data_stream.read().decode()
            before = (commit.parents[0].tree / DEPLOYMENT_FILE).data_stream.read().decode()
        except KeyError:
            continue
        try:
            if 8080 in _container_ports(before) and 5000 in _container_ports(after) \
                    and 8080 not in _container_ports(after):
                return commit.hexsha
        except yaml.YAMLError:
            continue
    return None


def deployed_revision(app: dict) -> str:
    """The revision of the last successful sync (the newest history entry), as ``argocd app history`` lists it."""
    history = (app.get("status") or {}).get("history") or []
    return (history[-1].get("revision") or "") if history else ""


def fix_commit(lab: Lab, repo_url: str | None = None, name: str = APP_NAME) -> Result:
    """The learner's repository holds the fixing commit, and the app's synced revision includes it."""
    import git

    app = get_application(lab, name)
    if app is None:
        return Result(False, "application absente", "Créez d'abord l'Application quote-app.")
    repo_url = repo_url or ((app.get("spec") or {}).get("source") or {}).get("repoURL", "")
    revision = deployed_revision(app)
    with tempfile.TemporaryDirectory(prefix="gitopslab-grade-") as tmp:
        try:
            repo = _clone(repo_url, _repo_credentials(lab, repo_url), tmp)
        except git.GitCommandError:
            return Result(False, f"impossible de cloner {repo_url}",
                          "Vérifiez l'URL du dépôt et le Secret de dépôt d'Argo CD (url, username, password).")
        fix = find_fix_commit(repo)
        if fix is None:
            return Result(False, "aucun commit ne passe containerPort de 8080 à 5000 dans k8s/deployment.yaml",
                          "Corrigez containerPort dans k8s/deployment.yaml, committez et poussez (git push).")
        if not revision:
            return Result(False, f"commit {fix[:7]} trouvé, mais l'application n'a encore rien déployé",
                          "Attendez qu'Argo CD synchronise la dernière révision (ou lisez ses conditions d'erreur).")
        try:
            deployed = repo.is_ancestor(fix, revision)
        except git.GitCommandError:
            deployed = False
        if not deployed:
            return Result(False, f"commit {fix[:7]} présent, mais la dernière révision déployée {revision[:7]} ne le contient pas",
                          "Poussez le commit sur la branche suivie par l'application et attendez la synchronisation.")
        return Result(True, f"commit de correction {fix[:7]} déployé (révision {revision[:7]})")


# --- criterion 5 -----------------------------------------------------------
def _app_node_ports(lab: Lab, app: dict) -> list[int]:
    ports = []
    for r in (app.get("status") or {}).get("resources") or []:
        if r.get("kind") != "Service":
            continue
        try:
            svc = lab.core.read_namespaced_service(r["name"], r.get("namespace") or "default")
        except ApiException:
            continue
        ports += [p.node_port for p in svc.spec.ports or [] if p.node_port]
    return ports


def serves_a_quote(body: str | None) -> bool:
    """The page of the app: its title and one of its quotes (pure)."""
    if not body or "Quote of the Day" not in body:
        return False
    text = body.replace("&#39;", "'").replace("&#x27;", "'")
    return any(q in text for q in QUOTES)


def quote_served(lab: Lab, name: str = APP_NAME) -> Result:
    app = get_application(lab, name)
    if app is None:
        return Result(False, "application absente", "Créez d'abord l'Application quote-app.")
    ports = _app_node_ports(lab, app)
    if not ports:
        return Result(False, "aucun Service NodePort dans les ressources de l'application",
                      "Ajoutez k8s/service.yaml de type NodePort (port 5000 vers le conteneur) et poussez.")
    host = node_address(lab)
    for port in ports:
        if serves_a_quote(http_get(f"http://{host}:{port}/")):
            return Result(True, f"http://{host}:{port}/ sert une citation")
    return Result(False, f"pas de citation sur http://{host}:{ports[0]}/",
                  "Vérifiez que le Service sélectionne les pods (app: quote-app) et vise le port 5000, "
                  "et que le pod est prêt.")


# --- hidden double-checks on live objects ----------------------------------
def live_container_port(lab: Lab, namespace: str = "default", deployment: str = "quote-app-deployment") -> Result:
    try:
        dep = lab.apps.read_namespaced_deployment(deployment, namespace)
    except ApiException:
        return Result(False, f"Deployment {deployment} absent de {namespace}")
    ports = {p.container_port for c in dep.spec.template.spec.containers for p in (c.ports or [])}
    return Result(ports == {5000}, f"containerPort en service : {sorted(ports)}")


def live_image_from(lab: Lab, user: str, namespace: str = "default",
                    deployment: str = "quote-app-deployment") -> Result:
    try:
        dep = lab.apps.read_namespaced_deployment(deployment, namespace)
    except ApiException:
        return Result(False, f"Deployment {deployment} absent de {namespace}")
    images = [c.image for c in dep.spec.template.spec.containers]
    ok = any(re.match(rf"^(docker\.io/)?{re.escape(user)}/quote-app(:[\w.-]+)?$", i) for i in images)
    return Result(ok, f"image en service : {', '.join(images)}")


def run_all(lab: Lab, repo_url: str | None = None) -> dict[str, Result]:
    return {
        "app_exists": app_exists(lab),
        "app_source": app_source(lab, repo_url),
        "synced_healthy": synced_healthy(lab),
        "fix_commit": fix_commit(lab, repo_url),
        "quote_served": quote_served(lab),
    }


def verifier(lab: Lab, repo_url: str | None = None, *, user: str | None = None) -> bool:
    """Print every success criterion with ✅/❌ and, for ❌, a hint in French."""
    results = run_all(lab, repo_url)
    for crit in CRITERIA:
        r = results[crit.id]
        print(f"{'✅' if r.ok else '❌'} {crit.title} — {r.detail}")
        if not r.ok and r.hint:
            print(f"   💡 {r.hint}")
    passed = sum(r.ok for r in results.values())
    print(f"\n{passed}/{len(results)} critères remplis.")
    return passed == len(results)


def require(result: Result, title: str = "", *, quiet: bool = False) -> None:
    """For nbgrader test cells: pass (printing ✅ unless ``quiet``), or fail with the French detail and hint."""
    if result.ok:
        if not quiet:
            print(f"✅ {title or result.detail}")
        return
    message = f"{title + ' — ' if title else ''}{result.detail}"
    if result.hint:
        message += f"\n💡 {result.hint}"
    raise AssertionError(message)
