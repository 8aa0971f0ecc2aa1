"""Bad input becomes a condition with a reason and an Event: never a crash, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from shared.kube.resources import CERTIFICATES, ISSUERS, SECRETS
from tests.integration.pipeline.conftest import Env, condition


def not_ready(env: Env, name: str, **spec: Any) -> dict[str, Any]:
    env.certificate(name, **spec)
    delivery = env.deliver(CERTIFICATES, name)
    assert delivery.ok, delivery  # a bad spec is the user's problem, not a function failure
    ready = condition(env.get(CERTIFICATES, name), "Ready")
    assert ready["status"] == "False", ready
    return ready


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"duration": "30m"}, "duration"),
        ({"duration": "2h", "renewBefore": "3h"}, "renewBefore"),
        ({"dnsNames": []}, "at least one"),
        ({"issuerRef": {"name": "x", "kind": "Bogus"}}, "kind"),
    ],
    ids=["duration-below-1h", "renewBefore-not-below-duration", "no-names", "unknown-issuer-kind"],
)
def test_invalid_spec_gives_condition_and_warning_event(
    env: Env, spec: dict[str, Any], words: str
) -> None:
    spec.setdefault("issuerRef", {"name": "ca", "kind": "Issuer"})
    ready = not_ready(env, "bad", **spec)
    assert words.lower() in ready["message"].lower(), ready
    events = env.events("bad")
    assert [e["type"] for e in events] == ["Warning"]
    assert events[0]["reason"] == ready["reason"]
    assert env.find(SECRETS, "bad-tls") is None


def test_issuer_that_does_not_exist_is_named_in_the_condition(env: Env) -> None:
    ready = not_ready(env, "orphan", issuerRef={"name": "missing", "kind": "Issuer"})
    assert ready["reason"] == "IssuerNotFound"
    assert '"missing" not found' in ready["message"]
    assert condition(env.get(CERTIFICATES, "orphan"), "Issuing")["status"] == "True"


def test_issuer_not_ready_then_ready_resumes_the_certificate(env: Env) -> None:
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "ca"},
            "spec": {"ca": {"secretName": "not-yet"}},
        }
    )
    assert env.deliver(ISSUERS, "ca").ok
    issuer = condition(env.get(ISSUERS, "ca"), "Ready")
    assert (issuer["status"], issuer["reason"]) == ("False", "ErrGetKeyPair")
    assert 'secrets "not-yet" not found' in issuer["message"]
    ready = not_ready(env, "waiting", issuerRef={"name": "ca", "kind": "Issuer"})
    assert ready["reason"] == "IssuerNotReady"
    # now give the CA its key pair: the issuer event resumes the waiting certificate
    env.ca_issuer("real")
    root = env.get(SECRETS, "real-root-ca")
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "not-yet"},
            "type": "kubernetes.io/tls",
            "data": root["data"],
        }
    )
    assert env.deliver(ISSUERS, "ca").ok
    assert condition(env.get(CERTIFICATES, "waiting"), "Ready")["status"] == "True"


def test_invalid_ca_key_pair_is_reported(env: Env) -> None:
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "junk"},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "bm90IGEgY2VydA==", "tls.key": "bm8="},
        }
    )
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "junk"},
            "spec": {"ca": {"secretName": "junk"}},
        }
    )
    assert env.deliver(ISSUERS, "junk").ok
    ready = condition(env.get(ISSUERS, "junk"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ErrInvalidKeyPair")


def test_cluster_issuer_reads_secrets_only_from_the_cluster_resource_namespace(env: Env) -> None:
    env.ca_issuer("local")  # its root CA Secret lives in the test namespace, not cert-manager
    name = f"wrong-ns-{env.namespace}"
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {"ca": {"secretName": "local-root-ca"}},
        }
    )
    from shared.kube.resources import CLUSTER_ISSUERS

    try:
        assert env.deliver(CLUSTER_ISSUERS, name).ok
        ready = condition(env.kube.get(CLUSTER_ISSUERS, None, name), "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "ErrGetKeyPair")
    finally:
        env.kube.delete(CLUSTER_ISSUERS, None, name)


def test_second_certificate_for_the_same_secret_is_refused(env: Env) -> None:
    env.ca_issuer()
    env.issue("first", issuerRef={"name": "ca", "kind": "Issuer"}, secretName="shared-tls")
    before = env.get(SECRETS, "shared-tls")["data"]
    ready = not_ready(
        env, "second", issuerRef={"name": "ca", "kind": "Issuer"}, secretName="shared-tls"
    )
    assert ready["reason"] == "DuplicateSecretName"
    assert "first" in ready["message"]
    assert env.get(SECRETS, "shared-tls")["data"] == before


def test_malformed_events_get_4xx_with_a_reason(env: Env) -> None:
    from events.routes import ON_CERTIFICATE_CREATED
    from tests.integration.pipeline.conftest import sink

    app = sink(ON_CERTIFICATE_CREATED)
    plain = app.post(b"{}", {"Content-Type": "application/json"})
    assert plain.status == 400
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "t",
        "ce-type": "com.example.other",
        "Content-Type": "application/json",
    }
    wrong_type = app.post(b"{}", headers)
    assert wrong_type.status == 400 and "unsupported event type" in wrong_type.body
    headers["ce-type"] = "dev.knative.apiserver.resource.update"
    no_object = app.post(b'{"kind": "Certificate"}', headers)
    assert no_object.status == 400 and "metadata.name" in no_object.body
    not_ours = app.post(
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}}',
        headers,
    )
    assert not_ours.status == 400 and "ConfigMap" in not_ours.body
