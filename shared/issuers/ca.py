"""CA issuer: signs with a CA key pair held in a Secret (tls.crt + tls.key)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from shared.issuers.base import Failed, Issued, IssuerScope, Outcome, Readiness, SigningRequest
from shared.issuers.chain import split_chain
from shared.kube.errors import NotFound
from shared.kube.objects import secret_bytes
from shared.pki.keys import InvalidPrivateKey, PrivateKey, load_private_key, public_keys_equal
from shared.pki.signing import AuthorityURLs, sign_csr
from shared.pki.x509 import InvalidCertificate, is_ca, load_certificate_chain


class KeyPairError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class KeyPair:
    key: PrivateKey
    chain: list[x509.Certificate]  # the CA certificate first, then its issuers


def load_key_pair(scope: IssuerScope) -> KeyPair:
    name = str((scope.spec.get("ca") or {}).get("secretName") or "")
    prefix = "Error getting keypair for CA issuer"
    try:
        secret = scope.secret(name)
    except NotFound:
        message = f'{prefix}: secrets "{name}" not found'
        raise KeyPairError("ErrGetKeyPair", message) from None
    try:
        chain = load_certificate_chain(secret_bytes(secret, "tls.crt") or b"")
        key = load_private_key(secret_bytes(secret, "tls.key") or b"")
    except (InvalidCertificate, InvalidPrivateKey) as error:
        raise KeyPairError("ErrInvalidKeyPair", f"{prefix}: {error}") from None
    if not public_keys_equal(chain[0].public_key(), key.public_key()):
        raise KeyPairError(
            "ErrInvalidKeyPair", f"{prefix}: private key does not match the certificate"
        )
    if not is_ca(chain[0]):
        raise KeyPairError(
            "ErrInvalidKeyPair", f"{prefix}: certificate is not a CA (basicConstraints CA=false)"
        )
    return KeyPair(key=key, chain=chain)


def authority_urls(ca: dict[str, object]) -> AuthorityURLs:
    """The URLs a CA issuer writes into what it signs (cert-manager's CA signer does too)."""

    def strings(field: str) -> tuple[str, ...]:
        value = ca.get(field)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    return AuthorityURLs(
        crl_distribution_points=strings("crlDistributionPoints"),
        ocsp_servers=strings("ocspServers"),
        issuing_certificate_urls=strings("issuingCertificateURLs"),
    )


class CA:
    def check(self, scope: IssuerScope) -> Readiness:
        try:
            load_key_pair(scope)
        except KeyPairError as error:
            return Readiness(ready=False, reason=error.reason, message=error.message)
        return Readiness(ready=True, reason="KeyPairVerified", message="Signing CA verified")

    def sign(self, scope: IssuerScope, request: SigningRequest) -> Outcome:
        try:
            pair = load_key_pair(scope)
        except KeyPairError as error:
            # The key pair went away or went bad after the issuer was verified.
            scope.issuer_broken()
            return Failed(error.reason, error.message)
        leaf = sign_csr(
            csr=request.csr,
            signer_key=pair.key,
            signer_cert=pair.chain[0],
            duration=request.duration,
            is_ca=request.is_ca,
            usages=request.usages,
            now=request.now,
            urls=authority_urls(scope.spec.get("ca") or {}),
        )
        chain_pem, ca_pem = split_chain([leaf, *pair.chain])
        return Issued(chain_pem=chain_pem, ca_pem=ca_pem)
