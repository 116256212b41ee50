#!/usr/bin/env bash
# Starts the lab: the embedded cluster (and the lab Git server), then JupyterLab on labs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
gitopslab lab up
eval "$(gitopslab git env 2>/dev/null || true)"
export KUBECONFIG="${GITOPSLAB_HOME:-$HOME/.gitopslab}/kubeconfig"
exec jupyter lab --notebook-dir=labs "$@"
