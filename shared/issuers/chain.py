"""Split an issued chain into what goes in tls.crt and what goes in ca.crt.

As cert-manager does: tls.crt is the leaf followed by intermediates; a self-signed
root never rides along in it and is returned as the CA instead. Without a root, the
highest certificate we know is the CA.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding


def _pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def split_chain(certs: Sequence[x509.Certificate]) -> tuple[bytes, bytes | None]:
    """(tls.crt, ca.crt) from a leaf-first chain; duplicates are dropped."""
    unique: list[x509.Certificate] = []
    for cert in certs:
        if cert not in unique:
            unique.append(cert)
    if not unique:
        raise ValueError("empty certificate chain")
    if len(unique) == 1:
        return _pem(unique), None
    if is_self_signed(unique[-1]):
        return _pem(unique[:-1]), _pem(unique[-1:])
    return _pem(unique), _pem(unique[-1:])
