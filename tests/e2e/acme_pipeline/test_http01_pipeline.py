"""A Certificate from a ClusterIssuer over HTTP-01: Pebble validates through our responder."""

from __future__ import annotations

import base64

import pytest

from shared.kube.resources import CERTIFICATE_REQUESTS, CHALLENGES, CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    SECRETS,
    Pipeline,
    http01_solvers,
    ready,
)
from tests.e2e.flows import assert_chains_to, unique_name

pytestmark = pytest.mark.e2e


def test_cluster_issuer_registers_and_certificate_is_issued_by_pebble(pipeline: Pipeline) -> None:
    issuer = pipeline.cluster_issuer("le", solvers=http01_solvers())
    issuer_name = issuer["metadata"]["name"]
    pipeline.start()
    issuer = pipeline.wait_ready(CLUSTER_ISSUERS, issuer_name)
    assert issuer["status"]["acme"]["uri"].startswith("https://")
    assert issuer["status"]["acme"]["lastRegisteredEmail"] == "pipeline@example.test"
    account = pipeline.get(SECRETS, f"{issuer_name}-account", pipeline.resource_namespace)
    assert "tls.key" in account["data"]

    domain = unique_name("echo")
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "echo"},
            "spec": {
                "secretName": "echo-tls",
                "dnsNames": [domain],
                "issuerRef": {"name": issuer_name, "kind": "ClusterIssuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "echo")

    (order,) = pipeline.items(ORDERS)
    assert order["status"]["state"] == "valid"
    assert order["metadata"]["name"].startswith("echo-1-")
    assert order["status"]["url"] and order["status"]["finalizeURL"]
    request = pipeline.get(CERTIFICATE_REQUESTS, "echo-1")
    assert ready(request)
    pipeline.wait_none(CHALLENGES)  # deleted after success, once withdrawn
    secret = pipeline.get(SECRETS, "echo-tls")
    chain = base64.b64decode(secret["data"]["tls.crt"])
    assert_chains_to(chain, pipeline.pebble.roots()[0], name=domain)
