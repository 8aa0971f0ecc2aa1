"""Issuer types by their spec key: adding one is a module plus a line here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shared.issuers.acme import Acme
from shared.issuers.base import IssuerType
from shared.issuers.ca import CA
from shared.issuers.selfsigned import SelfSigned

ISSUER_TYPES: Final[dict[str, IssuerType]] = {
    "selfSigned": SelfSigned(),
    "ca": CA(),
    "acme": Acme(),
}


def issuer_type_of(issuer: Mapping[str, Any]) -> tuple[str, IssuerType] | None:
    """The one configured type in an Issuer's spec, or None if none or several are."""
    spec = issuer.get("spec") or {}
    configured = [key for key in ISSUER_TYPES if spec.get(key) is not None]
    if len(configured) != 1:
        return None
    return configured[0], ISSUER_TYPES[configured[0]]
