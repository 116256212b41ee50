"""Container environment as the kubelet builds it (kubelet_pods.go makeEnvironmentVariables).

Pure: ConfigMaps and Secrets are passed in (``None`` when missing), and a
missing reference raises ``ConfigError`` with the kubelet's exact message,
which becomes the CreateContainerConfigError waiting message.
"""
from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class ConfigError(Exception):
    """Why a container cannot be configured (CreateContainerConfigError)."""


@dataclass
class PodFacts:
    """The values ``fieldRef``/``resourceFieldRef`` read that are not in the spec."""
    pod_ip: str = ""
    host_ip: str = ""
    node_allocatable: dict = field(default_factory=lambda: {"cpu": "2", "memory": "8Gi",
                                                             "ephemeral-storage": "20Gi"})


def expand(text: str, lookup) -> str:
    """Kubernetes ``$(VAR)`` expansion: unknown references stay, ``$$`` escapes."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "$" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    value = lookup(name)
                    out.append(value if value is not None else text[i:end + 1])
                    i = end + 1
                    continue
                out.append(text[i:])
                break
        out.append(ch)
        i += 1
    return "".join(out)


def _decode(value: str) -> str:
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (ValueError, TypeError):
        return value


def configmap_data(cm: dict) -> dict[str, str]:
    data = dict(cm.get("data") or {})
    for k, v in (cm.get("binaryData") or {}).items():
        data.setdefault(k, _decode(v))
    return data


def secret_data(secret: dict) -> dict[str, str]:
    data = {k: _decode(v) for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


_FIELD_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_ref_value(path: str, pod: dict, facts: PodFacts) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    m = _FIELD_SUBSCRIPT.match(path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": facts.host_ip,
        "status.hostIPs": facts.host_ip,
        "status.podIP": facts.pod_ip,
        "status.podIPs": facts.pod_ip,
    }
    if path in simple:
        return str(simple[path])
    if path == "metadata.labels":
        return "\n".join(f'{k}="{v}"' for k, v in sorted((meta.get("labels") or {}).items()))
    if path == "metadata.annotations":
        return "\n".join(f'{k}="{v}"' for k, v in sorted((meta.get("annotations") or {}).items()))
    raise ConfigError(f"unsupported fieldPath: {path}")


_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18}


def parse_quantity(text) -> float:
    m = re.fullmatch(r"\s*([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2) not in _SUFFIX:
        raise ConfigError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def resource_field_value(ref: dict, container: dict, facts: PodFacts) -> str:
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    res = container.get("resources") or {}
    value = (res.get(kind) or {}).get(name)
    if value is None and kind == "requests":
        value = (res.get("limits") or {}).get(name)
    if value is None:
        value = facts.node_allocatable.get(name, "0") if kind == "limits" or name != "cpu" else "0"
    divisor = parse_quantity(ref.get("divisor") or "1")
    amount = parse_quantity(value)
    return str(int(math.ceil(amount / divisor)))


def build_env(container: dict, pod: dict, configmaps: dict[str, dict | None], secrets: dict[str, dict | None],
              facts: PodFacts, service_env: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The env of ``container`` and the warnings (invalid envFrom keys) to record.

    ``configmaps``/``secrets`` map every referenced name to its object or
    ``None`` if it does not exist.
    """
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    env: dict[str, str] = {}
    warnings: list[str] = []

    def lookup_obj(kind: str, name: str, optional: bool) -> dict[str, str] | None:
        table = configmaps if kind == "configmap" else secrets
        obj = table.get(name)
        if obj is None:
            if optional:
                return None
            raise ConfigError(f'{kind} "{name}" not found')
        return configmap_data(obj) if kind == "configmap" else secret_data(obj)

    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        for ref_key, kind, label in (("configMapRef", "configmap", "configMap"), ("secretRef", "secret", "secret")):
            ref = source.get(ref_key)
            if ref is None:
                continue
            data = lookup_obj(kind, ref.get("name", ""), bool(ref.get("optional")))
            if data is None:
                continue
            invalid = []
            for k, v in data.items():
                k = prefix + k
                if not _ENV_NAME.match(k):
                    invalid.append(k)
                    continue
                env[k] = v
            if invalid:
                warnings.append(f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom {label} {ns}/{ref.get('name')} "
                                f"were skipped since they are considered invalid environment variable names.")

    def mapping(name: str) -> str | None:
        if name in env:
            return env[name]
        if service_env and name in service_env:
            return service_env[name]
        return None

    for var in container.get("env") or []:
        name = var.get("name", "")
        value = var.get("value") or ""
        source = var.get("valueFrom")
        if value:
            value = expand(value, mapping)
        elif source:
            if "fieldRef" in source:
                value = field_ref_value(source["fieldRef"].get("fieldPath", ""), pod, facts)
            elif "resourceFieldRef" in source:
                value = resource_field_value(source["resourceFieldRef"], container, facts)
            else:
                for ref_key, kind, label in (("configMapKeyRef", "configmap", "ConfigMap"),
                                             ("secretKeyRef", "secret", "Secret")):
                    ref = source.get(ref_key)
                    if ref is None:
                        continue
                    optional = bool(ref.get("optional"))
                    data = lookup_obj(kind, ref.get("name", ""), optional)
                    if data is None:
                        value = None
                        break
                    key = ref.get("key", "")
                    if key not in data:
                        if optional:
                            value = None
                            break
                        raise ConfigError(f"couldn't find key {key} in {label} {ns}/{ref.get('name')}")
                    value = data[key]
                if value is None:
                    continue
        env[name] = value

    for k, v in (service_env or {}).items():
        env.setdefault(k, v)
    return env, warnings


def expand_args(args: list[str], env: dict[str, str]) -> list[str]:
    return [expand(a, env.get) for a in args]


def referenced_objects(pod: dict) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets the pod's containers and volumes reference."""
    cms: set[str] = set()
    secrets: set[str] = set()
    spec = pod.get("spec") or {}
    for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        for source in c.get("envFrom") or []:
            if source.get("configMapRef"):
                cms.add(source["configMapRef"].get("name", ""))
            if source.get("secretRef"):
                secrets.add(source["secretRef"].get("name", ""))
        for var in c.get("env") or []:
            vf = var.get("valueFrom") or {}
            if vf.get("configMapKeyRef"):
                cms.add(vf["configMapKeyRef"].get("name", ""))
            if vf.get("secretKeyRef"):
                secrets.add(vf["secretKeyRef"].get("name", ""))
    for vol in spec.get("volumes") or []:
        if vol.get("configMap"):
            cms.add(vol["configMap"].get("name", ""))
        if vol.get("secret"):
            secrets.add(vol["secret"].get("secretName", ""))
        for src in (vol.get("projected") or {}).get("sources") or []:
            if src.get("configMap"):
                cms.add(src["configMap"].get("name", ""))
            if src.get("secret"):
                secrets.add(src["secret"].get("name", ""))
    return cms, secrets
