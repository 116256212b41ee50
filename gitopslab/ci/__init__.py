"""A local GitHub Actions runner for the lab.

Workflows of the lab Git server's repositories run here as they would on
GitHub: triggered by pushes (``on.push.branches``/``paths``), jobs ordered by
``needs`` with outputs, ``if:`` conditions, ``run:`` steps executed for real
with bash in a per-job workspace, and the actions the course uses modelled
against the lab (checkout from the lab Git server, Docker commands and
actions against the lab image registry, artifacts between jobs, a simulated
Trivy scan). Runs are stored under ``$GITOPSLAB_HOME/ci/``.

Pure parts (expressions, workflow parsing, trigger filters) do no I/O.
"""
