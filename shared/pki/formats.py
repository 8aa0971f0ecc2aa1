"""Additional output formats and keystores cert-manager can add to the Secret.

PKCS#12 profiles follow cert-manager's documentation:
- LegacyRC2 (default): certificates RC2-40, key 3DES, SHA-1 MAC (old Java/Windows).
- LegacyDES: certificates and key 3DES, SHA-1 MAC (maximal compatibility).
- Modern2023: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), SHA-256 MAC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shared.pki import _der, _jks, _pkcs12
from shared.pki.keys import PrivateKey, public_keys_equal

__all__ = [
    "PKCS12_PROFILES",
    "combined_pem",
    "der_private_key",
    "jks_keystore",
    "jks_keystore_matches",
    "jks_truststore",
    "jks_truststore_matches",
    "pkcs12_keystore",
    "pkcs12_keystore_matches",
    "pkcs12_truststore",
    "pkcs12_truststore_matches",
]

PKCS12_PROFILES: Final[tuple[str, ...]] = _pkcs12.PROFILES
_ITERATIONS: Final = 2048  # go-pkcs12's iteration count for every profile


def der_private_key(key: PrivateKey) -> bytes:
    """additionalOutputFormats DER ("key.der"): the key as PKCS#8 DER."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def combined_pem(key_pem: bytes, chain_pem: bytes) -> bytes:
    """additionalOutputFormats CombinedPEM ("tls-combined.pem"): key, then the chain."""
    key_part = key_pem if key_pem.endswith(b"\n") else key_pem + b"\n"
    return key_part + chain_pem


def pkcs12_keystore(
    *,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    ca: Sequence[x509.Certificate],
    password: bytes,
    profile: str = "LegacyRC2",
) -> bytes:
    """keystore.p12: the key, the leaf, then intermediates and CA certificates."""
    if not chain:
        raise ValueError("a keystore needs at least the leaf certificate")
    _check_profile(profile)
    return _pkcs12.encode(
        key=key, certs=[*chain, *ca], password=password, profile=profile, iterations=_ITERATIONS
    )


def pkcs12_truststore(
    *, ca: Sequence[x509.Certificate], password: bytes, profile: str = "LegacyRC2"
) -> bytes:
    """truststore.p12: CA certificates marked trusted for any purpose (Java reads these)."""
    if not ca:
        raise ValueError("a truststore needs at least one CA certificate")
    _check_profile(profile)
    return _pkcs12.encode(
        key=None, certs=list(ca), password=password, profile=profile, iterations=_ITERATIONS
    )


def jks_keystore(
    *,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    ca: Sequence[x509.Certificate],
    password: bytes,
    alias: str = "certificate",
    now: datetime | None = None,
) -> bytes:
    """keystore.jks: the key and chain under `alias`, plus each CA as a trusted entry."""
    if not chain:
        raise ValueError("a keystore needs at least the leaf certificate")
    entries: list[_jks.PrivateKeyEntry | _jks.TrustedCertEntry] = [
        _jks.PrivateKeyEntry(alias=alias, pkcs8_der=der_private_key(key), chain=list(chain))
    ]
    entries += _ca_entries(ca)
    return _jks.encode(entries, password=password, now=now or datetime.now(UTC))


def jks_truststore(
    *, ca: Sequence[x509.Certificate], password: bytes, now: datetime | None = None
) -> bytes:
    """truststore.jks: each CA certificate as a trusted entry."""
    if not ca:
        raise ValueError("a truststore needs at least one CA certificate")
    return _jks.encode(_ca_entries(ca), password=password, now=now or datetime.now(UTC))


def _ca_entries(ca: Sequence[x509.Certificate]) -> list[_jks.TrustedCertEntry]:
    # cert-manager names the first CA "ca" and numbers any others.
    return [
        _jks.TrustedCertEntry(alias="ca" if i == 0 else f"ca-{i}", cert=cert)
        for i, cert in enumerate(ca)
    ]


# Keystores are salted, so re-encoding never reproduces the bytes. These checks say
# whether an existing store still holds exactly what would be written now (same key,
# certificates, password and profile), so a Secret is rewritten only when it must be.


def pkcs12_keystore_matches(
    data: bytes,
    *,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    ca: Sequence[x509.Certificate],
    password: bytes,
    profile: str = "LegacyRC2",
) -> bool:
    loaded = _load_pkcs12(data, password, profile)
    if loaded is None or loaded.key is None or loaded.cert is None or not chain:
        return False
    return (
        public_keys_equal(loaded.key.public_key(), key.public_key())  # type: ignore[arg-type]
        and loaded.cert.certificate == chain[0]
        and [c.certificate for c in loaded.additional_certs] == [*chain[1:], *ca]
    )


def pkcs12_truststore_matches(
    data: bytes, *, ca: Sequence[x509.Certificate], password: bytes, profile: str = "LegacyRC2"
) -> bool:
    loaded = _load_pkcs12(data, password, profile)
    return (
        loaded is not None
        and loaded.key is None
        and [c.certificate for c in loaded.additional_certs] == list(ca)
    )


def jks_keystore_matches(
    data: bytes,
    *,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    ca: Sequence[x509.Certificate],
    password: bytes,
    alias: str = "certificate",
) -> bool:
    try:
        entries = _jks.decode(data, password=password)
    except (_jks.InvalidKeystore, UnicodeDecodeError):
        return False
    expected: list[_jks.PrivateKeyEntry | _jks.TrustedCertEntry] = [
        _jks.PrivateKeyEntry(
            alias=alias.lower(), pkcs8_der=der_private_key(key), chain=list(chain)
        ),
        *_ca_entries(ca),
    ]
    return _same_entries(entries, expected)


def jks_truststore_matches(data: bytes, *, ca: Sequence[x509.Certificate], password: bytes) -> bool:
    try:
        entries = _jks.decode(data, password=password)
    except (_jks.InvalidKeystore, UnicodeDecodeError):
        return False
    return _same_entries(entries, list(_ca_entries(ca)))


def _same_entries(
    actual: Sequence[_jks.PrivateKeyEntry | _jks.TrustedCertEntry],
    expected: Sequence[_jks.PrivateKeyEntry | _jks.TrustedCertEntry],
) -> bool:
    def normal(e: _jks.PrivateKeyEntry | _jks.TrustedCertEntry) -> tuple[object, ...]:
        if isinstance(e, _jks.PrivateKeyEntry):
            return ("key", e.alias, e.pkcs8_der, tuple(e.chain))
        return ("cert", e.alias, e.cert)

    return [normal(e) for e in actual] == [normal(e) for e in expected]


def _load_pkcs12(
    data: bytes, password: bytes, profile: str
) -> pkcs12.PKCS12KeyAndCertificates | None:
    if _pkcs12_profile(data) != profile:
        return None
    try:
        return pkcs12.load_pkcs12(data, password)
    except ValueError:
        return None


def _pkcs12_profile(data: bytes) -> str:
    # The PBE algorithm identifiers sit outside the encrypted parts, so they can be read.
    if _der.oid("1.2.840.113549.1.5.13") in data:  # PBES2
        return "Modern2023"
    if _der.oid("1.2.840.113549.1.12.1.6") in data:  # pbeWithSHAAnd40BitRC2-CBC
        return "LegacyRC2"
    return "LegacyDES"


def _check_profile(profile: str) -> None:
    if profile not in PKCS12_PROFILES:
        raise ValueError(
            f"unsupported PKCS#12 profile {profile!r}: must be one of {', '.join(PKCS12_PROFILES)}"
        )
