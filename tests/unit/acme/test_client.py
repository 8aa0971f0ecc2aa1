"""The client's transport behaviour against a real local HTTP server."""

from __future__ import annotations

import datetime
import email.utils

import pytest
from acme import client as acme_client

from shared.acme import orders
from shared.acme.account import AccountKey
from shared.acme.client import BAD_NONCE_ROUNDS, make_client
from shared.acme.errors import PermanentAcmeError, TransientAcmeError
from tests.unit.acme.stub_ca import Reply, StubCA, problem


def _order_reply(ca: StubCA) -> Reply:
    return Reply(
        status=201,
        headers={"Location": f"{ca.url}/order/1"},
        body={
            "status": "pending",
            "identifiers": [{"type": "dns", "value": "a.example.com"}],
            "authorizations": [f"{ca.url}/authz/1"],
            "finalize": f"{ca.url}/order/1/finalize",
        },
    )


def test_requests_carry_the_certainly_user_agent(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    (directory_request,) = stub_ca.requests_to("/directory")
    assert directory_request.headers["User-Agent"].startswith("certainly/")


def test_the_directory_is_fetched_once_per_server_and_key(
    stub_ca: StubCA, account_key: AccountKey
) -> None:
    for _ in range(3):
        make_client(directory_url=stub_ca.directory_url, account_key=account_key)
    assert len(stub_ca.requests_to("/directory")) == 1


def test_a_run_of_bad_nonces_is_absorbed(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    rejections = 2 * BAD_NONCE_ROUNDS - 1
    stub_ca.script(
        "POST",
        "/new-order",
        *[problem("badNonce", "stale", 400)] * rejections,
        _order_reply(stub_ca),
    )
    order = orders.new_order(client=stub_client, identifiers=["a.example.com"])
    assert order.url == f"{stub_ca.url}/order/1"
    assert len(stub_ca.requests_to("/new-order")) == rejections + 1


def test_endless_bad_nonces_become_a_transient_error(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script("POST", "/new-order", *[problem("badNonce", "stale", 400)] * 20)
    with pytest.raises(TransientAcmeError) as raised:
        orders.new_order(client=stub_client, identifiers=["a.example.com"])
    assert raised.value.problem_type == "badNonce"
    assert raised.value.__cause__ is not None


def test_a_503_problem_is_transient_with_its_retry_after(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script(
        "POST", "/new-order", problem("serverInternal", "down", 503, **{"Retry-After": "7"})
    )
    with pytest.raises(TransientAcmeError) as raised:
        orders.new_order(client=stub_client, identifiers=["a.example.com"])
    assert raised.value.status == 503
    assert raised.value.retry_after == datetime.timedelta(seconds=7)


def test_a_5xx_without_a_problem_document_is_transient(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script(
        "POST", "/order/1", Reply(status=502, body=b"bad gateway", content_type="text/plain")
    )
    with pytest.raises(TransientAcmeError) as raised:
        orders.get_order(client=stub_client, url=f"{stub_ca.url}/order/1")
    assert raised.value.status == 502


def test_rate_limited_carries_an_http_date_retry_after(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    stub_ca.script(
        "POST",
        "/new-order",
        problem(
            "rateLimited",
            "too many",
            429,
            **{"Retry-After": email.utils.format_datetime(later, usegmt=True)},
        ),
    )
    with pytest.raises(TransientAcmeError) as raised:
        orders.new_order(client=stub_client, identifiers=["a.example.com"])
    assert raised.value.problem_type == "rateLimited"
    assert raised.value.retry_after is not None
    assert datetime.timedelta(minutes=55) < raised.value.retry_after <= datetime.timedelta(hours=1)


def test_a_refused_identifier_is_permanent_with_the_cas_detail(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script(
        "POST", "/new-order", problem("rejectedIdentifier", "a.example.com is forbidden", 400)
    )
    with pytest.raises(PermanentAcmeError) as raised:
        orders.new_order(client=stub_client, identifiers=["a.example.com"])
    assert raised.value.problem_type == "rejectedIdentifier"
    assert raised.value.detail == "a.example.com is forbidden"


def test_new_order_sends_profile_replaces_and_ip_identifiers(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script("POST", "/new-order", _order_reply(stub_ca))
    orders.new_order(
        client=stub_client,
        identifiers=["a.example.com", "192.0.2.1"],
        profile="shortlived",
        replaces="aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
    )
    (sent,) = stub_ca.requests_to("/new-order")
    assert sent.payload == {
        "identifiers": [
            {"type": "dns", "value": "a.example.com"},
            {"type": "ip", "value": "192.0.2.1"},
        ],
        "profile": "shortlived",
        "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
    }


def test_new_order_omits_profile_and_replaces_when_unset(
    stub_ca: StubCA, stub_client: acme_client.ClientV2
) -> None:
    stub_ca.script("POST", "/new-order", _order_reply(stub_ca))
    orders.new_order(client=stub_client, identifiers=["a.example.com"])
    (sent,) = stub_ca.requests_to("/new-order")
    assert sent.payload == {"identifiers": [{"type": "dns", "value": "a.example.com"}]}
