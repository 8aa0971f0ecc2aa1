"""Every issuer re-verified each sweep (a CA Secret sends us no events), and the
Certificates waiting for an issuer resumed when it becomes Ready."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from shared.issuance.certificates import reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.objects import condition_is, name_of, namespace_of
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, ISSUERS
from shared.runtime import Context
from shared.sweep.report import Report, guarded
from shared.sweep.stored import SecretKey

Obj = dict[str, Any]
IssuerKey = tuple[str, str, str]  # (kind, namespace or "" for a ClusterIssuer, name)


def verify_issuers(ctx: Context, report: Report) -> tuple[list[Obj], set[IssuerKey]]:
    """Re-verify every issuer (a CA Secret has no events of ours); write only changes.

    Returns the issuers as listed, and the keys of those now Ready.
    """
    issuers: list[Obj] = []
    for resource in (ISSUERS, CLUSTER_ISSUERS):
        listed, _ = ctx.kube.list(resource)
        issuers.extend(listed)
    ready: set[IssuerKey] = set()
    for issuer in issuers:
        report.issuers_checked += 1
        guarded(report, issuer_ref(issuer), partial(verify, ctx, issuer, ready, fresh=True))
    return issuers, ready


def verify(ctx: Context, issuer: Obj, ready: set[IssuerKey], *, fresh: bool) -> None:
    """Check one issuer; `fresh`: the listed object is current, no need to read it again."""
    key = key_of(issuer)
    kind, namespace, name = key
    readiness = reconcile_issuer(
        ctx, kind=kind, namespace=namespace, name=name, current=issuer if fresh else None
    )
    if readiness is not None and readiness.ready:
        ready.add(key)
    else:
        ready.discard(key)


def using(ctx: Context, issuers: Iterable[Obj], secrets: set[SecretKey]) -> list[Obj]:
    """CA issuers whose key pair is one of these Secrets."""
    found = []
    for issuer in issuers:
        secret = ((issuer.get("spec") or {}).get("ca") or {}).get("secretName")
        kind, namespace, _ = key_of(issuer)
        home = ctx.config.cluster_resource_namespace if kind == "ClusterIssuer" else namespace
        if secret and (home, str(secret)) in secrets:
            found.append(issuer)
    return found


def key_of(issuer: Mapping[str, Any]) -> IssuerKey:
    kind = str(issuer.get("kind") or "Issuer")
    return kind, namespace_of(issuer) if kind == "Issuer" else "", name_of(issuer)


def issuer_ref(issuer: Mapping[str, Any]) -> str:
    kind, namespace, name = key_of(issuer)
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def resume_waiting_for(ctx: Context, *, kind: str, namespace: str, name: str) -> None:
    """Reconcile the Certificates that are waiting to issue from this issuer."""
    certificates, _ = ctx.kube.list(CERTIFICATES, namespace if kind == "Issuer" else None)
    for cert in certificates:
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        if ref.get("name") != name or (ref.get("kind") or "Issuer") != kind:
            continue
        if condition_is(cert.get("status") or {}, "Ready"):
            continue
        reconcile_certificate(ctx, namespace=namespace_of(cert), name=name_of(cert))
