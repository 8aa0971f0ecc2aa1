"""What a steady-state tick costs does not grow with the number of Certificates."""

from __future__ import annotations

import pytest

from tests.integration.pipeline.conftest import Env
from tests.integration.sweep.cost import tick_cost

pytestmark = pytest.mark.integration


def test_steady_tick_costs_one_list_per_kind_whatever_the_number_of_certificates(
    env: Env,
) -> None:
    env.ca_issuer()
    for n in range(2):
        env.issue(f"few-{n}", issuerRef={"name": "ca", "kind": "Issuer"})
    tick_cost(env)
    few = tick_cost(env)
    for n in range(10):
        env.issue(f"many-{n}", issuerRef={"name": "ca", "kind": "Issuer"})
    tick_cost(env)
    many = tick_cost(env)

    assert many.writes == few.writes == []
    assert many.calls == few.calls
    for kind in ("certificates", "secrets", "certificaterequests", "ingresses", "issuers"):
        assert many.calls[f"list {kind}"] == 1, many.calls
    assert many.calls["get certificates"] == 0
