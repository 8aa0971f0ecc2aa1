"""Fixtures for provider e2e tests: a Pebble whose DNS is the authoritative fake,
and one ACME account on it. Each test points the zone at its fake API's records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.acme.account import ensure_account, generate_account_key
from shared.acme.client import make_client
from tests.conftest import require_binary
from tests.e2e.conftest import Account
from tests.e2e.providers.authoritative import AuthoritativeDNS, NoRecords, Zone
from tests.e2e.providers.wildcard import Harness
from tests.e2e.servers import ZONE, Pebble, start_pebble


@pytest.fixture(scope="session")
def provider_dns() -> Iterator[AuthoritativeDNS]:
    server = AuthoritativeDNS(Zone(origin=f"{ZONE}.")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def provider_pebble(
    tmp_path_factory: pytest.TempPathFactory, provider_dns: AuthoritativeDNS
) -> Iterator[Pebble]:
    server = start_pebble(
        pebble=require_binary("pebble"),
        directory=tmp_path_factory.mktemp("pebble-providers"),
        dns_server=provider_dns.address,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def provider_account(provider_pebble: Pebble) -> Account:
    key = generate_account_key()
    client = make_client(
        directory_url=provider_pebble.directory_url,
        account_key=key,
        ca_bundle_pem=provider_pebble.ca_bundle_pem,
    )
    info = ensure_account(client=client, email="providers@example.test", eab=None)
    return Account(key=key, uri=info.uri)


@pytest.fixture
def harness(
    provider_pebble: Pebble, provider_account: Account, provider_dns: AuthoritativeDNS
) -> Iterator[Harness]:
    """Pebble, its account and the DNS it queries; the zone is reset after each test."""
    try:
        yield Harness(pebble=provider_pebble, account=provider_account, dns=provider_dns)
    finally:
        provider_dns.zone.source = NoRecords()
        provider_dns.zone.cnames.clear()
