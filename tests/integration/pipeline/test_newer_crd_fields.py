"""Fields cert-manager v1.21 and trust-manager added to the CRDs, through the real
functions: ones certainly acts on keep working, ones it does not are accepted by the API
and leave a clear condition or nothing at all, never a crash."""

from __future__ import annotations

import pytest

from shared.kube.resources import CERTIFICATES, ISSUERS
from tests.integration.pipeline.conftest import Env, condition, ready

pytestmark = pytest.mark.integration


def test_a_vault_issuer_with_aws_auth_is_refused_with_invalid_config(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "vault-aws"},
            "spec": {
                "vault": {
                    "server": "https://vault.example.test",
                    "path": "pki/sign/web",
                    "auth": {
                        "aws": {
                            "role": "cert-manager",
                            "region": "eu-west-1",
                            "serviceAccountRef": {"name": "issuer", "audiences": ["vault"]},
                        }
                    },
                }
            },
        }
    )
    assert env.deliver(ISSUERS, "vault-aws").ok
    found = condition(env.get(ISSUERS, "vault-aws"), "Ready")
    assert (found["status"], found["reason"]) == ("False", "InvalidConfig")
    assert "vault not supported yet" in found["message"]


def test_a_certificate_with_renewal_windows_is_issued_and_keeps_them(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self"},
            "spec": {"selfSigned": {}},
        }
    )
    assert env.deliver(ISSUERS, "self").ok
    renewal = {
        "policy": "RenewBefore",
        "windows": [{"cron": "0 2 * * 1-5", "timezone": "Europe/Paris", "windowDuration": "2h"}],
    }
    cert = env.issue("windowed", issuerRef={"name": "self"}, renewal=renewal)
    assert cert["spec"]["renewal"] == renewal
    assert cert["status"]["renewalTime"]


def test_a_modern2026_keystore_is_refused_naming_the_field(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self"},
            "spec": {"selfSigned": {}},
        }
    )
    assert env.deliver(ISSUERS, "self").ok
    env.certificate(
        "p12",
        issuerRef={"name": "self"},
        keystores={"pkcs12": {"create": True, "password": "pw", "profile": "Modern2026"}},
    )
    env.deliver(CERTIFICATES, "p12")
    cert = env.get(CERTIFICATES, "p12")
    assert not ready(cert)
    found = condition(cert, "Ready")
    assert found["status"] == "False"
    assert "spec.keystores.pkcs12.profile" in found["message"]
    assert '"Modern2026"' in found["message"]
