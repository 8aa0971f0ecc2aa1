"""route53 built from its solver block: credentials by reference, ambient only when allowed."""

from __future__ import annotations

from typing import Any

import pytest

from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for
from shared.dns01.route53 import Route53Provider
from shared.kube.errors import NotFound

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRETS = {("aws", "id"): b"AKIDFROMSECRET\n", ("aws", "secret"): SECRET_KEY.encode()}
SECRET_REF = {"name": "aws", "key": "secret"}


def read(name: str, key: str) -> bytes:
    return SECRETS[(name, key)]


def build(spec: dict[str, Any], *, ambient: bool = False) -> Route53Provider:
    provider = provider_for({"route53": spec}, read_secret=read, ambient_credentials=ambient)
    assert isinstance(provider, Route53Provider)
    return provider


def test_static_credentials_are_read_by_reference_and_kept_out_of_repr() -> None:
    provider = build(
        {
            "region": "eu-west-1",
            "hostedZoneID": "/hostedzone/Z123",
            "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
            "secretAccessKeySecretRef": SECRET_REF,
            "role": "arn:aws:iam::1:role/dns",
        }
    )
    assert (provider.region, provider.hosted_zone_id, provider.role) == (
        "eu-west-1",
        "/hostedzone/Z123",
        "arn:aws:iam::1:role/dns",
    )
    assert (provider.access_key_id, provider.secret_access_key) == ("AKIDFROMSECRET", SECRET_KEY)
    assert SECRET_KEY not in repr(provider)


def test_an_issuer_without_credentials_is_refused_ambient_identity() -> None:
    with pytest.raises(ProviderConfigError, match="ambient credentials are only used for"):
        build({"region": "eu-west-1"})


def test_a_cluster_issuer_without_credentials_uses_the_ambient_identity() -> None:
    provider = build({}, ambient=True)
    assert (provider.access_key_id, provider.secret_access_key) == ("", "")
    assert provider.region == "", "the SDK's region (AWS_REGION...) applies, else us-east-1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {
                "accessKeyID": "AKID",
                "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
                "secretAccessKeySecretRef": SECRET_REF,
            },
            "not both",
        ),
        ({"accessKeyID": "AKID"}, "needs secretAccessKeySecretRef"),
        ({"secretAccessKeySecretRef": SECRET_REF}, "needs secretAccessKeySecretRef"),
        ({"accessKeyID": "AKID", "secretAccessKeySecretRef": {"name": "aws"}}, "name and key"),
        (
            {"accessKeyID": "AKID", "secretAccessKeySecretRef": {"name": "x", "key": "y"}},
            "not found",
        ),
        ({"region": 3}, "region must be a string"),
    ],
)
def test_unusable_credentials_say_what_is_wrong(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        build(spec, ambient=True)


def test_a_secret_the_api_cannot_find_names_the_reference_only() -> None:
    def missing(name: str, key: str) -> bytes:
        raise NotFound(404, "NotFound", 'secrets "aws" not found')

    spec = {"accessKeyID": "AKID", "secretAccessKeySecretRef": SECRET_REF}
    with pytest.raises(ProviderConfigError) as raised:
        provider_for({"route53": spec}, read_secret=missing)
    assert str(raised.value) == (
        "route53.secretAccessKeySecretRef: secret 'aws' key 'secret' not found"
    )
