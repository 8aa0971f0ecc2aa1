"""Keys and certificates for PKI tests, generated once per session (RSA keygen is slow)."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from shared.certificates.spec import CertificateSpec, IssuerRef, parse_certificate
from shared.pki.csr import build_csr, load_csr
from shared.pki.keys import PrivateKey, generate_private_key
from shared.pki.signing import sign_csr

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def key(algorithm: str = "ECDSA", size: int | None = None, slot: int = 0) -> PrivateKey:
    """A cached key; `slot` gives distinct keys of the same kind."""
    return _cached_key(algorithm, size, slot)


@functools.cache
def _cached_key(algorithm: str, size: int | None, slot: int) -> PrivateKey:
    del slot  # only part of the cache key
    return generate_private_key(algorithm=algorithm, size=size)


def spec(**overrides: Any) -> CertificateSpec:
    base = CertificateSpec(
        namespace="default",
        name="web",
        secret_name="web-tls",
        issuer_ref=IssuerRef(name="ca-issuer"),
        common_name="web.example.com",
        dns_names=("web.example.com", "www.example.com"),
    )
    return replace(base, **overrides)


def certificate_object(**spec_fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "secretName": "web-tls",
        "issuerRef": {"name": "ca-issuer"},
        "dnsNames": ["web.example.com"],
    }
    body.update(spec_fields)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {k: v for k, v in body.items() if v is not None},
    }


def parsed(**spec_fields: Any) -> CertificateSpec:
    return parse_certificate(certificate_object(**spec_fields))


def self_signed_ca(
    *, signer: PrivateKey | None = None, name: str = "Test Root CA", days: int = 3650
) -> tuple[x509.Certificate, PrivateKey]:
    ca_key = signer or key("ECDSA", 256, slot=100)
    ca_spec = spec(common_name=name, dns_names=(), is_ca=True)
    csr = load_csr(build_csr(spec=ca_spec, key=ca_key))
    cert = sign_csr(
        csr=csr,
        signer_key=ca_key,
        signer_cert=None,
        duration=timedelta(days=days),
        is_ca=True,
        usages=(),
        now=NOW,
    )
    return cert, ca_key


def issue(
    cert_spec: CertificateSpec,
    leaf_key: PrivateKey,
    *,
    ca: tuple[x509.Certificate, PrivateKey] | None = None,
    now: datetime = NOW,
    duration: timedelta | None = None,
) -> x509.Certificate:
    ca_cert, ca_key = ca or self_signed_ca()
    csr = load_csr(build_csr(spec=cert_spec, key=leaf_key))
    return sign_csr(
        csr=csr,
        signer_key=ca_key,
        signer_cert=ca_cert,
        duration=duration or cert_spec.duration,
        is_ca=cert_spec.is_ca,
        usages=cert_spec.usages,
        now=now,
    )
