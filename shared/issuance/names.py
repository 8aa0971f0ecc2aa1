"""Deterministic object names: concurrent or repeated invocations converge on one object."""

from __future__ import annotations

import hashlib
import re
from typing import Final

MAX_NAME: Final = 253
# cert-manager names a request `DNSSafeShortenTo52Characters(certificate)-<suffix>`.
REQUEST_PREFIX_MAX: Final = 52
_FNV32_OFFSET: Final = 0x811C9DC5
_FNV32_PRIME: Final = 0x01000193
_ALPHANUMERIC: Final = re.compile(r"[a-zA-Z0-9]")


def _bounded(base: str, suffix: str) -> str:
    name = f"{base}-{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(base.encode()).hexdigest()[:10]
    keep = MAX_NAME - len(suffix) - len(digest) - 2
    return f"{base[:keep]}-{digest}-{suffix}"


def request_name(certificate: str, revision: int) -> str:
    """`<certificate>-<revision>`, the certificate part shortened as cert-manager does.

    cert-manager lets the API pick a random suffix after the 52-character prefix; ours
    is the revision, so every run names the same request. A name cut to 52 characters
    carries an FNV-32 hash of the whole name (cert-manager's
    ComputeUniqueDeterministicNameFromData), so two long names sharing a prefix never
    share requests.
    """
    return f"{short_name(certificate, REQUEST_PREFIX_MAX)}-{revision}"


def short_name(name: str, limit: int) -> str:
    """`name` if it fits in `limit`, else a DNS-safe prefix and an 8-hex-digit hash."""
    if len(name) <= limit:
        return name
    digest = f"{fnv32(name.encode()):08x}"
    prefix = dns_safe_shorten(name, limit - len(digest) - 1)
    return f"{prefix}-{digest}" if prefix else digest


def dns_safe_shorten(name: str, limit: int) -> str:
    """At most `limit` characters, ending in an alphanumeric (cert-manager's DNSSafeShorten)."""
    if len(name) < limit:
        return name
    head = name[:limit]
    ends = [m.end() for m in _ALPHANUMERIC.finditer(head)]
    return head[: ends[-1]] if ends else ""


def fnv32(data: bytes) -> int:
    """FNV-1, 32 bits: Go's hash/fnv.New32, which cert-manager's names use."""
    value = _FNV32_OFFSET
    for byte in data:
        value = (value * _FNV32_PRIME) & 0xFFFFFFFF
        value ^= byte
    return value


def next_key_secret_name(certificate: str) -> str:
    """Where a Certificate's next private key waits until the new certificate is stored."""
    return _bounded(certificate, "next-private-key")
