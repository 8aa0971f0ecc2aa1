"""Names from events obey Kubernetes' rules; Secrets travel without data; references parse."""

from __future__ import annotations

from typing import Any

import pytest
from cloudevents.http import CloudEvent

from shared.contracts import MalformedEvent, object_event, parse_object_event


def _event(namespace: Any, name: Any, kind: str = "Certificate") -> CloudEvent:
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
    }
    return CloudEvent({"type": "dev.knative.apiserver.resource.add", "source": "x", "id": "1"}, obj)


@pytest.mark.parametrize(
    "name",
    [
        "../../../../../../api/v1/namespaces/kube-system/secrets/x",
        "..",
        ".",
        "a/b",
        "a%2Fb",
        "Web",
        "web_tls",
        "-web",
        "web.",
        "a" * 254,
        "web\x00",
    ],
)
def test_a_name_that_is_not_a_dns_subdomain_is_refused_with_the_rule(name: str) -> None:
    with pytest.raises(MalformedEvent) as refused:
        parse_object_event(_event("team-b", name))
    assert str(refused.value).startswith("metadata.name: Invalid value: ")
    assert "RFC 1123 subdomain" in str(refused.value) or "no more than 253" in str(refused.value)


@pytest.mark.parametrize("namespace", ["team.b", "../team-a", "Team", "a" * 64, "x/y"])
def test_a_namespace_that_is_not_a_dns_label_is_refused_with_the_rule(namespace: str) -> None:
    with pytest.raises(MalformedEvent) as refused:
        parse_object_event(_event(namespace, "web"))
    assert str(refused.value).startswith("metadata.namespace: Invalid value: ")


@pytest.mark.parametrize("name", [7, ["web"], {"a": 1}])
def test_a_name_that_is_not_a_string_is_refused(name: Any) -> None:
    with pytest.raises(MalformedEvent, match="must be a string"):
        parse_object_event(_event("team-b", name))


@pytest.mark.parametrize("name", ["web", "www.example.com", "a" * 253, "0-web-1"])
def test_valid_names_are_accepted(name: str) -> None:
    change = parse_object_event(_event("team-b", name))
    assert (change.namespace, change.name, change.reference) == ("team-b", name, False)


def test_a_cluster_scoped_object_has_no_namespace_to_check() -> None:
    change = parse_object_event(_event(None, "letsencrypt", kind="ClusterIssuer"))
    assert (change.namespace, change.name) == ("", "letsencrypt")


def test_a_reference_mode_event_names_the_object_it_refers_to() -> None:
    event = CloudEvent(
        {"type": "dev.knative.apiserver.ref.update", "source": "x", "id": "1"},
        {"apiVersion": "v1", "kind": "Secret", "namespace": "team-b", "name": "web-tls"},
    )
    change = parse_object_event(event)
    assert change.reference
    assert (change.action, change.kind, change.namespace, change.name) == (
        "update",
        "Secret",
        "team-b",
        "web-tls",
    )
    assert change.payload["metadata"] == {"name": "web-tls", "namespace": "team-b"}


def test_a_reference_mode_event_with_a_climbing_name_is_refused() -> None:
    event = CloudEvent(
        {"type": "dev.knative.apiserver.ref.add", "source": "x", "id": "1"},
        {"apiVersion": "v1", "kind": "Secret", "namespace": "team-b", "name": "../x"},
    )
    with pytest.raises(MalformedEvent, match=r"^metadata\.name"):
        parse_object_event(event)


def test_a_secret_event_carries_no_data() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "web-tls", "namespace": "team-b", "annotations": {"a": "b"}},
        "data": {"tls.key": "LS0tLS1CRUdJTg=="},
        "stringData": {"tls.key": "-----BEGIN PRIVATE KEY-----"},
    }
    event = object_event("update", secret, source="x")
    assert event.data == {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "web-tls", "namespace": "team-b", "annotations": {"a": "b"}},
    }
    assert "data" in secret  # the caller's object is left as it was


def test_other_kinds_keep_their_data() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    assert object_event("add", config, source="x").data == config
