"""The lab image registry: Dockerfile builds, a local engine store and a registry.

- ``store.ImageStore(home)``: images by digest, ``resolve(ref, pulled_only=True)``
  for the kubelet, ``normalize_ref``;
- ``build.build(...)``: ``docker build`` (classic builder output);
- ``distribution``: tag, push, rm, ls, save, load, login;
- ``catalog``: the known public images (data, shared with the kubelet).
"""
from gitopslab.registry.image import Image
from gitopslab.registry.refs import normalize_ref
from gitopslab.registry.store import ImageStore

__all__ = ["Image", "ImageStore", "normalize_ref"]
