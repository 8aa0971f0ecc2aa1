"""A whole HTTP-01 issuance against Pebble, and the ways a challenge can fail."""

from __future__ import annotations

import pytest

from shared.acme import orders
from shared.acme.errors import PermanentAcmeError
from tests.e2e.conftest import Account, HTTP01Responder
from tests.e2e.flows import (
    assert_chains_to,
    client_for,
    common_name,
    issue_with_http01,
    make_csr,
    poll,
    settled,
    unique_name,
)
from tests.e2e.servers import Pebble

pytestmark = pytest.mark.e2e


def test_http01_order_issues_a_chain_that_verifies_to_pebbles_root(
    pebble: Pebble, account: Account, http01: HTTP01Responder
) -> None:
    name = unique_name()
    client = client_for(pebble, account.key, account.uri)
    order = orders.new_order(client=client, identifiers=[name])
    assert order.status == orders.PENDING
    (authorization_url,) = order.authorizations
    authorization = orders.get_authorization(client=client, url=authorization_url)
    assert authorization.identifier == name
    challenge = authorization.challenge("http-01")
    assert challenge is not None
    http01.serve(
        token=challenge.token,
        key_authorization=orders.key_authorization(client=client, token=challenge.token),
    )
    orders.accept_challenge(client=client, url=challenge.url)
    order = poll(
        lambda: orders.get_order(client=client, url=order.url),
        until=settled,
        what="order awaiting validation",
    )
    assert order.status == orders.READY
    orders.finalize(client=client, order_url=order.url, csr_pem=make_csr([name]))
    order = poll(
        lambda: orders.get_order(client=client, url=order.url), until=settled, what="issuance"
    )
    assert order.status == orders.VALID
    assert order.certificate is not None
    chain = orders.download_certificate(client=client, url=order.certificate)
    assert_chains_to(chain, pebble.roots()[0], name=name)


def test_repeating_accept_and_finalize_returns_state_without_a_second_submission(
    pebble: Pebble, account: Account, http01: HTTP01Responder
) -> None:
    name = unique_name()
    client = client_for(pebble, account.key, account.uri)
    order = orders.new_order(client=client, identifiers=[name])
    authorization = orders.get_authorization(client=client, url=order.authorizations[0])
    challenge = authorization.challenge("http-01")
    assert challenge is not None
    http01.serve(
        token=challenge.token,
        key_authorization=orders.key_authorization(client=client, token=challenge.token),
    )
    orders.accept_challenge(client=client, url=challenge.url)
    poll(
        lambda: orders.get_challenge(client=client, url=challenge.url),
        until=settled,
        what="challenge",
    )
    again = orders.accept_challenge(client=client, url=challenge.url)
    assert again.status == orders.VALID
    poll(lambda: orders.get_order(client=client, url=order.url), until=settled, what="order")
    csr = make_csr([name])
    first = orders.finalize(client=client, order_url=order.url, csr_pem=csr)
    second = orders.finalize(client=client, order_url=order.url, csr_pem=csr)
    assert first.status in {orders.PROCESSING, orders.VALID}
    assert second.status in {orders.PROCESSING, orders.VALID}
    done = poll(lambda: orders.get_order(client=client, url=order.url), until=settled, what="order")
    assert done.status == orders.VALID


def test_a_wrong_key_authorization_fails_with_pebbles_problem(
    pebble: Pebble, account: Account, http01: HTTP01Responder
) -> None:
    name = unique_name()
    client = client_for(pebble, account.key, account.uri)
    order = orders.new_order(client=client, identifiers=[name])
    authorization = orders.get_authorization(client=client, url=order.authorizations[0])
    challenge = authorization.challenge("http-01")
    assert challenge is not None
    http01.serve(token=challenge.token, key_authorization=f"{challenge.token}.not-our-thumbprint")
    orders.accept_challenge(client=client, url=challenge.url)
    failed = poll(
        lambda: orders.get_challenge(client=client, url=challenge.url),
        until=settled,
        what="challenge",
    )
    with pytest.raises(PermanentAcmeError) as raised:
        orders.raise_if_invalid(failed)
    assert raised.value.problem_type == "unauthorized"
    assert "not-our-thumbprint" in raised.value.detail
    authorization = orders.get_authorization(client=client, url=authorization.url)
    with pytest.raises(PermanentAcmeError, match="not-our-thumbprint"):
        orders.raise_if_invalid(authorization)
    # Finalizing the dead order does not resubmit; it reports the order as it is.
    order = orders.finalize(client=client, order_url=order.url, csr_pem=make_csr([name]))
    assert order.status == orders.INVALID
    with pytest.raises(PermanentAcmeError):
        orders.raise_if_invalid(order)


def test_preferred_chain_selects_the_alternate_chain_by_its_root_name(
    pebble: Pebble, account: Account, http01: HTTP01Responder
) -> None:
    name = unique_name()
    client = client_for(pebble, account.key, account.uri)
    order = issue_with_http01(client, http01, [name])
    assert order.certificate is not None
    primary_root, alternate_root = pebble.roots()

    preferred = orders.download_certificate(
        client=client, url=order.certificate, preferred_chain=common_name(alternate_root)
    )
    assert_chains_to(preferred, alternate_root, name=name)
    default = orders.download_certificate(
        client=client, url=order.certificate, preferred_chain=common_name(primary_root)
    )
    assert_chains_to(default, primary_root, name=name)
    unknown = orders.download_certificate(
        client=client, url=order.certificate, preferred_chain="No Such Root"
    )
    assert unknown == default
