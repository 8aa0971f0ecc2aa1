"""Approval: our issuers' requests are approved here; a denial fails the Certificate."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES
from tests.integration.pipeline.conftest import Env, condition


def test_denied_request_fails_the_certificate_naming_the_denial(env: Env) -> None:
    env.ca_issuer()
    env.certificate("refused", issuerRef={"name": "ca", "kind": "Issuer"})
    env.deliver_crashing("refused", step="request-created")  # created, not yet signed
    env.deny("refused-1", reason="policy.cert-manager.io", message="No policy approves this")
    assert env.deliver(CERTIFICATES, "refused").ok
    request = env.get(CERTIFICATE_REQUESTS, "refused-1")
    request_ready = condition(request, "Ready")
    assert (request_ready["status"], request_ready["reason"]) == ("False", "Denied")
    assert request_ready["message"] == (
        "The CertificateRequest was denied by an approval controller"
    )
    assert request["status"]["failureTime"]
    assert "certificate" not in request["status"]  # a denied request is never signed
    cert = env.get(CERTIFICATES, "refused")
    issuing = condition(cert, "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "policy.cert-manager.io")
    assert issuing["message"] == (
        "The certificate request has failed to complete and will be retried: "
        "No policy approves this"
    )
    assert cert["status"]["lastFailureTime"] == request["status"]["failureTime"]
    assert cert["status"]["failedIssuanceAttempts"] == 1
    assert condition(cert, "Ready")["reason"] == "DoesNotExist"
    warnings = [e for e in env.events("refused") if e["type"] == "Warning"]
    assert [(e["reason"], e["message"]) for e in warnings] == [
        ("policy.cert-manager.io", issuing["message"])
    ]
    # a repeated event records nothing twice
    assert env.deliver(CERTIFICATES, "refused").ok
    assert env.get(CERTIFICATES, "refused")["status"]["failedIssuanceAttempts"] == 1


def _csr() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("ext.example.test")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(Encoding.PEM)).decode()


def test_request_for_an_external_issuer_is_left_to_its_own_approver(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "CertificateRequest",
            "metadata": {"name": "external"},
            "spec": {
                "request": _csr(),
                "issuerRef": {"name": "corp", "kind": "CorpIssuer", "group": "corp.example.com"},
            },
        }
    )
    before = env.get(CERTIFICATE_REQUESTS, "external")
    assert env.deliver(CERTIFICATE_REQUESTS, "external").ok
    after = env.get(CERTIFICATE_REQUESTS, "external")
    assert condition(after, "Approved") == {}
    assert after.get("status") == before.get("status")


def test_standalone_request_for_our_issuer_is_approved_and_signed(env: Env) -> None:
    env.ca_issuer()
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "CertificateRequest",
            "metadata": {"name": "ours"},
            "spec": {"request": _csr(), "issuerRef": {"name": "ca", "kind": "Issuer"}},
        }
    )
    assert env.deliver(CERTIFICATE_REQUESTS, "ours").ok
    request = env.get(CERTIFICATE_REQUESTS, "ours")
    approved = condition(request, "Approved")
    assert (approved["status"], approved["reason"]) == ("True", "cert-manager.io")
    assert condition(request, "Ready")["reason"] == "Issued"
