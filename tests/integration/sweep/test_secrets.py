"""A Ready Certificate whose Secret was deleted or replaced (the event lost) is repaired by
the next tick, not at its renewal time; one LIST of Secrets serves every Certificate."""

from __future__ import annotations

import pytest

from shared.kube.resources import CERTIFICATES, SECRETS
from tests.integration.pipeline.conftest import Env, ready
from tests.integration.sweep.cost import tick_cost

pytestmark = pytest.mark.integration

CA = {"name": "ca", "kind": "Issuer"}


def serial_of(env: Env, secret: str) -> str:
    return str(env.get(SECRETS, secret)["data"]["tls.crt"])


def test_deleted_secret_is_reissued_by_the_tick(env: Env) -> None:
    env.ca_issuer()
    env.issue("gone", issuerRef=CA)
    env.kube.delete(SECRETS, env.namespace, "gone-tls")  # the delete event is lost

    cost = tick_cost(env)

    cert = env.get(CERTIFICATES, "gone")
    assert ready(cert) and cert["status"]["revision"] == 2
    assert env.find(SECRETS, "gone-tls") is not None
    assert f"create secrets {env.namespace}/" in cost.writes  # creates are not named
    assert tick_cost(env).writes == []


def test_secret_replaced_by_another_certificate_is_reissued(env: Env) -> None:
    env.ca_issuer()
    env.issue("mine", issuerRef=CA, dnsNames=["same.example.test"])
    env.issue("theirs", issuerRef=CA, dnsNames=["same.example.test"])
    # Same names, same validity (one clock), same annotations: only the serial and the
    # key tell the certificate apart from the one "mine" was issued.
    secret = env.get(SECRETS, "mine-tls")
    secret["data"] = env.get(SECRETS, "theirs-tls")["data"]
    env.kube.replace(SECRETS, secret)  # the update event is lost

    tick_cost(env)

    cert = env.get(CERTIFICATES, "mine")
    assert ready(cert) and cert["status"]["revision"] == 2
    assert serial_of(env, "mine-tls") != serial_of(env, "theirs-tls")
    assert tick_cost(env).writes == []


def test_secret_annotated_for_another_issuer_is_reissued(env: Env) -> None:
    env.ca_issuer()
    env.issue("moved", issuerRef=CA)
    secret = env.get(SECRETS, "moved-tls")
    secret["metadata"]["annotations"]["cert-manager.io/issuer-name"] = "elsewhere"
    env.kube.replace(SECRETS, secret)

    tick_cost(env)

    cert = env.get(CERTIFICATES, "moved")
    assert ready(cert) and cert["status"]["revision"] == 2
    annotations = env.get(SECRETS, "moved-tls")["metadata"]["annotations"]
    assert annotations["cert-manager.io/issuer-name"] == "ca"
    assert tick_cost(env).writes == []
