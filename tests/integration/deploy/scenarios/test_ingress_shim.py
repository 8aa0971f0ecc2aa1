"""The ingress-shim through on-ingress-changed: create, update, and drop Certificates.

Also walked so the RBAC test sees every call on-ingress-changed makes.
"""

from __future__ import annotations

from typing import Any

import pytest

from events.routes import ON_INGRESS_CHANGED
from shared.contracts import object_event
from shared.kube.resources import CERTIFICATES, INGRESSES
from tests.integration.pipeline.conftest import Env, env, sink

pytestmark = pytest.mark.integration

__all__ = ["env"]


def _ingress(tls: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "annotations": {"cert-manager.io/issuer": "ca"}},
        "spec": {
            "tls": tls,
            "rules": [{"host": "shop.example.test"}],
        },
    }


def _deliver(env: Env) -> None:
    ingress = env.get(INGRESSES, "shop")
    ingress.setdefault("apiVersion", "networking.k8s.io/v1")
    ingress.setdefault("kind", "Ingress")
    delivery = sink(ON_INGRESS_CHANGED).deliver(object_event("update", ingress, source="tests"))
    assert delivery.ok, delivery


def test_an_annotated_ingress_gets_its_certificates_kept_in_step(env: Env) -> None:
    env.create(_ingress([{"hosts": ["shop.example.test"], "secretName": "shop-tls"}]))
    _deliver(env)
    assert env.get(CERTIFICATES, "shop-tls")["spec"]["dnsNames"] == ["shop.example.test"]

    ingress = env.get(INGRESSES, "shop")
    ingress["spec"]["tls"][0]["hosts"].append("www.example.test")
    env.kube.replace(INGRESSES, ingress)
    _deliver(env)
    assert env.get(CERTIFICATES, "shop-tls")["spec"]["dnsNames"] == [
        "shop.example.test",
        "www.example.test",
    ]

    ingress = env.get(INGRESSES, "shop")
    ingress["spec"]["tls"] = [{"hosts": ["shop.example.test"], "secretName": "shop-new-tls"}]
    env.kube.replace(INGRESSES, ingress)
    _deliver(env)
    assert env.find(CERTIFICATES, "shop-tls") is None
    assert env.find(CERTIFICATES, "shop-new-tls") is not None
