"""The scheduled sweep: renewals due, backoffs expired, anything a lost event stranded.

It is the level-triggered safety net: an event may be lost, duplicated or late (and
Knative's ApiServerSource sends none for objects that existed before it started), and
the sweep still brings every object to where it should be.

Its API cost is one LIST per kind it looks at, plus one Secret read per CA or ACME
issuer; an object that is fine costs no further call and no write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Final

from cryptography import x509

from shared.acmeflow.sweep import sweep_acme
from shared.certificates.policy import (
    CERTIFICATE_NAME,
    ISSUER_GROUP,
    ISSUER_KIND,
    ISSUER_NAME,
    backoff_until,
)
from shared.certificates.secret import FAO_LABEL
from shared.ingress.shim import MANAGED_KEYS as SHIM_MANAGED_KEYS
from shared.ingress.shim import (
    BadConfig,
    desired_certificates,
    issuer_ref_of,
    reconcile_ingress,
)
from shared.issuance import requests as cr
from shared.issuance.certificates import NEXT_KEY_LABEL, reconcile_certificate
from shared.issuance.names import request_name
from shared.issuers.resolve import GROUP, reconcile_issuer
from shared.kube.objects import (
    annotations_of,
    condition_is,
    format_time,
    get_condition,
    labels_of,
    meta,
    name_of,
    namespace_of,
    parse_time,
    secret_bytes,
)
from shared.kube.resources import (
    CERTIFICATE_REQUESTS,
    CERTIFICATES,
    CLUSTER_ISSUERS,
    INGRESSES,
    ISSUERS,
    SECRETS,
)
from shared.metrics import certificate_metrics
from shared.pki.x509 import InvalidCertificate, load_certificate_chain
from shared.runtime import Context

log = logging.getLogger(__name__)

# The Secrets Certificates are stored in; temporary next-key Secrets are not needed.
STORED_SELECTOR: Final = f"{FAO_LABEL}=true,!{NEXT_KEY_LABEL}"

Obj = dict[str, Any]
IssuerKey = tuple[str, str, str]  # (kind, namespace or "" for a ClusterIssuer, name)
SecretKey = tuple[str, str]  # (namespace, name)


@dataclass
class Report:
    certificates: int = 0
    reconciled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    issuers_checked: int = 0
    ingresses: list[str] = field(default_factory=list)  # out of step, shim run
    requests_signed: list[str] = field(default_factory=list)  # standalone requests
    metrics: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "certificates": self.certificates,
            "reconciled": self.reconciled,
            "failed": self.failed,
            "issuersChecked": self.issuers_checked,
            "ingressesReconciled": self.ingresses,
            "requestsSigned": self.requests_signed,
        }


@dataclass(frozen=True)
class StoredCertificate:
    """What a Certificate's Secret holds, as far as the sweep compares it (no key material)."""

    not_before: str | None
    not_after: str | None
    serial: int | None
    annotations: Mapping[str, str]


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


def stored_differs(
    cert: Mapping[str, Any], stored: StoredCertificate | None, *, issued_serial: int | None
) -> bool:
    """Whether the Secret no longer holds what the Certificate's status says was issued.

    A deleted or replaced Secret whose event was lost: missing, another certificate
    (validity differs from status, or serial from the current revision's request, when
    that request is still there), or written for another Certificate or issuer.
    """
    if stored is None:
        return True
    status = cert.get("status") or {}
    if (stored.not_before, stored.not_after) != (status.get("notBefore"), status.get("notAfter")):
        return True
    if issued_serial is not None and stored.serial != issued_serial:
        return True
    if stored.annotations.get(CERTIFICATE_NAME) != name_of(cert):
        return True
    ref = (cert.get("spec") or {}).get("issuerRef") or {}
    wanted = (str(ref.get("name") or ""), str(ref.get("kind") or "Issuer"), ref.get("group"))
    annotations = stored.annotations
    held = (
        annotations.get(ISSUER_NAME),
        annotations.get(ISSUER_KIND) or "Issuer",
        annotations.get(ISSUER_GROUP),
    )
    return (wanted[0], wanted[1], wanted[2] or GROUP) != (held[0], held[1], held[2] or GROUP)


def stored_certificates(ctx: Context) -> dict[SecretKey, StoredCertificate]:
    """The certificates held in our Secrets, cluster-wide, from one LIST.

    Only validity and annotations are kept: the listed objects (and their keys) are
    dropped as soon as this returns.
    """
    secrets, _ = ctx.kube.list(SECRETS, label_selector=STORED_SELECTOR)
    return {(namespace_of(s), name_of(s)): _summary(s) for s in secrets}


def _summary(secret: Mapping[str, Any]) -> StoredCertificate:
    # Unreadable: differs from any status, so the Certificate is looked at.
    leaf = _leaf(secret_bytes(secret, "tls.crt"))
    if leaf is None:
        return StoredCertificate(None, None, None, annotations_of(secret))
    return StoredCertificate(
        not_before=format_time(leaf.not_valid_before_utc),
        not_after=format_time(leaf.not_valid_after_utc),
        serial=leaf.serial_number,
        annotations=annotations_of(secret),
    )


def _leaf(pem: bytes | None) -> x509.Certificate | None:
    if not pem:
        return None
    try:
        return load_certificate_chain(pem)[0]
    except InvalidCertificate:
        return None


def _issued_serial(cert: Mapping[str, Any], requests: Mapping[SecretKey, Obj]) -> int | None:
    """The serial the current revision's request was issued, if that request is kept."""
    revision = (cert.get("status") or {}).get("revision")
    if not revision:
        return None
    request = requests.get((namespace_of(cert), request_name(name_of(cert), int(revision))))
    if request is None or cr.state_of(request) != "issued":
        return None
    leaf = _leaf(cr.decoded(request, "certificate"))
    return None if leaf is None else leaf.serial_number


def ingress_in_step(ingress: Mapping[str, Any], certificates: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the ingress-shim would change nothing (pure: the listed objects only).

    An Ingress the shim cannot act on (no issuer annotation, a bad one, a Certificate
    of that name owned by someone else) counts as in step: the shim reports those on
    the Ingress's own events, and repeating a Warning every tick would be a write.
    """
    if meta(ingress).get("deletionTimestamp"):
        return True
    try:
        ref = issuer_ref_of(annotations_of(ingress))
        if ref is None:
            return True
        desired = desired_certificates(
            {"apiVersion": INGRESSES.api_version, "kind": "Ingress", **ingress}, ref
        )
    except BadConfig:
        return True
    uid = meta(ingress).get("uid")
    owned = {
        name_of(c): c
        for c in certificates
        if any(o.get("uid") == uid for o in meta(c).get("ownerReferences") or [])
    }
    others = {name_of(c) for c in certificates} - owned.keys()
    wanted = {name_of(d) for d in desired}
    if owned.keys() - wanted:
        return False  # a TLS entry was removed: its Certificate goes
    for certificate in desired:
        name = name_of(certificate)
        if name in others:
            continue
        current = owned.get(name)
        if current is None:
            return False
        spec = current.get("spec") or {}
        if any(spec.get(k) != certificate["spec"].get(k) for k in SHIM_MANAGED_KEYS):
            return False
        labels = labels_of(current)
        if any(labels.get(k) != v for k, v in labels_of(certificate).items()):
            return False
    return True


def sweep(ctx: Context) -> Report:
    report = Report()
    issuers, ready = _verify_issuers(ctx, report)
    sweep_acme(ctx)
    certificates, _ = ctx.kube.list(CERTIFICATES)
    if _sync_ingresses(ctx, certificates, report):
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
        or stored_differs(c, _stored_for(c, stored), issued_serial=_issued_serial(c, requests))
    ]
    # CAs first: an issuer whose key pair was just re-issued is re-verified before the
    # Certificates it signs are looked at, so they need not wait for the next tick.
    cas = [c for c in todo if (c.get("spec") or {}).get("isCA")]
    for cert in cas:
        _reconcile(ctx, cert, report)
    renewed = {(namespace_of(c), str((c.get("spec") or {}).get("secretName"))) for c in cas}
    for issuer in _using(ctx, issuers, renewed):
        # Re-read: the first verification may have written it since the LIST.
        _guarded(report, _issuer_ref(issuer), partial(_verify, ctx, issuer, ready, fresh=False))
    for cert in todo:
        if not (cert.get("spec") or {}).get("isCA"):
            _reconcile(ctx, cert, report)
    _sign_standalone_requests(ctx, listed, ready, report)
    refreshed, _ = ctx.kube.list(CERTIFICATES) if report.reconciled else (certificates, "")
    report.metrics = certificate_metrics(refreshed, now=ctx.clock.now())
    return report


def _stored_for(
    cert: Mapping[str, Any], stored: Mapping[SecretKey, StoredCertificate]
) -> StoredCertificate | None:
    return stored.get((namespace_of(cert), str((cert.get("spec") or {}).get("secretName"))))


def _reconcile(ctx: Context, cert: Mapping[str, Any], report: Report) -> None:
    ref = f"{namespace_of(cert)}/{name_of(cert)}"
    try:
        reconcile_certificate(ctx, namespace=namespace_of(cert), name=name_of(cert), tidy=True)
    except Exception:  # one bad object must not stop the sweep of the others
        log.exception("sweep could not reconcile certificate", extra={"object": ref})
        report.failed.append(ref)
    else:
        report.reconciled.append(ref)


def _guarded(report: Report, ref: str, call: Callable[[], object]) -> None:
    try:
        call()
    except Exception:  # one bad object must not stop the sweep of the others
        log.exception("sweep could not reconcile", extra={"object": ref})
        report.failed.append(ref)


# -- issuers --------------------------------------------------------------------------


def _verify_issuers(ctx: Context, report: Report) -> tuple[list[Obj], set[IssuerKey]]:
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
        _guarded(report, _issuer_ref(issuer), partial(_verify, ctx, issuer, ready, fresh=True))
    return issuers, ready


def _verify(ctx: Context, issuer: Obj, ready: set[IssuerKey], *, fresh: bool) -> None:
    """Check one issuer; `fresh`: the listed object is current, no need to read it again."""
    key = _key_of(issuer)
    kind, namespace, name = key
    readiness = reconcile_issuer(
        ctx, kind=kind, namespace=namespace, name=name, current=issuer if fresh else None
    )
    if readiness is not None and readiness.ready:
        ready.add(key)
    else:
        ready.discard(key)


def _using(ctx: Context, issuers: Iterable[Obj], secrets: set[SecretKey]) -> list[Obj]:
    """CA issuers whose key pair is one of these Secrets."""
    found = []
    for issuer in issuers:
        secret = ((issuer.get("spec") or {}).get("ca") or {}).get("secretName")
        kind, namespace, _ = _key_of(issuer)
        home = ctx.config.cluster_resource_namespace if kind == "ClusterIssuer" else namespace
        if secret and (home, str(secret)) in secrets:
            found.append(issuer)
    return found


def _key_of(issuer: Mapping[str, Any]) -> IssuerKey:
    kind = str(issuer.get("kind") or "Issuer")
    return kind, namespace_of(issuer) if kind == "Issuer" else "", name_of(issuer)


def _issuer_ref(issuer: Mapping[str, Any]) -> str:
    kind, namespace, name = _key_of(issuer)
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


# -- ingresses ------------------------------------------------------------------------


def _sync_ingresses(ctx: Context, certificates: list[Obj], report: Report) -> bool:
    """Run the shim for the Ingresses out of step with their Certificates; True if any."""
    ingresses, _ = ctx.kube.list(INGRESSES)
    by_namespace: dict[str, list[Obj]] = {}
    for cert in certificates:
        by_namespace.setdefault(namespace_of(cert), []).append(cert)
    acted = False
    for ingress in ingresses:
        namespace = namespace_of(ingress)
        if ingress_in_step(ingress, by_namespace.get(namespace, [])):
            continue
        ref = f"{namespace}/{name_of(ingress)}"
        acted = True
        report.ingresses.append(ref)
        _guarded(
            report,
            f"Ingress/{ref}",
            partial(reconcile_ingress, ctx, namespace=namespace, name=name_of(ingress)),
        )
    return acted


# -- standalone CertificateRequests ---------------------------------------------------


def _sign_standalone_requests(
    ctx: Context, requests: Iterable[Obj], ready: set[IssuerKey], report: Report
) -> None:
    """Sign the pending requests users created for our issuers, whose events were lost."""
    for request in requests:
        if cr.belongs_to(request) or meta(request).get("deletionTimestamp"):
            continue  # a Certificate's requests are its reconcile's business
        if cr.state_of(request) != "pending" or not _ours(request):
            continue
        if _waiting_for_issuer(request, ready):
            continue  # it already says so; signing would find the same
        ref = f"{namespace_of(request)}/{name_of(request)}"
        report.requests_signed.append(ref)
        _guarded(report, f"CertificateRequest/{ref}", partial(cr.sign, ctx, request))


def _ours(request: Mapping[str, Any]) -> bool:
    """For one of our issuers: approved already, or ours to approve (cert-manager's
    approver approves requests for its own issuers). Others' belong to their controllers."""
    spec = request.get("spec") or {}
    return str((spec.get("issuerRef") or {}).get("group") or GROUP) == GROUP


def _waiting_for_issuer(request: Mapping[str, Any], ready: set[IssuerKey]) -> bool:
    status = get_condition(request.get("status") or {}, "Ready") or {}
    if status.get("reason") != "Pending":
        return False  # never looked at: the first signing records why it waits
    ref = (request.get("spec") or {}).get("issuerRef") or {}
    kind = str(ref.get("kind") or "Issuer")
    namespace = namespace_of(request) if kind == "Issuer" else ""
    return (kind, namespace, str(ref.get("name") or "")) not in ready


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
