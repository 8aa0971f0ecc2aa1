"""secretTemplate entries the API would refuse: a condition and an Event, never a 500 loop."""

from __future__ import annotations

from typing import Any

import pytest

from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, SECRETS
from tests.integration.pipeline.conftest import Env, condition


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ({"labels": {"bad key!": "x"}}, 'secretTemplate.labels: Invalid value: "bad key!"'),
        ({"labels": {"team": "not ok!"}}, 'Invalid value: "not ok!": a valid label'),
        ({"labels": {"Example.com/team": "x"}}, "prefix part a lowercase RFC 1123 subdomain"),
        ({"annotations": {"-starts-bad": "x"}}, 'Invalid value: "-starts-bad": name part'),
        ({"annotations": {"big": "x" * (256 * 1024)}}, "Too long: must have at most 262144"),
    ],
    ids=["label-key", "label-value", "label-prefix", "annotation-key", "annotations-size"],
)
def test_secret_template_the_api_would_refuse_is_an_invalid_spec(
    env: Env, template: dict[str, Any], words: str
) -> None:
    env.ca_issuer()
    env.certificate("tmpl", issuerRef={"name": "ca", "kind": "Issuer"}, secretTemplate=template)
    delivery = env.deliver(CERTIFICATES, "tmpl")
    assert delivery.ok, delivery
    ready = condition(env.get(CERTIFICATES, "tmpl"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert words in ready["message"], ready["message"]
    assert [(e["type"], e["reason"]) for e in env.events("tmpl")] == [("Warning", "InvalidSpec")]
    # nothing was started: no key, no request, no Secret
    assert env.request_names("tmpl") == []
    assert env.find(SECRETS, "tmpl-next-private-key") is None
    assert env.find(SECRETS, "tmpl-tls") is None


def test_secret_the_api_refuses_to_store_is_reported_and_the_old_secret_kept(env: Env) -> None:
    env.ca_issuer()
    # Another actor's annotations already fill most of what a Secret may carry.
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "full-tls", "annotations": {"other/blob": "x" * 200_000}},
            "type": "Opaque",
            "data": {"note": "a2VlcA=="},
        }
    )
    before = env.get(SECRETS, "full-tls")
    env.certificate(
        "full",
        issuerRef={"name": "ca", "kind": "Issuer"},
        secretTemplate={"annotations": {"mine": "y" * 100_000}},
    )
    for _ in range(2):  # a repeated event neither fails nor repeats the Event
        delivery = env.deliver(CERTIFICATES, "full")
        assert delivery.ok, delivery
    ready = condition(env.get(CERTIFICATES, "full"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretRejected")
    assert 'refused to store Secret "full-tls"' in ready["message"]
    assert "Too long" in ready["message"]
    warnings = [e["reason"] for e in env.events("full") if e["type"] == "Warning"]
    assert warnings == ["SecretRejected"]
    after = env.get(SECRETS, "full-tls")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    # the signed request and its key wait, so fixing the template completes the issuance
    assert env.get(CERTIFICATE_REQUESTS, "full-1")["status"]["certificate"]
    cert = env.get(CERTIFICATES, "full")
    cert["spec"]["secretTemplate"]["annotations"]["mine"] = "small"
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "full").ok
    cert = env.get(CERTIFICATES, "full")
    assert condition(cert, "Ready")["status"] == "True"
    assert cert["status"]["revision"] == 1
    assert env.request_names("full") == ["full-1"]
    stored = env.get(SECRETS, "full-tls")
    assert stored["metadata"]["annotations"]["mine"] == "small"
    assert stored["data"]["note"] == "a2VlcA=="
    assert env.find(SECRETS, "full-next-private-key") is None
