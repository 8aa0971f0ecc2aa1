"""Kill the process at every step boundary; the next delivery finishes the job exactly once."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from shared.faults import CRASH_ENV, CRASH_EXIT_CODE
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, SECRETS
from shared.pki.keys import public_keys_equal
from tests.conftest import REPO
from tests.integration.pipeline.conftest import Env, ready

STEPS = ["key-persisted", "request-created", "request-signed", "secret-written", "key-cleaned"]


def assert_issued_exactly_once(env: Env, name: str) -> None:
    cert = env.get(CERTIFICATES, name)
    assert ready(cert) and cert["status"]["revision"] == 1, cert.get("status")
    requests, _ = env.kube.list(CERTIFICATE_REQUESTS, env.namespace)
    assert [r["metadata"]["name"] for r in requests if r["metadata"]["name"].startswith(name)] == [
        f"{name}-1"
    ]
    request = env.get(CERTIFICATE_REQUESTS, f"{name}-1")
    secret = env.get(SECRETS, f"{name}-tls")
    assert secret["data"]["tls.crt"] == request["status"]["certificate"]  # the recorded certificate
    leaf = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))[0]
    key = load_pem_private_key(base64.b64decode(secret["data"]["tls.key"]), None)
    assert public_keys_equal(key.public_key(), leaf.public_key())  # type: ignore[arg-type]
    assert env.find(SECRETS, f"{name}-next-private-key") is None  # no orphaned key
    reasons = [e["reason"] for e in env.events(name)]
    assert reasons.count("Issued") == 1, reasons


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_each_step_is_finished_by_the_next_delivery(env: Env, step: str) -> None:
    env.ca_issuer()
    env.certificate("crashy", issuerRef={"name": "ca", "kind": "Issuer"})
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.pipeline.deliver_once",
            str(env.cluster.kubeconfig),
            env.namespace,
            "crashy",
        ],
        env={**os.environ, CRASH_ENV: step},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == CRASH_EXIT_CODE, process.stderr[-2000:]
    assert not ready(env.get(CERTIFICATES, "crashy"))
    assert env.deliver(CERTIFICATES, "crashy").ok
    assert_issued_exactly_once(env, "crashy")


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
