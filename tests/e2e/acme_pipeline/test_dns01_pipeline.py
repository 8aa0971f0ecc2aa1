"""A wildcard Certificate over DNS-01: rfc2136 updates to BIND9, Pebble resolves through it."""

from __future__ import annotations

import base64

import pytest

from shared.dns01 import resolver
from shared.dns01.base import challenge_record_name
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import CERTIFICATES, SECRETS, Pipeline
from tests.e2e.flows import assert_chains_to, unique_name

pytestmark = pytest.mark.e2e


def test_wildcard_certificate_is_issued_over_rfc2136_and_leaves_no_txt(
    pipeline: Pipeline,
) -> None:
    bind9 = pipeline.bind9
    pipeline.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tsig", "namespace": pipeline.resource_namespace},
            "data": {"secret": base64.b64encode(bind9.tsig_secret.encode()).decode()},
        }
    )
    issuer = pipeline.cluster_issuer(
        "dns",
        solvers=[
            {
                "dns01": {
                    "rfc2136": {
                        "nameserver": bind9.address,
                        "tsigKeyName": bind9.tsig_key_name,
                        "tsigAlgorithm": bind9.tsig_algorithm,
                        "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
                    }
                }
            }
        ],
    )["metadata"]["name"]
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
    assert pipeline.items(CHALLENGES) == []
    servers = resolver.parse_nameservers(bind9.nameservers)
    assert resolver.txt_values(challenge_record_name(base), nameservers=servers) == set()
