"""Kill the process at every step boundary; the next delivery finishes the job exactly once."""

from __future__ import annotations

import base64
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from shared.issuance.certificates import ISSUED_MESSAGE
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, SECRETS
from shared.pki.keys import public_keys_equal
from tests.integration.pipeline.conftest import Env, ready

STEPS = [
    "key-persisted",
    "request-created",
    "request-signed",
    "secret-written",
    "key-cleaned",
    "status-written",
]


def assert_issued_exactly_once(env: Env, name: str, *, revision: int = 1) -> None:
    cert = env.get(CERTIFICATES, name)
    assert ready(cert) and cert["status"]["revision"] == revision, cert.get("status")
    assert env.request_names(name) == [f"{name}-{revision}"]  # revisionHistoryLimit 1
    request = env.get(CERTIFICATE_REQUESTS, f"{name}-{revision}")
    secret = env.get(SECRETS, f"{name}-tls")
    assert secret["data"]["tls.crt"] == request["status"]["certificate"]  # the recorded certificate
    leaf = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))[0]
    key = load_pem_private_key(base64.b64decode(secret["data"]["tls.key"]), None)
    assert public_keys_equal(key.public_key(), leaf.public_key())  # type: ignore[arg-type]
    assert env.find(SECRETS, f"{name}-next-private-key") is None  # no orphaned key


def assert_one_issued_event(env: Env, name: str, *, revisions: int = 1) -> None:
    # Wherever the crash was: the Event is named for its revision, never lost or doubled.
    told = [(e["reason"], e["message"]) for e in env.events(name)]
    assert told.count(("Issuing", ISSUED_MESSAGE)) == revisions, told
    on_request = [e["reason"] for e in env.events(f"{name}-{revisions}")]
    assert on_request.count("CertificateIssued") == 1, on_request


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_each_step_is_finished_by_the_next_delivery(env: Env, step: str) -> None:
    env.ca_issuer()
    env.certificate("crashy", issuerRef={"name": "ca", "kind": "Issuer"})
    env.deliver_crashing("crashy", step=step)
    if step != "status-written":
        assert not ready(env.get(CERTIFICATES, "crashy"))
    assert env.deliver(CERTIFICATES, "crashy").ok
    assert_issued_exactly_once(env, "crashy")
    assert_one_issued_event(env, "crashy")


@pytest.mark.parametrize("step", STEPS)
def test_crash_during_a_renewal_is_finished_by_the_next_delivery(env: Env, step: str) -> None:
    env.ca_issuer()
    env.issue("again", issuerRef={"name": "ca", "kind": "Issuer"})
    env.renew("again")
    env.deliver_crashing("again", step=step)
    assert env.deliver(CERTIFICATES, "again").ok
    assert_issued_exactly_once(env, "again", revision=2)
    assert_one_issued_event(env, "again", revisions=2)


def test_eight_concurrent_deliveries_issue_one_certificate(env: Env) -> None:
    env.ca_issuer()
    env.certificate("busy", issuerRef={"name": "ca", "kind": "Issuer"})
    barrier = threading.Barrier(8)
    results: list[int] = []

    def deliver() -> None:
        barrier.wait()
        results.append(env.deliver(CERTIFICATES, "busy").status)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(200 <= status < 300 for status in results), results
    assert_issued_exactly_once(env, "busy")
    assert_one_issued_event(env, "busy")
    reasons = [e["reason"] for e in env.events("busy")]
    assert reasons.count("Generated") == 1 and reasons.count("Requested") == 1, reasons


def test_stale_duplicate_and_out_of_order_events_change_nothing(env: Env) -> None:
    env.ca_issuer()
    env.certificate("calm", issuerRef={"name": "ca", "kind": "Issuer"})
    stale = env.get(CERTIFICATES, "calm")  # as first seen: no status at all
    assert env.deliver(CERTIFICATES, "calm").ok
    request = env.get(CERTIFICATE_REQUESTS, "calm-1")
    writes = env.writes()
    assert env.deliver_object(stale, action="add").ok  # old payload, delivered late
    assert env.deliver_object(stale, action="delete").ok  # a delete for an object that exists
    assert env.deliver_object(request, action="update").ok
    assert env.deliver_object({**stale, "metadata": {**stale["metadata"], "name": "never-was"}}).ok
    assert env.writes() == writes
    assert env.get(CERTIFICATES, "calm")["status"]["revision"] == 1
