"""Deterministic Order and Challenge names, as cert-manager derives them: `<owner>-<hash>`.

A repeated or concurrent invocation computes the same name, so it finds the object
an earlier one created instead of making a second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from shared.kube.objects import name_of

# On an Order that renews a certificate: the ARI identifier of the certificate it replaces.
REPLACES_ANNOTATION: Final = "acme.certainly.dev/replaces"
# On a valid Order: when the CA suggests renewing its certificate (ARI), and when to ask again.
RENEWAL_TIME_ANNOTATION: Final = "acme.certainly.dev/ari-renewal-time"
RENEWAL_CHECK_ANNOTATION: Final = "acme.certainly.dev/ari-next-check"
# On an Order or Challenge: the CA asked us (Retry-After) not to call before this time.
# cert-manager keeps that in its workqueue; a stateless function keeps it on the object.
NOT_BEFORE_ANNOTATION: Final = "acme.certainly.dev/not-before"

MAX_NAME: Final = 52  # leaves room for the suffix a Challenge appends to an Order's name

_FNV_OFFSET: Final = 0x811C9DC5
_FNV_PRIME: Final = 0x01000193


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bits: cert-manager's name hash."""
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def compute_name(base: str, content: Mapping[str, Any]) -> str:
    digest = fnv32a(json.dumps(content, sort_keys=True, separators=(",", ":")).encode())
    return f"{base[:MAX_NAME].rstrip('-.')}-{digest}"


def order_name(request: Mapping[str, Any]) -> str:
    """`<request>-<hash>`: one Order per CertificateRequest and CSR."""
    spec = request.get("spec") or {}
    return compute_name(
        name_of(request), {"request": spec.get("request"), "issuerRef": spec.get("issuerRef")}
    )


def challenge_name(order: str, *, authorization_url: str) -> str:
    """`<order>-<hash>`: one Challenge per authorization of an Order."""
    return compute_name(order, {"authorization": authorization_url})
