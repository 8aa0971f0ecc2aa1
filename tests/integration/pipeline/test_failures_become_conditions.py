"""Every failure while reconciling a Certificate is a condition and a Warning Event on it,
at its current generation, and waits out the failure backoff: never a 500 redelivered
and re-raised on every tick."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.certificates.spec import CertificateSpec
from shared.issuers.base import IssuerScope
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, ISSUERS, SECRETS
from tests.integration.pipeline.conftest import Env, condition, ready


def not_ready_with_warning(env: Env, name: str) -> dict[str, Any]:
    delivery = env.deliver(CERTIFICATES, name)
    assert delivery.ok, delivery
    cert = env.get(CERTIFICATES, name)
    found = condition(cert, "Ready")
    assert found["status"] == "False", found
    assert found["observedGeneration"] == cert["metadata"]["generation"]
    warnings = [e for e in env.events(name) if e["type"] == "Warning"]
    assert warnings and warnings[-1]["reason"] == found["reason"], warnings
    return found


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (
            {"commonName": "c" * 70},
            "spec.commonName: Too long: may not be more than 64 bytes",
        ),
        (
            {"dnsNames": ["bücher.example.com"]},
            'spec.dnsNames[0]: Invalid value: "bücher.example.com": x509: "bücher.example.com" '
            'cannot be encoded as an IA5String; use its A-label "xn--bcher-kva.example.com"',
        ),
    ],
    ids=["common-name-70-characters", "non-ascii-dns-name"],
)
def test_a_spec_the_webhook_refuses_is_not_ready_with_its_words_and_a_warning(
    env: Env, spec: dict[str, Any], words: str
) -> None:
    env.ca_issuer()
    env.certificate("bad", issuerRef={"name": "ca", "kind": "Issuer"}, **spec)
    found = not_ready_with_warning(env, "bad")
    assert found["reason"] == "InvalidSpec"
    assert words in found["message"], found
    assert env.find(SECRETS, "bad-tls") is None
    assert env.request_names("bad") == []
    # The tick finds nothing new to do and writes nothing.
    writes = env.writes()
    assert env.tick().ok
    assert env.writes() == writes


def test_patching_a_ready_certificate_with_a_refused_spec_makes_it_not_ready_at_the_new_generation(
    env: Env,
) -> None:
    env.ca_issuer()
    env.issue("web", issuerRef={"name": "ca", "kind": "Issuer"})
    secret = env.get(SECRETS, "web-tls")["data"]
    cert = env.get(CERTIFICATES, "web")
    cert["spec"]["commonName"] = "c" * 70
    env.kube.replace(CERTIFICATES, cert)
    found = not_ready_with_warning(env, "web")
    assert found["reason"] == "InvalidSpec"
    assert env.get(SECRETS, "web-tls")["data"] == secret  # a failure never touches it
    # Fixed again: issued for the new spec at the generation after.
    cert = env.get(CERTIFICATES, "web")
    cert["spec"]["commonName"] = "web.example.test"
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "web").ok
    fixed = env.get(CERTIFICATES, "web")
    assert ready(fixed)
    assert condition(fixed, "Ready")["observedGeneration"] == fixed["metadata"]["generation"]


def test_an_unforeseen_exception_is_a_condition_an_event_and_a_backoff_not_a_500(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is stood in for by making CSR generation raise, as cryptography did for the
    inputs above before they were validated."""
    import shared.issuance.certificates as issuance

    env.ca_issuer()
    calls: list[str] = []

    def broken(*, spec: CertificateSpec, **_: object) -> bytes:
        # Only this test's Certificate counts: on a shared real cluster the tick also
        # sweeps what earlier tests left in namespaces still being deleted.
        if (spec.namespace, spec.name) == (env.namespace, "buggy"):
            calls.append("build_csr")
        raise ValueError("Attribute's length must be >= 1 and <= 64, but it was 70")

    monkeypatch.setattr(issuance, "build_csr", broken)
    env.certificate("buggy", issuerRef={"name": "ca", "kind": "Issuer"})
    found = not_ready_with_warning(env, "buggy")
    assert found["reason"] == "InternalError"
    assert found["message"].startswith(
        "Internal error while reconciling the Certificate: ValueError: Attribute's length"
    )
    cert = env.get(CERTIFICATES, "buggy")
    assert cert["status"]["failedIssuanceAttempts"] == 1
    assert calls == ["build_csr"]

    # Inside the backoff (1h) neither redelivery nor the tick tries again or writes.
    writes = env.writes()
    env.clock.advance(timedelta(minutes=59))
    assert env.deliver(CERTIFICATES, "buggy").ok
    assert env.tick().ok
    assert calls == ["build_csr"]
    assert env.writes() == writes

    # After it, one more attempt; failing again doubles the backoff to 2h.
    env.clock.advance(timedelta(minutes=1, seconds=1))
    assert env.tick().ok
    assert calls == ["build_csr", "build_csr"]
    assert env.get(CERTIFICATES, "buggy")["status"]["failedIssuanceAttempts"] == 2
    env.clock.advance(timedelta(hours=1, minutes=59))
    assert env.tick().ok
    assert calls == ["build_csr", "build_csr"]

    # Fixed (here: the bug goes away): the next attempt after the backoff issues.
    monkeypatch.undo()
    env.clock.advance(timedelta(minutes=2))
    assert env.tick().ok
    issued = env.get(CERTIFICATES, "buggy")
    assert ready(issued), issued["status"]
    assert "failedIssuanceAttempts" not in issued["status"]


def test_a_spec_change_retries_at_once_after_an_unforeseen_exception(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.issuance.certificates as issuance

    env.ca_issuer()
    from shared.pki.csr import build_csr as real

    def broken_for_rsa(**kwargs: Any) -> bytes:
        if kwargs["spec"].private_key.algorithm == "RSA":
            raise RuntimeError("RSA is broken today")
        return real(**kwargs)

    monkeypatch.setattr(issuance, "build_csr", broken_for_rsa)
    env.certificate("switch", issuerRef={"name": "ca", "kind": "Issuer"})
    assert not_ready_with_warning(env, "switch")["reason"] == "InternalError"
    cert = env.get(CERTIFICATES, "switch")
    cert["spec"]["privateKey"] = {"algorithm": "ECDSA"}
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "switch").ok
    assert ready(env.get(CERTIFICATES, "switch"))


def test_a_signer_that_breaks_fails_the_request_and_the_certificate_backs_off(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.issuers import ca

    env.ca_issuer()

    def broken(**_: object) -> object:
        raise KeyError("serial")

    monkeypatch.setattr(ca, "sign_csr", broken)
    env.certificate("unsigned", issuerRef={"name": "ca", "kind": "Issuer"})
    assert env.deliver(CERTIFICATES, "unsigned").ok
    request = env.get(CERTIFICATE_REQUESTS, "unsigned-1")
    failed = condition(request, "Ready")
    assert (failed["status"], failed["reason"]) == ("False", "Failed")
    assert "Internal error while signing the certificate request: KeyError" in failed["message"]
    cert = env.get(CERTIFICATES, "unsigned")
    assert condition(cert, "Issuing")["status"] == "False"
    assert cert["status"]["failedIssuanceAttempts"] == 1


def test_an_issuer_check_that_breaks_is_ready_false_and_retried_hourly(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.issuers.registry import ISSUER_TYPES

    calls: list[str] = []

    class Broken:
        def check(self, scope: IssuerScope) -> object:
            # Only this test's issuers count: on a shared real cluster the tick also
            # checks what earlier tests left in namespaces still being deleted.
            if scope.secrets_namespace == env.namespace:
                calls.append("check")
            raise TypeError("unsupported operand")

        def sign(self, scope: object, request: object) -> object:
            raise AssertionError("not reached")

    monkeypatch.setitem(ISSUER_TYPES, "selfSigned", Broken())
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self"},
            "spec": {"selfSigned": {}},
        }
    )
    assert env.deliver(ISSUERS, "self").ok
    found = condition(env.get(ISSUERS, "self"), "Ready")
    assert (found["status"], found["reason"]) == ("False", "InternalError")
    assert "Internal error while checking the Issuer: TypeError" in found["message"]
    assert [e["reason"] for e in env.events("self")] == ["InternalError"]
    writes = env.writes()
    env.clock.advance(timedelta(minutes=59))
    assert env.deliver(ISSUERS, "self").ok
    assert env.tick().ok
    assert calls == ["check"]
    assert env.writes() == writes
    env.clock.advance(timedelta(minutes=2))
    assert env.tick().ok
    assert calls == ["check", "check"]


def test_a_pkcs12_password_with_a_nul_is_a_condition_not_a_panic_on_the_next_sync(
    env: Env,
) -> None:
    """Found by the fuzz: OpenSSL wrote the keystore, then panicked (a BaseException from
    Rust) reading it back on every later delivery."""
    import base64

    env.ca_issuer()
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "p12-password"},
            "data": {"password": base64.b64encode(b"a\x00b").decode()},
        }
    )
    env.certificate(
        "p12",
        issuerRef={"name": "ca", "kind": "Issuer"},
        privateKey={"algorithm": "ECDSA"},
        keystores={"pkcs12": {"create": True, "passwordSecretRef": {"name": "p12-password"}}},
    )
    found = not_ready_with_warning(env, "p12")
    assert found["reason"] == "KeystorePasswordMissing"
    assert "contains a NUL character" in found["message"]
    assert env.deliver(CERTIFICATES, "p12").ok
