"""Every tick re-verifies every issuer (a hand-made CA Secret has no events of ours):
success reasons IsReady and KeyPairVerified, the failure transitions with a Warning, and
a steady state that writes nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from shared.kube.client import Obj
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, ISSUERS, NAMESPACES, SECRETS
from tests.helpers import throwaway_ca
from tests.integration.pipeline.conftest import Env, condition, ready
from tests.integration.sweep.cost import tick_cost

pytestmark = pytest.mark.integration


def ca_secret(env: Env, name: str, cert_pem: bytes, key_pem: bytes) -> Obj:
    """A CA key pair Secret made by hand: no cert-manager label, so no events of ours."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": env.namespace},
        "data": {
            "tls.crt": base64.b64encode(cert_pem).decode(),
            "tls.key": base64.b64encode(key_pem).decode(),
        },
    }


def issuer(env: Env, name: str, spec: dict[str, Any]) -> Obj:
    return env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def ready_of(env: Env, name: str) -> tuple[str, str]:
    found = condition(env.get(ISSUERS, name), "Ready")
    return found.get("status", ""), found.get("reason", "")


def warnings(env: Env, name: str) -> list[str]:
    return [e["reason"] for e in env.events(name) if e["type"] == "Warning"]


@pytest.fixture
def hand_made_ca(env: Env) -> Obj:
    """A CA Issuer over a hand-made key pair Secret, made Ready by a tick alone."""
    env.create(ca_secret(env, "hand-ca", *throwaway_ca("hand CA")))
    return issuer(env, "hand", {"ca": {"secretName": "hand-ca"}})


def test_issuers_created_without_events_become_ready_at_the_tick(
    env: Env, hand_made_ca: Obj
) -> None:
    issuer(env, "self", {"selfSigned": {}})
    tick_cost(env)
    assert ready_of(env, "self") == ("True", "IsReady")
    assert ready_of(env, "hand") == ("True", "KeyPairVerified")
    steady = tick_cost(env)
    assert steady.writes == []
    assert steady.calls["get issuers"] == 0  # re-verified from the LIST, not re-read


def test_ca_secret_deleted_replaced_and_restored(env: Env, hand_made_ca: Obj) -> None:
    tick_cost(env)
    original = env.get(SECRETS, "hand-ca")
    env.kube.delete(SECRETS, env.namespace, "hand-ca")

    tick_cost(env)
    assert ready_of(env, "hand") == ("False", "ErrGetKeyPair")
    assert "ErrGetKeyPair" in warnings(env, "hand")
    assert tick_cost(env).writes == []  # still broken: said once

    # A pair whose key does not belong to its certificate.
    cert_pem, _ = throwaway_ca("hand CA")
    _, other_key = throwaway_ca("other")
    env.create(ca_secret(env, "hand-ca", cert_pem, other_key))
    tick_cost(env)
    assert ready_of(env, "hand") == ("False", "ErrInvalidKeyPair")
    assert "ErrInvalidKeyPair" in warnings(env, "hand")

    broken = env.get(SECRETS, "hand-ca")
    env.kube.replace(SECRETS, {**broken, "data": original["data"]})
    tick_cost(env)
    assert ready_of(env, "hand") == ("True", "KeyPairVerified")
    assert tick_cost(env).writes == []


def test_signing_that_finds_the_ca_secret_gone_flips_the_issuer(
    env: Env, hand_made_ca: Obj
) -> None:
    tick_cost(env)
    env.kube.delete(SECRETS, env.namespace, "hand-ca")
    env.certificate("leaf", issuerRef={"name": "hand", "kind": "Issuer"})

    assert env.deliver(CERTIFICATES, "leaf").ok  # the event path, no tick

    assert condition(env.get(CERTIFICATES, "leaf"), "Issuing")["reason"] == "Failed"
    assert ready_of(env, "hand") == ("False", "ErrGetKeyPair")


def test_certificate_waiting_on_a_broken_ca_is_issued_in_the_tick_that_sees_it_fixed(
    env: Env, hand_made_ca: Obj
) -> None:
    tick_cost(env)
    original = env.get(SECRETS, "hand-ca")
    env.kube.delete(SECRETS, env.namespace, "hand-ca")
    tick_cost(env)
    env.certificate("patient", issuerRef={"name": "hand", "kind": "Issuer"})
    assert env.deliver(CERTIFICATES, "patient").ok
    waiting = condition(env.get(CERTIFICATES, "patient"), "Ready")
    assert (waiting["status"], waiting["reason"]) == ("False", "IssuerNotReady")

    env.create(ca_secret(env, "hand-ca", b"", b"") | {"data": original["data"]})
    tick_cost(env)

    assert ready_of(env, "hand") == ("True", "KeyPairVerified")
    assert ready(env.get(CERTIFICATES, "patient"))


def test_cluster_issuer_is_reverified_against_the_cluster_resource_namespace(env: Env) -> None:
    name = f"hand-{env.namespace}"
    if env.kube.find(NAMESPACES, None, env.ca_namespace) is None:
        env.kube.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": env.ca_namespace}},
        )
    secret = ca_secret(env, name, *throwaway_ca("cluster CA"))
    secret["metadata"]["namespace"] = env.ca_namespace
    env.kube.create(SECRETS, secret)
    env.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {"ca": {"secretName": name}},
        }
    )
    try:
        tick_cost(env)
        verdict = condition(env.kube.get(CLUSTER_ISSUERS, None, name), "Ready")
        assert (verdict["status"], verdict["reason"]) == ("True", "KeyPairVerified")
        env.kube.delete(SECRETS, env.ca_namespace, name)
        tick_cost(env)
        verdict = condition(env.kube.get(CLUSTER_ISSUERS, None, name), "Ready")
        assert (verdict["status"], verdict["reason"]) == ("False", "ErrGetKeyPair")
        assert tick_cost(env).writes == []
    finally:
        env.kube.delete(CLUSTER_ISSUERS, None, name)
        if env.kube.find(SECRETS, env.ca_namespace, name) is not None:
            env.kube.delete(SECRETS, env.ca_namespace, name)
