"""ServiceAccounts and their tokens, as kube-controller-manager does it:

- ``ServiceAccountController``: a ``default`` ServiceAccount in every active
  namespace, and the ``kube-root-ca.crt`` ConfigMap (root-ca-cert-publisher);
- ``TokenController``: Secrets of type ``kubernetes.io/service-account-token``
  get ``token``, ``ca.crt`` and ``namespace``.

Tokens are legacy service-account JWTs (same claims as upstream) signed
HS256 with the cluster's ``sa-signing.key``; ``verify_token`` checks one.
The CA is the API server's self-signed certificate (``tls.ca_pem``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from pathlib import Path

from gitopslab.cluster import tls
from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key
from gitopslab.home import ClusterPaths

log = logging.getLogger(__name__)

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")
TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"
LEGACY_ISSUER = "kubernetes/serviceaccount"


# --- tokens (pure) ---------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def legacy_token(key: bytes, namespace: str, sa_name: str, sa_uid: str, secret_name: str) -> str:
    header = {"alg": "HS256", "kid": hashlib.sha256(key).hexdigest()[:43]}
    claims = {"iss": LEGACY_ISSUER,
              "kubernetes.io/serviceaccount/namespace": namespace,
              "kubernetes.io/serviceaccount/secret.name": secret_name,
              "kubernetes.io/serviceaccount/service-account.name": sa_name,
              "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
              "sub": f"system:serviceaccount:{namespace}:{sa_name}"}
    signing = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    sig = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(sig)}"


def verify_token(token: str, key: bytes) -> dict | None:
    """The claims of a token this controller signed, or None."""
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(sig)):
            return None
        return json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        return None


def signing_key(root: Path) -> bytes:
    path = root / "sa-signing.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        root.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
        return key


def cluster_ca(paths: ClusterPaths) -> str:
    """The PEM the cluster's clients trust: the API server's self-signed certificate ("" over plain HTTP)."""
    return tls.ca_pem(paths)


# --- controllers --------------------------------------------------------------------
class ServiceAccountController(Controller):
    name = "serviceaccount"
    component = "serviceaccount-controller"

    def setup(self) -> None:
        self.watch("v1", "Namespace")
        self.watch("v1", "ServiceAccount", lambda sa: sa["metadata"].get("namespace"))
        self.watch("v1", "ConfigMap", lambda cm: cm["metadata"].get("namespace")
                   if cm["metadata"].get("name") == ROOT_CA_CONFIGMAP else None)

    async def start(self) -> None:
        self.ca = cluster_ca(self.ctx.paths)

    async def reconcile(self, key: str) -> None:
        ns_name = split_key(key)[1]
        ns = await self.get_or_none("v1", "Namespace", ns_name)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        await self._ensure(ns_name, "ServiceAccount", "default", {})
        cm = await self.get_or_none("v1", "ConfigMap", ROOT_CA_CONFIGMAP, ns_name)
        data = {"ca.crt": self.ca}
        if cm is None:
            await self._ensure(ns_name, "ConfigMap", ROOT_CA_CONFIGMAP,
                               {"data": data, "metadata": {"annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}}})
        elif cm.get("data") != data:
            cm["data"] = data
            await self.client.replace(cm)

    async def _ensure(self, ns: str, kind: str, name: str, extra: dict) -> None:
        if kind != "ConfigMap" and await self.get_or_none("v1", kind, name, ns) is not None:
            return
        obj = {"apiVersion": "v1", "kind": kind, **extra,
               "metadata": {"name": name, "namespace": ns, **(extra.get("metadata") or {})}}
        try:
            await self.client.create(obj, namespace=ns)
        except ApiError as e:
            if e.code not in (409, 403):  # exists, or the namespace started terminating
                raise


class TokenController(Controller):
    name = "tokens"
    component = "tokens-controller"

    def setup(self) -> None:
        self.watch("v1", "Secret", lambda s: _key(s) if s.get("type") == TOKEN_TYPE else None)
        self.watch("v1", "ServiceAccount", self._secrets_of)
        self.secrets = self.informers.get("v1", "Secret")

    def _secrets_of(self, sa: dict) -> list[str]:
        ns, name = sa["metadata"].get("namespace"), sa["metadata"].get("name")
        return [_key(s) for s in self.secrets.items(ns) if s.get("type") == TOKEN_TYPE
                and ((s["metadata"].get("annotations") or {}).get(SA_NAME) == name)]

    async def start(self) -> None:
        self.key = signing_key(self.ctx.paths.root)
        self.ca = cluster_ca(self.ctx.paths)

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        secret = await self.get_or_none("v1", "Secret", name, ns)
        if secret is None or secret.get("type") != TOKEN_TYPE or secret["metadata"].get("deletionTimestamp"):
            return
        annotations = secret["metadata"].get("annotations") or {}
        sa = await self.get_or_none("v1", "ServiceAccount", annotations.get(SA_NAME, ""), ns)
        if sa is None:
            return  # populated once its ServiceAccount exists
        if annotations.get(SA_UID) and annotations[SA_UID] != sa["metadata"]["uid"]:
            return  # a token of a deleted ServiceAccount of the same name stays empty
        data = dict(secret.get("data") or {})
        token = legacy_token(self.key, ns, sa["metadata"]["name"], sa["metadata"]["uid"], name)
        wanted = {"ca.crt": _enc(self.ca), "namespace": _enc(ns), "token": _enc(token)}
        if data.get("token") and data.get("ca.crt") and data.get("namespace") and annotations.get(SA_UID):
            return
        secret["data"] = {**data, **{k: v for k, v in wanted.items() if not data.get(k)}}
        secret["metadata"].setdefault("annotations", {})[SA_UID] = sa["metadata"]["uid"]
        await self.client.replace(secret)


def _key(obj: dict) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def _enc(s: str) -> str:
    return base64.b64encode(s.encode()).decode()
