"""SelfSigned issuer: the certificate is signed by its own private key.

The key is the one the CertificateRequest names in its
`cert-manager.io/private-key-secret-name` annotation, in the request's namespace.
"""

from __future__ import annotations

from shared.issuers.base import Failed, Issued, IssuerScope, Outcome, Readiness, SigningRequest
from shared.kube.errors import NotFound
from shared.kube.objects import annotations_of, namespace_of, secret_bytes
from shared.kube.resources import SECRETS
from shared.pki.keys import InvalidPrivateKey, load_private_key, public_keys_equal
from shared.pki.signing import encode_certificate, sign_csr

PRIVATE_KEY_ANNOTATION = "cert-manager.io/private-key-secret-name"


class SelfSigned:
    def check(self, scope: IssuerScope) -> Readiness:
        return Readiness(ready=True, reason="IsReady", message="")

    def sign(self, scope: IssuerScope, request: SigningRequest) -> Outcome:
        secret_name = annotations_of(request.request).get(PRIVATE_KEY_ANNOTATION)
        if not secret_name:
            return Failed(
                "ErrorAnnotation",
                f"self signed issuer requires {PRIVATE_KEY_ANNOTATION!r} annotation to be set "
                "to the name of the Secret containing the private key",
            )
        namespace = namespace_of(request.request)
        try:
            secret = scope.kube.get(SECRETS, namespace, secret_name)
        except NotFound:
            return Failed("MissingKey", f"Referenced secret {namespace}/{secret_name} not found")
        try:
            key = load_private_key(secret_bytes(secret, "tls.key") or b"")
        except InvalidPrivateKey as error:
            return Failed("ErrorParsingKey", f"Failed to parse signing key from secret: {error}")
        if not public_keys_equal(key.public_key(), request.csr.public_key()):
            return Failed(
                "ErrorKeyMismatch",
                "Error generating certificate template: CSR not signed by referenced private key",
            )
        cert = sign_csr(
            csr=request.csr,
            signer_key=key,
            signer_cert=None,
            duration=request.duration,
            is_ca=request.is_ca,
            usages=request.usages,
            now=request.now,
        )
        pem = encode_certificate(cert)
        return Issued(chain_pem=pem, ca_pem=pem)
