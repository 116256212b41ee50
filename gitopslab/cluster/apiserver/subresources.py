"""POST subresources: ``pods/binding``, ``pods/eviction``, ``serviceaccounts/token``."""
from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import datetime, timedelta, timezone

from gitopslab.cluster import errors as E
from gitopslab.cluster.kinds import ResourceDef
from gitopslab.cluster.registry import DeleteOptions, Registry, WriteOptions, rfc3339


def _success(code: int) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}


def post(registry: Registry, res: ResourceDef, namespace: str | None, name: str, sub: str, body,
         opts: WriteOptions) -> tuple[dict, int]:
    if not isinstance(body, dict):
        raise E.bad_request(f"the object provided is unrecognized (must be of type {sub})")
    key = (res.group, res.plural, sub)
    if key == ("", "pods", "binding"):
        return bind(registry, res, namespace, name, body, opts), 201
    if key == ("", "pods", "eviction"):
        registry.delete(res, namespace, name, DeleteOptions.from_body(body.get("deleteOptions"),
                                                                      dry_run=opts.dry_run))
        return _success(201), 201
    if key == ("", "serviceaccounts", "token"):
        return token_request(registry, res, namespace, name, body), 201
    raise E.method_not_allowed()


def bind(registry: Registry, res: ResourceDef, namespace: str, name: str, body: dict, opts: WriteOptions) -> dict:
    """What the scheduler does: set ``spec.nodeName`` once (409 if already bound)."""
    node = ((body.get("target") or {}).get("name")) or ""
    pod = registry.get(res, namespace, name)
    if (pod.get("spec") or {}).get("nodeName"):
        raise E.conflict("", "pods", name, f"pod {name} is already assigned to node \"{pod['spec']['nodeName']}\"")
    if pod["metadata"].get("deletionTimestamp"):
        raise E.conflict("", "pods", name, f"pod {name} is being deleted, cannot be assigned to a host")
    registry.patch(res, namespace, name, "merge", {"spec": {"nodeName": node}}, opts)
    return _success(201)


def token_request(registry: Registry, res: ResourceDef, namespace: str, name: str, body: dict) -> dict:
    sa = registry.get(res, namespace, name)
    seconds = int((body.get("spec") or {}).get("expirationSeconds") or 3600)
    expires = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    claims = {"aud": (body.get("spec") or {}).get("audiences") or ["https://kubernetes.default.svc.cluster.local", "k3s"],
              "exp": int(expires.timestamp()), "iat": int(time.time()), "iss": "https://kubernetes.default.svc.cluster.local",
              "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": sa["metadata"]["uid"]}},
              "sub": f"system:serviceaccount:{namespace}:{name}"}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    token = ".".join([b64(json.dumps({"alg": "RS256", "kid": "lab"}).encode()), b64(json.dumps(claims).encode()),
                      b64(secrets.token_bytes(32))])
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": {"audiences": claims["aud"], "expirationSeconds": seconds, "boundObjectRef": None},
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)}}
