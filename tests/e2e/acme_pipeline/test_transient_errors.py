"""Transient CA errors: retried within the invocation honouring a short Retry-After; a
longer one is recorded on the Order, and no CA request is made before it — not by a
redelivery, not by the tick — and exactly one after."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from events.routes import ON_CHALLENGE_READY
from events.sinks import InProcessSink
from shared import runtime
from shared.acme.client import forget_directories
from shared.acmeflow.names import NOT_BEFORE_ANNOTATION
from shared.acmeflow.sweep import sweep_acme
from shared.contracts import object_event
from shared.kube.objects import format_time, parse_time
from shared.kube.resources import CERTIFICATES, CHALLENGES, CLUSTER_ISSUERS, ORDERS
from tests.e2e.acme_pipeline.conftest import Pipeline, condition, http01_solvers
from tests.e2e.acme_pipeline.front import AriEndpoint

pytestmark = pytest.mark.e2e


@pytest.fixture
def front(pipeline: Pipeline, ctx: runtime.Context) -> Iterator[AriEndpoint]:
    del ctx  # installed for the reconcilers these tests call
    endpoint = AriEndpoint(pipeline.pebble)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _new_order(pipeline: Pipeline, front: AriEndpoint) -> dict[str, Any]:
    """An Order for a Certificate whose ClusterIssuer talks to the CA through `front`."""
    order = pipeline.order_in_process("flaky", solvers=http01_solvers(), server=front.directory_url)
    issuer = pipeline.get(CERTIFICATES, "flaky")["spec"]["issuerRef"]["name"]
    assert condition(pipeline.get(CLUSTER_ISSUERS, issuer), "Ready")["status"] == "True"
    return order


def test_short_outage_is_waited_out(pipeline: Pipeline, front: AriEndpoint) -> None:
    order = _new_order(pipeline, front)
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


def test_a_long_rate_limit_pauses_the_order_until_its_time(
    pipeline: Pipeline, front: AriEndpoint
) -> None:
    ctx = runtime.current()
    order = _new_order(pipeline, front)
    sink = InProcessSink(ON_CHALLENGE_READY)

    # 429 rateLimited, Retry-After: 3600 — too long to wait in the invocation: the time goes
    # on the Order and the event comes back as a retryable 503.
    front.rate_limits.append("3600")
    forget_directories()
    hits_before = len(front.directory_hits)
    delivery = sink.deliver(object_event("update", order, source="t"))
    assert delivery.status == 503 and delivery.retryable
    assert "rateLimited" in delivery.body
    assert len(front.directory_hits) - hits_before == 1
    paused = pipeline.get(ORDERS, order["metadata"]["name"])
    not_before = parse_time(paused["metadata"]["annotations"][NOT_BEFORE_ANNOTATION])
    assert not_before == pipeline.clock.now() + timedelta(seconds=3600)
    assert not paused.get("status", {}).get("url")

    # Before that time: a redelivery and the tick skip it, asking the CA nothing, writing nothing.
    pipeline.clock.advance(timedelta(minutes=59))
    forget_directories()
    requests_before = len(front.requests)
    assert sink.deliver(object_event("update", paused, source="t")).ok
    assert ctx.clock.now() < not_before
    sweep_acme(ctx)
    assert front.requests[requests_before:] == []
    still = pipeline.get(ORDERS, order["metadata"]["name"])
    assert still["metadata"]["resourceVersion"] == paused["metadata"]["resourceVersion"]

    # From that time on: one directory request, and the Order is created at the CA.
    pipeline.clock.advance(timedelta(minutes=1))
    forget_directories()
    assert sink.deliver(object_event("update", still, source="t")).ok
    assert len(front.directory_hits) - hits_before == 2
    assert pipeline.get(ORDERS, order["metadata"]["name"])["status"]["url"]


def test_a_paused_challenge_is_skipped_by_its_events_and_the_tick(
    pipeline: Pipeline, front: AriEndpoint
) -> None:
    ctx = runtime.current()
    order = _new_order(pipeline, front)
    sink = InProcessSink(ON_CHALLENGE_READY)
    assert sink.deliver(object_event("update", order, source="t")).ok
    (challenge,) = pipeline.items(CHALLENGES)
    not_before = format_time(pipeline.clock.now() + timedelta(minutes=10))
    challenge["metadata"].setdefault("annotations", {})[NOT_BEFORE_ANNOTATION] = not_before
    paused = pipeline.kube.replace(CHALLENGES, challenge)

    pipeline.clock.advance(timedelta(minutes=5))  # past FRESH: the tick looks at it
    forget_directories()
    requests_before = len(front.requests)
    assert sink.deliver(object_event("update", paused, source="t")).ok
    assert front.requests[requests_before:] == [], "no CA request while paused"
    name = paused["metadata"]["name"]
    assert f"Challenge/{pipeline.namespace}/{name}" not in sweep_acme(ctx)
    still = pipeline.get(CHALLENGES, name)
    assert still["metadata"]["resourceVersion"] == paused["metadata"]["resourceVersion"]
