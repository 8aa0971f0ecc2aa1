"""Pruning after a renewal finds the requests by name: no LIST that grows with the namespace."""

from __future__ import annotations

import pytest

from shared import runtime
from shared.issuance.certificates import reconcile_certificate
from shared.issuance.requests import CERTIFICATE_REVISION as REVISION
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES
from tests.integration.pipeline.conftest import Env, ready


def request_lists(env: Env) -> int:
    if env.cluster.requests is None:
        pytest.skip("counting requests needs the embedded API or the rig")
    return sum(
        1
        for r in env.cluster.requests.snapshot()
        if r.verb == "list"
        and r.resource == "certificaterequests"
        and r.namespace == env.namespace
        and r.user_agent.startswith("certainly")
    )


def test_a_renewal_prunes_the_old_request_without_listing_the_namespace(env: Env) -> None:
    env.ca_issuer()
    env.issue("byname", issuerRef={"name": "ca", "kind": "Issuer"})
    for i in range(20):  # neighbours whose requests a LIST would carry
        env.issue(f"other-{i}", issuerRef={"name": "ca", "kind": "Issuer"})
    before = request_lists(env)
    for _ in range(2):
        env.renew("byname")
        assert env.deliver(CERTIFICATES, "byname").ok
        assert ready(env.get(CERTIFICATES, "byname"))
        assert env.deliver(CERTIFICATES, "byname").ok  # a later sync prunes nothing more
    assert request_lists(env) == before
    assert env.request_names("byname") == ["byname-3"]


def test_a_tidying_run_still_prunes_a_request_named_otherwise(env: Env) -> None:
    """A request cert-manager named (generateName) is found by the LIST a tidy run makes."""
    env.ca_issuer()
    env.issue("odd", issuerRef={"name": "ca", "kind": "Issuer"})
    env.renew("odd")
    assert env.deliver(CERTIFICATES, "odd").ok
    current = env.kube.get(CERTIFICATE_REQUESTS, env.namespace, "odd-2")
    legacy = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": {
            "name": "odd-x7k2p",
            "namespace": env.namespace,
            "annotations": {**current["metadata"]["annotations"], REVISION: "1"},
            "ownerReferences": current["metadata"]["ownerReferences"],
        },
        "spec": current["spec"],
    }
    env.kube.create(CERTIFICATE_REQUESTS, legacy)
    assert env.deliver(CERTIFICATES, "odd").ok  # an ordinary sync: by name only
    assert env.request_names("odd") == ["odd-x7k2p", "odd-2"]
    reconcile_certificate(runtime.current(), namespace=env.namespace, name="odd", tidy=True)
    assert env.request_names("odd") == ["odd-2"]
