"""An Order's ready/processing write announces an invocation already finalizing it:
the update event it raises starts no second poller of the CA."""

from __future__ import annotations

from typing import cast

from shared.acmeflow.handlers import on_acme_event
from shared.contracts import Action, ObjectEvent
from shared.runtime import Context


def _order_event(action: Action, state: str) -> ObjectEvent:
    return ObjectEvent(
        action=action,
        api_version="acme.cert-manager.io/v1",
        kind="Order",
        namespace="ns",
        name="o",
        event_id="e",
        payload={"status": {"state": state}},
    )


class Untouchable:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the handler used the context ({name})")


def test_the_update_event_of_a_finalizing_order_is_not_reconciled_again() -> None:
    ctx = cast(Context, Untouchable())
    for state in ("ready", "processing"):
        outcome = on_acme_event(ctx, _order_event("update", state))
        assert outcome == f"ignored: order {state}, being finalized"
