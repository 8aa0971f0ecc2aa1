"""Signing CSRs into certificates, as cert-manager's SelfSigned and CA issuers do."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.pki.keys import (
    PUBLIC_KEY_TYPES,
    PrivateKey,
    PublicKey,
    public_keys_equal,
    signature_hash,
)
from shared.pki.usages import resolve_usages

__all__ = ["SigningError", "encode_certificate", "sign_csr"]


class SigningError(ValueError):
    """The CSR cannot be signed as asked; the message says why (never key material)."""


def sign_csr(
    *,
    csr: x509.CertificateSigningRequest,
    signer_key: PrivateKey,
    signer_cert: x509.Certificate | None,
    duration: timedelta,
    is_ca: bool,
    usages: Sequence[str],
    now: datetime,
) -> x509.Certificate:
    """Issue a certificate for the CSR's key, subject and SANs.

    `csr` comes from `load_csr`, which has checked its signature (not checked again:
    the check costs as much as the signing). `signer_cert` None means self-signed: the
    CSR must carry `signer_key`'s public key and the issuer name is the CSR's subject.
    A CA never issues past its own expiry, so notAfter is clamped to the signer's
    notAfter.
    """
    if now.tzinfo is None:
        raise SigningError("now must be timezone-aware")
    public = _public_key(csr.public_key())
    signer_public = signer_key.public_key()
    if signer_cert is None:
        if not public_keys_equal(public, signer_public):
            raise SigningError(
                "self-signed certificate requests must be signed with the issuing private key"
            )
        issuer = csr.subject
        authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public)
        not_after = now + duration
    else:
        if not public_keys_equal(_public_key(signer_cert.public_key()), signer_public):
            raise SigningError("the signing certificate does not match the signing private key")
        issuer = signer_cert.subject
        authority_key_id = _authority_key_id(signer_cert, signer_public)
        not_after = min(now + duration, signer_cert.not_valid_after_utc)
        if not_after <= now:
            raise SigningError(
                "the signing CA certificate expired at "
                f"{signer_cert.not_valid_after_utc.isoformat()}"
            )

    resolved = resolve_usages(usages, is_ca=is_ca)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(authority_key_id, critical=False)
    )
    if resolved.key_usage is not None:
        builder = builder.add_extension(resolved.key_usage, critical=True)
    if resolved.extended_key_usage is not None:
        builder = builder.add_extension(resolved.extended_key_usage, critical=False)
    if is_ca:
        # A CA keeps the NameConstraints it asked for; they bind what it may issue.
        try:
            constraints = csr.extensions.get_extension_for_class(x509.NameConstraints)
        except x509.ExtensionNotFound:
            pass
        else:
            builder = builder.add_extension(constraints.value, critical=constraints.critical)
    sans = _requested_sans(csr)
    if sans is not None:
        # RFC 5280 4.2.1.6: a certificate with an empty subject must mark SANs critical.
        builder = builder.add_extension(sans, critical=len(csr.subject) == 0)
    return builder.sign(signer_key, signature_hash(signer_key))


def encode_certificate(cert: x509.Certificate) -> bytes:
    """PEM encoding of one certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _serial_number() -> int:
    # cert-manager draws from [0, 2^128); zero is not a valid serial, so redraw.
    serial = 0
    while serial == 0:
        serial = secrets.randbits(128)
    return serial


def _public_key(key: object) -> PublicKey:
    if not isinstance(key, PUBLIC_KEY_TYPES):
        raise SigningError(f"unsupported public key type {type(key).__name__}")
    return key


def _requested_sans(csr: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _authority_key_id(
    signer_cert: x509.Certificate, signer_public: PublicKey
) -> x509.AuthorityKeyIdentifier:
    try:
        ski = signer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public)
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
