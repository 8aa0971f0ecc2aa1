"""Session fixtures for the e2e tier: one BIND9, one Pebble resolving through it,
and an HTTP-01 responder on Pebble's validation port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from events.http01 import HTTP01Responder as Responder
from shared.acme.account import AccountKey, ensure_account, generate_account_key
from shared.acme.client import make_client
from shared.dns01.base import DNS01Provider
from shared.dns01.registry import provider_for
from tests.conftest import require_binary
from tests.e2e.servers import LOOPBACK, Bind9, Pebble, start_bind9, start_pebble

CHALLENGE_PREFIX = "/.well-known/acme-challenge/"


@pytest.fixture(scope="session")
def bind9(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bind9]:
    named = require_binary("named")
    server = start_bind9(named=named, directory=tmp_path_factory.mktemp("bind9"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pebble(tmp_path_factory: pytest.TempPathFactory, bind9: Bind9) -> Iterator[Pebble]:
    binary = require_binary("pebble")
    server = start_pebble(
        pebble=binary, directory=tmp_path_factory.mktemp("pebble"), dns_server=bind9.address
    )
    try:
        yield server
    finally:
        server.stop()


class _Table:
    """Key authorizations by token, for the real responder to serve (no Challenge objects)."""

    def __init__(self, responses: dict[str, str]) -> None:
        self.responses = responses

    def lookup(self, token: str, *, host: str | None) -> str | None:
        del host
        return self.responses.get(token)


class HTTP01Responder:
    """Serves /.well-known/acme-challenge/<token> on Pebble's httpPort, as a solver would."""

    def __init__(self, responses: dict[str, str]) -> None:
        self._responses = responses

    def serve(self, *, token: str, key_authorization: str) -> None:
        self._responses[token] = key_authorization

    def withdraw(self, *, token: str) -> None:
        self._responses.pop(token, None)


@pytest.fixture(scope="session")
def http01(pebble: Pebble) -> Iterator[HTTP01Responder]:
    responses: dict[str, str] = {}
    server = Responder(f"{LOOPBACK}:{pebble.http_port}", _Table(responses))
    server.start()
    try:
        yield HTTP01Responder(responses)
    finally:
        server.stop()


@dataclass(frozen=True)
class Account:
    """What an issuer keeps between invocations: the key (in a Secret) and the account URL."""

    key: AccountKey
    uri: str


@pytest.fixture(scope="session")
def account(pebble: Pebble) -> Account:
    key = generate_account_key()
    client = make_client(
        directory_url=pebble.directory_url, account_key=key, ca_bundle_pem=pebble.ca_bundle_pem
    )
    info = ensure_account(client=client, email="e2e@example.test", eab=None)
    return Account(key=key, uri=info.uri)


@pytest.fixture
def rfc2136(bind9: Bind9) -> DNS01Provider:
    """The provider as an issuer's solver block configures it, secret read by reference."""
    secrets = {("tsig", "secret"): bind9.tsig_secret.encode()}
    return provider_for(
        {
            "rfc2136": {
                "nameserver": bind9.address,
                "tsigKeyName": bind9.tsig_key_name,
                "tsigAlgorithm": bind9.tsig_algorithm,
                "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
            }
        },
        read_secret=lambda name, key: secrets[(name, key)],
    )
