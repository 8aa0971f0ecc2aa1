"""A wildcard Certificate over DNS-01: rfc2136 updates to BIND9, Pebble resolves through it."""

from __future__ import annotations

import base64

import pytest

from shared.dns01 import resolver
from shared.dns01.base import challenge_record_name
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS, EVENTS, ORDERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    SECRETS,
    Pipeline,
    http01_solvers,
    rfc2136_solver,
)
from tests.e2e.flows import assert_chains_to, unique_name

pytestmark = pytest.mark.e2e


def test_wildcard_certificate_is_issued_over_rfc2136_and_leaves_no_txt(
    pipeline: Pipeline,
) -> None:
    bind9 = pipeline.bind9
    issuer = pipeline.cluster_issuer("dns", solvers=[rfc2136_solver(pipeline)])["metadata"]["name"]
    base = unique_name("wild")
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, issuer)
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "wild"},
            "spec": {
                "secretName": "wild-tls",
                "dnsNames": [f"*.{base}", base],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "wild")

    chain = base64.b64decode(pipeline.get(SECRETS, "wild-tls")["data"]["tls.crt"])
    assert_chains_to(chain, pipeline.pebble.roots()[0], name=f"*.{base}")
    assert_chains_to(chain, pipeline.pebble.roots()[0], name=base)
    (order,) = pipeline.items(ORDERS)
    assert order["status"]["state"] == "valid"
    assert sorted(a["wildcard"] for a in order["status"]["authorizations"]) == [False, True]
    pipeline.wait_none(CHALLENGES)
    servers = resolver.parse_nameservers(bind9.nameservers)
    assert resolver.txt_values(challenge_record_name(base), nameservers=servers) == set()


def test_certificate_labels_select_the_solver(pipeline: Pipeline) -> None:
    solvers = [
        *http01_solvers(),
        {**rfc2136_solver(pipeline), "selector": {"matchLabels": {"solver": "dns"}}},
    ]
    issuer = pipeline.cluster_issuer("select", solvers=solvers)["metadata"]["name"]
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, issuer)
    for name, labels in (("by-dns", {"solver": "dns"}), ("by-http", {})):
        pipeline.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "secretName": f"{name}-tls",
                    "dnsNames": [unique_name(name)],
                    "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
                },
            }
        )
    for name in ("by-dns", "by-http"):
        pipeline.wait_ready(CERTIFICATES, name)
    # Challenges are gone once valid; their Events say which mechanism presented them.
    events, _ = pipeline.kube.list(EVENTS, pipeline.namespace)
    presented = {
        e["involvedObject"]["name"].split("-1-")[0]: e["message"]
        for e in events
        if e.get("reason") == "Presented"
    }
    assert "DNS-01" in presented["by-dns"] and "HTTP-01" in presented["by-http"]
