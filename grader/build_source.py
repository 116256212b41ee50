"""Write ``source/examen/examen.ipynb`` (the exam with its solutions and tests) from this reviewable script.

    python grader/build_source.py

The notebook is the artifact nbgrader reads; this script is how it is
authored, so that a change to a cell is a readable diff here.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent / "source" / "examen" / "examen.ipynb"
_counter = iter(range(1000))


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str, cell_id: str | None = None):
    return new_markdown_cell(text.strip("\n"), id=cell_id or f"md-{next(_counter):02d}")


def code(text: str, cell_id: str | None = None):
    return new_code_cell(text.strip("\n"), id=cell_id or f"code-{next(_counter):02d}")


def given(grade_id: str, text: str):
    """A read-only cell: nbgrader restores it as written here."""
    cell = code(text, grade_id)
    cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def answer(grade_id: str, text: str):
    """An autograded answer cell: the ``### BEGIN/END SOLUTION`` region becomes a stub in the release."""
    cell = code(text, grade_id)
    cell.metadata.update(_meta(grade_id, solution=True))
    return cell


def written_answer(grade_id: str, text: str, points: int):
    cell = md(text, grade_id)
    cell.metadata.update(_meta(grade_id, solution=True, grade=True, points=points))
    return cell


def test(grade_id: str, text: str, points: int):
    cell = code(text, grade_id)
    cell.metadata.update(_meta(grade_id, grade=True, locked=True, points=points))
    return cell


CELLS = [
    md("""
# Examen de validation : déployez votre propre application avec Argo CD

Cet examen valide votre capacité à appliquer les principes GitOps avec Argo CD de manière autonome : vous
déployez l'application web « Citation du Jour » (Python/Flask), vous diagnostiquez pourquoi elle ne démarre pas,
puis vous la corrigez **dans Git** et laissez Argo CD synchroniser la solution.

Le déroulé suit les étapes 1 à 7 du cours. Les cellules marquées `VOTRE CODE ICI` sont à compléter ; les
autres sont fournies. Les cellules de test (verrouillées) vérifient votre travail : ne les modifiez pas et ne les
supprimez pas.

**Critères de réussite** (les mêmes que ceux du cours) :

1. l'application `quote-app` est visible dans Argo CD ;
2. sa source est votre dépôt (dossier `k8s`), avec une synchronisation automatique, *prune* et *self-heal* ;
3. l'application est `Synced` et `Healthy` ;
4. le commit de correction de `k8s/deployment.yaml` est visible dans l'historique Git de votre dépôt, et déployé ;
5. l'application répond sur son `NodePort` avec une citation.

À tout moment, la cellule `exam.verifier(lab)` (en fin de notebook) affiche chaque critère avec ✅ ou ❌ et un
indice : ce sont les mêmes vérifications que celles de la correction.
"""),
    md("""
## 0. Démarrage du labo

Cette cellule démarre le cluster du labo, installe Argo CD (comme `helm install argocd argo/argo-cd` dans le cours)
et prépare le dossier du projet avec les fichiers fournis (`app.py` et `k8s/deployment.yaml`). `UTILISATEUR` est
votre nom d'utilisateur sur le GitHub et le Docker Hub du labo.
"""),
    given("demarrage", """
# Cellule fournie : ne la modifiez pas.
import yaml
from gitopslab.lab import connect, exam, repos, images
from gitopslab.lab.identity import learner_name
from gitopslab.lab.argocd import install_argocd, add_repository
from gitopslab.lab.apps import apply_application, wait_for_application
from gitopslab.lab.views import show_application
from gitopslab.lab.diagnosis import wait_for_symptoms, diagnose_pod
from gitopslab.lab.network import node_address, node_ports, http_get
from gitopslab.grading import checks
from gitopslab.grading.fresh import run_fresh

lab = connect()
install_argocd(lab)
UTILISATEUR = learner_name()
PROJET = exam.write_given_files()
print(f"Votre nom d'utilisateur : {UTILISATEUR}")
"""),
    md("""
## 1. Structure du projet

Le code de l'application est fourni : un serveur Flask qui affiche une citation aléatoire et **écoute sur le
port 5000**.
"""),
    code('exam.show_file(PROJET / "app.py")'),
    md("""
Écrivez le fichier `requirements.txt` du projet : il contient une seule ligne, `Flask`.
Le dossier du projet est `PROJET` (un `pathlib.Path`) : `(PROJET / "requirements.txt").write_text(...)`.
"""),
    answer("requirements", '''
### BEGIN SOLUTION
(PROJET / "requirements.txt").write_text("Flask\\n")
### END SOLUTION
exam.show_file(PROJET / "requirements.txt")
'''),
    md("""
## 2. Le `Dockerfile`

Écrivez un `Dockerfile` qui conteneurise l'application : une image de base Python (par exemple
`python:3.9-slim`), copie des fichiers, installation des dépendances avec `pip install -r requirements.txt`, et la
commande de démarrage.
"""),
    answer("dockerfile", '''
### BEGIN SOLUTION
DOCKERFILE = """FROM python:3.9-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
EXPOSE 5000
CMD ["python", "app.py"]
"""
### END SOLUTION
(PROJET / "Dockerfile").write_text(DOCKERFILE)
exam.show_file(PROJET / "Dockerfile")
'''),
    md("""
## 3. Les manifestes Kubernetes

Le `k8s/deployment.yaml` est fourni **avec son erreur volontaire** (ne le corrigez pas encore : c'est l'objet de
l'étape 7). Remarquez ses sondes (`livenessProbe`, `readinessProbe`) : Kubernetes vérifie la santé du conteneur
sur le port nommé `http`.
"""),
    code('exam.show_file(PROJET / "k8s" / "deployment.yaml")'),
    md("""
Écrivez `k8s/service.yaml` : un Service de type `NodePort` nommé `quote-app-service`, qui sélectionne les pods
`app: quote-app` et envoie le trafic vers le port de l'application.
"""),
    answer("service", '''
### BEGIN SOLUTION
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: quote-app-service
spec:
  type: NodePort
  selector:
    app: quote-app
  ports:
  - port: 5000
    targetPort: 5000
"""
### END SOLUTION
(PROJET / "k8s" / "service.yaml").write_text(SERVICE)
exam.show_file(PROJET / "k8s" / "service.yaml")
'''),
    md("""
## 4. Le dépôt Git

Créez un dépôt **privé** `quote-app` à votre nom sur le serveur Git du labo (l'équivalent de GitHub), puis
committez et poussez tous vos fichiers. Outils : `repos.create_repository(...)` (renvoie l'URL
`https://github.com/<utilisateur>/quote-app.git`), `repos.init(dossier, url)`, `repos.commit_all(depot, message)`
et `repos.push(depot)` (qui s'authentifie avec votre jeton d'accès personnel, `repos.token()`).
Gardez l'URL du dépôt dans `DEPOT`.
"""),
    answer("depot", '''
### BEGIN SOLUTION
DEPOT = repos.create_repository("quote-app", private=True)
depot = repos.init(PROJET, DEPOT)
repos.commit_all(depot, "Examen : application quote-app")
repos.push(depot)
### END SOLUTION
'''),
    md("""
## 5. L'image du conteneur

Construisez l'image de l'application et poussez-la sur le registre du labo sous votre nom
(`<utilisateur>/quote-app:latest`, voir `exam.image_ref()`) avec `images.build(...)`, `images.login(...)` et
`images.push(...)`. Puis faites correspondre le nom de l'image dans `k8s/deployment.yaml` (remplacez
`VOTRE_USER`) et poussez ce changement.
"""),
    answer("image", '''
### BEGIN SOLUTION
IMAGE = exam.image_ref()
images.build(PROJET, IMAGE)
images.login(UTILISATEUR, repos.token())
images.push(IMAGE)
deploiement = PROJET / "k8s" / "deployment.yaml"
deploiement.write_text(deploiement.read_text().replace("VOTRE_USER", UTILISATEUR))
repos.commit_all(depot, "Utiliser mon image quote-app")
repos.push(depot)
### END SOLUTION
'''),
    md("""
## 6. Déploiement avec Argo CD

Connectez votre dépôt privé à Argo CD (un Secret de dépôt, avec votre nom d'utilisateur et votre jeton :
`add_repository(lab, url, utilisateur, jeton)`), puis créez l'`Application` `quote-app` dans le namespace `argocd` :
source = votre dépôt, dossier `k8s` ; destination = le cluster local (`https://kubernetes.default.svc`), namespace
`default` ; synchronisation automatique avec *Prune Resources* et *Self Heal*. Écrivez le manifeste en YAML et
appliquez-le avec `apply_application(lab, yaml.safe_load(...))`.
"""),
    answer("application", '''
### BEGIN SOLUTION
add_repository(lab, DEPOT, UTILISATEUR, repos.token())
APPLICATION = f"""
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: quote-app
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {DEPOT}
    path: k8s
    targetRevision: HEAD
  destination:
    server: https://kubernetes.default.svc
    namespace: default
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"""
apply_application(lab, yaml.safe_load(APPLICATION))
### END SOLUTION
'''),
    test("test_application_existe", '''
# Critère 1 : l'application quote-app existe dans Argo CD.
checks.require(checks.app_exists(lab), "L'application quote-app existe dans Argo CD")
### BEGIN HIDDEN TESTS
checks.require(run_fresh("app_exists"), "L'application quote-app existe dans Argo CD (vérification indépendante)", quiet=True)
### END HIDDEN TESTS
''', 1),
    test("test_application_source", '''
# Critère 2 : la source est votre dépôt (dossier k8s), synchro automatique avec prune et self-heal.
checks.require(checks.app_source(lab, exam.repo_url()), "Source et politique de synchronisation")
### BEGIN HIDDEN TESTS
checks.require(run_fresh("app_source"), "Source et politique de synchronisation (vérification indépendante)", quiet=True)
### END HIDDEN TESTS
''', 2),
    md("""
## 7. Diagnostiquer

L'application est synchronisée, mais elle n'est pas `Healthy`. Observez-la comme dans l'interface d'Argo CD :
l'état de l'application et son arbre de ressources, puis le pod : son état, ses **événements** et ses
**journaux** (logs). Attendez d'abord que le pod ait eu le temps de démarrer (ou d'échouer).
"""),
    code('wait_for_symptoms(lab, "default", "app=quote-app")\nshow_application(lab, "quote-app")'),
    code('diagnostic = diagnose_pod(lab, "default", "app=quote-app")'),
    md("""
**Question** : quelle est la cause du problème ? Appuyez-vous sur ce que montrent les événements et les journaux,
et expliquez pourquoi le conteneur redémarre en boucle.
"""),
    written_answer("cause", """
### BEGIN SOLUTION
L'application Flask écoute sur le port **5000** (les journaux l'annoncent : `Running on http://…:5000`), mais le
`deployment.yaml` déclare `containerPort: 8080` pour le port nommé `http`. Les sondes de vivacité et de disponibilité
visent ce port nommé, donc 8080 : les événements montrent `Liveness probe failed: … :8080 … connection refused`.
Le `containerPort` seul n'est qu'informatif, mais ici il fixe la cible des sondes : le kubelet tue le conteneur à
chaque échec de la sonde de vivacité et le relance avec une attente croissante (`CrashLoopBackOff`), le pod n'est
jamais prêt, le Deployment n'atteint pas sa disponibilité et Argo CD affiche `Progressing` puis `Degraded` une fois
le délai de progression dépassé. Correction : mettre `containerPort: 5000` dans `k8s/deployment.yaml` **dans Git**.
### END SOLUTION
""", 2),
    md("""
### Corriger dans Git

Corrigez `containerPort` dans `k8s/deployment.yaml`, committez et poussez la correction dans votre dépôt. Ne
modifiez pas l'objet en direct dans le cluster : avec *self-heal*, Argo CD annulerait cette modification pour revenir
à l'état décrit dans Git. La cellule attend ensuite qu'Argo CD synchronise la correction.
"""),
    answer("correction", '''
### BEGIN SOLUTION
deploiement = PROJET / "k8s" / "deployment.yaml"
deploiement.write_text(deploiement.read_text().replace("containerPort: 8080", "containerPort: 5000"))
repos.commit_all(depot, "Correction du containerPort : 8080 -> 5000")
repos.push(depot)
### END SOLUTION
wait_for_application(lab, "quote-app", timeout=600)
'''),
    test("test_synced_healthy", '''
# Critère 3 : l'application est Synced et Healthy.
checks.require(checks.synced_healthy(lab), "L'application est Synced et Healthy")
### BEGIN HIDDEN TESTS
checks.require(run_fresh("synced_healthy"), "Synced et Healthy (vérification indépendante)", quiet=True)
checks.require(run_fresh("live_container_port"), "Le Deployment en service déclare containerPort 5000", quiet=True)
### END HIDDEN TESTS
''', 3),
    test("test_commit_correction", '''
# Critère 4 : le commit de correction est dans l'historique Git de votre dépôt, et déployé.
checks.require(checks.fix_commit(lab, exam.repo_url()), "Commit de correction dans Git")
### BEGIN HIDDEN TESTS
checks.require(run_fresh("fix_commit"), "Commit de correction (vérification indépendante)", quiet=True)
### END HIDDEN TESTS
''', 2),
    md("""
## 8. Accéder à l'application

Trouvez le `NodePort` du Service `quote-app-service` (`node_ports(lab, "default", "quote-app-service")`) et
l'adresse du nœud (`node_address(lab)`), puis récupérez la page (`http_get(url)`) : elle doit afficher une citation.
"""),
    answer("citation", '''
### BEGIN SOLUTION
URL = f"http://{node_address(lab)}:{node_ports(lab, 'default', 'quote-app-service')[0]}/"
PAGE = http_get(URL)
### END SOLUTION
print(URL)
print(PAGE)
'''),
    test("test_citation", '''
# Critère 5 : une citation est servie sur le NodePort du Service.
checks.require(checks.quote_served(lab), "Une citation est servie sur le NodePort")
### BEGIN HIDDEN TESTS
checks.require(run_fresh("quote_served"), "Citation servie (vérification indépendante)", quiet=True)
checks.require(run_fresh("live_image"), "L'image en service est la vôtre", quiet=True)
### END HIDDEN TESTS
''', 2),
    md("""
## Vérifier votre travail

Relancez cette cellule à tout moment : elle affiche chaque critère de réussite avec ✅ ou ❌ et, en cas d'échec, un
indice. Ce sont les mêmes vérifications que celles de la correction.
"""),
    code("exam.verifier(lab)"),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook(cells=CELLS)
    nb.metadata.update({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nb


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(), OUT)
    print(OUT)
