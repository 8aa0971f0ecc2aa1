"""acmeDNS built from its solver block: the registration JSON, checked before any call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.dns01.acmedns import AcmeDNSProvider
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for

REGISTRATION = {
    "username": "eabcdb41-d89f-4580-826f-3e62e9755ef2",
    "password": "pbAXVjlIOE01xbut7YnAbkhMQIkcwoHO0ek2j4Q0",
    "fulldomain": "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org",
    "subdomain": "d420c923-bbd7-4056-ab64-c3ca54c9b3cf",
    "allowfrom": [],
}


def build(document: str, *, spec: dict[str, Any] | None = None) -> AcmeDNSProvider:
    block = (
        spec
        if spec is not None
        else {
            "host": "https://auth.example.org",
            "accountSecretRef": {"name": "acme-dns", "key": "acmedns.json"},
        }
    )
    provider = provider_for({"acmeDNS": block}, read_secret=lambda name, key: document.encode())
    assert isinstance(provider, AcmeDNSProvider)
    return provider


def test_registrations_are_keyed_by_domain_and_passwords_stay_out_of_repr() -> None:
    provider = build(json.dumps({"Example.com.": REGISTRATION}))
    assert set(provider.accounts) == {"example.com"}
    assert provider.accounts["example.com"].subdomain == REGISTRATION["subdomain"]
    assert str(REGISTRATION["password"]) not in repr(provider)
    assert str(REGISTRATION["password"]) not in repr(provider.accounts["example.com"])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "is not JSON"),
        ("[]", "must map domains to registrations"),
        (json.dumps({"example.com": {**REGISTRATION, "password": ""}}), "needs username, password"),
        (json.dumps({"example.com": "x"}), "registration for 'example.com' needs"),
    ],
)
def test_a_malformed_registration_is_refused_without_echoing_it(
    document: str, message: str
) -> None:
    with pytest.raises(ProviderConfigError, match=message) as raised:
        build(document)
    assert str(REGISTRATION["password"]) not in str(raised.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"accountSecretRef": {"name": "a", "key": "b"}}, "acmeDNS.host is required"),
        ({"host": "https://auth.example.org"}, "accountSecretRef is required"),
    ],
)
def test_an_incomplete_block_says_what_is_missing(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        build("{}", spec=spec)
