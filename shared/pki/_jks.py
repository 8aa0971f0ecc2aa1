"""Java KeyStore (JKS) writer: the format `keytool` and every JVM read.

No maintained PyPI library writes JKS (pyjks was last released in 2020), and the format
is small: big-endian records, keys protected with Sun's SHA-1 XOR key protector, and a
SHA-1 integrity digest keyed by the password.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.pki import _der

_MAGIC: Final = 0xFEEDFEED
_VERSION: Final = 2
_PRIVATE_KEY_TAG: Final = 1
_TRUSTED_CERT_TAG: Final = 2
# Sun's proprietary key protection algorithm (sun.security.provider.KeyProtector).
_KEY_PROTECTOR_OID: Final = "1.3.6.1.4.1.42.2.17.1.1"
_SALT_LEN: Final = 20
_WHITENER: Final = b"Mighty Aphrodite"  # fixed by the format for the integrity digest


@dataclass(frozen=True)
class PrivateKeyEntry:
    alias: str
    pkcs8_der: bytes
    chain: Sequence[x509.Certificate]


@dataclass(frozen=True)
class TrustedCertEntry:
    alias: str
    cert: x509.Certificate


def encode(
    entries: Sequence[PrivateKeyEntry | TrustedCertEntry], *, password: bytes, now: datetime
) -> bytes:
    """Serialize entries; `password` protects keys and the store's integrity digest."""
    secret = _utf16be(password)
    millis = int(now.timestamp() * 1000)
    body = bytearray(struct.pack(">III", _MAGIC, _VERSION, len(entries)))
    for entry in entries:
        if isinstance(entry, PrivateKeyEntry):
            body += struct.pack(">I", _PRIVATE_KEY_TAG)
            body += _alias(entry.alias) + struct.pack(">q", millis)
            protected = _protect(entry.pkcs8_der, secret)
            body += struct.pack(">I", len(protected)) + protected
            body += struct.pack(">I", len(entry.chain))
            for cert in entry.chain:
                body += _cert(cert)
        else:
            body += struct.pack(">I", _TRUSTED_CERT_TAG)
            body += _alias(entry.alias) + struct.pack(">q", millis)
            body += _cert(entry.cert)
    digest = hashlib.sha1(secret + _WHITENER + bytes(body), usedforsecurity=False).digest()
    return bytes(body) + digest


def _protect(plain: bytes, secret: bytes) -> bytes:
    """EncryptedPrivateKeyInfo under Sun's KeyProtector: salt, XOR stream, SHA-1 check."""
    salt = os.urandom(_SALT_LEN)
    stream = bytearray()
    digest = salt
    while len(stream) < len(plain):
        digest = hashlib.sha1(secret + digest, usedforsecurity=False).digest()
        stream += digest
    encrypted = bytes(p ^ s for p, s in zip(plain, stream, strict=False))
    check = hashlib.sha1(secret + plain, usedforsecurity=False).digest()
    algorithm = _der.sequence(_der.oid(_KEY_PROTECTOR_OID), _der.null())
    return _der.sequence(algorithm, _der.octet_string(salt + encrypted + check))


def _cert(cert: x509.Certificate) -> bytes:
    der = cert.public_bytes(serialization.Encoding.DER)
    return _utf("X.509") + struct.pack(">I", len(der)) + der


def _alias(alias: str) -> bytes:
    # Java treats JKS aliases case-insensitively and stores them lowercased.
    return _utf(alias.lower())


def _utf(text: str) -> bytes:
    # Java's DataOutput.writeUTF; aliases here are ASCII, where modified UTF-8 = UTF-8.
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def _utf16be(password: bytes) -> bytes:
    # Java keys the digests with the password's chars as big-endian UTF-16.
    return password.decode("utf-8").encode("utf-16-be")


class InvalidKeystore(ValueError):
    """JKS data that is malformed or fails its integrity check under the password."""


def decode(data: bytes, *, password: bytes) -> list[PrivateKeyEntry | TrustedCertEntry]:
    """Read a JKS store written by `encode` (checks integrity; unprotects keys)."""
    secret = _utf16be(password)
    if len(data) < 32:
        raise InvalidKeystore("keystore is truncated")
    body, digest = data[:-20], data[-20:]
    expected = hashlib.sha1(secret + _WHITENER + body, usedforsecurity=False).digest()
    if digest != expected:
        raise InvalidKeystore("keystore integrity check failed (wrong password?)")
    reader = _Reader(body)
    magic, version, count = reader.unpack(">III")
    if (magic, version) != (_MAGIC, _VERSION):
        raise InvalidKeystore("not a JKS keystore")
    entries: list[PrivateKeyEntry | TrustedCertEntry] = []
    for _ in range(count):
        (tag,) = reader.unpack(">I")
        alias = reader.utf()
        reader.unpack(">q")  # creation time
        if tag == _PRIVATE_KEY_TAG:
            (length,) = reader.unpack(">I")
            pkcs8 = _unprotect(reader.take(length), secret)
            (n,) = reader.unpack(">I")
            chain = [reader.cert() for _ in range(n)]
            entries.append(PrivateKeyEntry(alias=alias, pkcs8_der=pkcs8, chain=chain))
        elif tag == _TRUSTED_CERT_TAG:
            entries.append(TrustedCertEntry(alias=alias, cert=reader.cert()))
        else:
            raise InvalidKeystore(f"unknown JKS entry tag {tag}")
    if not reader.done():
        raise InvalidKeystore("trailing data in keystore")
    return entries


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise InvalidKeystore("keystore is truncated")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def utf(self) -> str:
        (length,) = self.unpack(">H")
        return self.take(length).decode("utf-8")

    def cert(self) -> x509.Certificate:
        self.utf()  # certificate type, "X.509"
        (length,) = self.unpack(">I")
        try:
            return x509.load_der_x509_certificate(self.take(length))
        except ValueError:
            raise InvalidKeystore("keystore holds an unreadable certificate") from None

    def done(self) -> bool:
        return self._pos == len(self._data)


def _unprotect(info: bytes, secret: bytes) -> bytes:
    """Undo _protect: EncryptedPrivateKeyInfo { AlgorithmIdentifier, OCTET STRING }."""
    try:
        seq_tag, body, _ = _der.read_tlv(info)
        alg_tag, algorithm, pos = _der.read_tlv(body)
        str_tag, protected, _ = _der.read_tlv(body, pos)
    except ValueError:
        raise InvalidKeystore("malformed protected key in keystore") from None
    sun_protector = _der.sequence(_der.oid(_KEY_PROTECTOR_OID), _der.null())
    if (seq_tag, str_tag) != (0x30, 0x04) or _der.tlv(alg_tag, algorithm) != sun_protector:
        raise InvalidKeystore("unsupported key protection in keystore")
    return _xor_unprotect(protected, secret)


def _xor_unprotect(protected: bytes, secret: bytes) -> bytes:
    if len(protected) < 2 * _SALT_LEN:
        raise InvalidKeystore("protected key is truncated")
    salt, encrypted, check = protected[:_SALT_LEN], protected[_SALT_LEN:-20], protected[-20:]
    stream = bytearray()
    digest = salt
    while len(stream) < len(encrypted):
        digest = hashlib.sha1(secret + digest, usedforsecurity=False).digest()
        stream += digest
    plain = bytes(e ^ s for e, s in zip(encrypted, stream, strict=False))
    if hashlib.sha1(secret + plain, usedforsecurity=False).digest() != check:
        raise InvalidKeystore("protected key failed its check (wrong password?)")
    return plain
