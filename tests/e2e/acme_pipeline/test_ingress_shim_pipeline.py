"""The Let's Encrypt recipe with Pebble: an annotated Ingress gets a Ready Certificate."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509

from shared.kube.resources import CERTIFICATE_REQUESTS, CLUSTER_ISSUERS, INGRESSES, ORDERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    SECRETS,
    Pipeline,
    http01_solvers,
    ready,
)
from tests.e2e.flows import assert_chains_to, unique_name
from tests.helpers import eventually, kubectl

pytestmark = pytest.mark.e2e


def ingress(name: str, *, host: str, issuer: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": {"cert-manager.io/cluster-issuer": issuer}},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [host], "secretName": "echo-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "echo", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def test_annotated_ingress_gets_a_certificate_and_switching_issuer_reissues(
    pipeline: Pipeline,
) -> None:
    first = pipeline.cluster_issuer("le", solvers=http01_solvers())["metadata"]["name"]
    second = pipeline.cluster_issuer("other", solvers=http01_solvers())["metadata"]["name"]
    host = unique_name("echo")
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, first)
    pipeline.wait_ready(CLUSTER_ISSUERS, second)
    pipeline.create(ingress("echo", host=host, issuer=first))

    cert = pipeline.wait_ready(CERTIFICATES, "echo-tls")
    assert cert["spec"]["dnsNames"] == [host]
    assert cert["spec"]["issuerRef"] == {
        "name": first,
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    owner = cert["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Ingress", "echo")
    secret = pipeline.get(SECRETS, "echo-tls")
    chain = base64.b64decode(secret["data"]["tls.crt"])
    assert_chains_to(chain, pipeline.pebble.roots()[0], name=host)
    first_serial = x509.load_pem_x509_certificate(chain).serial_number

    listing = kubectl(
        pipeline.cluster.kubeconfig,
        "get",
        "certificate,certificaterequest,order,challenge",
        "-n",
        pipeline.namespace,
    )
    assert "echo-tls" in listing and "True" in listing and "valid" in listing

    # Switch issuers and drop the Secret: re-issued from the new issuer.
    current = pipeline.get(INGRESSES, "echo")
    current["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] = second
    pipeline.kube.replace(INGRESSES, current)
    pipeline.wait_for(
        CERTIFICATES,
        "echo-tls",
        until=lambda c: c["spec"]["issuerRef"]["name"] == second,
        what="issuerRef switched",
    )
    pipeline.kube.delete(SECRETS, pipeline.namespace, "echo-tls")
    cert = pipeline.wait_for(
        CERTIFICATES,
        "echo-tls",
        until=lambda c: ready(c) and c["status"].get("revision") == 2,
        what="re-issued at revision 2",
    )
    request = pipeline.get(CERTIFICATE_REQUESTS, "echo-tls-2")
    assert request["spec"]["issuerRef"]["name"] == second
    chain = base64.b64decode(pipeline.get(SECRETS, "echo-tls")["data"]["tls.crt"])
    assert x509.load_pem_x509_certificate(chain).serial_number != first_serial

    # The first request went with revisionHistoryLimit, and its Order with it: at once on
    # the embedded API, once the garbage collector gets to it on a real one.
    def orders() -> list[tuple[str, str]]:
        return [(o["metadata"]["name"][:11], o["status"]["state"]) for o in pipeline.items(ORDERS)]

    eventually(lambda: orders() == [("echo-tls-2-", "valid")], what="one valid Order")
