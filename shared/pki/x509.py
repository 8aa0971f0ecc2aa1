"""Reading and inspecting X.509 certificates and chains."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from shared.pki.keys import PUBLIC_KEY_TYPES, PrivateKey, public_keys_equal

__all__ = [
    "CertNames",
    "InvalidCertificate",
    "certificate_names",
    "encode_certificates",
    "fingerprint",
    "is_ca",
    "leaf_matches_key",
    "load_certificate_chain",
    "not_after",
    "not_before",
    "verify_chain",
]


class InvalidCertificate(ValueError):
    """Certificate data that cannot be read, or a chain that does not verify."""


@dataclass(frozen=True)
class CertNames:
    common_name: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    uris: tuple[str, ...]
    emails: tuple[str, ...]


def load_certificate_chain(pem: bytes) -> list[x509.Certificate]:
    """All certificates in PEM data, leaf first as stored; at least one is required."""
    # cert-manager's words (its pki.DecodeX509CertificateChainBytes); the parser's own
    # detail is left out, as Go's x509 says no more than "malformed".
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise InvalidCertificate(
            "error decoding certificate PEM block: no valid certificates found"
        )
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise InvalidCertificate(
            "error parsing X.509 certificate: x509: malformed certificate"
        ) from None


def readable_leaf(pem: bytes | None) -> x509.Certificate | None:
    """The first certificate of a PEM chain; None when absent or unreadable (a Secret or
    request holding garbage is treated as holding nothing)."""
    if not pem:
        return None
    try:
        return load_certificate_chain(pem)[0]
    except InvalidCertificate:
        return None


def encode_certificates(certs: Sequence[x509.Certificate]) -> bytes:
    """PEM bundle, in the order given."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def leaf_matches_key(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether the certificate was issued for this private key."""
    public = cert.public_key()
    if not isinstance(public, PUBLIC_KEY_TYPES):
        return False
    return public_keys_equal(public, key.public_key())


def certificate_names(cert: x509.Certificate | x509.CertificateSigningRequest) -> CertNames:
    """The subject common name and every SAN of a certificate or CSR, in their order."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(cns[0].value) if cns else ""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return CertNames(common_name, (), (), (), ())
    return CertNames(
        common_name=common_name,
        dns_names=tuple(san.get_values_for_type(x509.DNSName)),
        ip_addresses=tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
        uris=tuple(san.get_values_for_type(x509.UniformResourceIdentifier)),
        emails=tuple(san.get_values_for_type(x509.RFC822Name)),
    )


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lowercase hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def not_before(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before_utc.astimezone(UTC)


def not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after_utc.astimezone(UTC)


def verify_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
) -> None:
    """Check that leaf chains to one of roots through intermediates (signatures and names).

    Validity periods are not checked here: callers decide about time with their own clock.
    """
    if not roots:
        raise InvalidCertificate("no trusted root certificates to verify against")
    pool = list(intermediates)
    current = leaf
    for _ in range(len(pool) + 1):
        for root in roots:
            if current.issuer == root.subject and _signed_by(current, root):
                return
        parent = next(
            (c for c in pool if current.issuer == c.subject and _signed_by(current, c)), None
        )
        if parent is None:
            break
        if not is_ca(parent):
            raise InvalidCertificate(
                f"certificate {parent.subject.rfc4514_string()!r} signed "
                f"{current.subject.rfc4514_string()!r} but is not a CA"
            )
        pool.remove(parent)
        current = parent
    raise InvalidCertificate(
        f"certificate {current.subject.rfc4514_string()!r} issued by "
        f"{current.issuer.rfc4514_string()!r} does not chain to a trusted root"
    )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
