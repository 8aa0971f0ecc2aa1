"""cloudflare built from its solver block: a token, or the legacy email + global key."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dns01.cloudflare import CloudflareProvider
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for

SECRETS = {("cf", "token"): b"tok-123\n", ("cf", "key"): b"global-key-456", ("cf", "empty"): b"\n"}
TOKEN_REF = {"name": "cf", "key": "token"}
KEY_REF = {"name": "cf", "key": "key"}


def build(spec: dict[str, Any]) -> CloudflareProvider:
    provider = provider_for(
        {"cloudflare": spec}, read_secret=lambda name, key: SECRETS[(name, key)]
    )
    assert isinstance(provider, CloudflareProvider)
    return provider


def test_an_api_token_is_read_by_reference_and_kept_out_of_repr() -> None:
    provider = build({"apiTokenSecretRef": TOKEN_REF})
    assert provider.api_token == "tok-123"
    assert "tok-123" not in repr(provider)


def test_email_and_global_key_are_the_legacy_alternative() -> None:
    provider = build({"email": "dns@example.com", "apiKeySecretRef": KEY_REF})
    assert (provider.email, provider.api_key, provider.api_token) == (
        "dns@example.com",
        "global-key-456",
        "",
    )
    assert "global-key-456" not in repr(provider)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "set apiTokenSecretRef, or email and apiKeySecretRef"),
        ({"apiTokenSecretRef": TOKEN_REF, "apiKeySecretRef": KEY_REF}, "mutually exclusive"),
        ({"apiKeySecretRef": KEY_REF}, "email is required"),
        ({"apiTokenSecretRef": {"name": "cf", "key": "empty"}}, "is empty"),
        ({"apiTokenSecretRef": {"name": "cf", "key": "nope"}}, "key 'nope' not found"),
    ],
)
def test_unusable_credentials_say_what_is_wrong(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        build(spec)
