"""A client on the cluster under test and a namespace of one's own, for these tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.kube.client import Kube
from shared.kube.resources import NAMESPACES
from tests.conftest import Cluster
from tests.integration.events.serve import serve  # noqa: F401 -- `certainly serve` processes


@pytest.fixture
def kube(cluster: Cluster) -> Iterator[Kube]:
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    try:
        yield kube
    finally:
        kube.close()


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    prefix = request.module.__name__.rpartition(".test_")[2].replace("_", "-")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(NAMESPACES, None, name)
