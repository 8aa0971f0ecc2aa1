"""Order/authorization/challenge snapshots: parsed from RFC 8555 JSON, stored, restored."""

from __future__ import annotations

import datetime
import json

import pytest

from shared.acme import orders
from shared.acme.errors import PermanentAcmeError

ORDER_JSON = {
    "status": "invalid",
    "expires": "2026-01-08T12:00:00Z",
    "identifiers": [
        {"type": "dns", "value": "*.example.com"},
        {"type": "dns", "value": "example.com"},
    ],
    "authorizations": ["https://ca/authz/1", "https://ca/authz/2"],
    "finalize": "https://ca/order/1/finalize",
    "error": {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids"},
}

AUTHZ_JSON = {
    "status": "invalid",
    "identifier": {"type": "dns", "value": "example.com"},
    "wildcard": True,
    "expires": "2026-01-08T12:00:00.123456Z",
    "challenges": [
        {"type": "dns-01", "url": "https://ca/chall/1", "token": "tok1", "status": "pending"},
        {
            "type": "http-01",
            "url": "https://ca/chall/2",
            "token": "tok2",
            "status": "invalid",
            "error": {
                "type": "urn:ietf:params:acme:error:incorrectResponse",
                "detail": "key authorization mismatch",
            },
        },
    ],
}


def _through_json(data: object) -> object:
    return json.loads(json.dumps(data))


def test_an_order_is_parsed_and_survives_json_unchanged() -> None:
    order = orders.OrderState.from_json("https://ca/order/1", ORDER_JSON)
    assert order.identifiers == ("*.example.com", "example.com")
    assert order.expires == datetime.datetime(2026, 1, 8, 12, tzinfo=datetime.UTC)
    assert order.error == orders.Problem(type="caa", detail="CAA forbids")
    assert order.certificate is None
    restored = orders.OrderState.from_dict(_through_json(order.to_dict()))  # type: ignore[arg-type]
    assert restored == order


def test_an_authorization_and_its_challenges_survive_json_unchanged() -> None:
    authorization = orders.AuthorizationState.from_json("https://ca/authz/1", AUTHZ_JSON)
    assert authorization.wildcard
    dns01 = authorization.challenge("dns-01")
    assert dns01 is not None and dns01.error is None
    assert authorization.challenge("tls-alpn-01") is None
    restored = orders.AuthorizationState.from_dict(
        _through_json(authorization.to_dict())  # type: ignore[arg-type]
    )
    assert restored == authorization


def test_raise_if_invalid_reports_the_failed_challenges_problem() -> None:
    authorization = orders.AuthorizationState.from_json("https://ca/authz/1", AUTHZ_JSON)
    with pytest.raises(PermanentAcmeError) as raised:
        orders.raise_if_invalid(authorization)
    assert raised.value.problem_type == "incorrectResponse"
    assert raised.value.detail == "key authorization mismatch"


def test_raise_if_invalid_without_a_problem_still_names_what_failed() -> None:
    order = orders.OrderState.from_json("https://ca/order/1", {**ORDER_JSON, "error": None})
    with pytest.raises(PermanentAcmeError, match="order is invalid"):
        orders.raise_if_invalid(order)


def test_raise_if_invalid_passes_any_other_status() -> None:
    for status in ("pending", "ready", "processing", "valid"):
        orders.raise_if_invalid(
            orders.OrderState.from_json("https://ca/order/1", {**ORDER_JSON, "status": status})
        )
