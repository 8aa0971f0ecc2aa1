"""The bundle's content: every certificate from the sources, parsed, deduplicated, sorted."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

BEGIN = "-----BEGIN CERTIFICATE-----"


class InvalidPEM(ValueError):
    """A source holds something other than PEM certificates; the message says which."""


def assemble(sources: Iterable[tuple[str, str]]) -> str:
    """One PEM string of every distinct certificate in (description, text) sources.

    As trust-manager's certificate pool: each source must hold at least one certificate
    and nothing unparsable; duplicates are kept once and the order is stable (sorted by
    DER), so an unchanged set of certificates always gives the same bytes.
    """
    distinct: dict[bytes, x509.Certificate] = {}
    for description, text in sources:
        if BEGIN not in text:
            raise InvalidPEM(f"{description}: no PEM certificate found")
        try:
            certificates = x509.load_pem_x509_certificates(text.encode())
        except ValueError as error:
            raise InvalidPEM(f"{description}: invalid PEM certificate: {error}") from None
        for certificate in certificates:
            distinct.setdefault(certificate.public_bytes(Encoding.DER), certificate)
    return "".join(distinct[der].public_bytes(Encoding.PEM).decode() for der in sorted(distinct))
