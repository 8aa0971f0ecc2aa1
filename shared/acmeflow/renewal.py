"""ACME Renewal Information (RFC 9773) on the tick: renew when the CA suggests it.

For the valid Order behind each Certificate's current revision, the CA's suggested
window is fetched (at most once per its Retry-After, six hours without one), a time
inside it is picked and kept on the Order, and once that time has come the
Certificate is marked Issuing, as `cmctl renew` would, and reconciled. The renewal's
new Order then names the certificate it replaces (see shared/issuers/acme.py).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography import x509

from shared.acme.errors import AcmeError
from shared.acme.renewal_info import renewal_window
from shared.acmeflow.names import RENEWAL_CHECK_ANNOTATION, RENEWAL_TIME_ANNOTATION, fnv32a
from shared.issuance import requests as cr
from shared.issuance.certificates import reconcile_certificate
from shared.issuers.acme import CLIENT_ERRORS, client_for
from shared.issuers.resolve import IssuerUnavailable, resolve
from shared.kube.errors import Conflict
from shared.kube.objects import (
    annotations_of,
    condition_is,
    format_time,
    meta,
    parse_time,
    set_condition,
)
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, ORDERS
from shared.runtime import Context

log = logging.getLogger(__name__)

DEFAULT_RECHECK: Final = timedelta(hours=6)
NO_ARI_RECHECK: Final = timedelta(hours=24)
RENEWING_REASON: Final = "Renewing"
RENEWING: Final = "renewing (ARI)"

Obj = dict[str, Any]


def spread(order: Mapping[str, Any]) -> float:
    """A stable fraction in [0, 1) per Order, so renewals spread over the window (RFC 9773 4.2)."""
    return fnv32a(str(meta(order).get("uid") or meta(order).get("name")).encode()) / 2**32


def check_renewal(ctx: Context, order: Obj) -> str:
    """Ask the CA about a valid Order's certificate if due; renew it when the time has come."""
    status = order.get("status") or {}
    if status.get("state") != "valid" or not status.get("certificate"):
        return "not issued"
    now = ctx.clock.now()
    annotations = annotations_of(order)
    renew_at = parse_time(annotations.get(RENEWAL_TIME_ANNOTATION))
    next_check = parse_time(annotations.get(RENEWAL_CHECK_ANNOTATION))
    due_check = next_check is None or next_check <= now
    if not due_check and (renew_at is None or renew_at > now):
        return "renewal not due"  # decided from the listed Order alone: no API calls
    certificate = _current_certificate(ctx, order)
    if certificate is None:
        return "not the current revision"
    if due_check:
        checked = _ask_ca(ctx, order, now=now)
        if checked is None:
            return "issuer unavailable"
        renew_at, next_check = checked
        patch = {
            "metadata": {
                "annotations": {
                    RENEWAL_TIME_ANNOTATION: format_time(renew_at) if renew_at else None,
                    RENEWAL_CHECK_ANNOTATION: format_time(next_check),
                }
            }
        }
        ctx.kube.patch(ORDERS, meta(order)["namespace"], meta(order)["name"], patch)
    if renew_at is None or renew_at > now:
        return f"renewal suggested at {format_time(renew_at) if renew_at else 'no ARI'}"
    _renew(ctx, certificate, renew_at=renew_at)
    return RENEWING


def _ask_ca(ctx: Context, order: Obj, *, now: datetime) -> tuple[datetime | None, datetime] | None:
    try:
        scope = resolve(
            ctx,
            namespace=meta(order)["namespace"],
            ref=(order.get("spec") or {}).get("issuerRef") or {},
        ).scope
        client = client_for(scope)
    except (IssuerUnavailable, *CLIENT_ERRORS):
        return None
    chain = base64.b64decode(order["status"]["certificate"])
    try:
        window = renewal_window(client=client, cert_pem=chain, clock=ctx.clock.now)
    except AcmeError as error:
        log.warning("renewalInfo for order %s failed: %s", meta(order).get("name"), error)
        return None, now + DEFAULT_RECHECK
    if window is None:
        return None, now + NO_ARI_RECHECK
    recheck = window.retry_after if window.retry_after is not None else DEFAULT_RECHECK
    issued = x509.load_pem_x509_certificate(chain).not_valid_before_utc
    if window.end < issued:
        # A window that closed before this certificate existed cannot be about renewing
        # it; acting on it would renew every replacement at once, in a loop.
        log.warning("ignoring renewalInfo window that ended before the certificate was issued")
        return None, now + recheck
    return window.pick(fraction=spread(order)).replace(microsecond=0), now + recheck


def _current_certificate(ctx: Context, order: Obj) -> Obj | None:
    """The Ready, not issuing Certificate whose current revision this Order issued."""
    namespace = meta(order)["namespace"]
    owner = next(
        (
            o
            for o in meta(order).get("ownerReferences") or []
            if o.get("kind") == "CertificateRequest"
        ),
        None,
    )
    if owner is None:
        return None
    request = ctx.kube.find(CERTIFICATE_REQUESTS, namespace, str(owner.get("name")))
    name = cr.belongs_to(request or {})
    if request is None or not name:
        return None
    certificate = ctx.kube.find(CERTIFICATES, namespace, name)
    if certificate is None:
        return None
    status = certificate.get("status") or {}
    revision = annotations_of(request).get(cr.CERTIFICATE_REVISION)
    if str(status.get("revision")) != revision or condition_is(status, "Issuing"):
        return None
    return certificate if condition_is(status, "Ready") else None


def _renew(ctx: Context, certificate: Obj, *, renew_at: datetime) -> None:
    status: Obj = dict(certificate.get("status") or {})
    set_condition(
        status,
        kind="Issuing",
        value="True",
        reason=RENEWING_REASON,
        message=f"Renewing certificate as the ACME server suggested renewal from "
        f"{format_time(renew_at)} (ARI)",
        now=ctx.clock.now(),
        generation=meta(certificate).get("generation"),
    )
    try:
        ctx.kube.replace_status(CERTIFICATES, {**certificate, "status": status})
    except Conflict:
        return  # it moved: the next tick decides again
    reconcile_certificate(
        ctx, namespace=meta(certificate)["namespace"], name=meta(certificate)["name"]
    )
