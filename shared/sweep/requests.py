"""CertificateRequests users created for our issuers, signed if their event was lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from shared.issuance import requests as cr
from shared.issuers.resolve import GROUP
from shared.kube.objects import get_condition, meta, name_of, namespace_of
from shared.runtime import Context
from shared.sweep.issuers import IssuerKey
from shared.sweep.report import Report, guarded

Obj = dict[str, Any]


def sign_standalone_requests(
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
        guarded(report, f"CertificateRequest/{ref}", partial(cr.sign, ctx, request))


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
