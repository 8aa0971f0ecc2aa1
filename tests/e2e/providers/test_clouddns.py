"""cloudDNS through the real google-cloud-dns client and google-auth's JWT exchange,
against a local Cloud DNS endpoint: a wildcard from Pebble, zone discovery, record
sets shared by value, cleanup from stored fields alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from shared.dns01.base import challenge_record_name
from shared.dns01.clouddns import CloudDNSProvider
from shared.dns01.errors import DNSUpdateError
from shared.dns01.registry import provider_for
from tests.e2e.flows import unique_name
from tests.e2e.providers.fake_clouddns import TOKEN_PATH, FakeCloudDNS, service_account_json
from tests.e2e.providers.httpfake import JsonServer
from tests.e2e.providers.wildcard import Harness, issue_wildcard
from tests.e2e.servers import ZONE

pytestmark = pytest.mark.e2e

PROJECT = "certainly-test"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeCloudDNS, JsonServer]]:
    # A parent zone and a private twin too: discovery picks the closest public zone.
    clouddns = FakeCloudDNS(
        project=PROJECT,
        zones={"tld": "test.", "internal": f"{ZONE}.", "example-test": f"{ZONE}."},
        private=frozenset({"internal"}),
    )
    server = JsonServer(clouddns.route).start()
    try:
        yield clouddns, server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def key_json(fake: tuple[FakeCloudDNS, JsonServer]) -> bytes:
    return service_account_json(PROJECT, token_uri=fake[1].url + TOKEN_PATH)


def _provider(server: JsonServer, key_json: bytes, **spec: str) -> CloudDNSProvider:
    provider = provider_for(
        {
            "cloudDNS": {
                "project": PROJECT,
                "serviceAccountSecretRef": {"name": "clouddns", "key": "key.json"},
                **spec,
            }
        },
        read_secret=lambda name, key: key_json,
    )
    assert isinstance(provider, CloudDNSProvider)
    return dataclasses.replace(provider, api_endpoint=server.url, poll_interval=0.01)


def test_a_wildcard_issues_through_cloud_dns_and_leaves_no_record(
    harness: Harness, fake: tuple[FakeCloudDNS, JsonServer], key_json: bytes
) -> None:
    clouddns, server = fake
    harness.zone.source = clouddns
    presented = issue_wildcard(harness, _provider(server, key_json))
    assert clouddns.txt(presented[0].fqdn) == set()


def test_values_share_one_record_set_and_cleanup_works_from_stored_fields(
    fake: tuple[FakeCloudDNS, JsonServer], key_json: bytes
) -> None:
    clouddns, server = fake
    fqdn = challenge_record_name(unique_name())
    provider = _provider(server, key_json)
    provider.present(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    provider.present(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    provider.present(fqdn=fqdn, zone=f"{ZONE}.", value="theirs")
    assert clouddns.txt(fqdn) == {"ours", "theirs"}
    assert {zone for zone, name, _ in clouddns.rrsets if name == fqdn} == {"example-test"}

    fresh = _provider(server, key_json, hostedZoneName="example-test")
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="ours")
    assert clouddns.txt(fqdn) == {"theirs"}
    fresh.cleanup(fqdn=fqdn, zone=f"{ZONE}.", value="theirs")
    assert clouddns.txt(fqdn) == set()


def test_an_unknown_zone_name_is_reported_by_the_api(
    fake: tuple[FakeCloudDNS, JsonServer], key_json: bytes
) -> None:
    _, server = fake
    provider = _provider(server, key_json, hostedZoneName="nope")
    with pytest.raises(DNSUpdateError, match=r"404 .*'nope' does not exist") as raised:
        provider.present(fqdn=challenge_record_name(unique_name()), zone="", value="v")
    assert "PRIVATE KEY" not in str(raised.value)
    assert "PRIVATE KEY" not in repr(provider)
