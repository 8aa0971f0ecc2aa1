"""cloudflare against a local v4 API: a wildcard from Pebble, one record per value,
cleanup by value from stored fields, and a bad token refused without echoing it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from shared.dns01.base import challenge_record_name
from shared.dns01.cloudflare import CloudflareProvider
from shared.dns01.errors import DNSUpdateError
from shared.dns01.registry import provider_for
from tests.e2e.flows import unique_name
from tests.e2e.providers.fake_cloudflare import PREFIX, FakeCloudflare
from tests.e2e.providers.httpfake import JsonServer
from tests.e2e.providers.wildcard import Harness, issue_wildcard
from tests.e2e.servers import ZONE

pytestmark = pytest.mark.e2e

TOKEN = "cf-token-0123456789abcdef"
SECRETS = {("cloudflare", "api-token"): f"{TOKEN}\n".encode()}


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeCloudflare, JsonServer]]:
    cloudflare = FakeCloudflare(zones={"example.org": "zone-org", ZONE: "zone-test"}, token=TOKEN)
    server = JsonServer(cloudflare.route).start()
    try:
        yield cloudflare, server
    finally:
        server.stop()


def _provider(server: JsonServer) -> CloudflareProvider:
    provider = provider_for(
        {"cloudflare": {"apiTokenSecretRef": {"name": "cloudflare", "key": "api-token"}}},
        read_secret=lambda name, key: SECRETS[(name, key)],
    )
    assert isinstance(provider, CloudflareProvider)
    return dataclasses.replace(provider, api_url=server.url + PREFIX)


def test_a_wildcard_issues_through_cloudflare_and_leaves_no_record(
    harness: Harness, fake: tuple[FakeCloudflare, JsonServer]
) -> None:
    cloudflare, server = fake
    harness.zone.source = cloudflare
    presented = issue_wildcard(harness, _provider(server))
    assert cloudflare.txt(presented[0].fqdn) == set()


def test_each_value_is_its_own_record_and_cleanup_removes_only_ours(
    fake: tuple[FakeCloudflare, JsonServer],
) -> None:
    cloudflare, server = fake
    fqdn = challenge_record_name(unique_name())
    provider = _provider(server)
    # The zone argument may be stale or unknown: lookup walks up the record name.
    provider.present(fqdn=fqdn, zone="", value="ours")
    provider.present(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    provider.present(fqdn=fqdn, zone=f"{ZONE}.", value="theirs")
    assert cloudflare.txt(fqdn) == {"ours", "theirs"}
    fresh = _provider(server)
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    assert cloudflare.txt(fqdn) == {"theirs"}
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="theirs")
    assert cloudflare.txt(fqdn) == set()


def test_a_refused_token_is_reported_without_the_token(
    fake: tuple[FakeCloudflare, JsonServer],
) -> None:
    _, server = fake
    forged = dataclasses.replace(_provider(server), api_token="forged-token-value")
    with pytest.raises(DNSUpdateError, match="HTTP 403: 9109 Invalid access token") as raised:
        forged.present(fqdn=challenge_record_name(unique_name()), zone=f"{ZONE}.", value="v")
    assert "forged-token-value" not in str(raised.value)
    assert "forged-token-value" not in repr(forged)


def test_a_name_outside_every_zone_is_named_in_the_error(
    fake: tuple[FakeCloudflare, JsonServer],
) -> None:
    _, server = fake
    with pytest.raises(
        DNSUpdateError, match=r"no Cloudflare zone .* holds _acme-challenge\.x\.example\.net"
    ):
        _provider(server).present(fqdn="_acme-challenge.x.example.net.", zone="", value="v")
