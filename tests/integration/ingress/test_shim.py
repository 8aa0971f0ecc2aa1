"""The ingress-shim through its function: Certificates follow the Ingress, and only its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from events.routes import ON_INGRESS_CHANGED
from events.sinks import Delivery, InProcessSink
from shared import runtime
from shared.contracts import Action, object_event
from shared.kube.client import Kube, Obj
from shared.kube.resources import CERTIFICATES, EVENTS, INGRESSES, NAMESPACES
from tests.conftest import Cluster
from tests.helpers import INGRESS_BACKEND

pytestmark = pytest.mark.integration


@pytest.fixture
def kube(cluster: Cluster) -> Iterator[Kube]:
    client = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    runtime.install(runtime.Context.build(client))
    yield client
    runtime.install(None)
    client.close()


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    name = f"shim-{uuid.uuid4().hex[:8]}"
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    kube.delete(NAMESPACES, None, name)


def ingress(namespace: str, tls: list[dict[str, Any]], **annotations: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "annotations": {"cert-manager.io/cluster-issuer": "le", **annotations},
        },
        "spec": {"tls": tls, "defaultBackend": INGRESS_BACKEND},
    }


def deliver(kube: Kube, namespace: str, action: Action = "update") -> Delivery:
    obj = kube.get(INGRESSES, namespace, "web")
    obj.setdefault("apiVersion", INGRESSES.api_version)
    obj.setdefault("kind", "Ingress")
    return InProcessSink(ON_INGRESS_CHANGED).deliver(object_event(action, obj, source="t"))


def certificates(kube: Kube, namespace: str) -> dict[str, Obj]:
    items, _ = kube.list(CERTIFICATES, namespace)
    return {c["metadata"]["name"]: c for c in items}


def reasons(kube: Kube, namespace: str) -> list[str]:
    items, _ = kube.list(EVENTS, namespace, field_selector="involvedObject.name=web")
    return [e["reason"] for e in items]


def test_certificates_follow_tls_entries_and_annotation_changes(kube: Kube, namespace: str) -> None:
    kube.create(
        INGRESSES,
        ingress(
            namespace,
            [
                {"hosts": ["a.example.test"], "secretName": "a-tls"},
                {"hosts": ["b.example.test"], "secretName": "b-tls"},
            ],
        ),
    )
    assert deliver(kube, namespace).ok
    certs = certificates(kube, namespace)
    assert sorted(certs) == ["a-tls", "b-tls"]
    assert certs["a-tls"]["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    written = certs["a-tls"]["metadata"]["resourceVersion"]

    assert deliver(kube, namespace).ok  # nothing changed: nothing written
    assert certificates(kube, namespace)["a-tls"]["metadata"]["resourceVersion"] == written

    current = kube.get(INGRESSES, namespace, "web")
    current["metadata"]["annotations"] = {
        "cert-manager.io/issuer": "internal",
        "cert-manager.io/duration": "720h",
    }
    current["spec"]["tls"] = [
        {"hosts": ["a.example.test", "c.example.test"], "secretName": "a-tls"}
    ]
    kube.replace(INGRESSES, current)
    assert deliver(kube, namespace).ok
    certs = certificates(kube, namespace)
    assert sorted(certs) == ["a-tls"]  # b-tls's entry went, and so did its Certificate
    assert certs["a-tls"]["spec"]["dnsNames"] == ["a.example.test", "c.example.test"]
    assert certs["a-tls"]["spec"]["issuerRef"] == {
        "name": "internal",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }
    assert certs["a-tls"]["spec"]["duration"] == "720h"
    assert {"CreateCertificate", "UpdateCertificate", "DeleteCertificate"} <= set(
        reasons(kube, namespace)
    )


def test_a_certificate_the_ingress_does_not_own_is_left_alone(kube: Kube, namespace: str) -> None:
    kube.create(
        CERTIFICATES,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "mine-tls", "namespace": namespace},
            "spec": {
                "secretName": "mine-tls",
                "dnsNames": ["mine.example.test"],
                "issuerRef": {"name": "other", "kind": "Issuer"},
            },
        },
    )
    kube.create(
        INGRESSES, ingress(namespace, [{"hosts": ["x.example.test"], "secretName": "mine-tls"}])
    )
    assert deliver(kube, namespace).ok
    cert = certificates(kube, namespace)["mine-tls"]
    assert cert["spec"]["dnsNames"] == ["mine.example.test"]
    assert "BadConfig" in reasons(kube, namespace)


def test_contradictory_annotations_are_an_event_not_an_error(kube: Kube, namespace: str) -> None:
    kube.create(
        INGRESSES,
        ingress(
            namespace,
            [{"hosts": ["a.example.test"], "secretName": "a-tls"}],
            **{"cert-manager.io/issuer": "also"},
        ),
    )
    assert deliver(kube, namespace).ok
    assert certificates(kube, namespace) == {}
    assert reasons(kube, namespace) == ["BadConfig"]
