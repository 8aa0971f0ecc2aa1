"""webhook built from its solver block: the ChallengePayload request cert-manager sends."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for
from shared.dns01.webhook import WebhookProvider


def build(spec: dict[str, Any], *, namespace: str = "team-a", ambient: bool = False) -> Any:
    return provider_for(
        {"webhook": spec},
        read_secret=lambda name, key: b"",
        namespace=namespace,
        ambient_credentials=ambient,
    )


def test_the_request_carries_scope_config_and_resolved_names() -> None:
    provider = build(
        {"groupName": "acme.example.com", "solverName": "dnsimple", "config": {"a": 1}}
    )
    assert isinstance(provider, WebhookProvider)
    assert provider.path == "/apis/acme.example.com/v1alpha1/dnsimple"
    request = provider.request(
        "Present", fqdn="_acme-challenge.www.example.com", zone="example.com", value="k"
    )
    assert {k: v for k, v in request.items() if k != "uid"} == {
        "action": "Present",
        "type": "dns-01",
        "dnsName": "www.example.com",
        "key": "k",
        "resourceNamespace": "team-a",
        "resolvedFQDN": "_acme-challenge.www.example.com.",
        "resolvedZone": "example.com.",
        "allowAmbientCredentials": False,
        "config": {"a": 1},
    }


def test_a_retried_call_sends_the_same_uid_and_cleanup_differs_from_present() -> None:
    provider = build({"groupName": "g", "solverName": "s"})
    assert isinstance(provider, WebhookProvider)
    args = {"fqdn": "_acme-challenge.a.example.com.", "zone": "example.com.", "value": "k"}
    assert provider.request("CleanUp", **args) == provider.request("CleanUp", **args)
    assert provider.request("CleanUp", **args)["uid"] != provider.request("Present", **args)["uid"]
    assert "config" not in provider.request("Present", **args)


def test_a_cluster_issuer_allows_ambient_credentials() -> None:
    provider = build({"groupName": "g", "solverName": "s"}, namespace="cert-manager", ambient=True)
    assert isinstance(provider, WebhookProvider)
    assert (provider.resource_namespace, provider.allow_ambient_credentials) == (
        "cert-manager",
        True,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"solverName": "s"}, "groupName is required"),
        ({"groupName": "g"}, "solverName is required"),
        ({"groupName": "g", "solverName": 7}, "solverName must be a string"),
    ],
)
def test_an_incomplete_block_says_what_is_missing(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        build(spec)
