"""Transient CA errors: retried within the invocation honouring a short Retry-After, handed
back as a retryable 503 when Retry-After is longer than an invocation should wait."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from events.routes import ON_CHALLENGE_READY
from events.sinks import InProcessSink
from shared import runtime
from shared.acme.client import forget_directories
from shared.config import Config
from shared.contracts import object_event
from shared.issuance.certificates import reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.resources import CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import Pipeline, condition, http01_solvers
from tests.e2e.acme_pipeline.front import AriEndpoint
from tests.e2e.flows import unique_name

pytestmark = pytest.mark.e2e


@pytest.fixture
def front(pipeline: Pipeline) -> Iterator[AriEndpoint]:
    endpoint = AriEndpoint(pipeline.pebble)
    endpoint.start()
    context = runtime.Context.build(
        pipeline.kube,
        clock=pipeline.clock,
        config=Config(cluster_resource_namespace=pipeline.resource_namespace),
    )
    runtime.install(context)
    try:
        yield endpoint
    finally:
        runtime.install(None)
        endpoint.stop()


def test_short_outage_is_waited_out_and_long_one_is_requeued(
    pipeline: Pipeline, front: AriEndpoint
) -> None:
    ctx = runtime.current()
    issuer = pipeline.cluster_issuer("flaky", solvers=http01_solvers(), server=front.directory_url)
    name = issuer["metadata"]["name"]
    reconcile_issuer(ctx, kind="ClusterIssuer", namespace="", name=name)
    assert condition(pipeline.get(CLUSTER_ISSUERS, name), "Ready")["status"] == "True"
    pipeline.create(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "flaky"},
            "spec": {
                "secretName": "flaky-tls",
                "dnsNames": [unique_name("flaky")],
                "issuerRef": {"name": name, "kind": "ClusterIssuer"},
            },
        }
    )
    reconcile_certificate(ctx, namespace=pipeline.namespace, name="flaky")
    (order,) = pipeline.items(ORDERS)
    sink = InProcessSink(ON_CHALLENGE_READY)

    # Two 503s with Retry-After: 1 — the same invocation waits them out and orders.
    front.outages.extend(["1", "1"])
    forget_directories()
    hits_before = len(front.directory_hits)
    assert sink.deliver(object_event("update", order, source="t")).ok
    hits = front.directory_hits[hits_before:]
    assert len(hits) == 3
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(hits))
    order = pipeline.get(ORDERS, order["metadata"]["name"])
    assert order["status"]["url"]

    # Retry-After: 120 — no waiting in the invocation: a retryable 503, nothing written.
    front.outages.append("120")
    forget_directories()
    hits_before = len(front.directory_hits)
    delivery = sink.deliver(object_event("update", order, source="t"))
    assert delivery.status == 503 and delivery.retryable
    assert "retry after" in delivery.body.lower()
    assert len(front.directory_hits) - hits_before == 1
    after = pipeline.get(ORDERS, order["metadata"]["name"])
    assert after["metadata"]["resourceVersion"] == order["metadata"]["resourceVersion"]
