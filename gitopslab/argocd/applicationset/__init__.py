"""Embedded Argo CD ApplicationSet controller (argocd-applicationset-controller).

Parts, one concept per module (pure unless noted):

- ``templating``: fasttemplate and goTemplate rendering of the template and ``templatePatch``;
- ``pathmatch``: Go's ``path.Match`` and git pathspecs;
- ``generators``: parameter sets (list, clusters, git directories/files, matrix);
- ``applications``: the Applications generated from the parameter sets;
- ``plan``: validation, policy, create/update/delete decisions, ownerReferences;
- ``status``: conditions, health and ``status.resources``;
- ``reposervice``: folders and files of a commit for the git generator (git I/O);
- ``controller``: the daemon component (``run(ctx)``), I/O through ``ctx.client``.
"""
