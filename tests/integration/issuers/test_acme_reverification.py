"""The tick re-verifies a Ready ACME issuer without calling the CA: only its account key
Secret is read. A lost key Secret means a new key, and only then a new registration."""

from __future__ import annotations

import pytest

from shared.kube.resources import ISSUERS, SECRETS
from tests.integration.pipeline.conftest import Env, condition
from tests.integration.sweep.cost import tick_cost
from tests.unit.acme.stub_ca import Reply, StubCA, problem

pytestmark = pytest.mark.integration


def expect_registration(ca: StubCA, account: str) -> None:
    """The next account lookup finds none; the registration that follows gets `account`."""
    ca.script(
        "POST",
        "/new-account",
        problem("accountDoesNotExist", "no account for this key", 400),
        Reply(
            status=201,
            body={"status": "valid", "contact": ["mailto:ops@example.test"]},
            headers={"Location": f"{ca.url}{account}"},
        ),
    )


def test_ready_acme_issuer_is_verified_without_the_ca_and_reregistered_when_its_key_goes(
    env: Env, stub_ca: StubCA
) -> None:
    expect_registration(stub_ca, "/acct/1")
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "acme"},
            "spec": {
                "acme": {
                    "server": stub_ca.directory_url,
                    "email": "ops@example.test",
                    "privateKeySecretRef": {"name": "acme-account"},
                    "solvers": [{"http01": {"ingress": {}}}],
                }
            },
        }
    )
    tick_cost(env)  # no event for the issuer: the tick registers it
    first = env.get(ISSUERS, "acme")
    assert condition(first, "Ready")["reason"] == "ACMEAccountRegistered"
    assert first["status"]["acme"]["uri"] == f"{stub_ca.url}/acct/1"

    seen = len(stub_ca.received)
    steady = tick_cost(env)
    assert stub_ca.received[seen:] == []  # no round trip to the CA
    assert steady.writes == []
    assert steady.calls["get secrets"] >= 1  # the account key Secret was looked at

    env.kube.delete(SECRETS, env.namespace, "acme-account")
    expect_registration(stub_ca, "/acct/2")
    tick_cost(env)
    again = env.get(ISSUERS, "acme")
    assert condition(again, "Ready")["status"] == "True"
    assert again["status"]["acme"]["uri"] == f"{stub_ca.url}/acct/2"
    assert (
        again["status"]["acme"]["lastPrivateKeyHash"]
        != first["status"]["acme"]["lastPrivateKeyHash"]
    )
    assert env.find(SECRETS, "acme-account") is not None
    assert tick_cost(env).writes == []
