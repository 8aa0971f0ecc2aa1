"""The ACME issuer's spec, validated into settings (bad config -> InvalidConfig reasons)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.issuers.acme import AcmeConfigError, settings_of

SERVER = "https://acme.example.test/dir"


def spec(**acme: Any) -> dict[str, Any]:
    return {"acme": {"server": SERVER, "privateKeySecretRef": {"name": "acct"}, **acme}}


def test_defaults_follow_cert_manager() -> None:
    settings = settings_of(spec(email="a@example.test"))
    assert settings.key_secret == "acct" and settings.key_field == "tls.key"
    assert settings.email == "a@example.test"
    assert settings.ca_bundle_pem is None and not settings.skip_tls_verify
    assert not settings.disable_key_generation
    assert settings.eab_key_id is None


def test_ca_bundle_profile_preferred_chain_and_eab_are_read() -> None:
    settings = settings_of(
        spec(
            caBundle=base64.b64encode(b"PEM").decode(),
            profile="shortlived",
            preferredChain="ISRG Root X1",
            externalAccountBinding={"keyID": "kid-1", "keySecretRef": {"name": "eab"}},
        )
    )
    assert settings.ca_bundle_pem == b"PEM"
    assert settings.profile == "shortlived"
    assert settings.preferred_chain == "ISRG Root X1"
    assert (settings.eab_key_id, settings.eab_secret) == ("kid-1", ("eab", "secret"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"acme": {"privateKeySecretRef": {"name": "a"}}}, "directory URL"),
        ({"acme": {"server": SERVER}}, "privateKeySecretRef"),
        (spec(caBundle="!!"), "base64"),
        (spec(caBundle="UEVN", skipTLSVerify=True), "mutually exclusive"),
        (spec(externalAccountBinding={"keyID": "k"}), "keySecretRef"),
    ],
)
def test_unusable_spec_is_invalid_config(body: dict[str, Any], message: str) -> None:
    with pytest.raises(AcmeConfigError, match=message):
        settings_of(body)
