"""route53 through boto3 against moto's server: a wildcard from Pebble, zone discovery,
assume-role, record sets shared by value, and cleanup from stored fields alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.dns01.base import DNS01Provider, challenge_record_name
from shared.dns01.registry import provider_for
from tests.e2e.flows import unique_name
from tests.e2e.providers.fake_route53 import Moto, start_moto
from tests.e2e.providers.wildcard import Harness, issue_wildcard
from tests.e2e.servers import ZONE

pytestmark = pytest.mark.e2e

ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRETS = {
    ("aws", "access-key-id"): ACCESS_KEY_ID.encode(),
    ("aws", "secret-access-key"): f"{SECRET_ACCESS_KEY}\n".encode(),
}


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server, moto = start_moto()
    try:
        yield moto
    finally:
        server.stop()


@pytest.fixture
def route53(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> DNS01Provider:
    """Configured as a user writes it; the AWS SDK's standard endpoint variable points at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    return provider_for(
        {
            "route53": {
                "region": "eu-west-1",
                "accessKeyIDSecretRef": {"name": "aws", "key": "access-key-id"},
                "secretAccessKeySecretRef": {"name": "aws", "key": "secret-access-key"},
                "role": "arn:aws:iam::123456789012:role/dns-manager",
            }
        },
        read_secret=lambda name, key: SECRETS[(name, key)],
        namespace="team-a",
    )


def test_a_wildcard_issues_through_route53_and_leaves_no_record(
    harness: Harness, moto: Moto, route53: DNS01Provider
) -> None:
    harness.zone.source = moto
    presented = issue_wildcard(harness, route53)
    assert len({item.fqdn for item in presented}) == 1
    assert moto.txt(presented[0].fqdn) == set()


def test_values_share_one_record_set_and_cleanup_works_from_stored_fields(
    moto: Moto, route53: DNS01Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    fqdn = challenge_record_name(unique_name())
    zone = f"{ZONE}."
    route53.present(fqdn=fqdn, zone=zone, value="ours")
    route53.present(fqdn=fqdn, zone=zone, value="ours")
    # Without the DNS-found zone, discovery walks up the name to the public zone.
    route53.present(fqdn=fqdn, zone="", value="theirs")
    assert moto.txt(fqdn) == {"ours", "theirs"}
    private = moto.client.list_resource_record_sets(HostedZoneId=moto.zone_id(zone, private=True))
    assert [r for r in private["ResourceRecordSets"] if r["Type"] == "TXT"] == []

    # A later invocation (after a crash) has only the Challenge's stored fields.
    fresh = provider_for(
        {
            "route53": {
                "hostedZoneID": moto.zone_id(zone),
                "accessKeyID": ACCESS_KEY_ID,
                "secretAccessKeySecretRef": {"name": "aws", "key": "secret-access-key"},
            }
        },
        read_secret=lambda name, key: SECRETS[(name, key)],
    )
    fresh.cleanup(fqdn=fqdn, zone=zone, value="ours")
    fresh.cleanup(fqdn=fqdn, zone=zone, value="ours")
    assert moto.txt(fqdn) == {"theirs"}
    fresh.cleanup(fqdn=fqdn, zone=zone, value="theirs")
    assert moto.txt(fqdn) == set()
