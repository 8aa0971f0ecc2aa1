"""Kill the ACME workflow between any two steps; the next deliveries finish it with one order."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from events.http01 import ChallengeAnswers, HTTP01Responder
from shared import runtime
from shared.faults import CRASH_ENV, CRASH_EXIT_CODE
from shared.kube.resources import CERTIFICATE_REQUESTS, CHALLENGES, CLUSTER_ISSUERS, ORDERS
from tests.conftest import REPO
from tests.e2e.acme_pipeline import pump
from tests.e2e.acme_pipeline.conftest import CERTIFICATES, SECRETS, Pipeline, http01_solvers
from tests.e2e.flows import assert_chains_to, unique_name

pytestmark = pytest.mark.e2e

STEPS = [
    "order-created",
    "challenges-created",
    "challenge-presented",
    "challenge-accepted",
    "challenge-final",
    "order-valid",
]


def pebble_log(pipeline: Pipeline) -> str:
    return pipeline.pebble.log.read_text(errors="replace")


@pytest.fixture
def responder(pipeline: Pipeline) -> Iterator[str]:
    address = f"127.0.0.1:{pipeline.pebble.http_port}"
    server = HTTP01Responder(address, ChallengeAnswers(pipeline.kube))
    server.start()
    try:
        yield address
    finally:
        server.stop()
        runtime.install(None)


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_each_acme_step_is_finished_with_exactly_one_order(
    pipeline: Pipeline, responder: str, step: str
) -> None:
    issuer = pipeline.cluster_issuer("crash", solvers=http01_solvers())["metadata"]["name"]
    kube = pipeline.kube
    pump.install(kube, resource_namespace=pipeline.resource_namespace, solver_address=responder)
    pump.deliver_all(kube, CLUSTER_ISSUERS, None)
    assert pipeline.get(CLUSTER_ISSUERS, issuer)["status"]["acme"]["uri"]
    domain = unique_name("crash")
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "crashy"},
            "spec": {
                "secretName": "crashy-tls",
                "dnsNames": [domain],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
            },
        }
    )
    log_before = len(pebble_log(pipeline))

    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.acme_pipeline.pump",
            str(pipeline.cluster.kubeconfig),
            pipeline.namespace,
            pipeline.resource_namespace,
            responder,
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
    assert not pump.certificate_ready(kube, pipeline.namespace, "crashy")

    assert pump.pump(
        kube,
        pipeline.namespace,
        until=lambda: pump.certificate_ready(kube, pipeline.namespace, "crashy"),
    )
    # Orders Pebble created (a POST rejected for its nonce and resent is not a second one).
    new_orders = pebble_log(pipeline)[log_before:].count("Added order")
    assert new_orders == 1
    (order,) = pipeline.items(ORDERS)
    assert order["status"]["state"] == "valid"
    assert [r["metadata"]["name"] for r in pipeline.items(CERTIFICATE_REQUESTS)] == ["crashy-1"]
    pump.deliver_all(kube, CHALLENGES, pipeline.namespace)  # their deletion: finalizer released
    assert pipeline.items(CHALLENGES) == []
    cert = pipeline.get(CERTIFICATES, "crashy")
    assert cert["status"]["revision"] == 1
    chain = base64.b64decode(pipeline.get(SECRETS, "crashy-tls")["data"]["tls.crt"])
    assert_chains_to(chain, pipeline.pebble.roots()[0], name=domain)
