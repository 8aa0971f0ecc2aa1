"""The ingress-shim for every Ingress out of step with its Certificates."""

from __future__ import annotations

from functools import partial
from typing import Any

from shared.ingress.shim import in_step, reconcile_ingress
from shared.kube.objects import name_of, namespace_of
from shared.kube.resources import INGRESSES
from shared.runtime import Context
from shared.sweep.report import Report, guarded

Obj = dict[str, Any]


def sync_ingresses(ctx: Context, certificates: list[Obj], report: Report) -> bool:
    """Run the shim for the Ingresses out of step with their Certificates; True if any."""
    ingresses, _ = ctx.kube.list(INGRESSES)
    by_namespace: dict[str, list[Obj]] = {}
    for cert in certificates:
        by_namespace.setdefault(namespace_of(cert), []).append(cert)
    acted = False
    for ingress in ingresses:
        namespace = namespace_of(ingress)
        if in_step(ingress, by_namespace.get(namespace, [])):
            continue
        ref = f"{namespace}/{name_of(ingress)}"
        acted = True
        report.ingresses.append(ref)
        guarded(
            report,
            f"Ingress/{ref}",
            partial(reconcile_ingress, ctx, namespace=namespace, name=name_of(ingress)),
        )
    return acted
