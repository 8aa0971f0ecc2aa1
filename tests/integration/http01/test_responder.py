"""The local HTTP-01 responder answers the CA from Challenge objects read through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from events.http01 import ChallengeAnswers, HTTP01Responder
from shared.kube.client import Kube, Obj
from shared.kube.resources import CHALLENGES, NAMESPACES
from tests.conftest import Cluster

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kube(cluster: Cluster) -> Iterator[Kube]:
    client = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    yield client
    client.close()


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    name = f"h01-{uuid.uuid4().hex[:8]}"
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    kube.delete(NAMESPACES, None, name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def responder(kube: Kube, clock: Clock) -> Iterator[str]:
    server = HTTP01Responder("127.0.0.1:0", ChallengeAnswers(kube, monotonic=clock))
    server.start()
    yield f"http://{server.address}"
    server.stop()


def challenge(namespace: str, token: str, *, domain: str = "a.example.test", **spec: str) -> Obj:
    return {
        "apiVersion": "acme.cert-manager.io/v1",
        "kind": "Challenge",
        "metadata": {"name": f"c-{uuid.uuid4().hex[:6]}", "namespace": namespace},
        "spec": {
            "url": "https://ca/chal/1",
            "authorizationURL": "https://ca/authz/1",
            "dnsName": domain,
            "type": "HTTP-01",
            "token": token,
            "key": f"{token}.thumbprint",
            "solver": {"http01": {"ingress": {}}},
            "issuerRef": {"name": "le", "kind": "ClusterIssuer"},
            **spec,
        },
    }


def get(base: str, token: str, host: str = "a.example.test") -> requests.Response:
    return requests.get(
        f"{base}/.well-known/acme-challenge/{token}", headers={"Host": host}, timeout=5
    )


def test_serves_a_new_challenge_without_waiting_for_the_cache_to_expire(
    kube: Kube, namespace: str, responder: str, clock: Clock
) -> None:
    assert get(responder, "tok1").status_code == 404
    kube.create(CHALLENGES, challenge(namespace, "tok1"))
    clock.now += 0.2  # an unknown token re-reads after 0.1s, not after the 1s cache
    response = get(responder, "tok1")
    assert (response.status_code, response.text) == (200, "tok1.thumbprint")


def test_answers_only_for_the_challenges_domain(kube: Kube, namespace: str, responder: str) -> None:
    kube.create(CHALLENGES, challenge(namespace, "tok2"))
    assert get(responder, "tok2", host="a.example.test:80").status_code == 200
    assert get(responder, "tok2", host="other.example.test").status_code == 404


def test_ignores_dns01_and_invalid_challenges(kube: Kube, namespace: str, responder: str) -> None:
    kube.create(CHALLENGES, challenge(namespace, "tok3", type="DNS-01"))
    invalid = kube.create(CHALLENGES, challenge(namespace, "tok4"))
    kube.replace_status(CHALLENGES, {**invalid, "status": {"state": "invalid"}})
    assert get(responder, "tok3").status_code == 404
    assert get(responder, "tok4").status_code == 404


def test_a_deleted_challenge_stops_being_served_within_a_second(
    kube: Kube, namespace: str, responder: str, clock: Clock
) -> None:
    created = kube.create(CHALLENGES, challenge(namespace, "tok5"))
    assert get(responder, "tok5").status_code == 200
    kube.delete(CHALLENGES, namespace, created["metadata"]["name"])
    assert get(responder, "tok5").status_code == 200  # cached, for at most a second
    clock.now += 1.5
    assert get(responder, "tok5").status_code == 404
