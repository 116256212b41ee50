"""Course repositories seeded into the lab Git server (our own content).

``repos/OWNER/REPO/`` holds each repository as plain files. A path component
written ``dot.NAME`` is committed as ``.NAME`` (``.github``, ``.helmignore``,
``.dockerignore``), so the files survive packaging tools that skip dotfiles.
``seed.seed_once(home)`` creates the repositories and the pushed webapp image
on the Git server's first start.
"""
