"""What an Ingress change calls for."""

from __future__ import annotations

from shared.contracts import ObjectEvent
from shared.ingress.shim import reconcile_ingress
from shared.routing import UnsupportedKind
from shared.runtime import Context


def on_ingress_event(ctx: Context, event: ObjectEvent) -> str:
    if event.kind != "Ingress":
        raise UnsupportedKind(f"on-ingress-changed handles Ingress, not {event.kind!r}")
    if event.action == "delete":
        return "ignored: its Certificates go with it (owner references)"
    return reconcile_ingress(ctx, namespace=event.namespace, name=event.name)
