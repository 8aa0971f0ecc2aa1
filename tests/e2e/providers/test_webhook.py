"""webhook: cert-manager's ChallengePayload contract, POSTed through a Kubernetes API
connection to a local webhook server; a wildcard issues from what the webhook wrote."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import kubernetes.client as k8s
import pytest

from shared import runtime
from shared.acmeflow import presenters
from shared.config import Config
from shared.dns01.base import challenge_record_name
from shared.dns01.errors import DNSUpdateError
from shared.dns01.registry import provider_for
from shared.dns01.webhook import WebhookProvider, post_via
from shared.issuers.base import IssuerScope
from shared.kube.client import Kube
from tests.e2e.flows import unique_name
from tests.e2e.providers.fake_webhook import GROUP, SOLVER, FakeWebhook
from tests.e2e.providers.httpfake import JsonServer
from tests.e2e.providers.wildcard import Harness, issue_wildcard
from tests.e2e.servers import ZONE, Bind9

pytestmark = pytest.mark.e2e

CONFIG = {"apiKeySecretRef": {"name": "dns-creds", "key": "token"}, "ttl": 60}


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeWebhook, JsonServer]]:
    webhook = FakeWebhook()
    server = JsonServer(webhook.route).start()
    try:
        yield webhook, server
    finally:
        server.stop()


def _provider(server: JsonServer, *, config: object = CONFIG) -> WebhookProvider:
    provider = provider_for(
        {"webhook": {"groupName": GROUP, "solverName": SOLVER, "config": config}},
        read_secret=lambda name, key: b"",
        namespace="cert-manager",
        ambient_credentials=True,
    )
    assert isinstance(provider, WebhookProvider)
    # The API server address is the only thing the test changes: the webhook server plays it.
    kube = Kube(k8s.Configuration(host=server.url))
    return dataclasses.replace(provider, post=functools.partial(post_via, kube))


def test_a_wildcard_issues_through_a_webhook_and_leaves_no_record(
    harness: Harness, fake: tuple[FakeWebhook, JsonServer]
) -> None:
    webhook, server = fake
    harness.zone.source = webhook
    presented = issue_wildcard(harness, _provider(server))
    assert webhook.txt(presented[0].fqdn) == set()

    first = webhook.received[0]
    assert first["action"] == "Present"
    assert first["type"] == "dns-01"
    assert first["resolvedZone"] == f"{ZONE}."
    assert first["resolvedFQDN"] == presented[0].fqdn
    assert first["dnsName"] == presented[0].fqdn.removeprefix("_acme-challenge.").rstrip(".")
    assert first["resourceNamespace"] == "cert-manager"
    assert first["allowAmbientCredentials"] is True
    assert first["config"] == CONFIG
    assert [r["action"] for r in webhook.received[-2:]] == ["CleanUp", "CleanUp"]


def test_a_refusal_carries_the_webhooks_message(fake: tuple[FakeWebhook, JsonServer]) -> None:
    _, server = fake
    provider = _provider(server, config={"refuse": True})
    with pytest.raises(DNSUpdateError, match="zone is locked by the registrar"):
        provider.present(fqdn=challenge_record_name(unique_name()), zone=f"{ZONE}.", value="v")


def test_an_unregistered_solver_is_named_in_the_error(
    fake: tuple[FakeWebhook, JsonServer],
) -> None:
    _, server = fake
    provider = dataclasses.replace(_provider(server), solver_name="nobody")
    with pytest.raises(DNSUpdateError, match=r"webhook acme.example.test/nobody Present.*404"):
        provider.present(fqdn=challenge_record_name(unique_name()), zone=f"{ZONE}.", value="v")


@pytest.fixture
def webhook_context(
    fake: tuple[FakeWebhook, JsonServer], bind9: Bind9
) -> Iterator[runtime.Context]:
    """Functions' context: the webhook server plays the API server; BIND9 answers DNS."""
    _, server = fake
    kube = Kube(k8s.Configuration(host=server.url))
    context = runtime.Context.build(
        kube, config=Config(dns01_recursive_nameservers=(bind9.address,))
    )
    runtime.install(context)
    try:
        yield context
    finally:
        runtime.install(None)


def test_a_followed_cname_sends_the_challenges_domain_and_the_resolved_record_apart(
    fake: tuple[FakeWebhook, JsonServer], webhook_context: runtime.Context
) -> None:
    webhook, _ = fake
    # In BIND9's zone: _acme-challenge.alias CNAME _acme-challenge.target
    domain = f"alias.{ZONE}"
    scope = IssuerScope(
        kube=webhook_context.kube,
        issuer={"kind": "ClusterIssuer", "spec": {}},
        secrets_namespace="cert-manager",
    )
    challenge = {
        "spec": {
            "type": "DNS-01",
            "dnsName": domain,
            "key": "txt-value",
            "solver": {
                "dns01": {
                    "cnameStrategy": "Follow",
                    "webhook": {"groupName": GROUP, "solverName": SOLVER, "config": CONFIG},
                }
            },
        }
    }
    presenters.present(webhook_context, scope, challenge)
    presenters.cleanup(webhook_context, scope, challenge)

    present, cleanup = webhook.received[-2:]
    assert (present["action"], cleanup["action"]) == ("Present", "CleanUp")
    for request in (present, cleanup):
        assert request["dnsName"] == domain
        assert request["resolvedFQDN"] == f"_acme-challenge.target.{ZONE}."
        assert request["resolvedZone"] == f"{ZONE}."
