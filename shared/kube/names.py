"""Kubernetes' rules for object names and namespaces (apimachinery's wording).

A name or namespace taken from an event is checked against them before it is used:
an object of the kinds certainly serves is named by an RFC 1123 subdomain, a
namespace by an RFC 1123 label, so neither can hold '/', '%' or a '..' segment.
"""

from __future__ import annotations

import re
from typing import Final

SUBDOMAIN_MAX: Final = 253
LABEL_MAX: Final = 63

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

LABEL_RULE: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_RULE: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def subdomain_problems(value: str) -> list[str]:
    """Why `value` is not a DNS-1123 subdomain, the name of most objects ([] if it is);
    apimachinery's IsDNS1123Subdomain, which reports the length and the form both."""
    problems = []
    if len(value) > SUBDOMAIN_MAX:
        problems.append(f"must be no more than {SUBDOMAIN_MAX} characters")
    if not _SUBDOMAIN.fullmatch(value):
        problems.append(SUBDOMAIN_RULE)
    return problems


def label_problems(value: str) -> list[str]:
    """Why `value` is not a DNS-1123 label, the name of a Namespace ([] if it is)."""
    problems = []
    if len(value) > LABEL_MAX:
        problems.append(f"must be no more than {LABEL_MAX} characters")
    if not _LABEL.fullmatch(value):
        problems.append(LABEL_RULE)
    return problems
