"""Which reconciliation an object change calls for. The payload only names objects."""

from __future__ import annotations

from typing import Final

from shared.contracts import ObjectEvent
from shared.issuance import requests as cr
from shared.issuance.certificates import NEXT_KEY_LABEL, reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.objects import annotations_of, labels_of
from shared.kube.resources import CERTIFICATE_REQUESTS
from shared.runtime import Context
from shared.sweep import resume_waiting_for

CERTIFICATE_KINDS: Final = frozenset({"Certificate", "CertificateRequest", "Secret"})
ISSUER_KINDS: Final = frozenset({"Issuer", "ClusterIssuer"})


class UnsupportedKind(ValueError):
    pass


def on_certificate_event(ctx: Context, event: ObjectEvent) -> str:
    """Reconcile the Certificate an event is about; returns what was done, for the log."""
    if event.kind == "Certificate":
        reconcile_certificate(ctx, namespace=event.namespace, name=event.name)
        return "reconciled certificate"
    if event.kind == "CertificateRequest":
        owner = cr.belongs_to(event.payload)
        if owner:
            reconcile_certificate(ctx, namespace=event.namespace, name=owner)
            return f"reconciled certificate {owner}"
        if event.action == "delete":
            return "ignored: standalone request deleted"
        request = ctx.kube.find(CERTIFICATE_REQUESTS, event.namespace, event.name)
        if request is not None:
            cr.sign(ctx, request)
        return "reconciled standalone request"
    if event.kind == "Secret":
        if labels_of(event.payload).get(NEXT_KEY_LABEL) == "true":
            return "ignored: temporary private key"
        owner = annotations_of(event.payload).get(cr.CERTIFICATE_NAME)
        if not owner:
            return "ignored: secret not managed by a Certificate"
        reconcile_certificate(ctx, namespace=event.namespace, name=owner)
        return f"reconciled certificate {owner}"
    raise UnsupportedKind(
        f"on-certificate-created handles {sorted(CERTIFICATE_KINDS)}, not {event.kind!r}"
    )


def on_issuer_event(ctx: Context, event: ObjectEvent) -> str:
    if event.kind not in ISSUER_KINDS:
        raise UnsupportedKind(
            f"on-issuer-changed handles {sorted(ISSUER_KINDS)}, not {event.kind!r}"
        )
    if event.action == "delete":
        return "ignored: issuer deleted"
    readiness = reconcile_issuer(ctx, kind=event.kind, namespace=event.namespace, name=event.name)
    if readiness is None:
        return "issuer gone"
    if readiness.ready:
        # Certificates that waited for this issuer go on now rather than at the next tick.
        resume_waiting_for(ctx, kind=event.kind, namespace=event.namespace, name=event.name)
    return f"issuer ready={readiness.ready} ({readiness.reason})"
