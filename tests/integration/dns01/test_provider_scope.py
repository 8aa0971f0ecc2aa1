"""Providers built for an issuer read Secrets only from its scope's namespace through
the Kubernetes API, and get ambient credentials only for a ClusterIssuer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.dns01.cloudflare import CloudflareProvider
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for_scope
from shared.dns01.route53 import Route53Provider
from shared.dns01.webhook import WebhookProvider
from shared.issuers.base import IssuerScope
from shared.kube.client import Kube
from shared.kube.objects import encode_data
from shared.kube.resources import NAMESPACES, SECRETS
from tests.conftest import Cluster

pytestmark = pytest.mark.integration

CLOUDFLARE = {"cloudflare": {"apiTokenSecretRef": {"name": "cf", "key": "api-token"}}}


@pytest.fixture
def kube(cluster: Cluster) -> Iterator[Kube]:
    client = Kube.from_kubeconfig(cluster.kubeconfig)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def namespaces(kube: Kube) -> Iterator[tuple[str, str]]:
    """Two namespaces; only the first holds the Cloudflare token."""
    names = (f"dns-{uuid.uuid4().hex[:8]}", f"dns-{uuid.uuid4().hex[:8]}")
    for name in names:
        kube.create(
            NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
    kube.create(
        SECRETS,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "cf", "namespace": names[0]},
            "data": encode_data({"api-token": b"token-in-scope\n"}),
        },
    )
    try:
        yield names
    finally:
        for name in names:
            kube.delete(NAMESPACES, None, name)


def _scope(kube: Kube, *, kind: str, namespace: str) -> IssuerScope:
    issuer = {"kind": kind, "metadata": {"name": "acme"}}
    return IssuerScope(kube=kube, issuer=issuer, secrets_namespace=namespace)


def test_an_issuer_reads_the_secret_in_its_own_namespace(
    kube: Kube, namespaces: tuple[str, str]
) -> None:
    provider = provider_for_scope(
        CLOUDFLARE, scope=_scope(kube, kind="Issuer", namespace=namespaces[0])
    )
    assert isinstance(provider, CloudflareProvider)
    assert provider.api_token == "token-in-scope"


def test_a_secret_in_another_namespace_is_not_found(
    kube: Kube, namespaces: tuple[str, str]
) -> None:
    scope = _scope(kube, kind="Issuer", namespace=namespaces[1])
    with pytest.raises(ProviderConfigError) as raised:
        provider_for_scope(CLOUDFLARE, scope=scope)
    assert (
        str(raised.value) == "cloudflare.apiTokenSecretRef: secret 'cf' key 'api-token' not found"
    )


def test_a_missing_key_in_an_existing_secret_is_named(
    kube: Kube, namespaces: tuple[str, str]
) -> None:
    block = {"cloudflare": {"apiTokenSecretRef": {"name": "cf", "key": "token"}}}
    with pytest.raises(ProviderConfigError, match="secret 'cf' key 'token' not found"):
        provider_for_scope(block, scope=_scope(kube, kind="Issuer", namespace=namespaces[0]))


def test_ambient_credentials_follow_the_issuer_kind(
    kube: Kube, namespaces: tuple[str, str]
) -> None:
    route53 = {"route53": {"region": "eu-west-1"}}
    with pytest.raises(ProviderConfigError, match="only used for ClusterIssuers"):
        provider_for_scope(route53, scope=_scope(kube, kind="Issuer", namespace=namespaces[0]))
    cluster_scope = _scope(kube, kind="ClusterIssuer", namespace=namespaces[1])
    assert isinstance(provider_for_scope(route53, scope=cluster_scope), Route53Provider)

    webhook = {"webhook": {"groupName": "acme.example.com", "solverName": "s"}}
    provider = provider_for_scope(webhook, scope=cluster_scope)
    assert isinstance(provider, WebhookProvider)
    assert (provider.resource_namespace, provider.allow_ambient_credentials) == (
        namespaces[1],
        True,
    )
