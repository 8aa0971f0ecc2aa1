"""The tick's pass over ACME objects: CA progress and CA renewal advice raise no Kubernetes event.

Unfinished Challenges and Orders are moved on; valid Orders have their certificate's
renewal window (ARI) checked. Objects younger than FRESH are left to their own
events: the sweep is the safety net, not a second worker racing the first. Objects
the CA asked us to leave alone for a while (backoff.py) are skipped from the list
itself: no read, no CA request, no write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from shared.acmeflow.backoff import paused_until
from shared.acmeflow.challenge import reconcile_challenge
from shared.acmeflow.order import FINAL_STATES, reconcile_order
from shared.acmeflow.renewal import RENEWING, check_renewal
from shared.kube.objects import name_of, namespace_of, parse_time
from shared.kube.resources import CHALLENGES, ORDERS
from shared.runtime import Context

log = logging.getLogger(__name__)

FRESH: Final = timedelta(seconds=30)


def _fresh(obj: Mapping[str, Any], now: datetime) -> bool:
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return created is not None and now - created < FRESH


def sweep_acme(ctx: Context) -> list[str]:
    """Reconcile what is unfinished; returns the objects acted on, for the report."""
    moved: list[str] = []
    now = ctx.clock.now()
    challenges, _ = ctx.kube.list(CHALLENGES)
    for challenge in challenges:
        status = challenge.get("status") or {}
        deleting = bool((challenge.get("metadata") or {}).get("deletionTimestamp"))
        if status.get("state") in FINAL_STATES and not status.get("presented") and not deleting:
            continue
        if (_fresh(challenge, now) or paused_until(challenge, now=now)) and not deleting:
            continue
        ns, name = namespace_of(challenge), name_of(challenge)
        _guarded(
            f"Challenge/{ns}/{name}", partial(reconcile_challenge, ctx, namespace=ns, name=name)
        )
        moved.append(f"Challenge/{ns}/{name}")
    orders, _ = ctx.kube.list(ORDERS)
    for order in orders:
        ns, name = namespace_of(order), name_of(order)
        state = (order.get("status") or {}).get("state")
        if state == "valid":
            outcome = _guarded(f"Order/{ns}/{name}", partial(check_renewal, ctx, order))
            if outcome == RENEWING:
                moved.append(f"Order/{ns}/{name}")
        elif state not in FINAL_STATES and not _fresh(order, now):
            if paused_until(order, now=now):
                continue
            _guarded(f"Order/{ns}/{name}", partial(reconcile_order, ctx, namespace=ns, name=name))
            moved.append(f"Order/{ns}/{name}")
    return moved


def _guarded(ref: str, call: Callable[[], str]) -> str:
    try:
        return call()
    except Exception:  # one bad object must not stop the sweep of the others
        log.exception("sweep could not reconcile", extra={"object": ref})
        return "failed"
