"""What a Bundle change calls for."""

from __future__ import annotations

from shared.contracts import ObjectEvent
from shared.kube.errors import Conflict
from shared.kube.resources import BUNDLES
from shared.routing import UnsupportedKind
from shared.runtime import Context
from shared.trust.sync import sync_bundle


def on_bundle_event(ctx: Context, event: ObjectEvent) -> str:
    if event.kind != "Bundle":
        raise UnsupportedKind(f"on-bundle-changed handles Bundle, not {event.kind!r}")
    if event.action == "delete":
        return "ignored: its targets go with it (owner references)"
    for _ in range(3):
        bundle = ctx.kube.find(BUNDLES, None, event.name)
        if bundle is None:
            return "bundle gone"
        try:
            return sync_bundle(ctx, bundle)
        except Conflict:
            continue  # the Bundle (or a target) moved under us: re-read and re-decide
    return "bundle kept changing; the next event or tick finishes it"
