"""PKCS#12 (RFC 7292) writer for cert-manager's three keystore profiles.

| profile    | certificates              | key                       | MAC         |
| LegacyRC2  | pbeWithSHAAnd40BitRC2-CBC | pbeWithSHAAnd3-KeyTDES    | HMAC-SHA1   |
| LegacyDES  | pbeWithSHAAnd3-KeyTDES    | pbeWithSHAAnd3-KeyTDES    | HMAC-SHA1   |
| Modern2023 | PBES2 PBKDF2-SHA256 AES256| PBES2 PBKDF2-SHA256 AES256| HMAC-SHA256 |

Written here rather than with `cryptography` because it cannot emit RC2 and refuses
empty passwords, both of which cert-manager's keystores allow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from typing import Final

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from shared.pki import _der, _rc2
from shared.pki.keys import PrivateKey

PROFILES: Final[tuple[str, ...]] = ("LegacyRC2", "LegacyDES", "Modern2023")

_DATA: Final = "1.2.840.113549.1.7.1"
_ENCRYPTED_DATA: Final = "1.2.840.113549.1.7.6"
_KEY_BAG: Final = "1.2.840.113549.1.12.10.1.2"  # pkcs8ShroudedKeyBag
_CERT_BAG: Final = "1.2.840.113549.1.12.10.1.3"
_X509_CERT: Final = "1.2.840.113549.1.9.22.1"
_LOCAL_KEY_ID: Final = "1.2.840.113549.1.9.21"
_PBE_3DES: Final = "1.2.840.113549.1.12.1.3"
_PBE_RC2_40: Final = "1.2.840.113549.1.12.1.6"
_PBES2: Final = "1.2.840.113549.1.5.13"
_PBKDF2: Final = "1.2.840.113549.1.5.12"
_HMAC_SHA256: Final = "1.2.840.113549.2.9"
_AES256_CBC: Final = "2.16.840.1.101.3.4.1.42"
_SHA1: Final = "1.3.14.3.2.26"
_SHA256: Final = "2.16.840.1.101.3.4.2.1"
# Java's "trusted for any purpose" marker on truststore certificates.
_JAVA_TRUSTED_USAGE: Final = "2.16.840.1.113894.746875.1.1"
_ANY_EXTENDED_KEY_USAGE: Final = "2.5.29.37.0"
_SALT_LEN: Final = 8
_PBES2_SALT_LEN: Final = 16

# (plaintext, password, iterations) -> (AlgorithmIdentifier DER, ciphertext)
_Encrypt = Callable[[bytes, bytes, int], tuple[bytes, bytes]]


def encode(
    *,
    key: PrivateKey | None,
    certs: Sequence[x509.Certificate],
    password: bytes,
    profile: str,
    iterations: int,
) -> bytes:
    """A keystore (key + certs, the first cert being the key's) or, key None, a truststore."""
    if profile not in PROFILES:
        raise ValueError(f"unsupported PKCS#12 profile {profile!r}")
    cert_cipher, key_cipher = _CIPHERS[profile]
    ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    key_id = b""
    if key is None:
        trusted = _attributes((_JAVA_TRUSTED_USAGE, _der.oid(_ANY_EXTENDED_KEY_USAGE)))
        cert_bags = [_cert_bag(der, trusted) for der in ders]
    else:
        # localKeyId ties the key bag to its certificate: SHA-1 of the leaf, by convention.
        leaf_id = hashlib.sha1(ders[0], usedforsecurity=False).digest()
        key_id = _attributes((_LOCAL_KEY_ID, _der.octet_string(leaf_id)))
        cert_bags = [_cert_bag(ders[0], key_id), *(_cert_bag(der, b"") for der in ders[1:])]
    algorithm, encrypted = cert_cipher(_der.sequence(*cert_bags), password, iterations)
    contents = [_encrypted_data(algorithm, encrypted)]
    if key is not None:
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        algorithm, encrypted = key_cipher(pkcs8, password, iterations)
        shrouded = _der.sequence(algorithm, _der.octet_string(encrypted))
        contents.append(_data(_der.sequence(_safe_bag(_KEY_BAG, shrouded, key_id))))
    auth_safe = _der.sequence(*contents)
    mac_hash = "sha256" if profile == "Modern2023" else "sha1"
    return _der.sequence(
        _der.integer(3), _data(auth_safe), _mac_data(auth_safe, password, iterations, mac_hash)
    )


def derive(
    *, password: bytes, salt: bytes, purpose: int, iterations: int, size: int, hash_name: str
) -> bytes:
    """RFC 7292 appendix B.2 key derivation (purpose 1 key, 2 IV, 3 MAC key)."""
    v = 64  # block size in bytes of SHA-1 and SHA-256
    secret = _bmp_password(password)
    diversifier = bytes([purpose]) * v
    block = _fill(salt, v) + _fill(secret, v)
    out = b""
    while len(out) < size:
        digest = diversifier + block
        for _ in range(iterations):
            digest = hashlib.new(hash_name, digest, usedforsecurity=False).digest()
        out += digest
        b = int.from_bytes(_fill(digest, v), "big")
        block = b"".join(
            ((int.from_bytes(block[i : i + v], "big") + b + 1) % (1 << (8 * v))).to_bytes(v, "big")
            for i in range(0, len(block), v)
        )
    return out[:size]


def _fill(data: bytes, v: int) -> bytes:
    if not data:
        return b""
    length = v * ((len(data) + v - 1) // v)
    return (data * (length // len(data) + 1))[:length]


def _bmp_password(password: bytes) -> bytes:
    # PKCS#12 PBE passwords are BMPStrings with a trailing NUL.
    return password.decode("utf-8").encode("utf-16-be") + b"\x00\x00"


def _pbe_algorithm(oid: str, salt: bytes, iterations: int) -> bytes:
    return _der.sequence(
        _der.oid(oid), _der.sequence(_der.octet_string(salt), _der.integer(iterations))
    )


def _pbe_key_iv(password: bytes, salt: bytes, iterations: int, size: int) -> tuple[bytes, bytes]:
    key = derive(
        password=password, salt=salt, purpose=1, iterations=iterations, size=size, hash_name="sha1"
    )
    iv = derive(
        password=password, salt=salt, purpose=2, iterations=iterations, size=8, hash_name="sha1"
    )
    return key, iv


def _rc2_40(plain: bytes, password: bytes, iterations: int) -> tuple[bytes, bytes]:
    salt = os.urandom(_SALT_LEN)
    key, iv = _pbe_key_iv(password, salt, iterations, 5)
    encrypted = _rc2.cbc_encrypt(key=key, effective_bits=40, iv=iv, plaintext=plain)
    return _pbe_algorithm(_PBE_RC2_40, salt, iterations), encrypted


def _triple_des(plain: bytes, password: bytes, iterations: int) -> tuple[bytes, bytes]:
    salt = os.urandom(_SALT_LEN)
    key, iv = _pbe_key_iv(password, salt, iterations, 24)
    encrypted = _cbc(TripleDES(key), iv, plain, block_bits=64)
    return _pbe_algorithm(_PBE_3DES, salt, iterations), encrypted


def _pbes2_aes256(plain: bytes, password: bytes, iterations: int) -> tuple[bytes, bytes]:
    salt = os.urandom(_PBES2_SALT_LEN)
    iv = os.urandom(16)
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    key = kdf.derive(password)  # PBES2 takes the password's UTF-8 bytes as they are
    encrypted = _cbc(algorithms.AES(key), iv, plain, block_bits=128)
    prf = _der.sequence(_der.oid(_HMAC_SHA256), _der.null())
    kdf_params = _der.sequence(_der.octet_string(salt), _der.integer(iterations), prf)
    scheme = _der.sequence(_der.oid(_AES256_CBC), _der.octet_string(iv))
    params = _der.sequence(_der.sequence(_der.oid(_PBKDF2), kdf_params), scheme)
    return _der.sequence(_der.oid(_PBES2), params), encrypted


def _cbc(cipher: algorithms.AES | TripleDES, iv: bytes, plain: bytes, *, block_bits: int) -> bytes:
    padder = padding.PKCS7(block_bits).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(cipher, modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


# profile -> (certificate cipher, key cipher)
_CIPHERS: Final[dict[str, tuple[_Encrypt, _Encrypt]]] = {
    "LegacyRC2": (_rc2_40, _triple_des),
    "LegacyDES": (_triple_des, _triple_des),
    "Modern2023": (_pbes2_aes256, _pbes2_aes256),
}


def _data(content: bytes) -> bytes:
    return _der.sequence(_der.oid(_DATA), _der.explicit(0, _der.octet_string(content)))


def _encrypted_data(algorithm: bytes, encrypted: bytes) -> bytes:
    info = _der.sequence(_der.oid(_DATA), algorithm, _der.tlv(0x80, encrypted))  # [0] IMPLICIT
    return _der.sequence(
        _der.oid(_ENCRYPTED_DATA), _der.explicit(0, _der.sequence(_der.integer(0), info))
    )


def _cert_bag(der: bytes, attributes: bytes) -> bytes:
    value = _der.sequence(_der.oid(_X509_CERT), _der.explicit(0, _der.octet_string(der)))
    return _safe_bag(_CERT_BAG, value, attributes)


def _safe_bag(bag_id: str, value: bytes, attributes: bytes) -> bytes:
    return _der.sequence(_der.oid(bag_id), _der.explicit(0, value), attributes)


def _attributes(*pairs: tuple[str, bytes]) -> bytes:
    return _der.set_of(*(_der.sequence(_der.oid(oid), _der.set_of(value)) for oid, value in pairs))


def _mac_data(auth_safe: bytes, password: bytes, iterations: int, hash_name: str) -> bytes:
    salt = os.urandom(_SALT_LEN)
    size = hashlib.new(hash_name).digest_size
    mac_key = derive(
        password=password,
        salt=salt,
        purpose=3,
        iterations=iterations,
        size=size,
        hash_name=hash_name,
    )
    digest = hmac.new(mac_key, auth_safe, hash_name).digest()
    oid = _SHA256 if hash_name == "sha256" else _SHA1
    digest_info = _der.sequence(
        _der.sequence(_der.oid(oid), _der.null()), _der.octet_string(digest)
    )
    return _der.sequence(digest_info, _der.octet_string(salt), _der.integer(iterations))
