"""Providers built from a solver's dns01 block by table lookup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from shared.dns01.base import DNS01Provider
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import PROVIDERS, ProviderFactory, SecretReader, provider_for
from shared.dns01.rfc2136 import RFC2136Provider

SECRET = "c2VjcmV0LXRzaWcta2V5LWJ5dGVz"
SECRETS = {("tsig", "secret"): f"{SECRET}\n".encode()}


def read_secret(name: str, key: str) -> bytes:
    return SECRETS[(name, key)]


RFC2136_BLOCK: dict[str, Any] = {
    "cnameStrategy": "Follow",
    "rfc2136": {
        "nameserver": "10.0.0.53:5353",
        "tsigKeyName": "acme-update",
        "tsigAlgorithm": "HMACSHA512",
        "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
    },
}


def test_rfc2136_is_built_from_its_block_with_the_secret_read_by_reference() -> None:
    provider = provider_for(RFC2136_BLOCK, read_secret=read_secret)
    assert provider == RFC2136Provider(
        nameserver="10.0.0.53:5353",
        tsig_key_name="acme-update",
        tsig_algorithm="HMACSHA512",
        tsig_secret=SECRET,
    )
    assert SECRET not in repr(provider)


def test_the_tsig_algorithm_defaults_to_hmacmd5_as_in_cert_manager() -> None:
    block = {"rfc2136": {**RFC2136_BLOCK["rfc2136"], "tsigAlgorithm": ""}}
    provider = provider_for(block, read_secret=read_secret)
    assert isinstance(provider, RFC2136Provider)
    assert provider.tsig_algorithm == "HMACMD5"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({}, "exactly one provider"),
        ({"cnameStrategy": "Follow"}, "exactly one provider"),
        ({"rfc2136": {}, "route53": {}}, "exactly one provider"),
        ({"akamai": {}}, "not supported"),
        ({"rfc2136": "10.0.0.53"}, "must be an object"),
        ({"rfc2136": {"tsigKeyName": "k"}}, "nameserver is required"),
        ({"rfc2136": {"nameserver": "10.0.0.53", "tsigKeyName": "k"}}, "tsigSecretSecretRef"),
        ({"rfc2136": {"nameserver": "10.0.0.53", "tsigAlgorithm": "HMACSHA3"}}, "tsigAlgorithm"),
        ({"rfc2136": {"nameserver": "10.0.0.53:dns"}}, "nameserver"),
    ],
)
def test_unusable_blocks_say_what_is_wrong(block: Mapping[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        provider_for(block, read_secret=read_secret)


def test_a_bad_base64_secret_is_refused_without_echoing_it() -> None:
    def leaky(name: str, key: str) -> bytes:
        return b"not base64 at all!!"

    with pytest.raises(ProviderConfigError, match="not valid base64") as raised:
        provider_for(RFC2136_BLOCK, read_secret=leaky)
    assert "not base64 at all" not in str(raised.value)


class RecordingProvider:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        self.calls.append(("present", fqdn, zone, value))

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        self.calls.append(("cleanup", fqdn, zone, value))


def test_a_table_entry_is_all_a_new_provider_needs() -> None:
    fake = RecordingProvider()

    def factory(spec: Mapping[str, Any], read: SecretReader) -> DNS01Provider:
        assert spec == {"zone": "z"}
        return fake

    table: Mapping[str, ProviderFactory] = {**PROVIDERS, "fake": factory}
    provider = provider_for({"fake": {"zone": "z"}}, read_secret=read_secret, providers=table)
    provider.present(fqdn="_acme-challenge.a.", zone="a.", value="v")
    assert fake.calls == [("present", "_acme-challenge.a.", "a.", "v")]
