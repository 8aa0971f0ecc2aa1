"""Private keys: generate, encode, load and compare, with cert-manager's defaults.

Errors raised here never carry key material: parsing failures are re-raised with a
fixed message and without chaining the underlying exception (whose text may quote input).
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

__all__ = [
    "DEFAULT_SIZES",
    "PRIVATE_KEY_TYPES",
    "PUBLIC_KEY_TYPES",
    "InvalidPrivateKey",
    "PrivateKey",
    "PublicKey",
    "encode_private_key",
    "generate_private_key",
    "key_algorithm",
    "key_matches_spec",
    "key_size",
    "load_private_key",
    "public_keys_equal",
    "signature_hash",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
# isinstance() targets for the unions above.
PRIVATE_KEY_TYPES: Final = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
)
PUBLIC_KEY_TYPES: Final = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)

DEFAULT_SIZES: Final[dict[str, int]] = {"RSA": 2048, "ECDSA": 256}
RSA_SIZES: Final = range(2048, 8193)  # cert-manager accepts 2048..8192
_CURVES: Final[dict[int, ec.EllipticCurve]] = {
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
    521: ec.SECP521R1(),
}


class InvalidPrivateKey(ValueError):
    """A key that cannot be made or read; the message never contains key bytes."""


def generate_private_key(*, algorithm: str, size: int | None) -> PrivateKey:
    """A new key: "RSA" (2048 default), "ECDSA" (P-256 default; 384, 521) or "Ed25519"."""
    if algorithm == "RSA":
        bits = size or DEFAULT_SIZES["RSA"]
        if bits not in RSA_SIZES:
            raise InvalidPrivateKey(f"unsupported RSA key size {bits}: must be 2048 to 8192")
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if algorithm == "ECDSA":
        curve = _CURVES.get(size or DEFAULT_SIZES["ECDSA"])
        if curve is None:
            raise InvalidPrivateKey(f"unsupported ECDSA key size {size}: must be 256, 384 or 521")
        return ec.generate_private_key(curve)
    if algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise InvalidPrivateKey(f"unsupported private key algorithm {algorithm!r}")


def encode_private_key(key: PrivateKey, *, encoding: str = "PKCS1") -> bytes:
    """PEM as cert-manager writes tls.key.

    PKCS1 gives "RSA PRIVATE KEY" for RSA and SEC1 "EC PRIVATE KEY" for ECDSA;
    Ed25519 has no PKCS#1 form, so it is always PKCS#8 ("PRIVATE KEY").
    """
    if encoding not in {"PKCS1", "PKCS8"}:
        raise InvalidPrivateKey(f"unsupported private key encoding {encoding!r}")
    if encoding == "PKCS8" or isinstance(key, ed25519.Ed25519PrivateKey):
        fmt = serialization.PrivateFormat.PKCS8
    else:
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def load_private_key(pem: bytes) -> PrivateKey:
    """Read an unencrypted PEM key (PKCS#1, SEC1 or PKCS#8)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Deliberately not chained: the parser's message may quote the input.
        raise InvalidPrivateKey("could not decode PEM private key") from None
    if not isinstance(key, PRIVATE_KEY_TYPES):
        raise InvalidPrivateKey(f"unsupported private key type {type(key).__name__}")
    return key


def key_algorithm(key: PrivateKey | PublicKey) -> str:
    """cert-manager's algorithm name for a key: "RSA", "ECDSA" or "Ed25519"."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    return "Ed25519"


def key_size(key: PrivateKey | PublicKey) -> int | None:
    """Modulus bits (RSA), curve bits (ECDSA) or None (Ed25519)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return key.key_size
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return key.curve.key_size
    return None


def key_matches_spec(key: PrivateKey, *, algorithm: str, size: int | None) -> bool:
    """Whether an existing key satisfies spec.privateKey (unset size = the default)."""
    if key_algorithm(key) != algorithm:
        return False
    if algorithm == "Ed25519":
        return True
    return key_size(key) == (size or DEFAULT_SIZES[algorithm])


def public_keys_equal(a: CertificatePublicKeyTypes, b: CertificatePublicKeyTypes) -> bool:
    """Compare public keys by their SubjectPublicKeyInfo encoding (any X.509 key type)."""
    return _spki(a) == _spki(b)


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    """The digest cert-manager pairs with a signing key.

    RSA: SHA-256, SHA-384 from 3072 bits, SHA-512 from 4096; ECDSA: SHA-256 (P-256),
    SHA-384 (P-384), SHA-512 (P-521). Ed25519 signs the message itself (None).
    """
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    bits = key.key_size if isinstance(key, rsa.RSAPrivateKey) else key.curve.key_size
    if isinstance(key, rsa.RSAPrivateKey):
        strong, stronger = 3072, 4096
    else:
        strong, stronger = 384, 521
    if bits >= stronger:
        return hashes.SHA512()
    if bits >= strong:
        return hashes.SHA384()
    return hashes.SHA256()
