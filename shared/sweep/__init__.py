"""The scheduled sweep: renewals due, backoffs expired, anything a lost event stranded.

It is the level-triggered safety net: an event may be lost, duplicated or late (and
Knative's ApiServerSource sends none for objects that existed before it started), and
the sweep still brings every object to where it should be.

Its API cost is one LIST per kind it looks at, plus one Secret read per CA or ACME
issuer and, per Bundle, its source reads and three LISTs (namespaces, its ConfigMap
and Secret targets); an object that is fine costs no further call and no write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from shared.acmeflow.sweep import sweep_acme
from shared.certificates.policy import backoff_until
from shared.issuance.certificates import reconcile_certificate
from shared.kube.objects import condition_is, get_condition, meta, name_of, namespace_of, parse_time
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES
from shared.runtime import Context
from shared.sweep.bundles import sync_bundles
from shared.sweep.ingresses import sync_ingresses
from shared.sweep.issuers import issuer_ref, using, verify, verify_issuers
from shared.sweep.report import Report, guarded
from shared.sweep.requests import sign_standalone_requests
from shared.sweep.stored import issued_serial, stored_certificates, stored_differs, stored_for

__all__ = ["Report", "due", "sweep"]


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
    issuers, ready = verify_issuers(ctx, report)
    sweep_acme(ctx)
    certificates, _ = ctx.kube.list(CERTIFICATES)
    if sync_ingresses(ctx, certificates, report):
        certificates, _ = ctx.kube.list(CERTIFICATES)  # the shim created or changed some
    report.certificates = len(certificates)
    stored = stored_certificates(ctx)
    listed, _ = ctx.kube.list(CERTIFICATE_REQUESTS)
    requests = {(namespace_of(r), name_of(r)): r for r in listed}
    now = ctx.clock.now()
    todo = [
        c
        for c in certificates
        if due(c, now)
        or stored_differs(c, stored_for(c, stored), issued_serial=issued_serial(c, requests))
    ]
    # CAs first: an issuer whose key pair was just re-issued is re-verified before the
    # Certificates it signs are looked at, so they need not wait for the next tick.
    cas = [c for c in todo if (c.get("spec") or {}).get("isCA")]
    for cert in cas:
        _reconcile(ctx, cert, report)
    renewed = {(namespace_of(c), str((c.get("spec") or {}).get("secretName"))) for c in cas}
    for issuer in using(ctx, issuers, renewed):
        # Re-read: the first verification may have written it since the LIST.
        guarded(report, issuer_ref(issuer), partial(verify, ctx, issuer, ready, fresh=False))
    for cert in todo:
        if not (cert.get("spec") or {}).get("isCA"):
            _reconcile(ctx, cert, report)
    sign_standalone_requests(ctx, listed, ready, report)
    sync_bundles(ctx, report)
    return report


def _reconcile(ctx: Context, cert: Mapping[str, Any], report: Report) -> None:
    ref = f"{namespace_of(cert)}/{name_of(cert)}"
    call = partial(
        reconcile_certificate, ctx, namespace=namespace_of(cert), name=name_of(cert), tidy=True
    )
    if guarded(report, ref, call):
        report.reconciled.append(ref)
