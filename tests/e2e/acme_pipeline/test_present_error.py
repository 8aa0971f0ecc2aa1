"""A Challenge that cannot be presented (BIND9 refuses a wrong TSIG secret): a clear reason
on the Challenge and one Warning PresentError Event, however often it is retried; the
secret appears nowhere."""

from __future__ import annotations

import base64

import pytest

from shared import runtime
from shared.acmeflow.challenge import reconcile_challenge
from shared.acmeflow.order import reconcile_order
from shared.kube.resources import CHALLENGES, SECRETS
from tests.e2e.acme_pipeline.conftest import Pipeline, rfc2136_solver

pytestmark = pytest.mark.e2e

# Valid base64 of the right length for HMAC-SHA256, but not the key BIND9 knows.
WRONG_SECRET = base64.b64encode(b"not-the-tsig-key-bind9-expects!!").decode()


def test_a_wrong_tsig_secret_gives_a_clear_reason_and_one_warning_event(
    pipeline: Pipeline, ctx: runtime.Context
) -> None:
    solver = rfc2136_solver(pipeline)
    solver["dns01"]["rfc2136"]["tsigSecretSecretRef"] = {"name": "wrong-tsig", "key": "secret"}
    pipeline.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "wrong-tsig", "namespace": pipeline.resource_namespace},
            "data": {"secret": base64.b64encode(WRONG_SECRET.encode()).decode()},
        }
    )
    order = pipeline.order_in_process("badtsig", solvers=[solver])
    reconcile_order(ctx, namespace=pipeline.namespace, name=order["metadata"]["name"])
    (challenge,) = pipeline.items(CHALLENGES)
    name = challenge["metadata"]["name"]

    outcome = reconcile_challenge(ctx, namespace=pipeline.namespace, name=name)
    failed = pipeline.get(CHALLENGES, name)
    reason = failed["status"]["reason"]
    assert outcome == reason
    assert reason.startswith("Error presenting challenge: ")
    assert "TSIG" in reason and "secret" in reason
    assert failed["status"].get("presented") is not True

    # The retry loop (redelivery, tick) meets the same failure: no new write, no new Event.
    reconcile_challenge(ctx, namespace=pipeline.namespace, name=name)
    again = pipeline.get(CHALLENGES, name)
    assert again["metadata"]["resourceVersion"] == failed["metadata"]["resourceVersion"]
    warnings = [e for e in pipeline.events(name) if e["type"] == "Warning"]
    assert [(e["reason"], e["message"]) for e in warnings] == [("PresentError", reason)]

    tsig = pipeline.get(SECRETS, "wrong-tsig", pipeline.resource_namespace)
    for text in (reason, warnings[0]["message"]):
        assert WRONG_SECRET not in text and tsig["data"]["secret"] not in text
