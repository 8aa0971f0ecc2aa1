"""PKCS#12 with RC2-40 certificate encryption (cert-manager's LegacyRC2 profile)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shared.pki.keys import PrivateKey


def encode_rc2(
    *, key: PrivateKey | None, certs: Sequence[x509.Certificate], password: bytes, iterations: int
) -> bytes:
    # Placeholder until the RC2 encoder lands: same as LegacyDES.
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(iterations)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303
        .build(password)
    )
    if key is None:
        return pkcs12.serialize_java_truststore(
            [pkcs12.PKCS12Certificate(c, None) for c in certs], encryption
        )
    return pkcs12.serialize_key_and_certificates(
        name=None, key=key, cert=certs[0], cas=list(certs[1:]), encryption_algorithm=encryption
    )
