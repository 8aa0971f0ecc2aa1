"""Every Bundle re-synced each tick: trust-manager watches its sources and namespaces,
certainly has no watch on them, so a changed source or a new namespace is picked up here.
A Bundle in step costs its source reads and three LISTs, and no write."""

from __future__ import annotations

from functools import partial

from shared.kube.objects import name_of
from shared.kube.resources import BUNDLES
from shared.runtime import Context
from shared.sweep.report import Report, guarded
from shared.trust.sync import sync_bundle


def sync_bundles(ctx: Context, report: Report) -> None:
    bundles, _ = ctx.kube.list(BUNDLES)
    for bundle in bundles:
        guarded(report, f"Bundle/{name_of(bundle)}", partial(sync_bundle, ctx, bundle))
