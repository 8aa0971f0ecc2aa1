from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.pki.signing import encode_certificate
from shared.pki.x509 import (
    InvalidCertificate,
    certificate_names,
    encode_certificates,
    fingerprint,
    is_ca,
    leaf_matches_key,
    load_certificate_chain,
    not_after,
    not_before,
    verify_chain,
)
from tests.unit.pki.factory import NOW, issue, key, self_signed_ca, spec


def _chain() -> tuple[x509.Certificate, x509.Certificate, x509.Certificate]:
    root = self_signed_ca(name="Root")
    inter_key = key("ECDSA", 256, slot=20)
    inter = issue(spec(common_name="Inter", dns_names=(), is_ca=True), inter_key, ca=root)
    leaf = issue(spec(), key("ECDSA"), ca=(inter, inter_key))
    return root[0], inter, leaf


def test_load_certificate_chain_keeps_order() -> None:
    root, inter, leaf = _chain()
    pem = encode_certificates([leaf, inter, root])
    assert load_certificate_chain(pem) == [leaf, inter, root]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_load_certificate_chain_rejects_garbage(data: bytes) -> None:
    with pytest.raises(InvalidCertificate):
        load_certificate_chain(data)


def test_certificate_names_lists_cn_and_every_san() -> None:
    leaf = issue(
        spec(
            ip_addresses=("10.0.0.1", "::1"),
            uris=("spiffe://td/wl",),
            email_addresses=("a@example.com",),
        ),
        key("ECDSA"),
    )
    names = certificate_names(leaf)
    assert names.common_name == "web.example.com"
    assert names.dns_names == ("web.example.com", "www.example.com")
    assert names.ip_addresses == ("10.0.0.1", "::1")
    assert names.uris == ("spiffe://td/wl",)
    assert names.emails == ("a@example.com",)


def test_certificate_names_without_sans() -> None:
    ca_cert, _ = self_signed_ca()
    names = certificate_names(ca_cert)
    assert names.common_name == "Test Root CA"
    assert names.dns_names == names.ip_addresses == names.uris == names.emails == ()


def test_is_ca() -> None:
    root, inter, leaf = _chain()
    assert is_ca(root)
    assert is_ca(inter)
    assert not is_ca(leaf)


def test_fingerprint_is_sha256_of_der() -> None:
    leaf = issue(spec(), key("ECDSA"))
    expected = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert fingerprint(leaf) == expected


def test_validity_accessors_are_utc_aware() -> None:
    leaf = issue(spec(), key("ECDSA"), duration=timedelta(hours=2))
    assert not_before(leaf) == NOW
    assert not_after(leaf) == NOW + timedelta(hours=2)


def test_leaf_matches_key() -> None:
    leaf = issue(spec(), key("ECDSA"))
    assert leaf_matches_key(leaf, key("ECDSA"))
    assert not leaf_matches_key(leaf, key("ECDSA", slot=3))


def test_verify_chain_through_an_intermediate() -> None:
    root, inter, leaf = _chain()
    verify_chain(leaf, [inter], [root])


def test_verify_chain_without_the_intermediate_names_the_missing_issuer() -> None:
    root, _inter, leaf = _chain()
    with pytest.raises(InvalidCertificate, match=r"CN=Inter.*does not chain to a trusted root"):
        verify_chain(leaf, [], [root])


def test_verify_chain_rejects_an_untrusted_root() -> None:
    _root, inter, leaf = _chain()
    other = self_signed_ca(signer=key("ECDSA", 256, slot=21), name="Root")[0]
    with pytest.raises(InvalidCertificate):
        verify_chain(leaf, [inter], [other])


def test_verify_chain_rejects_a_non_ca_intermediate() -> None:
    root = self_signed_ca(name="Root")
    fake_key = key("ECDSA", 256, slot=22)
    not_a_ca = issue(spec(common_name="Fake", dns_names=()), fake_key, ca=root)
    leaf = issue(spec(), key("ECDSA"), ca=(not_a_ca, fake_key))
    with pytest.raises(InvalidCertificate, match="is not a CA"):
        verify_chain(leaf, [not_a_ca], [root[0]])


def test_verify_chain_needs_roots() -> None:
    leaf = issue(spec(), key("ECDSA"))
    with pytest.raises(InvalidCertificate, match="no trusted root"):
        verify_chain(leaf, [], [])


def test_encode_certificates_round_trips() -> None:
    leaf = issue(spec(), key("ECDSA"))
    assert encode_certificates([leaf]) == encode_certificate(leaf)
