"""Name, label and key validation with apimachinery's messages (util/validation)."""
from __future__ import annotations

import re

from gitopslab.cluster.admission.fields import FieldError, invalid, required

DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = "(" + QUALIFIED_NAME + ")?"
CONFIG_KEY = "[-._a-zA-Z0-9]+"


def _regex_msg(what: str, regex: str, examples: list[str]) -> str:
    ex = ",  or ".join(f"'{e}'" for e in examples)
    return f"{what} (e.g. {ex}, regex used for validation is '{regex}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(_max_len(253))
    if not re.fullmatch(DNS1123_SUBDOMAIN, value):
        errs.append(_regex_msg("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                               "'-' or '.', and must start and end with an alphanumeric character",
                               DNS1123_SUBDOMAIN, ["example.com"]))
    return errs


def dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not re.fullmatch(DNS1123_LABEL, value):
        errs.append(_regex_msg("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                               "and must start and end with an alphanumeric character", DNS1123_LABEL, ["my-name", "123-abc"]))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not re.fullmatch(DNS1035_LABEL, value):
        errs.append(_regex_msg("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
                               "an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL,
                               ["my-name", "abc-123"]))
    return errs


def path_segment_name(value: str) -> list[str]:
    """``path.IsValidPathSegmentName`` (RBAC names)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    for bad in ("/", "%"):
        if bad in value:
            return [f"may not contain '{bad}'"]
    return []


def qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: label and annotation keys, ``prefix/name``."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return [_regex_msg("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
                           "and end with an alphanumeric character", QUALIFIED_NAME, ["MyName", "my.name", "123-abc"])
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if name and not re.fullmatch(QUALIFIED_NAME, name):
        errs.append("name part " + _regex_msg("must consist of alphanumeric characters, '-', '_' or '.', and must start "
                                              "and end with an alphanumeric character", QUALIFIED_NAME,
                                              ["MyName", "my.name", "123-abc"]))
    return errs


def label_value(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(_max_len(63))
    if not re.fullmatch(LABEL_VALUE, value):
        errs.append(_regex_msg("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                               "or '.', and must start and end with an alphanumeric character", LABEL_VALUE,
                               ["MyValue", "my_value", "12345"]))
    return errs


def config_key(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(_max_len(253))
    if not re.fullmatch(CONFIG_KEY, value):
        errs.append(_regex_msg("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                               CONFIG_KEY, ["key.name", "KEY_NAME", "key-name"]))
    if value in (".", ".."):
        errs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def port_name(value: str) -> list[str]:
    """``IsValidPortName`` (IANA_SVC_NAME)."""
    errs = []
    if len(value) > 15:
        errs.append(_max_len(15))
    if not re.fullmatch("[-a-z0-9]+", value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_number(value: int) -> list[str]:
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


def validate_labels(labels: dict | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for k, v in (labels or {}).items():
        errs.extend(invalid(path, k, m) for m in qualified_name(k))
        errs.extend(invalid(path, v, m) for m in label_value(str(v)))
    return errs


def validate_annotations(annotations: dict | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for k, v in (annotations or {}).items():
        errs.extend(invalid(path, k.lower(), m) for m in qualified_name(k.lower()))
        total += len(k) + len(str(v))
    if total > 256 * 1024:
        errs.append(FieldError("FieldValueTooLong", path, detail="must have at most 262144 bytes"))
    return errs


def validate_object_meta(meta: dict, name_fn, path: str = "metadata") -> list[FieldError]:
    """``ValidateObjectMeta``: name (or generateName), labels, annotations."""
    errs: list[FieldError] = []
    name = meta.get("name")
    if name:
        errs.extend(invalid(f"{path}.name", name, m) for m in name_fn(name))
    elif not meta.get("generateName"):
        errs.append(required(f"{path}.name", "name or generateName is required"))
    errs.extend(validate_labels(meta.get("labels"), f"{path}.labels"))
    errs.extend(validate_annotations(meta.get("annotations"), f"{path}.annotations"))
    return errs
