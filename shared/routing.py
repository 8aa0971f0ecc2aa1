"""Which reconciliation an object change calls for. The payload only names objects."""

from __future__ import annotations

from typing import Final

from shared.contracts import ObjectEvent
from shared.issuance import requests as cr
from shared.issuance.certificates import NEXT_KEY_LABEL, reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.objects import annotations_of, condition_is, labels_of, name_of
from shared.kube.resources import CERTIFICATE_REQUESTS, CLUSTER_ISSUERS, ISSUERS, Resource
from shared.runtime import Context
from shared.sweep.issuers import resume_waiting_for

CERTIFICATE_KINDS: Final = frozenset({"Certificate", "CertificateRequest", "Secret"})
ISSUER_KINDS: Final = frozenset({"Issuer", "ClusterIssuer"})


class UnsupportedKind(ValueError):
    pass


def on_certificate_event(ctx: Context, event: ObjectEvent) -> str:
    """Reconcile the Certificate an event is about; returns what was done, for the log."""
    if event.kind == "Certificate":
        _certificate(ctx, namespace=event.namespace, name=event.name)
        return "reconciled certificate"
    if event.kind == "CertificateRequest":
        owner = cr.belongs_to(event.payload)
        if owner:
            _certificate(ctx, namespace=event.namespace, name=owner)
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
        _certificate(ctx, namespace=event.namespace, name=owner)
        return f"reconciled certificate {owner}"
    raise UnsupportedKind(
        f"on-certificate-created handles {sorted(CERTIFICATE_KINDS)}, not {event.kind!r}"
    )


def _certificate(ctx: Context, *, namespace: str, name: str) -> None:
    cert = reconcile_certificate(ctx, namespace=namespace, name=name)
    spec = (cert or {}).get("spec") or {}
    if spec.get("isCA"):
        # A CA's key pair is often itself a Certificate's Secret (the internal-CA recipe):
        # the issuers that sign with it can become Ready now, not at the next tick. (The
        # Certificate returned is as read before this reconcile, so its Ready is not asked.)
        recheck_issuers_using(ctx, namespace=namespace, secret=str(spec.get("secretName")))


def recheck_issuers_using(ctx: Context, *, namespace: str, secret: str) -> None:
    """Re-verify the CA issuers whose key pair is this Secret, Ready or not.

    A re-issued CA may have become usable, or broken; status is written only when the
    verdict changes, and waiting Certificates are resumed only when it became Ready.
    """
    scopes: list[tuple[Resource, str | None]] = [(ISSUERS, namespace)]
    if namespace == ctx.config.cluster_resource_namespace:
        scopes.append((CLUSTER_ISSUERS, None))
    for resource, scope in scopes:
        issuers, _ = ctx.kube.list(resource, scope)
        for issuer in issuers:
            ca = (issuer.get("spec") or {}).get("ca") or {}
            if ca.get("secretName") != secret:
                continue
            was_ready = condition_is(issuer.get("status") or {}, "Ready")
            name = name_of(issuer)
            readiness = reconcile_issuer(
                ctx, kind=resource.kind, namespace=namespace, name=name, current=issuer
            )
            if readiness is not None and readiness.ready and not was_ready:
                resume_waiting_for(ctx, kind=resource.kind, namespace=namespace, name=name)


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
