"""Certificates built for tests (no CA needed beyond a throwaway key)."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificate(
    *,
    subject: str,
    issuer: str,
    serial: int = 1,
    key_identifier: bytes | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """A PEM certificate with the given names; AKI keyid when `key_identifier` is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if key_identifier is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=key_identifier,
                authority_cert_issuer=None,
                authority_cert_serial_number=None,
            ),
            critical=False,
        )
    signed = builder.sign(issuer_key or key, hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM)
