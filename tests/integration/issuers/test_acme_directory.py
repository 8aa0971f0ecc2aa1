"""An ACME server URL that answers something other than a directory makes the Issuer
Ready=False with the URL and what is wrong, and a Warning Event: never a failed delivery."""

from __future__ import annotations

import pytest

from shared.kube.resources import ISSUERS
from tests.integration.pipeline.conftest import Env, condition
from tests.unit.acme.stub_ca import Reply, StubCA

pytestmark = pytest.mark.integration


def acme_issuer(env: Env, server: str) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "acme"},
            "spec": {
                "acme": {
                    "server": server,
                    "email": "ops@example.test",
                    "privateKeySecretRef": {"name": "acme-account"},
                    "solvers": [{"http01": {"ingress": {}}}],
                }
            },
        }
    )


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            Reply(body={"newNonce": "/nonce", "newOrder": "/order"}),
            'has no "newAccount" URL',
        ),
        (
            Reply(body=b"<html>hello</html>", content_type="text/html"),
            "Unexpected response Content-Type: text/html",
        ),
        (
            Reply(status=404, body=b"not here", content_type="text/plain"),
            "HTTP 404",
        ),
        (Reply(body=["newAccount"]), "did not answer with an ACME directory"),
    ],
    ids=["json-without-newAccount", "html-page", "not-found", "json-list"],
)
def test_an_unusable_acme_directory_is_ready_false_naming_the_url_and_the_problem(
    env: Env, stub_ca: StubCA, reply: Reply, words: str
) -> None:
    stub_ca.script("GET", "/directory", reply)
    acme_issuer(env, stub_ca.directory_url)
    delivery = env.deliver(ISSUERS, "acme")
    assert delivery.ok, delivery
    ready = condition(env.get(ISSUERS, "acme"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ErrRegisterACMEAccount"), ready
    assert stub_ca.directory_url in ready["message"]
    assert words in ready["message"]
    warnings = [e for e in env.events("acme") if e["type"] == "Warning"]
    assert [e["reason"] for e in warnings] == ["ErrRegisterACMEAccount"]
    # Redelivered with the same answer: the same verdict, nothing written again.
    stub_ca.script("GET", "/directory", reply)
    before = env.get(ISSUERS, "acme")["metadata"]["resourceVersion"]
    assert env.deliver(ISSUERS, "acme").ok
    assert env.get(ISSUERS, "acme")["metadata"]["resourceVersion"] == before
