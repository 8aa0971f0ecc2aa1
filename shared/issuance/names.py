"""Deterministic object names: concurrent or repeated invocations converge on one object."""

from __future__ import annotations

import hashlib
from typing import Final

MAX_NAME: Final = 253


def _bounded(base: str, suffix: str) -> str:
    name = f"{base}-{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(base.encode()).hexdigest()[:10]
    keep = MAX_NAME - len(suffix) - len(digest) - 2
    return f"{base[:keep]}-{digest}-{suffix}"


def request_name(certificate: str, revision: int) -> str:
    """`<certificate>-<revision>`, cert-manager's CertificateRequest naming."""
    return _bounded(certificate, str(revision))


def next_key_secret_name(certificate: str) -> str:
    """Where a Certificate's next private key waits until the new certificate is stored."""
    return _bounded(certificate, "next-private-key")
