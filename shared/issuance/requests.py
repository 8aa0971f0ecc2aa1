"""CertificateRequests: building them, reading their state, approving and signing them."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any, Final, Literal

from shared.certificates.spec import CertificateSpec, format_duration, parse_duration
from shared.failures import describe, unexpected
from shared.issuers.base import Failed, Issued, Outcome, Pending, SigningRequest
from shared.issuers.resolve import IssuerUnavailable, ResolvedIssuer, resolve
from shared.kube.errors import Conflict
from shared.kube.objects import (
    annotations_of,
    condition_is,
    format_time,
    get_condition,
    labels_of,
    name_of,
    namespace_of,
    owner_reference,
    set_condition,
)
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CERTIFICATE_REQUESTS
from shared.pki.csr import InvalidCSR, load_csr
from shared.runtime import Context

log = logging.getLogger(__name__)

CERTIFICATE_NAME: Final = "cert-manager.io/certificate-name"
CERTIFICATE_REVISION: Final = "cert-manager.io/certificate-revision"
PRIVATE_KEY_SECRET_NAME: Final = "cert-manager.io/private-key-secret-name"  # noqa: S105
APPROVER: Final = "cert-manager.io"
# The issuer group cert-manager's approver may approve for (an empty group means it).
OWN_GROUP: Final = "cert-manager.io"
DENIED_MESSAGE: Final = "The CertificateRequest was denied by an approval controller"

NOT_COPIED_PREFIXES: Final = ("kubectl.kubernetes.io/", "fluxcd.io/", "argocd.argoproj.io/")

State = Literal["pending", "issued", "failed", "denied"]
Obj = dict[str, Any]


def build_request(
    certificate: Mapping[str, Any],
    spec: CertificateSpec,
    *,
    name: str,
    revision: int,
    csr_pem: bytes,
    key_secret_name: str,
) -> Obj:
    ref = spec.issuer_ref
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": {
            "name": name,
            "namespace": namespace_of(certificate),
            "annotations": {
                **copied_annotations(annotations_of(certificate)),
                CERTIFICATE_NAME: name_of(certificate),
                CERTIFICATE_REVISION: str(revision),
                PRIVATE_KEY_SECRET_NAME: key_secret_name,
            },
            "labels": dict(labels_of(certificate)),
            "ownerReferences": [owner_reference(certificate)],
        },
        "spec": {
            "request": base64.b64encode(csr_pem).decode(),
            "duration": format_duration(spec.duration),
            "issuerRef": {"name": ref.name, "kind": ref.kind, "group": ref.group},
            "isCA": spec.is_ca,
            "usages": list(spec.usages),
        },
    }


def copied_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    """The Certificate's annotations a request inherits: cert-manager's default filter.

    cert-manager copies every annotation but those of tools that manage the Certificate
    itself (`--copied-annotation-prefixes` defaults to *, -kubectl.kubernetes.io/,
    -fluxcd.io/, -argocd.argoproj.io/); its own request annotations are set after.
    """
    return {k: v for k, v in annotations.items() if not k.startswith(NOT_COPIED_PREFIXES)}


def state_of(request: Mapping[str, Any]) -> State:
    status = request.get("status") or {}
    if condition_is(status, "Denied"):
        return "denied"
    ready = get_condition(status, "Ready") or {}
    if ready.get("status") == "True" and status.get("certificate"):
        return "issued"
    if ready.get("reason") in ("Failed", "Denied") and ready.get("status") == "False":
        return "failed"
    return "pending"


def failure_of(request: Mapping[str, Any]) -> tuple[str, str]:
    """The condition a Certificate's issuance failed with: Denied first, as cert-manager.

    A denial names the approver's reason and message, so the Certificate says who
    refused and why; an approver that gave no message is still named.
    """
    status = request.get("status") or {}
    denied = get_condition(status, "Denied")
    if denied is not None and denied.get("status") == "True":
        reason = str(denied.get("reason") or "Denied")
        message = str(denied.get("message") or "")
        if not message:
            message = f'CertificateRequest "{name_of(request)}" was denied by {reason!r}'
        return reason, message
    ready = get_condition(status, "Ready") or {}
    return str(ready.get("reason") or "Failed"), str(ready.get("message") or "")


def is_own_issuer(request: Mapping[str, Any]) -> bool:
    """Whether the request names an issuer of ours; others belong to their own controllers."""
    ref = (request.get("spec") or {}).get("issuerRef") or {}
    return str(ref.get("group") or OWN_GROUP) == OWN_GROUP


def decoded(request: Mapping[str, Any], field: str) -> bytes | None:
    value = (request.get("status") or {}).get(field)
    return base64.b64decode(value) if value else None


def sign(ctx: Context, request: Obj, *, resolved: ResolvedIssuer | None = None) -> Obj:
    """Approve (for our own issuers) and sign a pending request; one status write at most.

    A request for another group's issuer is left alone: its approver and signer are
    someone else's. A denied one is marked Ready=False/Denied with a failure time, as
    cert-manager's request controllers do. Returns the request as stored afterwards.
    A 409 means another invocation wrote first: its result is re-read and returned,
    never overwritten.
    """
    if not is_own_issuer(request):
        return request
    for _ in range(5):
        if state_of(request) == "denied":
            return _mark_denied(ctx, request)
        if state_of(request) != "pending":
            return request
        status = dict(request.get("status") or {})
        now = ctx.clock.now()
        outcome = _outcome(ctx, request, resolved)
        if not condition_is(status, "Approved"):
            set_condition(
                status,
                kind="Approved",
                value="True",
                reason=APPROVER,
                message="Certificate request has been approved by cert-manager.io",
                now=now,
            )
        if isinstance(outcome, Issued):
            set_condition(
                status,
                kind="Ready",
                value="True",
                reason="Issued",
                message="Certificate fetched from issuer successfully",
                now=now,
            )
            status["certificate"] = base64.b64encode(outcome.chain_pem).decode()
            if outcome.ca_pem:
                status["ca"] = base64.b64encode(outcome.ca_pem).decode()
        elif isinstance(outcome, Failed):
            set_condition(
                status,
                kind="Ready",
                value="False",
                reason="Failed",
                message=outcome.message,
                now=now,
            )
            status["failureTime"] = format_time(now)
        else:
            set_condition(
                status,
                kind="Ready",
                value="False",
                reason="Pending",
                message=outcome.message,
                now=now,
            )
        if status == (request.get("status") or {}):
            return request  # still pending for the same reason: nothing to write
        if isinstance(outcome, Issued):
            # Before the write and once per request: a crash after it cannot lose it,
            # and a run racing this one cannot repeat it.
            ctx.recorder.record(
                request,
                type=NORMAL,
                reason="CertificateIssued",
                message="Certificate fetched from issuer successfully",
                once="CertificateIssued",
            )
        try:
            stored = ctx.kube.replace_status(CERTIFICATE_REQUESTS, {**request, "status": status})
        except Conflict:
            latest = ctx.kube.find(CERTIFICATE_REQUESTS, namespace_of(request), name_of(request))
            if latest is None:
                raise  # the request was replaced meanwhile: the caller re-decides
            request = latest
            continue
        if isinstance(outcome, Failed):
            ctx.recorder.record(
                stored, type=WARNING, reason=outcome.reason, message=outcome.message
            )
        return stored
    return request


def _mark_denied(ctx: Context, request: Obj) -> Obj:
    status = dict(request.get("status") or {})
    ready = get_condition(status, "Ready") or {}
    if ready.get("reason") == "Denied" and status.get("failureTime"):
        return request
    now = ctx.clock.now()
    set_condition(
        status, kind="Ready", value="False", reason="Denied", message=DENIED_MESSAGE, now=now
    )
    status.setdefault("failureTime", format_time(now))
    try:
        return ctx.kube.replace_status(CERTIFICATE_REQUESTS, {**request, "status": status})
    except Conflict:
        # Another writer moved first; what it stored is what the caller decides on.
        latest = ctx.kube.find(CERTIFICATE_REQUESTS, namespace_of(request), name_of(request))
        if latest is None:
            raise
        return latest


def _outcome(ctx: Context, request: Mapping[str, Any], resolved: ResolvedIssuer | None) -> Outcome:
    """Sign with the request's issuer; `resolved` saves a lookup when the caller has it."""
    spec = request.get("spec") or {}
    if resolved is None:
        try:
            resolved = resolve(
                ctx, namespace=namespace_of(request), ref=spec.get("issuerRef") or {}
            )
        except IssuerUnavailable as error:
            return Pending(error.reason, error.message)
    try:
        csr = load_csr(base64.b64decode(spec.get("request") or ""))
    except (InvalidCSR, ValueError) as error:
        return Failed("InvalidCSR", f"Failed to decode CSR in spec.request: {error}")
    try:
        duration = parse_duration(str(spec.get("duration") or "2160h"))
    except ValueError as error:
        return Failed("InvalidDuration", str(error))
    signing = SigningRequest(
        request=request,
        csr=csr,
        duration=duration,
        is_ca=bool(spec.get("isCA")),
        usages=tuple(spec.get("usages") or ("digital signature", "key encipherment")),
        now=ctx.clock.now(),
    )
    try:
        return resolved.issuer_type.sign(resolved.scope, signing)
    except BaseException as error:  # a library's panic too; `unexpected` re-raises the rest
        if not unexpected(error):
            raise
        # A signer that breaks on this request would break on every redelivery: the
        # request fails as any signing failure does, and its Certificate backs off.
        log.exception("signing %s/%s failed", namespace_of(request), name_of(request))
        return Failed("Failed", describe(error, doing="signing the certificate request"))


def belongs_to(request: Mapping[str, Any]) -> str | None:
    """The Certificate a request was made for, from cert-manager's annotation."""
    return annotations_of(request).get(CERTIFICATE_NAME)
