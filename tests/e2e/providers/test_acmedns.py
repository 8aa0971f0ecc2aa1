"""acmeDNS against a local acme-dns: the challenge name is a CNAME to the registration,
Pebble follows it, and a wrong password is refused without being echoed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shared.dns01.acmedns import AcmeDNSProvider
from shared.dns01.base import challenge_record_name
from shared.dns01.errors import DNSUpdateError, ProviderConfigError
from shared.dns01.registry import provider_for
from tests.e2e.flows import unique_name
from tests.e2e.providers.fake_acmedns import FakeAcmeDNS
from tests.e2e.providers.httpfake import JsonServer
from tests.e2e.providers.wildcard import Harness, issue_wildcard
from tests.e2e.servers import ZONE

pytestmark = pytest.mark.e2e

DIGEST = "x" * 43


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAcmeDNS, JsonServer]]:
    acmedns = FakeAcmeDNS(auth_domain=f"auth.{ZONE}")
    server = JsonServer(acmedns.route).start()
    try:
        yield acmedns, server
    finally:
        server.stop()


def _provider(server: JsonServer, accounts: dict[str, object]) -> AcmeDNSProvider:
    secrets = {("acme-dns", "acmedns.json"): json.dumps(accounts).encode()}
    provider = provider_for(
        {
            "acmeDNS": {
                "host": server.url,
                "accountSecretRef": {"name": "acme-dns", "key": "acmedns.json"},
            }
        },
        read_secret=lambda name, key: secrets[(name, key)],
    )
    assert isinstance(provider, AcmeDNSProvider)
    return provider


def _account(fake: FakeAcmeDNS, subdomain: str) -> dict[str, object]:
    registration = fake.register(subdomain)
    return {
        "username": registration.username,
        "password": registration.password,
        "subdomain": registration.subdomain,
        "fulldomain": registration.fulldomain,
        "allowfrom": [],
    }


def test_a_wildcard_issues_through_acme_dns_via_the_cname(
    harness: Harness, fake: tuple[FakeAcmeDNS, JsonServer]
) -> None:
    acmedns, server = fake
    base = unique_name()
    account = _account(acmedns, "d420c923-bbd7-4056-ab64-c3ca54c9b3cf")
    harness.zone.source = acmedns
    harness.zone.cnames[challenge_record_name(base)] = f"{account['fulldomain']}."
    issue_wildcard(harness, _provider(server, {base: account}), base=base)
    # Both values arrived (acme-dns keeps two: the wildcard's and the apex's).
    assert len(acmedns.txt(str(account["fulldomain"]))) == 2


def test_the_registration_is_found_by_domain_or_by_cname_target(
    fake: tuple[FakeAcmeDNS, JsonServer],
) -> None:
    acmedns, server = fake
    base = unique_name()
    account = _account(acmedns, "0b7a3a4e-6a43-4c0f-a4c6-1f4c3a0b7e11")
    provider = _provider(server, {base: account})
    provider.present(fqdn=challenge_record_name(base), zone=f"{ZONE}.", value=DIGEST)
    provider.present(fqdn=f"{account['fulldomain']}.", zone=f"{ZONE}.", value="y" * 43)
    assert acmedns.txt(str(account["fulldomain"])) == {DIGEST, "y" * 43}
    provider.cleanup(fqdn=challenge_record_name(base), zone=f"{ZONE}.", value=DIGEST)
    with pytest.raises(ProviderConfigError, match=r"no registration for other\.example\.test"):
        provider.present(fqdn="_acme-challenge.other.example.test.", zone="", value=DIGEST)


def test_a_wrong_password_is_refused_without_echoing_it(
    fake: tuple[FakeAcmeDNS, JsonServer],
) -> None:
    acmedns, server = fake
    base = unique_name()
    account = {**_account(acmedns, "5c1f0d0e-8d1c-4d83-9f0b-2b1f7e7d1a22"), "password": "wrong-pw"}
    provider = _provider(server, {base: account})
    with pytest.raises(DNSUpdateError, match="HTTP 401: forbidden") as raised:
        provider.present(fqdn=challenge_record_name(base), zone=f"{ZONE}.", value=DIGEST)
    assert "wrong-pw" not in str(raised.value)
    assert "wrong-pw" not in repr(provider)
