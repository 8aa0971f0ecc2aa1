"""Paths the pipeline suite does not walk, walked so the RBAC test sees their API calls.

Run as part of the integration suite like any test; test_rbac.py also runs it while
recording which calls each function makes.
"""

from __future__ import annotations

import pytest

from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS
from tests.integration.pipeline.conftest import Env, env, ready

pytestmark = pytest.mark.integration

__all__ = ["env"]  # the pipeline's fixture, used here


def test_a_certificate_from_a_cluster_issuer_is_issued(env: Env) -> None:
    name = f"{env.namespace}-selfsigned"
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {"selfSigned": {}},
        }
    )
    try:
        assert env.deliver(CLUSTER_ISSUERS, name).ok
        env.certificate("web", issuerRef={"name": name, "kind": "ClusterIssuer"})
        assert env.deliver(CERTIFICATES, "web").ok
        assert ready(env.get(CERTIFICATES, "web"))
    finally:
        env.kube.delete(CLUSTER_ISSUERS, None, name)
