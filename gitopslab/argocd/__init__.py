"""Embedded Argo CD: an Argo CD 3.x-compatible controller for the lab cluster.

The pure core (no I/O) lives in ``health``, ``diff``, ``tracking`` and
``synctasks``; they port gitops-engine / Argo CD behaviour and are called by
the controller.
"""
