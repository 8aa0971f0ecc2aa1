"""Account keys: cert-manager's defaults and encodings; no key material in errors or reprs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.acme.account import (
    AccountInfo,
    ExternalAccountBinding,
    InvalidAccountKeyError,
    account_key_from_pem,
    account_key_to_pem,
    generate_account_key,
    signing_algorithm,
    thumbprint,
)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_account_key()


def test_generated_keys_are_rsa_2048_stored_pkcs1(rsa_key: rsa.RSAPrivateKey) -> None:
    assert rsa_key.key_size == 2048
    pem = account_key_to_pem(rsa_key)
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert thumbprint(account_key_from_pem(pem)) == thumbprint(rsa_key)
    assert signing_algorithm(rsa_key).name == "RS256"


@pytest.mark.parametrize(
    ("curve", "algorithm"),
    [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384")],
)
def test_existing_ec_keys_are_accepted(curve: ec.EllipticCurve, algorithm: str) -> None:
    key = ec.generate_private_key(curve)
    restored = account_key_from_pem(account_key_to_pem(key))
    assert thumbprint(restored) == thumbprint(key)
    assert signing_algorithm(restored).name == algorithm


def test_an_unreadable_key_is_refused_without_echoing_it() -> None:
    secret_looking = b"-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(InvalidAccountKeyError) as raised:
        account_key_from_pem(secret_looking)
    assert "c2VjcmV0" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_the_thumbprint_is_stable_and_public(rsa_key: rsa.RSAPrivateKey) -> None:
    assert thumbprint(rsa_key) == thumbprint(rsa_key)
    assert len(thumbprint(rsa_key)) == 43  # base64url SHA-256, unpadded


def test_eab_hmac_key_stays_out_of_reprs() -> None:
    eab = ExternalAccountBinding(key_id="kid-1", hmac_key="c3VwZXItc2VjcmV0")
    assert "c3VwZXItc2VjcmV0" not in repr(eab)
    assert "kid-1" in repr(eab)


def test_account_info_round_trips() -> None:
    info = AccountInfo(uri="https://ca/acct/1", email="ops@example.com")
    assert AccountInfo.from_dict(info.to_dict()) == info
