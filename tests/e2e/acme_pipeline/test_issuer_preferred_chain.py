"""A namespaced ACME Issuer (account key in its own namespace) honouring preferredChain."""

from __future__ import annotations

import base64

import pytest

from shared.acme.chains import topmost_issuer_common_name
from shared.kube.resources import ISSUERS
from tests.e2e.acme_pipeline.conftest import (
    CERTIFICATES,
    SECRETS,
    Pipeline,
    http01_solvers,
)
from tests.e2e.flows import assert_chains_to, common_name, unique_name

pytestmark = pytest.mark.e2e


def test_namespaced_issuer_delivers_the_preferred_alternate_chain(pipeline: Pipeline) -> None:
    roots = pipeline.pebble.roots()
    assert len(roots) > 1, "Pebble runs with PEBBLE_ALTERNATE_ROOTS=1"
    alternate = common_name(roots[1])
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "le"},
            "spec": {
                "acme": {
                    "server": pipeline.pebble.directory_url,
                    "privateKeySecretRef": {"name": "le-account"},
                    "caBundle": base64.b64encode(pipeline.pebble.ca_bundle_pem).decode(),
                    "preferredChain": alternate,
                    "solvers": http01_solvers(),
                }
            },
        }
    )
    pipeline.start()
    pipeline.wait_ready(ISSUERS, "le")
    assert pipeline.find(SECRETS, "le-account") is not None  # in the Issuer's own namespace
    assert pipeline.find(SECRETS, "le-account", pipeline.resource_namespace) is None
    domain = unique_name("alt")
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "alt"},
            "spec": {
                "secretName": "alt-tls",
                "dnsNames": [domain],
                "issuerRef": {"name": "le", "kind": "Issuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "alt")
    chain = base64.b64decode(pipeline.get(SECRETS, "alt-tls")["data"]["tls.crt"])
    assert topmost_issuer_common_name(chain) == alternate
    assert_chains_to(chain, roots[1], name=domain)
