"""Certificate signing requests built from a Certificate spec, as cert-manager builds them."""

from __future__ import annotations

import functools
import ipaddress
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from shared.certificates.spec import (
    CertificateSpec,
    NameConstraintItems,
    NameConstraints,
    OtherName,
    Subject,
)
from shared.pki import _der
from shared.pki.keys import PrivateKey, signature_hash
from shared.pki.usages import resolve_usages

__all__ = [
    "InvalidCSR",
    "build_csr",
    "build_name_constraints",
    "build_sans",
    "build_subject",
    "load_csr",
]


class InvalidCSR(ValueError):
    """A CSR that cannot be decoded or whose signature does not verify."""


def build_csr(*, spec: CertificateSpec, key: PrivateKey) -> bytes:
    """PEM CSR carrying the spec's subject, SANs, isCA and (unless disabled) usages."""
    subject = build_subject(
        common_name=spec.common_name, subject=spec.subject, literal_subject=spec.literal_subject
    )
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    sans = build_sans(
        dns_names=spec.dns_names,
        ip_addresses=spec.ip_addresses,
        uris=spec.uris,
        emails=spec.email_addresses,
        other_names=spec.other_names,
    )
    if sans is not None:
        # RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
        builder = builder.add_extension(sans, critical=len(subject) == 0)
    if spec.is_ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
        constraints = build_name_constraints(spec.name_constraints)
        if constraints is not None and spec.name_constraints is not None:
            builder = builder.add_extension(constraints, critical=spec.name_constraints.critical)
    if spec.encode_usages_in_request:
        usages = resolve_usages(spec.usages, is_ca=spec.is_ca)
        if usages.key_usage is not None:
            builder = builder.add_extension(usages.key_usage, critical=True)
        if usages.extended_key_usage is not None:
            builder = builder.add_extension(usages.extended_key_usage, critical=False)
    csr = builder.sign(key, signature_hash(key))
    return csr.public_bytes(serialization.Encoding.PEM)


# Distinct CSRs remembered, decoded and verified: enough for every Certificate in
# flight at once; bounded, so memory does not grow with the number of Certificates.
LOADED_CSRS: Final = 1024


@functools.lru_cache(maxsize=LOADED_CSRS)
def load_csr(pem: bytes) -> x509.CertificateSigningRequest:
    """Decode a PEM CSR and check its self-signature, once per distinct CSR.

    One issuance meets the same CSR several times (signing the request, then checking
    the request against the key and the spec, on each event about it); the decoded
    object is immutable, so later calls get the one decoded first. A CSR that fails
    raises every time (exceptions are not remembered).
    """
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError as exc:
        raise InvalidCSR(f"could not decode PEM certificate request: {exc}") from None
    if not csr.is_signature_valid:
        raise InvalidCSR("certificate request signature does not verify")
    return csr


def build_subject(*, common_name: str, subject: Subject, literal_subject: str = "") -> x509.Name:
    """The subject DN; attribute order follows Go's pkix.Name as cert-manager emits it."""
    if literal_subject:
        try:
            return x509.Name.from_rfc4514_string(literal_subject)
        except ValueError as exc:
            raise ValueError(f"invalid literalSubject: {exc}") from None
    attributes: list[x509.NameAttribute[str]] = []
    for oid, values in (
        (NameOID.COUNTRY_NAME, subject.countries),
        (NameOID.STATE_OR_PROVINCE_NAME, subject.provinces),
        (NameOID.LOCALITY_NAME, subject.localities),
        (NameOID.STREET_ADDRESS, subject.street_addresses),
        (NameOID.POSTAL_CODE, subject.postal_codes),
        (NameOID.ORGANIZATION_NAME, subject.organizations),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, subject.organizational_units),
    ):
        attributes.extend(x509.NameAttribute(oid, value) for value in values)
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if subject.serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, subject.serial_number))
    return x509.Name(attributes)


def build_sans(
    *,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    uris: tuple[str, ...],
    emails: tuple[str, ...],
    other_names: tuple[OtherName, ...] = (),
) -> x509.SubjectAlternativeName | None:
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    names += [x509.UniformResourceIdentifier(u) for u in uris]
    names += [x509.RFC822Name(e) for e in emails]
    names += [
        # The value is a DER UTF8String, as cert-manager encodes utf8Value.
        x509.OtherName(x509.ObjectIdentifier(o.oid), _der.tlv(0x0C, o.utf8_value.encode()))
        for o in other_names
    ]
    return x509.SubjectAlternativeName(names) if names else None


def build_name_constraints(constraints: NameConstraints | None) -> x509.NameConstraints | None:
    """The NameConstraints extension value for a CA, or None when nothing is constrained."""
    if constraints is None:
        return None
    permitted = _subtrees(constraints.permitted)
    excluded = _subtrees(constraints.excluded)
    if permitted is None and excluded is None:
        return None
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)


def _subtrees(items: NameConstraintItems | None) -> list[x509.GeneralName] | None:
    if items is None:
        return None
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in items.dns_domains]
    names += [x509.IPAddress(ipaddress.ip_network(r)) for r in items.ip_ranges]
    names += [x509.RFC822Name(e) for e in items.email_addresses]
    names += [x509.UniformResourceIdentifier(u) for u in items.uri_domains]
    return names or None
