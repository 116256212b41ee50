"""YAML loading for the Argo CD fixtures: timestamps stay strings, as Go's YAML->JSON keeps them."""

from __future__ import annotations

import yaml


class _StringTimestampLoader(yaml.SafeLoader):
    pass


_StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str):
    return yaml.load(text, Loader=_StringTimestampLoader)


def load_all(text: str):
    return list(yaml.load_all(text, Loader=_StringTimestampLoader))
