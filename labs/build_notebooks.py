"""Write the workshop notebooks (01–05) from this reviewable script: ``python labs/build_notebooks.py``.

Notebooks are committed without outputs; ``08-examen.ipynb`` is the released exam
(``python -m gitopslab.grading.release``), not built here.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def notebook(name: str, cells: list[tuple[str, str]]) -> Path:
    nb_cells = []
    for i, (kind, text) in enumerate(cells):
        text = text.strip("\n")
        cell = new_markdown_cell(text) if kind == "md" else new_code_cell(text)
        cell.id = f"{name[:2]}-{i:02d}"
        nb_cells.append(cell)
    nb = new_notebook(cells=nb_cells)
    nb.metadata.update({"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}, "language_info": {"name": "python"}})
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


CONNECT = """
from gitopslab.lab import connect
from gitopslab.lab.argocd import install_argocd, wait_argocd_ready
from gitopslab.lab.apps import application_manifest, apply_application, wait_for_application
from gitopslab.lab.views import show_application
from gitopslab.lab.network import node_address, http_get

lab = connect()
install_argocd(lab)
wait_argocd_ready(lab)
"""

ATELIER_1 = [
    ("md", """
# Atelier 1 : installation de l'environnement de travail

Dans le cours, on installe K3s sur une machine, on récupère son kubeconfig, puis on installe Argo CD avec Helm.
Ici, le labo fournit un cluster Kubernetes embarqué qui parle la même API : `kubectl` et le client Python
officiel fonctionnent avec lui exactement comme avec K3s. Les mêmes cellules fonctionnent sur un vrai cluster si
la variable `KUBECONFIG` pointe vers lui.
"""),
    ("md", """
## 1. Démarrer le cluster

`connect()` démarre le cluster du labo (s'il ne tourne pas déjà) et écrit son kubeconfig. Vérifions que le nœud est
prêt, comme avec `kubectl get nodes` dans le cours.
"""),
    ("code", """
from gitopslab.lab import connect
from gitopslab.lab.argocd import install_argocd, wait_argocd_ready, initial_admin_password, server_url

lab = connect()
lab.kubectl("get", "nodes")
"""),
    ("md", """
## 2. Installer Argo CD

Le cours exécute `helm install argocd argo/argo-cd --namespace argocd --set server.service.type=NodePort`.
`install_argocd` crée les mêmes objets (namespace `argocd`, CRDs, composants, Services) avec le serveur exposé en
`NodePort` sur le port 30080. On attend ensuite que les pods soient prêts.
"""),
    ("code", """
install_argocd(lab)
wait_argocd_ready(lab)
"""),
    ("code", 'lab.kubectl("get", "pod", "-n", "argocd")'),
    ("md", """
## 3. Accéder à l'interface

Le Service `argocd-server` est de type `NodePort` : il est joignable sur le port 30080 du nœud.
"""),
    ("code", """
lab.kubectl("get", "svc", "argocd-server", "-n", "argocd")
print("Interface d'Argo CD :", server_url(lab))
"""),
    ("md", """
Le nom d'utilisateur est `admin`. Le mot de passe initial est stocké dans le Secret `argocd-initial-admin-secret`,
encodé en base64 : c'est ce que lit la commande du cours
`kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d`.
"""),
    ("code", """
lab.kubectl("-n", "argocd", "get", "secret", "argocd-initial-admin-secret", "-o", "jsonpath={.data.password}")
print()
print("Mot de passe initial d'admin :", initial_admin_password(lab))
"""),
    ("md", """
## 4. Le tableau de bord dans le notebook

Dans le labo, l'interface d'Argo CD, ce sont des widgets du notebook : la page des applications ci-dessous montre
une tuile par application (statuts `Synced`/`OutOfSync` et `Healthy`/`Progressing`/`Degraded`, dépôt, chemin,
destination, dernière synchronisation) avec les boutons **SYNC** et **REFRESH**, et le bouton **+ NEW APP** qui
ouvre le formulaire de création. Elle se met à jour toute seule toutes les quelques secondes ; pour l'instant,
aucune application n'existe.
"""),
    ("code", """
from gitopslab.widgets import applications_view

applications_view(lab)
"""),
]


def deploy_workshop(title: str, intro: str, app: str, path: str, namespace: str, node_port: int,
                    helm: bool, extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    params = (', helm_parameters={"namespace.create": "true"}' if app == "odoo"
              else ", create_namespace=True")
    return [
        ("md", f"# {title}\n\n{intro}"),
        ("md", """
## 1. Préparer le labo

Cluster démarré et Argo CD installé (voir l'atelier 1 ; ces appels ne refont rien si c'est déjà fait).
"""),
        ("code", CONNECT),
        ("md", f"""
## 2. Créer l'application (`+ NEW APP`)

Le formulaire `+ NEW APP` de l'interface crée un objet `Application` dans le namespace `argocd`. Remplissez-le
ci-dessous puis cliquez sur **CREATE**, ou exécutez la cellule d'après, qui écrit le même objet :

- **Application Name** : `{app}`, **Project** : `default` ;
- **Sync Policy** : `Automatic`, avec **Prune Resources** et **Self Heal** ;
- **Repository URL** : `https://github.com/nzapanarcisse/datascientest-chart.git`, **Revision** : `HEAD`,
  **Path** : `{path}`{" (une charte Helm)" if helm else " (des manifestes YAML)"} ;
- **Cluster URL** : `https://kubernetes.default.svc`, **Namespace** : `{namespace}`.
""" + ("\nDans la section **Helm**, le paramètre `namespace.create=true` demande à la charte de créer le namespace.\n"
       if app == "odoo" else
       f"\nLe namespace `{namespace}` n'existe pas encore : cochez **Auto-Create Namespace** dans les options de "
       "synchronisation (`syncOptions: [CreateNamespace=true]`), sinon la synchronisation échoue avec "
       f"`namespaces \"{namespace}\" not found`.\n")),
        ("code", """
from gitopslab.widgets import new_app_form, resource_tree

new_app_form(lab)
"""),
        ("code", f"""
manifeste = application_manifest(
    "{app}", "https://github.com/nzapanarcisse/datascientest-chart.git", "{path}",
    namespace="{namespace}", automated=True, prune=True, self_heal=True{params})
apply_application(lab, manifeste)
"""),
        ("md", """
## 3. Suivre la synchronisation

Argo CD clone le dépôt, compare les manifestes au cluster (rien n'existe encore : `OutOfSync`), puis, la politique
étant automatique, synchronise. L'application passe par `Progressing` avant d'être `Synced` et `Healthy`.
"""),
        ("code", f'wait_for_application(lab, "{app}", timeout=900)\nshow_application(lab, "{app}")'),
        ("code", f'lab.kubectl("get", "all", "-n", "{namespace}")'),
        ("md", """
Dans l'interface, cliquer sur la tuile de l'application ouvre son **arbre des ressources**. Cliquez sur une
ressource pour voir son état réel (onglets SUMMARY, MANIFEST, EVENTS) et, pour un pod, ses journaux (LOGS) ;
l'onglet **DIFF** montre ce qui diffère entre Git et le cluster.
"""),
        ("code", f'resource_tree(lab, "{app}")'),
        ("md", f"""
## 4. Ouvrir l'application

Le Service est de type `NodePort` : l'application répond sur le port {node_port} du nœud.
"""),
        ("code", f"""
url = f"http://{{node_address(lab)}}:{node_port}/"
page = http_get(url)
print(url)
print(page[:300] if page else "Pas de réponse pour l'instant.")
"""),
        *extra,
    ]


ATELIER_2 = deploy_workshop(
    "Atelier 2 : déployer Odoo avec une charte Helm",
    "Notre entreprise a « packagé » l'ERP Odoo dans sa propre charte Helm, dans le dépôt "
    "`nzapanarcisse/datascientest-chart`. Déployons-la avec Argo CD, sans une seule commande `kubectl apply`.",
    "odoo", "odoo", "odoo", 30089, True,
    [("md", """
## 5. Le mot de passe d'Odoo

La charte stocke le mot de passe dans le Secret `odoo` (commande du cours :
`kubectl -n odoo get secret odoo -o jsonpath="{.data.odoo-password}" | base64 -d`).
"""),
     ("code", """
import base64
secret = lab.core.read_namespaced_secret("odoo", "odoo")
print("Mot de passe d'Odoo :", base64.b64decode(secret.data["odoo-password"]).decode())
""")])

ATELIER_3 = deploy_workshop(
    "Atelier 3 : déployer une application web avec une charte Helm interne",
    "L'équipe plateforme impose Helm pour les nouvelles applications. La charte de notre application web est dans le "
    "même dépôt que celle d'Odoo, dans le dossier `webapp/webapp-chart`.",
    "webapp", "webapp/webapp-chart", "webapp", 30000, True)

ATELIER_4 = deploy_workshop(
    "Atelier 4 : déployer une application web avec des manifestes bruts",
    "Une nouvelle équipe préfère des manifestes Kubernetes simples (`deployment.yaml`, `service.yaml`). Argo CD les "
    "déploie tout aussi bien : ils sont dans le dossier `webapp/webapp-manifest`.",
    "webapp-manifest", "webapp/webapp-manifest", "webapp-manifest", 30001, False)

ATELIER_5 = [
    ("md", """
# Atelier 5 : synchronisation automatique, prune et self-heal

Avec une politique `Automatic`, Argo CD ne se contente pas de détecter les écarts entre Git et le cluster : il les
corrige. **Self Heal** annule les modifications faites à la main dans le cluster ; **Prune** supprime les
ressources qui ont disparu de Git. Nous allons le vérifier sur notre propre copie du dépôt du cours.
"""),
    ("md", "## 1. Préparer le labo"),
    ("code", CONNECT + """
from gitopslab.lab import repos
from gitopslab.lab.identity import learner_name
"""),
    ("md", """
## 2. Une copie du dépôt à notre nom

Nous ne pouvons pas modifier le dépôt du cours : copions-le dans un dépôt à notre nom (comme un *fork* sur GitHub),
puis poussons-le avec notre jeton d'accès personnel. Le Service du dépôt fixe le `nodePort` 30001, déjà utilisé
par l'atelier 4 dans ce cluster : un même NodePort ne peut servir qu'un Service, nous laissons donc Kubernetes en
attribuer un autre. Le clone est dans le dossier `travail/atelier5/` à côté de ce notebook (explorateur de fichiers
de JupyterLab).
"""),
    ("code", """
UTILISATEUR = learner_name()
DEPOT = repos.create_repository("datascientest-chart", private=False)
travail = repos.workspace("atelier5/datascientest-chart")
copie = repos.clone("https://github.com/nzapanarcisse/datascientest-chart.git", travail)
copie.remote("origin").set_url(DEPOT)
# Le NodePort 30001 est peut-être déjà pris par l'atelier 4 : laissons Kubernetes en choisir un.
service = travail / "webapp" / "webapp-manifest" / "service.yaml"
service.write_text(service.read_text().replace("      nodePort: 30001\\n", ""))
repos.commit_all(copie, "Service : NodePort choisi par Kubernetes")
repos.push(copie)
"""),
    ("md", "## 3. L'application, en synchronisation automatique avec prune et self-heal"),
    ("code", """
apply_application(lab, application_manifest(
    "webapp-gitops", DEPOT, "webapp/webapp-manifest", namespace="webapp-gitops",
    automated=True, prune=True, self_heal=True, create_namespace=True))
wait_for_application(lab, "webapp-gitops", timeout=900);
"""),
    ("md", """
## 4. Self Heal : une modification à la main est annulée

Passons le Deployment à 3 réplicas avec `kubectl scale`, sans toucher à Git. Argo CD voit l'écart avec Git
(1 réplica) et le corrige.
"""),
    ("md", """
Gardez un œil sur la tuile de `webapp-gitops` pendant l'exécution de la cellule suivante : elle se met à jour
toute seule.
"""),
    ("code", """
from gitopslab.widgets import applications_view

applications_view(lab)
"""),
    ("code", """
import time
lab.kubectl("scale", "deployment/webapp", "--replicas=3", "-n", "webapp-gitops")
debut = time.monotonic()
while time.monotonic() - debut < lab.real_seconds(300):
    replicas = lab.apps.read_namespaced_deployment("webapp", "webapp-gitops").spec.replicas
    if replicas == 1:
        break
    time.sleep(0.5)
print(f"Réplicas demandés après self-heal : {replicas}")
lab.kubectl("get", "deployment", "webapp", "-n", "webapp-gitops")
"""),
    ("md", """
## 5. Prune : une ressource supprimée de Git est supprimée du cluster

Supprimons `service.yaml` du dépôt, committons et poussons. Argo CD détecte la nouvelle révision, et comme *prune*
est activé, supprime le Service du cluster.
"""),
    ("code", """
(travail / "webapp" / "webapp-manifest" / "service.yaml").unlink()
repos.commit_all(copie, "Suppression du Service de la webapp")
repos.push(copie)
debut = time.monotonic()
services = ["webapp"]
while time.monotonic() - debut < lab.real_seconds(600):
    services = [s.metadata.name for s in lab.core.list_namespaced_service("webapp-gitops").items]
    if "webapp" not in services:
        break
    time.sleep(0.5)
print("Services restants dans webapp-gitops :", services or "aucun")
show_application(lab, "webapp-gitops")
"""),
]

if __name__ == "__main__":
    for name, cells in [("01-installation-argocd", ATELIER_1), ("02-odoo-helm", ATELIER_2),
                        ("03-webapp-helm", ATELIER_3), ("04-webapp-manifestes", ATELIER_4),
                        ("05-sync-auto-prune-selfheal", ATELIER_5)]:
        print(notebook(name, cells))
