"""Raw REST calls through the official ``kubernetes`` client (any kind, CRDs included).

``request(api, "GET", "/apis/apps/v1/namespaces/argocd/deployments/x")``
returns the decoded JSON body or raises ``kubernetes.client.exceptions.ApiException``.
Works with the generated client's current ``ApiClient`` (``param_serialize`` /
``call_api`` / ``response_deserialize``), so installs and the CLI need no
per-kind typed API.
"""
from __future__ import annotations

from typing import Any


def request(api, method: str, path: str, body: Any = None, *, query: dict | None = None,
            content_type: str = "application/json", timeout: float | None = 30) -> Any:
    params = [(k, v) for k, v in (query or {}).items() if v is not None]
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    serialized = api.param_serialize(method, path, query_params=params, header_params=headers, body=body,
                                     auth_settings=["BearerToken"])
    response = api.call_api(*serialized, _request_timeout=timeout)
    response.read()
    return api.response_deserialize(response, {"2XX": "object"}).data


def path_for(api_version: str, plural: str, *, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
    """``/api/v1/namespaces/ns/pods/name`` or ``/apis/group/version/...``."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    if name:
        base += f"/{name}"
    if subresource:
        base += f"/{subresource}"
    return base
