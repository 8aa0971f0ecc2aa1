"""Order and Challenge status follow the CA as cert-manager's do: the Order shows pending,
ready, processing, valid; a Challenge is processing from presentation until final, with
the CA's state. Each transition is one write, seen through a watch."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from shared.kube.client import Kube
from shared.kube.resources import CHALLENGES, CLUSTER_ISSUERS, ORDERS, Resource
from tests.e2e.acme_pipeline.conftest import CERTIFICATES, Pipeline, http01_solvers
from tests.e2e.flows import unique_name
from tests.helpers import eventually

pytestmark = pytest.mark.e2e


@dataclass
class Seen:
    """Every status a watch delivered, in order: (state, processing)."""

    states: list[tuple[str, bool | None]] = field(default_factory=list)


def _watch(kube: Kube, resource: Resource, namespace: str, seen: Seen) -> None:
    _, version = kube.list(resource, namespace)
    for kind, obj in kube.watch(resource, namespace, resource_version=version, timeout_seconds=30):
        status = obj.get("status") or {}
        if kind in ("ADDED", "MODIFIED") and status.get("state"):
            seen.states.append((status["state"], status.get("processing")))
        if status.get("state") == "valid" and not status.get("presented"):
            return


@pytest.fixture
def watched(pipeline: Pipeline) -> Iterator[dict[str, Seen]]:
    kube = Kube.from_kubeconfig(pipeline.cluster.kubeconfig, user_agent="certainly/tests")
    seen = {"Order": Seen(), "Challenge": Seen()}
    threads = [
        threading.Thread(
            target=_watch,
            args=(kube, resource, pipeline.namespace, seen[resource.kind]),
            daemon=True,
        )
        for resource in (ORDERS, CHALLENGES)
    ]
    for thread in threads:
        thread.start()
    try:
        yield seen
    finally:
        for thread in threads:
            thread.join(timeout=35)
        kube.close()


def test_order_and_challenge_show_each_ca_state_once(
    pipeline: Pipeline, watched: dict[str, Seen]
) -> None:
    issuer = pipeline.cluster_issuer("states", solvers=http01_solvers())["metadata"]["name"]
    pipeline.start()
    pipeline.wait_ready(CLUSTER_ISSUERS, issuer)
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "states"},
            "spec": {
                "secretName": "states-tls",
                "dnsNames": [unique_name("states")],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
            },
        }
    )
    pipeline.wait_ready(CERTIFICATES, "states")
    order, challenge = watched["Order"], watched["Challenge"]
    eventually(lambda: ("valid", None) in order.states, what="the Order's valid state watched")
    eventually(
        lambda: any(state == "valid" for state, _ in challenge.states),
        what="the Challenge's valid state watched",
    )

    assert [state for state, _ in order.states] == ["pending", "ready", "processing", "valid"]
    # Presented and being validated: processing, in the CA's state (Pebble answers the
    # accept with "pending" or "processing", by timing); valid ends processing.
    first, *middle, last = challenge.states
    assert first == ("pending", True) and last == ("valid", False)
    assert all(processing and state in ("pending", "processing") for state, processing in middle)
    assert all(a != b for a, b in itertools.pairwise(challenge.states)), "a write changed nothing"
