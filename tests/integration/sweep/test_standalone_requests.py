"""A CertificateRequest a user created for one of our issuers is signed by the tick when
its event was lost; requests for other issuers' groups are never touched."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.kube.client import Obj
from shared.kube.resources import CERTIFICATE_REQUESTS, ISSUERS
from tests.integration.pipeline.conftest import Env, condition
from tests.integration.sweep.cost import tick_cost

pytestmark = pytest.mark.integration


def csr_pem(host: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def request(env: Env, name: str, issuer_ref: dict[str, str]) -> Obj:
    return env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "CertificateRequest",
            "metadata": {"name": name},
            "spec": {
                "request": base64.b64encode(csr_pem(f"{name}.example.test")).decode(),
                "issuerRef": issuer_ref,
                "usages": ["digital signature", "key encipherment"],
            },
        }
    )


def test_standalone_request_is_signed_by_the_tick(env: Env) -> None:
    env.ca_issuer()
    request(env, "by-hand", {"name": "ca", "kind": "Issuer"})  # its event is lost

    cost = tick_cost(env)

    signed = env.get(CERTIFICATE_REQUESTS, "by-hand")
    assert condition(signed, "Approved")["status"] == "True"
    assert (condition(signed, "Ready")["status"], condition(signed, "Ready")["reason"]) == (
        "True",
        "Issued",
    )
    leaf = x509.load_pem_x509_certificate(base64.b64decode(signed["status"]["certificate"]))
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["by-hand.example.test"]
    assert f"{env.namespace}/by-hand" in [w.split(" ")[-1] for w in cost.writes]
    assert tick_cost(env).writes == []


def test_request_waiting_for_its_issuer_is_signed_once_the_issuer_appears(env: Env) -> None:
    request(env, "early", {"name": "late", "kind": "Issuer"})
    tick_cost(env)
    waiting = condition(env.get(CERTIFICATE_REQUESTS, "early"), "Ready")
    assert (waiting["status"], waiting["reason"]) == ("False", "Pending")
    assert tick_cost(env).writes == []  # still waiting: said once, not every tick

    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "late"},
            "spec": {"selfSigned": {}},
        }
    )  # no event for the issuer either
    tick_cost(env)
    # SelfSigned needs the key's Secret named on the request: without it signing fails,
    # which shows the tick made the attempt once the issuer was there.
    assert condition(env.get(ISSUERS, "late"), "Ready")["reason"] == "IsReady"
    failed = condition(env.get(CERTIFICATE_REQUESTS, "early"), "Ready")
    assert (failed["status"], failed["reason"]) == ("False", "Failed")
    assert "private-key-secret-name" in failed["message"]
    assert tick_cost(env).writes == []


def test_request_for_another_issuer_group_is_not_touched(env: Env) -> None:
    request(env, "external", {"name": "vault", "kind": "VaultIssuer", "group": "example.com"})
    cost = tick_cost(env)
    assert env.get(CERTIFICATE_REQUESTS, "external").get("status") in (None, {})
    assert cost.writes == []
