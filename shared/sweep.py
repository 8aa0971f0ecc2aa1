"""The scheduled sweep: renewals due, backoffs expired, anything a lost event stranded.

It is the level-triggered safety net: an event may be lost, duplicated or late, and
the sweep still brings every object to where it should be.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.acmeflow.sweep import sweep_acme
from shared.certificates.policy import backoff_until
from shared.issuance.certificates import reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.objects import condition_is, get_condition, meta, name_of, namespace_of, parse_time
from shared.kube.resources import CERTIFICATES, CLUSTER_ISSUERS, ISSUERS
from shared.metrics import certificate_metrics
from shared.runtime import Context

log = logging.getLogger(__name__)


@dataclass
class Report:
    certificates: int = 0
    reconciled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    issuers_checked: int = 0
    metrics: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificates": self.certificates,
            "reconciled": self.reconciled,
            "failed": self.failed,
            "issuersChecked": self.issuers_checked,
        }


def due(cert: Mapping[str, Any], now: datetime) -> bool:
    """Whether a Certificate needs a reconcile now, judged from the listed object alone."""
    status = cert.get("status") or {}
    ready = get_condition(status, "Ready")
    if ready is None or ready.get("observedGeneration") != meta(cert).get("generation"):
        return True
    if condition_is(status, "Issuing"):
        return True
    renewal = parse_time(status.get("renewalTime"))
    if renewal is not None and renewal <= now:
        return True
    last = parse_time(status.get("lastFailureTime"))
    attempts = int(status.get("failedIssuanceAttempts") or 0)
    if last is not None and attempts:
        return backoff_until(last_failure_time=last, failed_attempts=attempts) <= now
    return ready.get("status") != "True"


def sweep(ctx: Context) -> Report:
    report = Report()
    for resource in (ISSUERS, CLUSTER_ISSUERS):
        issuers, _ = ctx.kube.list(resource)
        for issuer in issuers:
            if not condition_is(issuer.get("status") or {}, "Ready"):
                report.issuers_checked += 1
                reconcile_issuer(
                    ctx, kind=resource.kind, namespace=namespace_of(issuer), name=name_of(issuer)
                )
    sweep_acme(ctx)
    certificates, _ = ctx.kube.list(CERTIFICATES)
    report.certificates = len(certificates)
    now = ctx.clock.now()
    for cert in certificates:
        if not due(cert, now):
            continue
        ref = f"{namespace_of(cert)}/{name_of(cert)}"
        try:
            reconcile_certificate(ctx, namespace=namespace_of(cert), name=name_of(cert), tidy=True)
        except Exception:  # one bad object must not stop the sweep of the others
            log.exception("sweep could not reconcile certificate", extra={"object": ref})
            report.failed.append(ref)
        else:
            report.reconciled.append(ref)
    refreshed, _ = ctx.kube.list(CERTIFICATES) if report.reconciled else (certificates, "")
    report.metrics = certificate_metrics(refreshed, now=ctx.clock.now())
    return report


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
