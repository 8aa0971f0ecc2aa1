from __future__ import annotations

import hashlib
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shared.pki import _jks, _rc2
from shared.pki.formats import (
    combined_pem,
    der_private_key,
    jks_keystore,
    jks_keystore_matches,
    jks_truststore,
    jks_truststore_matches,
    pkcs12_keystore,
    pkcs12_keystore_matches,
    pkcs12_truststore,
    pkcs12_truststore_matches,
)
from shared.pki.keys import PrivateKey, encode_private_key, public_keys_equal
from shared.pki.signing import encode_certificate
from tests.conftest import require_binary
from tests.unit.pki.factory import NOW, issue, key, self_signed_ca, spec

PROFILES = ["LegacyRC2", "LegacyDES", "Modern2023"]


@pytest.fixture(scope="module")
def chain() -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    root = self_signed_ca(name="Root")
    inter_key = key("ECDSA", 256, slot=30)
    inter = issue(spec(common_name="Inter", dns_names=(), is_ca=True), inter_key, ca=root)
    leaf = issue(spec(), key("RSA", 2048), ca=(inter, inter_key))
    return [leaf, inter], [root[0]]


def test_der_private_key_is_pkcs8_der() -> None:
    k = key("ECDSA")
    loaded = serialization.load_der_private_key(der_private_key(k), password=None)
    assert public_keys_equal(loaded.public_key(), k.public_key())  # type: ignore[arg-type]
    assert der_private_key(k) == k.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_combined_pem_is_key_then_chain() -> None:
    key_pem = encode_private_key(key("ECDSA"))
    assert combined_pem(key_pem, b"CHAIN\n") == key_pem + b"CHAIN\n"
    assert combined_pem(key_pem.rstrip(b"\n"), b"CHAIN\n") == key_pem + b"CHAIN\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_pkcs12_keystore_loads_back_with_key_leaf_and_cas(
    profile: str, chain: tuple[list[x509.Certificate], list[x509.Certificate]]
) -> None:
    certs, ca = chain
    data = pkcs12_keystore(
        key=key("RSA", 2048), chain=certs, ca=ca, password=b"s3cret", profile=profile
    )
    loaded = pkcs12.load_pkcs12(data, b"s3cret")
    assert loaded.key is not None
    assert public_keys_equal(loaded.key.public_key(), key("RSA", 2048).public_key())  # type: ignore[arg-type]
    assert loaded.cert is not None
    assert loaded.cert.certificate == certs[0]
    assert [c.certificate for c in loaded.additional_certs] == [certs[1], *ca]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(data, b"wrong")


@pytest.mark.parametrize("profile", PROFILES)
def test_pkcs12_truststore_holds_the_cas(
    profile: str, chain: tuple[list[x509.Certificate], list[x509.Certificate]]
) -> None:
    _certs, ca = chain
    loaded = pkcs12.load_pkcs12(pkcs12_truststore(ca=ca, password=b"", profile=profile), b"")
    assert loaded.key is None
    assert [c.certificate for c in loaded.additional_certs] == ca


@pytest.mark.parametrize(
    ("profile", "markers"),
    [
        ("LegacyRC2", ["pbeWithSHA1And40BitRC2-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC", "sha1"]),
        ("LegacyDES", ["pbeWithSHA1And3-KeyTripleDES-CBC", "MAC: sha1"]),
        ("Modern2023", ["AES-256-CBC", "MAC: sha256"]),
    ],
)
def test_openssl_reads_each_profile_with_its_documented_algorithms(
    profile: str,
    markers: list[str],
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
    tmp_path: Path,
) -> None:
    openssl = require_binary("openssl")
    certs, ca = chain
    path = tmp_path / "keystore.p12"
    path.write_bytes(
        pkcs12_keystore(key=key("RSA", 2048), chain=certs, ca=ca, password=b"pw", profile=profile)
    )
    args = [openssl, "pkcs12", "-in", str(path), "-info", "-noout", "-passin", "pass:pw"]
    if profile == "LegacyRC2":
        args.append("-legacy")  # OpenSSL 3 only reads RC2 through its legacy provider
    result = subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
    assert result.returncode == 0, result.stderr
    for marker in markers:
        assert marker in result.stdout + result.stderr
    if profile == "LegacyRC2":
        assert "Iteration 2048" in result.stdout + result.stderr


def test_unknown_profile_is_refused(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, ca = chain
    with pytest.raises(ValueError, match="profile"):
        pkcs12_keystore(key=key("RSA", 2048), chain=certs, ca=ca, password=b"", profile="AES")


def test_keystores_need_certificates() -> None:
    with pytest.raises(ValueError, match="leaf"):
        pkcs12_keystore(key=key("ECDSA"), chain=[], ca=[], password=b"")
    with pytest.raises(ValueError, match="CA"):
        pkcs12_truststore(ca=[], password=b"")
    with pytest.raises(ValueError, match="CA"):
        jks_truststore(ca=[], password=b"")


@pytest.mark.parametrize(
    ("key_hex", "bits", "plain", "cipher"),
    [  # RFC 2268 section 5 test vectors
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
        ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
        ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
        ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ],
)
def test_rc2_matches_rfc_2268_vectors(key_hex: str, bits: int, plain: str, cipher: str) -> None:
    subkeys = _rc2.expand_key(bytes.fromhex(key_hex), bits)
    assert _rc2.encrypt_block(subkeys, bytes.fromhex(plain)).hex() == cipher


# --- JKS, checked against the format's definition ------------------------------------


@dataclass
class _Entry:
    tag: int
    alias: str
    millis: int
    key_der: bytes | None
    certs: list[bytes]


def _read_jks(data: bytes, password: str) -> list[_Entry]:
    """An independent reader: verifies the integrity digest and unprotects keys."""
    secret = password.encode("utf-16-be")
    body, digest = data[:-20], data[-20:]
    expected = hashlib.sha1(secret + b"Mighty Aphrodite" + body, usedforsecurity=False).digest()
    assert digest == expected, "integrity digest mismatch"
    magic, version, count = struct.unpack(">III", body[:12])
    assert (magic, version) == (0xFEEDFEED, 2)
    pos = 12

    def take(n: int) -> bytes:
        nonlocal pos
        chunk = body[pos : pos + n]
        pos += n
        return chunk

    def utf() -> str:
        (length,) = struct.unpack(">H", take(2))
        return take(length).decode()

    def cert() -> bytes:
        assert utf() == "X.509"
        (length,) = struct.unpack(">I", take(4))
        return take(length)

    entries: list[_Entry] = []
    for _ in range(count):
        (tag,) = struct.unpack(">I", take(4))
        alias = utf()
        (millis,) = struct.unpack(">q", take(8))
        if tag == 1:
            (length,) = struct.unpack(">I", take(4))
            info = take(length)
            key_der = _unprotect(_octet_string_body(info), secret)
            (n,) = struct.unpack(">I", take(4))
            entries.append(_Entry(tag, alias, millis, key_der, [cert() for _ in range(n)]))
        else:
            entries.append(_Entry(tag, alias, millis, None, [cert()]))
    assert pos == len(body)
    return entries


def _octet_string_body(info: bytes) -> bytes:
    # EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier, OCTET STRING }.
    seq = _der_children(info)
    assert seq[0] == bytes.fromhex("300e060a2b060104012a021101010500")
    octet = seq[1]
    assert octet[0] == 0x04
    return _der_value(octet)


def _der_children(data: bytes) -> list[bytes]:
    value = _der_value(data)
    children = []
    while value:
        length = _der_total(value)
        children.append(value[:length])
        value = value[length:]
    return children


def _der_header(data: bytes) -> tuple[int, int]:
    first = data[1]
    if first < 0x80:
        return 2, first
    n = first & 0x7F
    return 2 + n, int.from_bytes(data[2 : 2 + n], "big")


def _der_value(data: bytes) -> bytes:
    header, length = _der_header(data)
    return data[header : header + length]


def _der_total(data: bytes) -> int:
    header, length = _der_header(data)
    return header + length


def _unprotect(protected: bytes, secret: bytes) -> bytes:
    salt, encrypted, check = protected[:20], protected[20:-20], protected[-20:]
    stream = b""
    digest = salt
    while len(stream) < len(encrypted):
        digest = hashlib.sha1(secret + digest, usedforsecurity=False).digest()
        stream += digest
    plain = bytes(a ^ b for a, b in zip(encrypted, stream, strict=False))
    assert hashlib.sha1(secret + plain, usedforsecurity=False).digest() == check
    return plain


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_jks_keystore_holds_protected_key_chain_and_trusted_cas(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, ca = chain
    k = key("RSA", 2048)
    data = jks_keystore(key=k, chain=certs, ca=ca, password=b"changeit", alias="Web", now=NOW)
    entries = _read_jks(data, "changeit")
    assert [(e.tag, e.alias) for e in entries] == [(1, "web"), (2, "ca")]
    assert entries[0].key_der == der_private_key(k)
    assert entries[0].certs == [_der(c) for c in certs]
    assert entries[0].millis == int(NOW.timestamp() * 1000)
    assert entries[1].certs == [_der(ca[0])]


def test_jks_wrong_password_fails_integrity(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, ca = chain
    data = jks_keystore(key=key("ECDSA"), chain=certs, ca=ca, password=b"right", now=NOW)
    with pytest.raises(AssertionError, match="integrity"):
        _read_jks(data, "wrong")


def test_jks_truststore_numbers_extra_cas(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, ca = chain
    data = jks_truststore(ca=[*ca, certs[1]], password=b"", now=NOW)
    entries = _read_jks(data, "")
    assert [(e.tag, e.alias) for e in entries] == [(2, "ca"), (2, "ca-1")]
    assert entries[1].certs == [_der(certs[1])]


def test_keystore_pem_inputs_round_trip(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, _ = chain
    assert x509.load_pem_x509_certificates(b"".join(encode_certificate(c) for c in certs)) == certs


# --- "still the same store?" checks that keep salted keystores stable ------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_pkcs12_matches_its_own_output_and_nothing_else(
    profile: str, chain: tuple[list[x509.Certificate], list[x509.Certificate]]
) -> None:
    certs, ca = chain
    k = key("RSA", 2048)
    data = pkcs12_keystore(key=k, chain=certs, ca=ca, password=b"pw", profile=profile)
    other_profile = next(p for p in PROFILES if p != profile)

    def matches(
        *,
        key_: PrivateKey = k,
        chain_: list[x509.Certificate] = certs,
        ca_: list[x509.Certificate] = ca,
        password: bytes = b"pw",
        profile_: str = profile,
    ) -> bool:
        return pkcs12_keystore_matches(
            data, key=key_, chain=chain_, ca=ca_, password=password, profile=profile_
        )

    assert matches()
    assert not matches(password=b"other")
    assert not matches(key_=key("RSA", 2048, slot=1))
    assert not matches(ca_=[])
    assert not matches(chain_=certs[:1])
    assert not matches(profile_=other_profile)
    trust = pkcs12_truststore(ca=ca, password=b"pw", profile=profile)
    assert pkcs12_truststore_matches(trust, ca=ca, password=b"pw", profile=profile)
    assert not pkcs12_truststore_matches(trust, ca=certs, password=b"pw", profile=profile)
    assert not pkcs12_truststore_matches(trust, ca=ca, password=b"x", profile=profile)


def test_jks_matches_its_own_output_and_nothing_else(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]],
) -> None:
    certs, ca = chain
    k = key("ECDSA")
    data = jks_keystore(key=k, chain=certs, ca=ca, password=b"pw", alias="web", now=NOW)
    assert jks_keystore_matches(data, key=k, chain=certs, ca=ca, password=b"pw", alias="web")
    assert not jks_keystore_matches(data, key=k, chain=certs, ca=ca, password=b"no", alias="web")
    assert not jks_keystore_matches(data, key=k, chain=certs, ca=ca, password=b"pw", alias="x")
    assert not jks_keystore_matches(data, key=k, chain=certs, ca=[], password=b"pw", alias="web")
    other = key("ECDSA", slot=2)
    assert not jks_keystore_matches(
        data, key=other, chain=certs, ca=ca, password=b"pw", alias="web"
    )
    trust = jks_truststore(ca=ca, password=b"pw", now=NOW)
    assert jks_truststore_matches(trust, ca=ca, password=b"pw")
    assert not jks_truststore_matches(trust, ca=certs, password=b"pw")


@pytest.mark.parametrize("garbage", [b"", b"\xfe\xed\xfe\xed" + bytes(40), b"x" * 100])
def test_jks_decode_rejects_garbage(garbage: bytes) -> None:
    with pytest.raises(_jks.InvalidKeystore):
        _jks.decode(garbage, password=b"pw")
    assert not jks_truststore_matches(garbage, ca=[], password=b"pw")


def test_java_keytool_reads_jks_and_legacy_rc2_stores(
    chain: tuple[list[x509.Certificate], list[x509.Certificate]], tmp_path: Path
) -> None:
    # Java is the audience for these formats; its own reader is the real judge.
    keytool = require_binary("keytool")  # a failure in CI, as every real tool
    certs, ca = chain
    k = key("RSA", 2048)  # the fixture leaf's key
    jks = tmp_path / "keystore.jks"
    jks.write_bytes(jks_keystore(key=k, chain=certs, ca=ca, password=b"changeit", now=NOW))
    p12 = tmp_path / "truststore.p12"
    p12.write_bytes(pkcs12_truststore(ca=ca, password=b"changeit", profile="LegacyRC2"))
    # Converting the JKS forces Java to verify its integrity digest and unprotect the key.
    converted = subprocess.run(
        [
            keytool,
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            str(jks),
            "-srcstoretype",
            "JKS",
            "-srcstorepass",
            "changeit",
            "-destkeystore",
            str(tmp_path / "out.p12"),
            "-deststoretype",
            "PKCS12",
            "-deststorepass",
            "changeit",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert converted.returncode == 0, converted.stdout + converted.stderr
    assert "2 entries successfully imported" in converted.stdout + converted.stderr
    listed = subprocess.run(
        [keytool, "-list", "-keystore", str(p12), "-storetype", "PKCS12", "-storepass", "changeit"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "trustedCertEntry" in listed.stdout
