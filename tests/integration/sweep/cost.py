"""Counting what one tick costs, from the embedded local API's request log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from events.localapi.requestlog import WRITE_VERBS
from tests.integration.pipeline.conftest import Env

__all__ = ["TickCost", "tick_cost"]


@dataclass(frozen=True)
class TickCost:
    calls: Counter[str]  # "verb resource" -> count, every request the tick made
    writes: list[str]  # "verb resource namespace/name" of the successful writes


def tick_cost(env: Env) -> TickCost:
    """Deliver a tick and return the API requests it made (the embedded API's log).

    Writes are counted cluster-wide: a sweep that is fine writes nothing anywhere.
    """
    api = env.cluster.api
    if api is None:
        pytest.skip("counting API requests needs the embedded local API")
    last = api.requests.snapshot()[-1:]
    assert env.tick().ok
    after = api.requests.snapshot()
    # The log is bounded: find where the tick began by the record seen last, not by index.
    start = next((i + 1 for i in range(len(after) - 1, -1, -1) if last and after[i] is last[0]), 0)
    mine = [r for r in after[start:] if r.user_agent.startswith("certainly")]
    return TickCost(
        calls=Counter(f"{r.verb} {r.resource}" for r in mine),
        writes=[
            f"{r.verb} {r.resource}{'/' + r.subresource if r.subresource else ''} "
            f"{r.namespace}/{r.name}"
            for r in mine
            if r.verb in WRITE_VERBS and 200 <= r.code < 300
        ],
    )
