"""A CA Issuer created before its key pair exists: the CA Certificate's issuance wakes it.

on-certificate-created then rechecks the issuers using that Secret and resumes the
Certificates waiting for them (shared/routing.py), calls the RBAC test must see.
"""

from __future__ import annotations

import contextlib

import pytest

from shared.kube.errors import AlreadyExists
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, ISSUERS, NAMESPACES
from tests.integration.pipeline.conftest import Env, env, ready

pytestmark = pytest.mark.integration

__all__ = ["env"]


def _issuer(env: Env, kind: str, name: str, spec: dict[str, object], namespace: str) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def test_a_waiting_certificate_is_issued_once_its_ca_issuer_gets_its_key_pair(env: Env) -> None:
    namespace = env.namespace
    _issuer(env, "Issuer", "root", {"selfSigned": {}}, namespace)
    assert env.deliver(ISSUERS, "root").ok
    _issuer(env, "Issuer", "ca", {"ca": {"secretName": "ca-key-pair"}}, namespace)
    assert env.deliver(ISSUERS, "ca").ok
    env.certificate("leaf", issuerRef={"name": "ca", "kind": "Issuer"})
    assert env.deliver(CERTIFICATES, "leaf").ok
    assert not ready(env.get(CERTIFICATES, "leaf"))

    env.certificate(
        "ca",
        isCA=True,
        commonName="ca",
        dnsNames=[],
        secretName="ca-key-pair",
        issuerRef={"name": "root", "kind": "Issuer"},
    )
    # One delivery issues the CA certificate and wakes the issuer that waited for it.
    assert env.deliver(CERTIFICATES, "ca").ok
    assert ready(env.get(CERTIFICATES, "ca"))
    assert ready(env.get(ISSUERS, "ca"))
    assert ready(env.get(CERTIFICATES, "leaf"))


def test_a_cluster_issuer_waiting_for_its_key_pair_wakes_up_too(env: Env) -> None:
    resource_namespace = env.ca_namespace  # the cluster-resource namespace
    with contextlib.suppress(AlreadyExists):
        env.kube.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": resource_namespace}},
        )
    suffix = env.namespace
    _issuer(env, "Issuer", f"root-{suffix}", {"selfSigned": {}}, resource_namespace)
    assert env.deliver(ISSUERS, f"root-{suffix}", namespace=resource_namespace).ok
    cluster_issuer = f"ca-{suffix}"
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": cluster_issuer},
            "spec": {"ca": {"secretName": f"ca-{suffix}"}},
        }
    )
    try:
        assert env.deliver(CLUSTER_ISSUERS, cluster_issuer).ok
        env.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": f"ca-{suffix}", "namespace": resource_namespace},
                "spec": {
                    "isCA": True,
                    "commonName": "cluster ca",
                    "secretName": f"ca-{suffix}",
                    "issuerRef": {"name": f"root-{suffix}", "kind": "Issuer"},
                },
            }
        )
        assert env.deliver(CERTIFICATES, f"ca-{suffix}", namespace=resource_namespace).ok
        assert ready(env.get(CLUSTER_ISSUERS, cluster_issuer))
    finally:
        env.kube.delete(CLUSTER_ISSUERS, None, cluster_issuer)
        env.kube.delete(CERTIFICATES, resource_namespace, f"ca-{suffix}")
        env.kube.delete(ISSUERS, resource_namespace, f"root-{suffix}")
