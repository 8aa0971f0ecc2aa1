from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from shared.certificates.spec import NameConstraintItems, NameConstraints
from shared.issuers.ca import authority_urls
from shared.pki.csr import build_csr, load_csr
from shared.pki.keys import public_keys_equal
from shared.pki.signing import AuthorityURLs, SigningError, encode_certificate, sign_csr
from shared.pki.x509 import verify_chain
from tests.conftest import require_binary
from tests.unit.pki.factory import NOW, issue, key, self_signed_ca, spec

E = TypeVar("E", bound=x509.ExtensionType)


def _ext(cert: x509.Certificate, kind: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(kind)


def test_leaf_copies_subject_and_sans_and_is_issued_by_the_ca() -> None:
    ca = self_signed_ca()
    leaf = issue(spec(ip_addresses=("10.1.2.3",)), key("RSA", 2048), ca=ca)
    assert leaf.issuer == ca[0].subject
    assert leaf.subject.rfc4514_string() == "CN=web.example.com"
    san = _ext(leaf, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["web.example.com", "www.example.com"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    verify_chain(leaf, [], [ca[0]])


def test_validity_starts_now_and_lasts_the_duration() -> None:
    leaf = issue(spec(), key("ECDSA"), duration=timedelta(hours=1))
    assert leaf.not_valid_before_utc == NOW
    assert leaf.not_valid_after_utc == NOW + timedelta(hours=1)


def test_not_after_is_clamped_to_the_signing_ca_expiry() -> None:
    ca = self_signed_ca(days=30)
    leaf = issue(spec(), key("ECDSA"), ca=ca, duration=timedelta(days=90))
    assert leaf.not_valid_after_utc == ca[0].not_valid_after_utc


def test_an_expired_ca_refuses_to_sign() -> None:
    ca = self_signed_ca(days=1)
    with pytest.raises(SigningError, match="expired"):
        issue(spec(), key("ECDSA"), ca=ca, now=NOW + timedelta(days=2))


def test_self_signed_issuer_is_the_subject_and_key_must_match() -> None:
    k = key("Ed25519")
    csr = load_csr(build_csr(spec=spec(), key=k))
    cert = sign_csr(
        csr=csr,
        signer_key=k,
        signer_cert=None,
        duration=timedelta(days=1),
        is_ca=False,
        usages=(),
        now=NOW,
    )
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    with pytest.raises(SigningError, match="self-signed"):
        sign_csr(
            csr=csr,
            signer_key=key("Ed25519", slot=1),
            signer_cert=None,
            duration=timedelta(days=1),
            is_ca=False,
            usages=(),
            now=NOW,
        )


def test_signer_cert_must_match_signer_key() -> None:
    ca_cert, _ = self_signed_ca()
    csr = load_csr(build_csr(spec=spec(), key=key("ECDSA")))
    with pytest.raises(SigningError, match="does not match"):
        sign_csr(
            csr=csr,
            signer_key=key("ECDSA", slot=7),
            signer_cert=ca_cert,
            duration=timedelta(days=1),
            is_ca=False,
            usages=(),
            now=NOW,
        )


def test_naive_now_is_refused() -> None:
    csr = load_csr(build_csr(spec=spec(), key=key("ECDSA")))
    with pytest.raises(SigningError, match="timezone"):
        sign_csr(
            csr=csr,
            signer_key=key("ECDSA"),
            signer_cert=None,
            duration=timedelta(days=1),
            is_ca=False,
            usages=(),
            now=NOW.replace(tzinfo=None),
        )


def test_serial_is_random_positive_and_at_most_128_bits() -> None:
    serials = {issue(spec(), key("ECDSA")).serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(0 < s < 2**128 for s in serials)


def test_extensions_basic_constraints_key_usage_and_key_ids() -> None:
    ca = self_signed_ca()
    leaf = issue(spec(usages=("digital signature", "server auth")), key("ECDSA"), ca=ca)
    constraints = _ext(leaf, x509.BasicConstraints)
    assert constraints.critical
    assert not constraints.value.ca
    usage = _ext(leaf, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_encipherment
    assert list(_ext(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    aki = _ext(leaf, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == _ext(ca[0], x509.SubjectKeyIdentifier).value.digest
    # As cert-manager's certificates (Go's x509): a leaf has no subject key identifier.
    assert x509.SubjectKeyIdentifier.oid not in {e.oid for e in leaf.extensions}


def test_a_self_signed_ca_has_a_subject_key_identifier_and_no_authority_key_identifier() -> None:
    ca, _ = self_signed_ca()
    ski = _ext(ca, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    assert x509.AuthorityKeyIdentifier.oid not in {e.oid for e in ca.extensions}


def test_is_ca_adds_cert_sign_and_ca_basic_constraint() -> None:
    leaf = issue(spec(is_ca=True), key("ECDSA"))
    assert _ext(leaf, x509.BasicConstraints).value.ca
    assert _ext(leaf, x509.KeyUsage).value.key_cert_sign


@pytest.mark.parametrize(
    ("usage", "oid"),
    [
        ("server auth", ExtendedKeyUsageOID.SERVER_AUTH),
        ("client auth", ExtendedKeyUsageOID.CLIENT_AUTH),
        ("code signing", ExtendedKeyUsageOID.CODE_SIGNING),
        ("email protection", ExtendedKeyUsageOID.EMAIL_PROTECTION),
        ("s/mime", ExtendedKeyUsageOID.EMAIL_PROTECTION),
        ("timestamping", ExtendedKeyUsageOID.TIME_STAMPING),
        ("ocsp signing", ExtendedKeyUsageOID.OCSP_SIGNING),
        ("any", ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE),
        ("ipsec end system", x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5")),
        ("ipsec tunnel", x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6")),
        ("ipsec user", x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7")),
        ("microsoft sgc", x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3")),
        ("netscape sgc", x509.ObjectIdentifier("2.16.840.1.113730.4.1")),
    ],
)
def test_extended_usage_mapping(usage: str, oid: x509.ObjectIdentifier) -> None:
    leaf = issue(spec(usages=(usage,)), key("ECDSA"))
    assert list(_ext(leaf, x509.ExtendedKeyUsage).value) == [oid]


@pytest.mark.parametrize(
    ("usage", "attribute"),
    [
        ("signing", "digital_signature"),
        ("digital signature", "digital_signature"),
        ("content commitment", "content_commitment"),
        ("key encipherment", "key_encipherment"),
        ("key agreement", "key_agreement"),
        ("data encipherment", "data_encipherment"),
        ("cert sign", "key_cert_sign"),
        ("crl sign", "crl_sign"),
        ("encipher only", "encipher_only"),
        ("decipher only", "decipher_only"),
    ],
)
def test_key_usage_mapping(usage: str, attribute: str) -> None:
    leaf = issue(spec(usages=(usage,)), key("ECDSA"))
    assert getattr(_ext(leaf, x509.KeyUsage).value, attribute)


def test_empty_subject_certificate_marks_san_critical() -> None:
    leaf = issue(spec(common_name=""), key("ECDSA"))
    assert len(leaf.subject) == 0
    assert _ext(leaf, x509.SubjectAlternativeName).critical


@pytest.mark.parametrize(
    ("algorithm", "size", "digest"),
    [
        ("RSA", 2048, "sha256"),
        ("RSA", 3072, "sha384"),
        ("RSA", 4096, "sha512"),
        ("ECDSA", 256, "sha256"),
        ("ECDSA", 384, "sha384"),
        ("ECDSA", 521, "sha512"),
        ("Ed25519", None, None),
    ],
)
def test_signature_hash_follows_the_signer_key(
    algorithm: str, size: int | None, digest: str | None
) -> None:
    ca = self_signed_ca(signer=key(algorithm, size, slot=50))
    leaf = issue(spec(), key("ECDSA"), ca=ca)
    hash_algorithm = leaf.signature_hash_algorithm
    assert (hash_algorithm.name if hash_algorithm else None) == digest
    verify_chain(leaf, [], [ca[0]])


def test_openssl_accepts_the_chain(tmp_path: Path) -> None:
    openssl = require_binary("openssl")
    root = self_signed_ca(signer=key("RSA", 2048, slot=60), name="Root")
    intermediate_cert = issue(
        spec(common_name="Intermediate", dns_names=(), is_ca=True),
        key("ECDSA", 384, slot=61),
        ca=root,
        duration=timedelta(days=365),
    )
    intermediate = (intermediate_cert, key("ECDSA", 384, slot=61))
    leaf = issue(
        spec(usages=("digital signature", "key encipherment", "server auth")),
        key("RSA", 2048),
        ca=intermediate,
    )
    (tmp_path / "root.pem").write_bytes(encode_certificate(root[0]))
    (tmp_path / "int.pem").write_bytes(encode_certificate(intermediate_cert))
    (tmp_path / "leaf.pem").write_bytes(encode_certificate(leaf))
    result = subprocess.run(
        [
            openssl,
            "verify",
            "-x509_strict",
            "-attime",
            str(int(NOW.timestamp()) + 60),
            "-purpose",
            "sslserver",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(tmp_path / "int.pem"),
            str(tmp_path / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("OK")


def test_encode_certificate_is_pem_that_loads_back() -> None:
    leaf = issue(spec(), key("ECDSA"))
    pem = encode_certificate(leaf)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(pem) == leaf
    assert public_keys_equal(leaf.public_key(), key("ECDSA").public_key())


def test_ca_certificate_keeps_requested_name_constraints() -> None:
    constraints = NameConstraints(
        critical=True, permitted=NameConstraintItems(dns_domains=("example.com",))
    )
    ca_spec = spec(common_name="Sub CA", dns_names=(), is_ca=True, name_constraints=constraints)
    sub = issue(ca_spec, key("ECDSA", slot=40))
    extension = _ext(sub, x509.NameConstraints)
    assert extension.critical
    assert extension.value.permitted_subtrees == [x509.DNSName("example.com")]


def test_a_ca_issuers_crl_ocsp_and_issuing_certificate_urls_are_written_into_the_leaf() -> None:
    ca_cert, ca_key = self_signed_ca()
    urls = authority_urls(
        {
            "secretName": "ca",
            "crlDistributionPoints": ["http://crl.example.com/a.crl", "http://crl2.example.com/"],
            "ocspServers": ["http://ocsp.example.com"],
            "issuingCertificateURLs": ["http://ca.example.com/ca.crt"],
        }
    )
    leaf = sign_csr(
        csr=load_csr(build_csr(spec=spec(), key=key("ECDSA"))),
        signer_key=ca_key,
        signer_cert=ca_cert,
        duration=timedelta(days=1),
        is_ca=False,
        usages=(),
        now=NOW,
        urls=urls,
    )
    points = _ext(leaf, x509.CRLDistributionPoints)
    assert not points.critical
    assert [[n.value for n in p.full_name or ()] for p in points.value] == [
        ["http://crl.example.com/a.crl"],
        ["http://crl2.example.com/"],
    ]
    access = _ext(leaf, x509.AuthorityInformationAccess).value
    assert [(d.access_method, d.access_location.value) for d in access] == [
        (AuthorityInformationAccessOID.OCSP, "http://ocsp.example.com"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "http://ca.example.com/ca.crt"),
    ]


def test_a_ca_issuer_without_urls_adds_no_crl_or_authority_access_extension() -> None:
    leaf = issue(spec(), key("ECDSA"))
    names = {e.oid for e in leaf.extensions}
    assert x509.CRLDistributionPoints.oid not in names
    assert x509.AuthorityInformationAccess.oid not in names
    assert authority_urls({"secretName": "ca"}) == AuthorityURLs()
