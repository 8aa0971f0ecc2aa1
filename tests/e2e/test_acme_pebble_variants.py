"""Behaviours that need a differently configured Pebble: EAB required, every nonce
rejected, every valid authorization reused."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import pytest

from shared.acme import orders
from shared.acme.account import ExternalAccountBinding, ensure_account, generate_account_key
from shared.acme.client import make_client
from shared.acme.errors import PermanentAcmeError, TransientAcmeError
from shared.dns01.base import DNS01Provider, challenge_record_name
from tests.conftest import require_binary
from tests.e2e.flows import make_csr, poll, settled, unique_name
from tests.e2e.servers import Bind9, Pebble, start_pebble

pytestmark = pytest.mark.e2e

EAB_KEY_ID = "kid-certainly"
EAB_HMAC_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def eab_pebble(tmp_path_factory: pytest.TempPathFactory, bind9: Bind9) -> Iterator[Pebble]:
    server = start_pebble(
        pebble=require_binary("pebble"),
        directory=tmp_path_factory.mktemp("pebble-eab"),
        dns_server=bind9.address,
        eab_mac_keys={EAB_KEY_ID: EAB_HMAC_KEY},
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nonce_hostile_pebble(
    tmp_path_factory: pytest.TempPathFactory, bind9: Bind9
) -> Iterator[Pebble]:
    server = start_pebble(
        pebble=require_binary("pebble"),
        directory=tmp_path_factory.mktemp("pebble-nonces"),
        dns_server=bind9.address,
        env={"PEBBLE_WFE_NONCEREJECT": "100"},
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("algorithm", ["HS256", "HS512"])
def test_an_account_registers_with_external_account_binding(
    eab_pebble: Pebble, algorithm: str
) -> None:
    client = make_client(
        directory_url=eab_pebble.directory_url,
        account_key=generate_account_key(),
        ca_bundle_pem=eab_pebble.ca_bundle_pem,
    )
    eab = ExternalAccountBinding(
        key_id=EAB_KEY_ID,
        hmac_key=EAB_HMAC_KEY,
        key_algorithm=algorithm,  # type: ignore[arg-type]
    )
    account = ensure_account(client=client, email="eab@example.test", eab=eab)
    assert account.uri.startswith("https://")
    assert ensure_account(client=client, email="eab@example.test", eab=eab) == account


def test_without_the_binding_a_ca_that_requires_it_refuses_permanently(
    eab_pebble: Pebble,
) -> None:
    client = make_client(
        directory_url=eab_pebble.directory_url,
        account_key=generate_account_key(),
        ca_bundle_pem=eab_pebble.ca_bundle_pem,
    )
    with pytest.raises(PermanentAcmeError) as raised:
        ensure_account(client=client, email="", eab=None)
    assert raised.value.problem_type == "externalAccountRequired"
    assert EAB_HMAC_KEY not in str(raised.value)


def test_a_ca_rejecting_every_nonce_yields_a_transient_bad_nonce(
    nonce_hostile_pebble: Pebble,
) -> None:
    client = make_client(
        directory_url=nonce_hostile_pebble.directory_url,
        account_key=generate_account_key(),
        ca_bundle_pem=nonce_hostile_pebble.ca_bundle_pem,
    )
    with pytest.raises(TransientAcmeError) as raised:
        ensure_account(client=client, email="", eab=None)
    assert raised.value.problem_type == "badNonce"


def test_an_unusable_hmac_key_is_refused_without_echoing_it(eab_pebble: Pebble) -> None:
    client = make_client(
        directory_url=eab_pebble.directory_url,
        account_key=generate_account_key(),
        ca_bundle_pem=eab_pebble.ca_bundle_pem,
    )
    eab = ExternalAccountBinding(
        key_id=EAB_KEY_ID, hmac_key="s3cr3"
    )  # 5 base64 characters cannot decode
    with pytest.raises(PermanentAcmeError, match="HMAC key") as raised:
        ensure_account(client=client, email="", eab=eab)
    assert "s3cr3" not in str(raised.value)
    assert raised.value.__cause__ is None


@pytest.fixture(scope="module")
def reusing_pebble(tmp_path_factory: pytest.TempPathFactory, bind9: Bind9) -> Iterator[Pebble]:
    server = start_pebble(
        pebble=require_binary("pebble"),
        directory=tmp_path_factory.mktemp("pebble-reuse"),
        dns_server=bind9.address,
        env={"PEBBLE_AUTHZREUSE": "100"},
    )
    try:
        yield server
    finally:
        server.stop()


def test_a_reused_valid_authorization_leaves_a_new_order_ready_to_finalize(
    reusing_pebble: Pebble, bind9: Bind9, rfc2136: DNS01Provider
) -> None:
    client = make_client(
        directory_url=reusing_pebble.directory_url,
        account_key=generate_account_key(),
        ca_bundle_pem=reusing_pebble.ca_bundle_pem,
    )
    ensure_account(client=client, email="", eab=None)
    name = unique_name()
    first = orders.new_order(client=client, identifiers=[name])
    authorization = orders.get_authorization(client=client, url=first.authorizations[0])
    challenge = authorization.challenge("dns-01")
    assert challenge is not None
    fqdn = challenge_record_name(name)
    value = orders.dns01_value(client=client, token=challenge.token)
    rfc2136.present(fqdn=fqdn, zone="example.test.", value=value)
    try:
        orders.accept_challenge(client=client, url=challenge.url)
        poll(lambda: orders.get_order(client=client, url=first.url), until=settled, what="authz")
    finally:
        rfc2136.cleanup(fqdn=fqdn, zone="example.test.", value=value)

    second = orders.new_order(client=client, identifiers=[name])
    assert second.url != first.url
    assert second.status == orders.READY
    assert orders.get_authorization(client=client, url=second.authorizations[0]).status == (
        orders.VALID
    )
    orders.finalize(client=client, order_url=second.url, csr_pem=make_csr([name]))
    done = poll(
        lambda: orders.get_order(client=client, url=second.url), until=settled, what="order"
    )
    assert done.status == orders.VALID
