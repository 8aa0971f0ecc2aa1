"""Knative's Reference-mode Secret events (a name, no data) still reach the Secret's owner.

infra/knative sends Secrets by reference so no private key travels in an event; the
function reads the Secret's metadata back to find the Certificate it belongs to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from events.routes import ON_CERTIFICATE_CREATED
from shared.kube.client import Kube
from shared.kube.resources import NAMESPACES, SECRETS
from tests.conftest import Cluster, RequestSource
from tests.integration.events.serve import Serve

pytestmark = pytest.mark.integration


@pytest.fixture
def api(cluster: Cluster) -> RequestSource:
    """The witness: the embedded API's request log, or the real apiserver's audit log."""
    if cluster.requests is None:
        pytest.skip("which requests were made is read from the embedded API's or audit log")
    return cluster.requests


@pytest.fixture
def own_namespace(kube: Kube) -> Iterator[str]:
    name = f"refs-{uuid.uuid4().hex[:6]}"
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(NAMESPACES, None, name)


def _reference(action: str, namespace: str, name: str) -> CloudEvent:
    return CloudEvent(
        {
            "type": f"dev.knative.apiserver.ref.{action}",
            "source": "https://10.96.0.1:443",
            "subject": f"/api/v1/namespaces/{namespace}/secrets/{name}",
            "datacontenttype": "application/json",
            "kind": "Secret",
            "name": name,
            "namespace": namespace,
        },
        {"apiVersion": "v1", "kind": "Secret", "namespace": namespace, "name": name},
    )


def test_a_secret_reference_event_reconciles_the_certificate_owning_the_secret(
    serve: Serve, api: RequestSource, kube: Kube, own_namespace: str
) -> None:
    kube.create(
        SECRETS,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": "web-tls",
                "namespace": own_namespace,
                "labels": {"controller.cert-manager.io/fao": "true"},
                "annotations": {"cert-manager.io/certificate-name": "web"},
            },
            "data": {"tls.crt": "", "tls.key": ""},
        },
    )
    function = serve(ON_CERTIFICATE_CREATED)
    seen = len(api.snapshot())
    headers, body = to_binary(_reference("update", own_namespace, "web-tls"))
    answer = requests.post(function.url, headers=headers, data=body, timeout=60)
    assert answer.status_code == 200, answer.text
    reads = [
        (r.resource, r.name)
        for r in api.snapshot()[seen:]
        if r.user_agent == "certainly" and r.namespace == own_namespace and r.verb == "get"
    ]
    # The Secret read back for its owner annotation, then the owner itself.
    assert ("secrets", "web-tls") in reads
    assert ("certificates", "web") in reads


def test_a_reference_to_a_deleted_secret_is_answered_without_error(
    serve: Serve, own_namespace: str
) -> None:
    function = serve(ON_CERTIFICATE_CREATED)
    headers, body = to_binary(_reference("delete", own_namespace, "gone-tls"))
    answer = requests.post(function.url, headers=headers, data=body, timeout=60)
    assert answer.status_code == 200, answer.text
