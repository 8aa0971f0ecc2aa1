"""cloudDNS built from its solver block: a service account key by reference, or ambient
credentials for a ClusterIssuer only; a broken key is refused without being echoed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.dns01.clouddns import CloudDNSProvider
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for

PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)
KEY = {
    "type": "service_account",
    "client_email": "dns01@p.iam.gserviceaccount.com",
    "private_key": PEM,
    "token_uri": "https://oauth2.googleapis.com/token",
}
REF = {"name": "clouddns", "key": "key.json"}


def build(spec: dict[str, Any], document: str = "", *, ambient: bool = False) -> CloudDNSProvider:
    provider = provider_for(
        {"cloudDNS": spec},
        read_secret=lambda name, key: document.encode(),
        ambient_credentials=ambient,
    )
    assert isinstance(provider, CloudDNSProvider)
    return provider


def test_a_service_account_key_is_read_by_reference_and_kept_out_of_repr() -> None:
    provider = build(
        {"project": "p", "hostedZoneName": "example-com", "serviceAccountSecretRef": REF},
        json.dumps(KEY),
    )
    assert (provider.project, provider.hosted_zone_name) == ("p", "example-com")
    assert provider.credentials.service_account_email == KEY["client_email"]
    assert "PRIVATE KEY" not in repr(provider)


def test_ambient_credentials_are_for_cluster_issuers_only() -> None:
    with pytest.raises(ProviderConfigError, match="only used for ClusterIssuers"):
        build({"project": "p"})
    assert build({"project": "p"}, ambient=True).credentials is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "is not JSON"),
        ('"a string"', "is not a service account key"),
        (json.dumps({**KEY, "private_key": None}), "lacks private_key"),
        (json.dumps({**KEY, "type": "authorized_user"}), "'authorized_user' key"),
        (json.dumps({**KEY, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n"}), "usable PEM"),
    ],
)
def test_a_broken_key_is_refused_without_echoing_it(document: str, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message) as raised:
        build({"project": "p", "serviceAccountSecretRef": REF}, document)
    assert "PRIVATE KEY" not in str(raised.value)
    assert PEM not in str(raised.value)


def test_the_project_is_required() -> None:
    with pytest.raises(ProviderConfigError, match=r"cloudDNS\.project is required"):
        build({"serviceAccountSecretRef": REF}, json.dumps(KEY))
