"""Counting what one tick costs, from the embedded local API's request log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from events.localapi.requestlog import WRITE_VERBS, RequestRecord
from shared.kube.client import Kube
from shared.kube.resources import NAMESPACES
from tests.conftest import Cluster
from tests.integration.pipeline.conftest import Env

__all__ = ["TickCost", "requests_during", "tick_cost"]


@dataclass(frozen=True)
class TickCost:
    calls: Counter[str]  # "verb resource" -> count, every request the tick made
    writes: list[str]  # "verb resource namespace/name" of the successful writes


def terminating_namespaces(kube: Kube) -> set[str]:
    """Namespaces still being emptied by the real namespace controller (earlier tests')."""
    items, _ = kube.list(NAMESPACES, None)
    return {n["metadata"]["name"] for n in items if n["metadata"].get("deletionTimestamp")}


def requests_during(
    cluster: Cluster, kube: Kube, call: Callable[[], object]
) -> list[RequestRecord]:
    """The requests certainly made while `call` ran (the embedded API's log or the audit log).

    Cluster-wide, but for namespaces that earlier tests left terminating: on the real
    control plane their deletion is still under way, and the sweep rightly reconciles them.
    """
    requests = cluster.requests
    if requests is None:
        pytest.skip("counting API requests needs the embedded API or the rig")
    foreign = terminating_namespaces(kube)
    last = requests.snapshot()[-1:]
    call()
    after = requests.snapshot()
    # The log is bounded: find where the call began by the record seen last, not by index.
    start = next((i + 1 for i in range(len(after) - 1, -1, -1) if last and after[i] is last[0]), 0)
    return [
        r
        for r in after[start:]
        if r.user_agent.startswith("certainly") and r.namespace not in foreign
    ]


def tick_cost(env: Env) -> TickCost:
    """Deliver a tick and return the API requests it made.

    Writes are counted cluster-wide: a sweep that is fine writes nothing anywhere.
    """

    def tick() -> None:
        assert env.tick().ok

    mine = requests_during(env.cluster, env.kube, tick)
    return TickCost(
        calls=Counter(f"{r.verb} {r.resource}" for r in mine),
        writes=[
            f"{r.verb} {r.resource}{'/' + r.subresource if r.subresource else ''} "
            f"{r.namespace}/{r.name}"
            for r in mine
            if r.verb in WRITE_VERBS and 200 <= r.code < 300
        ],
    )
