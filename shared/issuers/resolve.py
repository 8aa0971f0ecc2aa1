"""Finding the issuer a Certificate or CertificateRequest refers to, and its readiness."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from shared.failures import INTERNAL_ERROR, ISSUER_RETRY, describe, internal_error_since, unexpected
from shared.issuers.base import IssuerScope, IssuerType, Readiness
from shared.issuers.registry import ISSUER_TYPES, issuer_type_of
from shared.kube.errors import ApiError, Conflict
from shared.kube.objects import (
    condition_is,
    format_time,
    get_condition,
    name_of,
    namespace_of,
    set_condition,
)
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CLUSTER_ISSUERS, ISSUERS, Resource
from shared.runtime import Context

log = logging.getLogger(__name__)

GROUP = "cert-manager.io"


@dataclass(frozen=True)
class ResolvedIssuer:
    scope: IssuerScope
    issuer_type: IssuerType
    type_name: str


class IssuerUnavailable(Exception):
    """The referenced issuer cannot sign now; `reason`/`message` say why, for conditions."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def issuer_resource(kind: str) -> Resource:
    return CLUSTER_ISSUERS if kind == "ClusterIssuer" else ISSUERS


def secrets_namespace(ctx: Context, issuer: Mapping[str, Any]) -> str:
    if issuer.get("kind") == "ClusterIssuer":
        return ctx.config.cluster_resource_namespace
    return namespace_of(issuer)


def resolve(ctx: Context, *, namespace: str, ref: Mapping[str, Any]) -> ResolvedIssuer:
    """The Ready issuer behind an issuerRef, or IssuerUnavailable saying what is wrong."""
    kind = str(ref.get("kind") or "Issuer")
    name = str(ref.get("name") or "")
    group = str(ref.get("group") or GROUP)
    if group != GROUP:
        raise IssuerUnavailable(
            "UnsupportedIssuer",
            f"issuerRef group {group!r} is an external issuer, which certainly does not run",
        )
    resource = issuer_resource(kind)
    issuer = ctx.kube.find(resource, namespace if kind == "Issuer" else None, name)
    if issuer is None:
        raise IssuerUnavailable(
            "IssuerNotFound",
            f'Referenced "{kind}" not found: {resource.plural}.{GROUP} "{name}" not found',
        )
    found = issuer_type_of(issuer)
    if found is None:
        raise IssuerUnavailable(
            "IssuerNotReady", f"Referenced {kind} {name!r} has no supported issuer type configured"
        )
    if not condition_is(issuer.get("status") or {}, "Ready"):
        raise IssuerUnavailable(
            "IssuerNotReady",
            f"Referenced {kind} {name!r} does not have a Ready status condition",
        )
    scope = IssuerScope(
        ctx.kube,
        issuer,
        secrets_namespace(ctx, issuer),
        recheck=partial(_recheck, ctx, kind=kind, namespace=namespace, name=name),
    )
    return ResolvedIssuer(scope=scope, issuer_type=found[1], type_name=found[0])


def _recheck(ctx: Context, *, kind: str, namespace: str, name: str) -> None:
    # Signing already failed and reports that itself: recording the issuer's state is a
    # courtesy, and its own failure must not replace the signing outcome.
    try:
        reconcile_issuer(ctx, kind=kind, namespace=namespace, name=name)
    except ApiError as error:
        log.warning("could not re-verify %s %s/%s: %s", kind, namespace, name, error)


def reconcile_issuer(
    ctx: Context,
    *,
    kind: str,
    namespace: str,
    name: str,
    current: Mapping[str, Any] | None = None,
) -> Readiness | None:
    """Check an Issuer/ClusterIssuer and record Ready on its status; None if it is gone.

    `current` is the issuer as just listed, saving a read; status is written only when
    the verdict changed, so re-verifying a healthy issuer costs its Secret read only.
    """
    resource = issuer_resource(kind)
    for _ in range(5):
        if current is not None:
            issuer: dict[str, Any] | None = dict(current)
            current = None  # a conflict re-reads
        else:
            issuer = ctx.kube.find(resource, namespace if kind == "Issuer" else None, name)
        if issuer is None:
            return None
        paused = _paused(ctx, issuer)
        if paused is not None:
            return paused
        broke = False
        found = issuer_type_of(issuer)
        if found is None:
            configured = sorted(k for k in (issuer.get("spec") or {}) if k not in ISSUER_TYPES)
            detail = f" ({', '.join(configured)} not supported yet)" if configured else ""
            readiness = Readiness(
                False, "InvalidConfig", f"exactly one supported issuer type must be set{detail}"
            )
        else:
            scope = IssuerScope(ctx.kube, issuer, secrets_namespace(ctx, issuer))
            try:
                readiness = found[1].check(scope)
            except BaseException as error:  # a library's panic too; `unexpected` re-raises the rest
                if not unexpected(error):
                    raise
                log.exception("checking %s %s/%s failed", kind, namespace, name)
                broke = True
                readiness = Readiness(
                    False, INTERNAL_ERROR, describe(error, doing=f"checking the {kind}")
                )
        try:
            _record(ctx, resource, issuer, readiness, attempted=broke)
        except Conflict:
            continue
        return readiness
    return None


def _paused(ctx: Context, issuer: Mapping[str, Any]) -> Readiness | None:
    """The recorded verdict while a check that broke at this generation waits to retry."""
    since = internal_error_since(issuer)
    if since is None or ctx.clock.now() >= since + ISSUER_RETRY:
        return None
    ready = get_condition(issuer.get("status") or {}, "Ready") or {}
    return Readiness(False, INTERNAL_ERROR, str(ready.get("message") or ""))


def _record(
    ctx: Context,
    resource: Resource,
    issuer: dict[str, Any],
    readiness: Readiness,
    *,
    attempted: bool = False,
) -> None:
    """Write Ready when the verdict changed; `attempted`: a check broke, and its time is
    kept as the condition's lastTransitionTime (the retry waits an hour from it)."""
    status = dict(issuer.get("status") or {})
    previous = get_condition(status, "Ready")
    generation = issuer.get("metadata", {}).get("generation")
    value = "True" if readiness.ready else "False"
    status.update(readiness.status)
    if (
        not attempted
        and status == (issuer.get("status") or {})
        and previous is not None
        and previous.get("status") == value
        and previous.get("reason") == readiness.reason
        and previous.get("message") == readiness.message
        and previous.get("observedGeneration") == generation
    ):
        return  # nothing changed: no write
    set_condition(
        status,
        kind="Ready",
        value=value,
        reason=readiness.reason,
        message=readiness.message,
        now=ctx.clock.now(),
        generation=generation,
    )
    if attempted:
        status["conditions"][-1]["lastTransitionTime"] = format_time(ctx.clock.now())  # Ready
    ctx.kube.replace_status(resource, {**issuer, "status": status})
    ctx.recorder.record(
        issuer,
        type=NORMAL if readiness.ready else WARNING,
        reason=readiness.reason,
        message=readiness.message or f"{issuer.get('kind')} {name_of(issuer)} is ready",
    )
