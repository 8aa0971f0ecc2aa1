"""The embedded API answers as kube-apiserver does: the same requests, the same answers.

Each scenario in cases.py runs against the embedded API and against the rig's real
control plane, each in a fresh namespace of the same name; the reduced answers (status
codes, Status reasons, details and causes, response shapes) must be equal, except where
DELIBERATE says why not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

import pytest

from tests.conftest import Cluster
from tests.integration.differential.cases import SCENARIOS
from tests.integration.differential.client import Api, session_from_kubeconfig

pytestmark = pytest.mark.integration

# scenario -> why the embedded API answers differently on purpose (the README lists these).
DELIBERATE: dict[str, str] = {
    "protobuf_for_core_kinds": (
        "the embedded API writes JSON only; clients that ask for protobuf also accept JSON"
        " (client-go sends both), and it reads the protobuf bodies kubectl sends"
    ),
    "watch_from_a_resource_version_too_old_to_replay": (
        "the embedded API replays a watch from any resourceVersion its history still holds"
        " (the last 20,000 changes); kube-apiserver's watch cache starts when it begins"
        " serving a resource, so an older one is 410 Expired there"
    ),
    "watch_from_a_malformed_resource_version": (
        "kube-apiserver answers 500 InternalError to a non-numeric resourceVersion on a"
        " watch; the embedded API answers 400 BadRequest, which is what the client got wrong"
    ),
}


def _api(name: str, cluster: Cluster) -> Api:
    server, session = session_from_kubeconfig(cluster.kubeconfig)
    return Api(name=name, server=server, session=session)


@pytest.fixture(scope="module")
def apis(embedded_cluster: Cluster, real_cluster: Cluster) -> Iterator[tuple[Api, Api]]:
    pair = (_api("embedded", embedded_cluster), _api("real", real_cluster))
    yield pair
    for api in pair:
        api.session.close()


def _run(api: Api, scenario: str, namespace: str) -> list[dict[str, Any]]:
    api.call(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
    )
    try:
        return SCENARIOS[scenario](api, namespace)
    finally:
        api.call("DELETE", f"/api/v1/namespaces/{namespace}")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_embedded_api_answers_as_kube_apiserver(apis: tuple[Api, Api], scenario: str) -> None:
    namespace = f"diff-{uuid.uuid4().hex[:8]}"
    embedded, real = (_run(api, scenario, namespace) for api in apis)
    differences = [
        f"step {step}: embedded {ours} != kube-apiserver {theirs}"
        for step, (ours, theirs) in enumerate(zip_longest(embedded, real))
        if ours != theirs
    ]
    if scenario in DELIBERATE:
        assert differences, f"{scenario} now answers alike: take it out of DELIBERATE"
        pytest.xfail(DELIBERATE[scenario])
    assert not differences, "\n".join(differences)
