"""The tick's pass over unfinished Orders and Challenges: CA progress raises no Kubernetes event."""

from __future__ import annotations

import logging

from shared.acmeflow.challenge import reconcile_challenge
from shared.acmeflow.order import FINAL_STATES, reconcile_order
from shared.kube.objects import name_of, namespace_of
from shared.kube.resources import CHALLENGES, ORDERS
from shared.runtime import Context

log = logging.getLogger(__name__)


def sweep_acme(ctx: Context) -> list[str]:
    """Unfinished Orders and Challenges, moved on: CA progress raises no Kubernetes event."""
    moved: list[str] = []
    for resource, reconcile in ((CHALLENGES, reconcile_challenge), (ORDERS, reconcile_order)):
        items, _ = ctx.kube.list(resource)
        for item in items:
            status = item.get("status") or {}
            if status.get("state") in FINAL_STATES and not status.get("presented"):
                continue
            ref = f"{resource.kind}/{namespace_of(item)}/{name_of(item)}"
            try:
                reconcile(ctx, namespace=namespace_of(item), name=name_of(item))
            except Exception:  # one bad object must not stop the sweep of the others
                log.exception("sweep could not reconcile", extra={"object": ref})
            moved.append(ref)
    return moved
