"""A forged event can make no function read or write outside the event's namespace.

Names and namespaces taken from an event must obey Kubernetes' name rules (400 with
the rule otherwise), and every path segment the client builds is escaped, so a name
found inside the payload (an owner annotation) cannot climb out of its segment either.
The embedded API's request log is the witness of which paths were requested.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Final

import pytest
import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from events.localapi.requestlog import RequestRecord
from events.routes import ON_CERTIFICATE_CREATED, ON_ISSUER_CHANGED
from shared.contracts import object_event
from shared.kube.client import Kube
from shared.kube.errors import ApiError, NotFound
from shared.kube.resources import CERTIFICATES, NAMESPACES, SECRETS
from tests.conftest import Cluster, RequestSource
from tests.integration.events.serve import Serve

pytestmark = pytest.mark.integration

ON_CHALLENGE_READY: Final = "functions.on_challenge_ready:on_challenge_ready"
ON_INGRESS_CHANGED: Final = "functions.on_ingress_changed:on_ingress_changed"
KUBE_SYSTEM_SECRET: Final = "../../../../../../api/v1/namespaces/kube-system/secrets/x"


@pytest.fixture
def api(cluster: Cluster) -> RequestSource:
    """The witness: the embedded API's request log, or the real apiserver's audit log."""
    if cluster.requests is None:
        pytest.skip("which requests were made is read from the embedded API's or audit log")
    return cluster.requests


@pytest.fixture
def teams(kube: Kube) -> Iterator[tuple[str, str]]:
    """(team-a, team-b): team-a holds a Certificate `evil` that team-b must never reach."""
    suffix = uuid.uuid4().hex[:6]
    names = (f"team-a-{suffix}", f"team-b-{suffix}")
    for name in names:
        kube.create(
            NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
    kube.create(
        CERTIFICATES,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "evil", "namespace": names[0]},
            "spec": {
                "secretName": "evil-tls",
                "commonName": "evil.example.com",
                "issuerRef": {"name": "missing", "kind": "Issuer"},
            },
        },
    )
    try:
        yield names
    finally:
        for name in names:
            kube.delete(NAMESPACES, None, name)


def _obj(api_version: str, kind: str, namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    metadata.update(extra.pop("metadata", {}))
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **extra}


def _post(url: str, event: CloudEvent) -> requests.Response:
    headers, body = to_binary(event)
    return requests.post(url, headers=headers, data=body, timeout=60)


def _requests_during(api: RequestSource, action: Any) -> list[RequestRecord]:
    last = api.snapshot()[-1:]
    action()
    after = api.snapshot()
    start = next((i + 1 for i in range(len(after) - 1, -1, -1) if last and after[i] is last[0]), 0)
    return [r for r in after[start:] if r.user_agent == "certainly"]


def _outside(records: list[RequestRecord], own: str) -> list[RequestRecord]:
    """Requests that reached an object, or a collection, in another namespace."""
    return [r for r in records if r.resource and r.namespace not in ("", own)]


def test_a_certificate_named_as_a_path_to_a_kube_system_secret_is_refused_and_reads_nothing(
    serve: Serve, api: RequestSource, teams: tuple[str, str]
) -> None:
    _, team_b = teams
    function = serve(ON_CERTIFICATE_CREATED)
    event = object_event(
        "add", _obj("cert-manager.io/v1", "Certificate", team_b, KUBE_SYSTEM_SECRET), source="x"
    )
    answers: list[requests.Response] = []
    seen = _requests_during(api, lambda: answers.append(_post(function.url, event)))
    assert answers[0].status_code == 400, answers[0].text
    assert "metadata.name: Invalid value" in answers[0].text
    assert "RFC 1123 subdomain" in answers[0].text
    assert not any(r.resource == "secrets" for r in seen), seen
    assert _outside(seen, team_b) == []


def test_a_name_climbing_into_another_namespace_cannot_read_its_certificate(
    serve: Serve, api: RequestSource, teams: tuple[str, str]
) -> None:
    team_a, team_b = teams
    function = serve(ON_CERTIFICATE_CREATED)
    event = object_event(
        "add",
        _obj("cert-manager.io/v1", "Certificate", team_b, f"../../{team_a}/certificates/evil"),
        source="x",
    )
    answers: list[requests.Response] = []
    seen = _requests_during(api, lambda: answers.append(_post(function.url, event)))
    assert answers[0].status_code == 400, answers[0].text
    assert not any(r.namespace == team_a for r in seen), seen


def test_a_namespace_that_is_not_a_dns_label_is_refused(serve: Serve, api: RequestSource) -> None:
    function = serve(ON_CERTIFICATE_CREATED)
    event = object_event(
        "add", _obj("cert-manager.io/v1", "Certificate", "a/../kube-system", "x"), source="x"
    )
    answers: list[requests.Response] = []
    seen = _requests_during(api, lambda: answers.append(_post(function.url, event)))
    assert answers[0].status_code == 400
    assert "metadata.namespace: Invalid value" in answers[0].text
    assert "RFC 1123 label" in answers[0].text
    assert seen == []


def _forged_events(team_a: str, team_b: str) -> dict[str, list[CloudEvent]]:
    """Per function, events of its kinds whose names, or the names inside, point at team-a."""
    climb = f"../../{team_a}/certificates/evil"
    owned = {"annotations": {"cert-manager.io/certificate-name": climb}}
    labels = {"labels": {"controller.cert-manager.io/fao": "true"}}
    reference = CloudEvent(
        {
            "type": "dev.knative.apiserver.ref.update",  # Reference mode (Knative, Secrets)
            "source": "x",
            "datacontenttype": "application/json",
        },
        {"apiVersion": "v1", "kind": "Secret", "namespace": team_b, "name": climb},
    )

    def events(*objects: dict[str, Any]) -> list[CloudEvent]:
        return [object_event(a, o, source="x") for o in objects for a in ("add", "delete")]

    return {
        ON_CERTIFICATE_CREATED: [
            reference,
            *events(
                _obj("cert-manager.io/v1", "Certificate", team_b, climb),
                _obj("v1", "Secret", team_b, "tls", metadata={**owned, **labels}),
                _obj("cert-manager.io/v1", "CertificateRequest", team_b, "req", metadata=owned),
            ),
        ],
        ON_ISSUER_CHANGED: events(
            _obj("cert-manager.io/v1", "Issuer", team_b, climb),
            _obj("cert-manager.io/v1", "ClusterIssuer", "", f"../namespaces/{team_a}"),
        ),
        ON_CHALLENGE_READY: events(
            _obj("acme.cert-manager.io/v1", "Order", team_b, climb),
            _obj("acme.cert-manager.io/v1", "Challenge", team_b, climb),
        ),
        ON_INGRESS_CHANGED: events(
            _obj(
                "networking.k8s.io/v1",
                "Ingress",
                team_b,
                "web",
                spec={"tls": [{"hosts": ["a.example.com"], "secretName": climb}]},
            ),
        ),
    }


@pytest.mark.parametrize(
    "target", [ON_CERTIFICATE_CREATED, ON_ISSUER_CHANGED, ON_CHALLENGE_READY, ON_INGRESS_CHANGED]
)
def test_no_forged_event_makes_a_function_reach_another_namespace(
    serve: Serve, api: RequestSource, kube: Kube, teams: tuple[str, str], target: str
) -> None:
    team_a, team_b = teams
    function = serve(target)
    forged = _forged_events(team_a, team_b)[target]
    answers: list[requests.Response] = []
    seen = _requests_during(api, lambda: answers.extend(_post(function.url, e) for e in forged))
    assert all(a.status_code < 500 for a in answers), [(a.status_code, a.text) for a in answers]
    assert _outside(seen, team_b) == [], _outside(seen, team_b)
    assert not any(r.verb not in ("get", "list", "watch") and r.code < 300 for r in seen), seen
    # team-a's Certificate is as it was: nobody wrote to it.
    assert "status" not in kube.get(CERTIFICATES, team_a, "evil")
    with pytest.raises(NotFound):
        kube.get(SECRETS, team_a, "evil-tls")


@pytest.mark.parametrize(
    "name", ["..", ".", "../../{team_a}/certificates/evil", "evil/../../../{team_a}", "a%2Fb"]
)
def test_the_client_escapes_every_name_it_puts_in_a_path(
    api: RequestSource, cluster: Cluster, teams: tuple[str, str], name: str
) -> None:
    team_a, team_b = teams
    name = name.format(team_a=team_a)
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly")

    def get() -> None:
        # 404, or 400 where the server refuses a name that is no path segment ('.', '..',
        # '%'), as kube-apiserver does.
        with pytest.raises(ApiError) as refused:
            kube.get(CERTIFICATES, team_b, name)
        assert refused.value.status in (400, 404)

    try:
        (record,) = _requests_during(api, get)
    finally:
        kube.close()
    # The request stayed within team-b's certificates, whatever the server made of it: an
    # object there, or (where the server decodes an escaped '/' before routing) a path there.
    as_object = (record.namespace, record.resource) == (team_b, "certificates")
    as_path = record.name.startswith(f"/apis/cert-manager.io/v1/namespaces/{team_b}/certificates/")
    assert as_object or as_path, record
    assert record.code in (400, 404)
