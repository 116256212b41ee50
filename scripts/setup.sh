#!/usr/bin/env bash
# Idempotent set-up: a local virtual environment with gitopslab and its dependencies.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! command -v git >/dev/null 2>&1; then
  echo "git est requis (apt-get install git)" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Création de l'environnement virtuel .venv…"
  "$PY" -m venv .venv
fi
stamp=.venv/.gitopslab-installed
want=$(sha1sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installation des dépendances (une seule fois)…"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi
# JupyterLab settings for learners: no "Jupyter news?" pop-up or update check over the notebooks.
mkdir -p .venv/share/jupyter/lab/settings
cp scripts/jupyterlab-overrides.json .venv/share/jupyter/lab/settings/overrides.json
