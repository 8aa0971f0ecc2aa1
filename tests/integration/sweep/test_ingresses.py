"""An annotated Ingress whose event was lost (or that predates the install) gets its
Certificate from the tick; a tick with nothing to do writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from shared.kube.client import Obj
from shared.kube.resources import CERTIFICATES, INGRESSES
from tests.helpers import INGRESS_BACKEND
from tests.integration.pipeline.conftest import Env
from tests.integration.sweep.cost import tick_cost

pytestmark = pytest.mark.integration


def ingress(env: Env, name: str, tls: list[dict[str, Any]]) -> Obj:
    return env.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "annotations": {"cert-manager.io/issuer": "ca"}},
            "spec": {"tls": tls, "defaultBackend": INGRESS_BACKEND},
        }
    )


def ready(obj: Obj | None) -> bool:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_ingress_created_without_its_event_gets_an_issued_certificate(env: Env) -> None:
    env.ca_issuer()
    web = ingress(env, "web", [{"hosts": ["web.example.test"], "secretName": "web-tls"}])
    assert env.find(CERTIFICATES, "web-tls") is None

    first = tick_cost(env)

    cert = env.get(CERTIFICATES, "web-tls")
    assert [o["uid"] for o in cert["metadata"]["ownerReferences"]] == [web["metadata"]["uid"]]
    assert cert["spec"]["dnsNames"] == ["web.example.test"]
    assert ready(cert), cert.get("status")  # created and issued in the same tick
    assert any(w.startswith("create certificates ") for w in first.writes)
    assert tick_cost(env).writes == []


def test_ingress_changed_without_its_event_is_followed_by_the_tick(env: Env) -> None:
    env.ca_issuer()
    ingress(
        env,
        "shop",
        [
            {"hosts": ["shop.example.test"], "secretName": "shop-tls"},
            {"hosts": ["old.example.test"], "secretName": "old-tls"},
        ],
    )
    tick_cost(env)
    current = env.get(INGRESSES, "shop")
    current["spec"]["tls"] = [
        {"hosts": ["shop.example.test", "www.example.test"], "secretName": "shop-tls"}
    ]
    env.kube.replace(INGRESSES, current)  # the update event is lost

    tick_cost(env)

    cert = env.get(CERTIFICATES, "shop-tls")
    assert cert["spec"]["dnsNames"] == ["shop.example.test", "www.example.test"]
    assert ready(cert) and cert["status"]["revision"] == 2  # re-issued for the new name
    assert env.find(CERTIFICATES, "old-tls") is None  # its TLS entry went away
    assert tick_cost(env).writes == []


def test_ingress_without_an_issuer_annotation_is_left_alone(env: Env) -> None:
    env.create(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "plain"},
            "spec": {
                "tls": [{"hosts": ["plain.example.test"], "secretName": "plain-tls"}],
                "defaultBackend": INGRESS_BACKEND,
            },
        }
    )
    cost = tick_cost(env)
    assert env.find(CERTIFICATES, "plain-tls") is None
    assert cost.writes == []
