"""The order workflow as separate invocations that share nothing but serialized state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from acme import client as acme_client

from shared.acme import orders
from shared.acme.account import (
    account_key_from_pem,
    account_key_to_pem,
    ensure_account,
    generate_account_key,
)
from shared.acme.client import forget_directories, make_client, post
from tests.e2e.conftest import HTTP01Responder
from tests.e2e.flows import assert_chains_to, make_csr, poll, settled, unique_name
from tests.e2e.servers import Pebble

pytestmark = pytest.mark.e2e


class Invocations:
    """Each `client()` is what a cold function instance builds from its stored inputs."""

    def __init__(self, pebble: Pebble) -> None:
        self.pebble = pebble
        self.key_pem = account_key_to_pem(generate_account_key())  # as kept in a Secret
        self.account_uri = ensure_account(client=self.client(), email="", eab=None).uri

    def client(self) -> acme_client.ClientV2:
        forget_directories()
        return make_client(
            directory_url=self.pebble.directory_url,
            account_key=account_key_from_pem(self.key_pem),
            ca_bundle_pem=self.pebble.ca_bundle_pem,
            account_uri=getattr(self, "account_uri", None),
        )

    def account_orders(self) -> list[str]:
        """Every order the CA holds for the account (Pebble lists them, RFC 8555 7.1.2.1)."""
        client = self.client()
        account = post(client, self.account_uri, None).json()
        listed: list[str] = post(client, account["orders"], None).json()["orders"]
        return listed


def stored(state: Any) -> Any:
    """What survives a process boundary: the dict form, through JSON."""
    return json.loads(json.dumps(state.to_dict()))


def test_each_step_resumes_from_stored_state_without_a_second_order(
    pebble: Pebble, http01: HTTP01Responder
) -> None:
    run = Invocations(pebble)
    name = unique_name()
    csr = make_csr([name])  # the CSR is persisted with the Order resource

    # 1: create the order; the function stores its URL before anything relies on it.
    order_status = stored(orders.new_order(client=run.client(), identifiers=[name]))

    # 2: read the authorizations named by the stored order.
    order = orders.OrderState.from_dict(order_status)
    authorization_status = [
        stored(orders.get_authorization(client=run.client(), url=url))
        for url in order.authorizations
    ]

    # 3: present and accept each challenge, twice, as after a crash before persisting.
    for data in authorization_status:
        challenge = orders.AuthorizationState.from_dict(data).challenge("http-01")
        assert challenge is not None
        challenge = orders.ChallengeState.from_dict(stored(challenge))
        client = run.client()
        http01.serve(
            token=challenge.token,
            key_authorization=orders.key_authorization(client=client, token=challenge.token),
        )
        orders.accept_challenge(client=client, url=challenge.url)
        orders.accept_challenge(client=run.client(), url=challenge.url)

    # 4: wait for readiness from the stored URL alone.
    order_url = orders.OrderState.from_dict(order_status).url
    ready = poll(
        lambda: orders.get_order(client=run.client(), url=order_url), until=settled, what="authz"
    )
    assert ready.status == orders.READY

    # 5: finalize, then again from the same stored (pre-finalize) state.
    before = orders.OrderState.from_dict(stored(ready))
    orders.finalize(client=run.client(), order_url=before.url, csr_pem=csr)
    orders.finalize(client=run.client(), order_url=before.url, csr_pem=csr)

    # 6: download from the stored certificate URL.
    done = orders.OrderState.from_dict(
        stored(
            poll(
                lambda: orders.get_order(client=run.client(), url=order_url),
                until=settled,
                what="issuance",
            )
        )
    )
    assert done.status == orders.VALID
    assert done.certificate is not None
    chain = orders.download_certificate(client=run.client(), url=done.certificate)
    assert_chains_to(chain, pebble.roots()[0], name=name)

    assert run.account_orders() == [order_url]


def test_state_round_trips_through_json_unchanged(pebble: Pebble, http01: HTTP01Responder) -> None:
    run = Invocations(pebble)
    order = orders.new_order(client=run.client(), identifiers=[unique_name()])
    authorization = orders.get_authorization(client=run.client(), url=order.authorizations[0])
    assert orders.OrderState.from_dict(stored(order)) == order
    assert orders.AuthorizationState.from_dict(stored(authorization)) == authorization
    assert order.expires is not None and order.expires.tzinfo is not None
