"""Signing CSRs into certificates, as cert-manager's SelfSigned and CA issuers do."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID

from shared.pki.keys import (
    PUBLIC_KEY_TYPES,
    PrivateKey,
    PublicKey,
    public_keys_equal,
    signature_hash,
)
from shared.pki.usages import resolve_usages

__all__ = ["AuthorityURLs", "SigningError", "encode_certificate", "sign_csr"]


@dataclass(frozen=True)
class AuthorityURLs:
    """A CA issuer's crlDistributionPoints, ocspServers and issuingCertificateURLs."""

    crl_distribution_points: tuple[str, ...] = ()
    ocsp_servers: tuple[str, ...] = ()
    issuing_certificate_urls: tuple[str, ...] = ()

    def add_to(self, builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
        if self.crl_distribution_points:
            # One distribution point per URL, each a full name, as Go's x509 writes them.
            points = [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(url)],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
                for url in self.crl_distribution_points
            ]
            builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url)
            )
            for url in self.ocsp_servers
        ] + [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url)
            )
            for url in self.issuing_certificate_urls
        ]
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        return builder


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
    urls: AuthorityURLs | None = None,
) -> x509.Certificate:
    """Issue a certificate for the CSR's key, subject and SANs.

    `csr` comes from `load_csr`, which has checked its signature (not checked again:
    the check costs as much as the signing). `signer_cert` None means self-signed: the
    CSR must carry `signer_key`'s public key and the issuer name is the CSR's subject.
    A CA never issues past its own expiry, so notAfter is clamped to the signer's
    notAfter. `urls` are the CA issuer's CRL, OCSP and issuing-certificate locations,
    written into the certificate as cert-manager does.
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
        authority_key_id = None  # self-signed: Go's x509 (cert-manager's) writes none
        not_after = now + duration
    else:
        if not public_keys_equal(_public_key(signer_cert.public_key()), signer_public):
            raise SigningError("the signing certificate does not match the signing private key")
        issuer = signer_cert.subject
        authority_key_id = _authority_key_id(signer_cert, csr.subject)
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
    )
    # As Go's x509 does for cert-manager: a subject key identifier on CA certificates
    # only, an authority key identifier only when signed by another certificate that has one.
    if is_ca:
        ski = x509.SubjectKeyIdentifier.from_public_key(public)
        builder = builder.add_extension(ski, critical=False)
    if authority_key_id is not None:
        builder = builder.add_extension(authority_key_id, critical=False)
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
    if urls is not None:
        builder = urls.add_to(builder)
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
    signer_cert: x509.Certificate, subject: x509.Name
) -> x509.AuthorityKeyIdentifier | None:
    if signer_cert.subject == subject:
        return None  # issuer and subject alike: self-issued, as Go's x509 sees it
    try:
        ski = signer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
