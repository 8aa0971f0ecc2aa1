from __future__ import annotations

import ipaddress
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.certificates.spec import NameConstraintItems, NameConstraints, OtherName, Subject
from shared.pki.csr import (
    InvalidCSR,
    build_csr,
    build_name_constraints,
    build_subject,
    load_csr,
)
from shared.pki.keys import public_keys_equal
from tests.unit.pki.factory import key, spec

E = TypeVar("E", bound=x509.ExtensionType)


def _ext(csr: x509.CertificateSigningRequest, kind: type[E]) -> x509.Extension[E]:
    return csr.extensions.get_extension_for_class(kind)


def test_csr_carries_every_name_kind() -> None:
    request = spec(
        common_name="svc.example.com",
        dns_names=("svc.example.com", "*.svc.example.com"),
        ip_addresses=("10.0.0.1", "2001:db8::1"),
        uris=("spiffe://cluster.local/ns/default/sa/web",),
        email_addresses=("ops@example.com",),
    )
    csr = load_csr(build_csr(spec=request, key=key("ECDSA")))
    san = _ext(csr, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["svc.example.com", "*.svc.example.com"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.1"),
        ipaddress.ip_address("2001:db8::1"),
    ]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://cluster.local/ns/default/sa/web"
    ]
    assert san.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "svc.example.com"
    assert not _ext(csr, x509.SubjectAlternativeName).critical


def test_csr_subject_carries_every_subject_field_in_go_order() -> None:
    subject = Subject(
        organizations=("Acme", "Acme Two"),
        countries=("GB",),
        organizational_units=("Platform",),
        localities=("London",),
        provinces=("Greater London",),
        street_addresses=("1 High St",),
        postal_codes=("N1 9GU",),
        serial_number="1234",
    )
    csr = load_csr(build_csr(spec=spec(subject=subject), key=key("ECDSA")))
    oids = [attr.oid for attr in csr.subject]
    assert oids == [
        NameOID.COUNTRY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.STREET_ADDRESS,
        NameOID.POSTAL_CODE,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.COMMON_NAME,
        NameOID.SERIAL_NUMBER,
    ]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "Acme",
        "Acme Two",
    ]


def test_literal_subject_is_used_verbatim() -> None:
    request = spec(common_name="", literal_subject="CN=app,O=Acme,C=GB", dns_names=("a.example",))
    csr = load_csr(build_csr(spec=request, key=key("ECDSA")))
    assert csr.subject == x509.Name.from_rfc4514_string("CN=app,O=Acme,C=GB")


def test_invalid_literal_subject_raises_value_error() -> None:
    with pytest.raises(ValueError, match="literalSubject"):
        build_subject(common_name="", subject=Subject(), literal_subject="not a dn")


def test_empty_subject_marks_san_critical() -> None:
    csr = load_csr(build_csr(spec=spec(common_name=""), key=key("ECDSA")))
    assert len(csr.subject) == 0
    assert _ext(csr, x509.SubjectAlternativeName).critical


def test_default_usages_are_encoded_as_critical_key_usage() -> None:
    csr = load_csr(build_csr(spec=spec(), key=key("RSA", 2048)))
    usage = _ext(csr, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    with pytest.raises(x509.ExtensionNotFound):
        _ext(csr, x509.ExtendedKeyUsage)


def test_extended_usages_are_encoded() -> None:
    request = spec(usages=("digital signature", "server auth", "client auth"))
    csr = load_csr(build_csr(spec=request, key=key("ECDSA")))
    eku = _ext(csr, x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def test_encode_usages_in_request_false_leaves_usages_out() -> None:
    request = spec(usages=("server auth",), encode_usages_in_request=False)
    csr = load_csr(build_csr(spec=request, key=key("ECDSA")))
    for kind in (x509.KeyUsage, x509.ExtendedKeyUsage):
        with pytest.raises(x509.ExtensionNotFound):
            _ext(csr, kind)


def test_is_ca_adds_basic_constraints_and_cert_sign() -> None:
    csr = load_csr(build_csr(spec=spec(is_ca=True), key=key("ECDSA")))
    constraints = _ext(csr, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert _ext(csr, x509.KeyUsage).value.key_cert_sign


def test_non_ca_csr_has_no_basic_constraints() -> None:
    csr = load_csr(build_csr(spec=spec(), key=key("ECDSA")))
    with pytest.raises(x509.ExtensionNotFound):
        _ext(csr, x509.BasicConstraints)


@pytest.mark.parametrize(
    ("algorithm", "size"), [("RSA", 2048), ("ECDSA", 256), ("ECDSA", 384), ("Ed25519", None)]
)
def test_csr_is_signed_by_and_carries_the_key(algorithm: str, size: int | None) -> None:
    k = key(algorithm, size)
    csr = load_csr(build_csr(spec=spec(), key=k))
    assert csr.is_signature_valid
    assert public_keys_equal(csr.public_key(), k.public_key())


def test_load_csr_rejects_garbage() -> None:
    with pytest.raises(InvalidCSR):
        load_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")


def test_load_csr_rejects_a_tampered_signature() -> None:
    from cryptography.hazmat.primitives import serialization

    der = bytearray(
        load_csr(build_csr(spec=spec(), key=key("ECDSA"))).public_bytes(serialization.Encoding.DER)
    )
    der[-3] ^= 0xFF  # inside the signature value
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(InvalidCSR, match="signature"):
        load_csr(tampered)


def test_other_names_are_utf8_string_sans() -> None:
    request = spec(other_names=(OtherName("1.3.6.1.4.1.311.20.2.3", "upn@example.com"),))
    csr = load_csr(build_csr(spec=request, key=key("ECDSA")))
    (other,) = _ext(csr, x509.SubjectAlternativeName).value.get_values_for_type(x509.OtherName)
    assert other.type_id.dotted_string == "1.3.6.1.4.1.311.20.2.3"
    assert other.value == b"\x0c\x0fupn@example.com"


def test_ca_csr_carries_name_constraints() -> None:
    constraints = NameConstraints(
        critical=True,
        permitted=NameConstraintItems(dns_domains=("example.com",), ip_ranges=("10.0.0.0/8",)),
        excluded=NameConstraintItems(email_addresses=("bad@example.com",)),
    )
    csr = load_csr(build_csr(spec=spec(is_ca=True, name_constraints=constraints), key=key("ECDSA")))
    extension = _ext(csr, x509.NameConstraints)
    assert extension.critical
    assert extension.value.permitted_subtrees == [
        x509.DNSName("example.com"),
        x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")),
    ]
    assert extension.value.excluded_subtrees == [x509.RFC822Name("bad@example.com")]


def test_name_constraints_need_is_ca_and_content() -> None:
    empty = NameConstraints(permitted=NameConstraintItems())
    assert build_name_constraints(empty) is None
    assert build_name_constraints(None) is None
    leaf = spec(name_constraints=NameConstraints(permitted=NameConstraintItems(dns_domains=("a",))))
    csr = load_csr(build_csr(spec=leaf, key=key("ECDSA")))
    with pytest.raises(x509.ExtensionNotFound):
        _ext(csr, x509.NameConstraints)
