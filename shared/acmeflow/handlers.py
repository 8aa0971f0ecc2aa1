"""What Order and Challenge changes call for."""

from __future__ import annotations

from typing import Final

from shared.acmeflow.challenge import reconcile_challenge
from shared.acmeflow.order import reconcile_order
from shared.contracts import ObjectEvent
from shared.routing import UnsupportedKind
from shared.runtime import Context

ACME_KINDS: Final = frozenset({"Order", "Challenge"})
# Written on an Order by the invocation that finalizes it while it polls the CA for the
# certificate: the update event that write raises needs no second poller (it would
# only repeat the requests and the download). Should that invocation stop, the tick
# finishes the Order.
FINALIZING_STATES: Final = frozenset({"ready", "processing"})


def on_acme_event(ctx: Context, event: ObjectEvent) -> str:
    if event.kind not in ACME_KINDS:
        raise UnsupportedKind(
            f"on-challenge-ready handles {sorted(ACME_KINDS)}, not {event.kind!r}"
        )
    if event.action == "delete":
        return f"ignored: {event.kind} deleted"
    if event.kind == "Order":
        state = (event.payload.get("status") or {}).get("state")
        if event.action == "update" and state in FINALIZING_STATES:
            return f"ignored: order {state}, being finalized"
        return reconcile_order(ctx, namespace=event.namespace, name=event.name)
    return reconcile_challenge(ctx, namespace=event.namespace, name=event.name)
