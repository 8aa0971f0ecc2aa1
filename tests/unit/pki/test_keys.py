from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.pki.keys import (
    InvalidPrivateKey,
    PrivateKey,
    encode_private_key,
    generate_private_key,
    key_matches_spec,
    load_private_key,
    public_keys_equal,
    signature_hash,
)
from tests.unit.pki.factory import key

KINDS = [
    ("RSA", None, 2048),
    ("RSA", 2048, 2048),
    ("RSA", 3072, 3072),
    ("RSA", 4096, 4096),
    ("ECDSA", None, 256),
    ("ECDSA", 256, 256),
    ("ECDSA", 384, 384),
    ("ECDSA", 521, 521),
    ("Ed25519", None, None),
]
PEM_LABELS = {
    ("RSA", "PKCS1"): b"-----BEGIN RSA PRIVATE KEY-----",
    ("ECDSA", "PKCS1"): b"-----BEGIN EC PRIVATE KEY-----",
    ("Ed25519", "PKCS1"): b"-----BEGIN PRIVATE KEY-----",
    ("RSA", "PKCS8"): b"-----BEGIN PRIVATE KEY-----",
    ("ECDSA", "PKCS8"): b"-----BEGIN PRIVATE KEY-----",
    ("Ed25519", "PKCS8"): b"-----BEGIN PRIVATE KEY-----",
}


def _size(k: PrivateKey) -> int | None:
    if isinstance(k, rsa.RSAPrivateKey):
        return k.key_size
    if isinstance(k, ec.EllipticCurvePrivateKey):
        return k.curve.key_size
    return None


@pytest.mark.parametrize(("algorithm", "size", "bits"), KINDS)
def test_generated_key_has_requested_algorithm_and_default_size(
    algorithm: str, size: int | None, bits: int | None
) -> None:
    k = key(algorithm, size)
    assert _size(k) == bits
    assert key_matches_spec(k, algorithm=algorithm, size=size)


@pytest.mark.parametrize(("algorithm", "size", "bits"), KINDS)
@pytest.mark.parametrize("encoding", ["PKCS1", "PKCS8"])
def test_every_algorithm_and_encoding_round_trips_with_cert_manager_pem_label(
    algorithm: str, size: int | None, bits: int | None, encoding: str
) -> None:
    k = key(algorithm, size)
    pem = encode_private_key(k, encoding=encoding)
    assert pem.startswith(PEM_LABELS[(algorithm, encoding)])
    loaded = load_private_key(pem)
    assert public_keys_equal(loaded.public_key(), k.public_key())
    assert _size(loaded) == bits


def test_pkcs1_is_the_default_encoding() -> None:
    assert encode_private_key(key("RSA", 2048)).startswith(b"-----BEGIN RSA PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("algorithm", "size"),
    [("RSA", 1024), ("RSA", 16384), ("ECDSA", 224), ("ECDSA", 512), ("DSA", None), ("rsa", None)],
)
def test_unsupported_algorithm_or_size_is_refused(algorithm: str, size: int | None) -> None:
    with pytest.raises(InvalidPrivateKey):
        generate_private_key(algorithm=algorithm, size=size)


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(InvalidPrivateKey, match="encoding"):
        encode_private_key(key("ECDSA"), encoding="DER")


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not a key",
        b"-----BEGIN RSA PRIVATE KEY-----\nQUJDRA==\n-----END RSA PRIVATE KEY-----\n",
    ],
)
def test_undecodable_key_raises_without_echoing_input(garbage: bytes) -> None:
    with pytest.raises(InvalidPrivateKey) as caught:
        load_private_key(garbage)
    assert "QUJDRA" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_truncated_real_key_error_contains_no_key_material() -> None:
    pem = encode_private_key(key("RSA", 2048))
    body = pem.splitlines()[1:-1]
    truncated = b"\n".join([pem.splitlines()[0], *body[:5], pem.splitlines()[-1]])
    with pytest.raises(InvalidPrivateKey) as caught:
        load_private_key(truncated)
    for line in body[:5]:
        assert line.decode() not in str(caught.value)


def test_encrypted_key_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization

    pem = key("ECDSA").private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(InvalidPrivateKey):
        load_private_key(pem)


@pytest.mark.parametrize(
    ("algorithm", "size", "matches"),
    [
        ("ECDSA", None, True),
        ("ECDSA", 256, True),
        ("ECDSA", 384, False),
        ("RSA", None, False),
        ("Ed25519", None, False),
    ],
)
def test_key_matches_spec_compares_algorithm_and_effective_size(
    algorithm: str, size: int | None, matches: bool
) -> None:
    assert key_matches_spec(key("ECDSA", 256), algorithm=algorithm, size=size) is matches


def test_rsa_default_size_is_2048_when_matching() -> None:
    assert key_matches_spec(key("RSA", 2048), algorithm="RSA", size=None)
    assert not key_matches_spec(key("RSA", 3072), algorithm="RSA", size=None)


def test_public_keys_equal_distinguishes_keys() -> None:
    a, b = key("ECDSA", 256), key("ECDSA", 256, slot=1)
    assert public_keys_equal(a.public_key(), a.public_key())
    assert not public_keys_equal(a.public_key(), b.public_key())
    assert not public_keys_equal(a.public_key(), key("Ed25519").public_key())


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
def test_signature_hash_follows_key_strength(
    algorithm: str, size: int | None, digest: str | None
) -> None:
    chosen = signature_hash(key(algorithm, size))
    assert (chosen.name if chosen else None) == digest


def test_ed25519_keys_are_ed25519() -> None:
    assert isinstance(key("Ed25519"), ed25519.Ed25519PrivateKey)
