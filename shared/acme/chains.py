"""Choosing among the certificate chains a CA offers (the issuer's preferredChain)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID


def chain_certificates(pem_chain: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem_chain)


def topmost_issuer_common_name(pem_chain: bytes) -> str | None:
    """Issuer CN of the last certificate in the chain: the root it chains to."""
    certificates = chain_certificates(pem_chain)
    if not certificates:
        return None
    names = certificates[-1].issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def select_chain(default: bytes, alternates: Sequence[bytes], *, preferred: str | None) -> bytes:
    """The first of default-then-alternates whose topmost certificate was issued by a
    CA with common name `preferred`, as cert-manager does; the default if none is."""
    if not preferred:
        return default
    for chain in (default, *alternates):
        if topmost_issuer_common_name(chain) == preferred:
            return chain
    return default
