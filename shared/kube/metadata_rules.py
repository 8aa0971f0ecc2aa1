"""Kubernetes' rules for label and annotation keys and values (apimachinery's wording).

The local API refuses objects with them, and a secretTemplate entry the API server
would refuse is refused when the Certificate's spec is read, so it becomes a condition
the user can act on instead of a Secret write that fails on every attempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from shared.kube.names import subdomain_problems

ANNOTATIONS_LIMIT: Final = 256 * 1024  # bytes of keys and values together
NAME_MAX: Final = 63
PREFIX_MAX: Final = 253

_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

NAME_RULE: Final = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
PREFIX_RULE: Final = (
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
    "'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_VALUE_RULE: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def qualified_name_problems(key: str) -> list[str]:
    """Why `key` is not a valid `[prefix/]name` label or annotation key ([] if it is)."""
    prefix, slash, name = key.rpartition("/")
    problems: list[str] = []
    if slash:
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > PREFIX_MAX:
            problems.append(f"prefix part must be no more than {PREFIX_MAX} characters")
        elif subdomain_problems(prefix):
            problems.append(PREFIX_RULE)
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > NAME_MAX:
        problems.append(f"name part must be no more than {NAME_MAX} characters")
    elif not _NAME.fullmatch(name):
        problems.append(NAME_RULE)
    return problems


def label_value_problems(value: str) -> list[str]:
    if len(value) > NAME_MAX:
        return [f"must be no more than {NAME_MAX} characters"]
    if not _LABEL_VALUE.fullmatch(value):
        return [LABEL_VALUE_RULE]
    return []


def label_problems(labels: Mapping[str, str]) -> list[str]:
    """Field-error texts ('Invalid value: "k": why') for a labels map."""
    found: list[str] = []
    for key, value in labels.items():
        found += [f'Invalid value: "{key}": {why}' for why in qualified_name_problems(key)]
        found += [f'Invalid value: "{value}": {why}' for why in label_value_problems(value)]
    return found


def annotation_problems(annotations: Mapping[str, str]) -> list[str]:
    """Field-error texts for an annotations map: keys as labels' (case-insensitive), size."""
    found: list[str] = []
    for key in annotations:
        found += [f'Invalid value: "{key}": {why}' for why in qualified_name_problems(key.lower())]
    size = sum(len(k) + len(v) for k, v in annotations.items())
    if size > ANNOTATIONS_LIMIT:
        found.append(f"Too long: must have at most {ANNOTATIONS_LIMIT} bytes")
    return found
