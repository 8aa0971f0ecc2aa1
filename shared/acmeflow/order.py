"""The Order reconciler: one ACME order per Order object, driven by what its status records.

  1. no status.url: create the ACME order and record url, finalizeURL and the
     authorizations (with their challenges) in one status write, before anything
     relies on them; a later invocation never orders again for this Order
  2. state pending: a Challenge object per pending authorization, named
     deterministically, with the solver chosen by cert-manager's rules
  3. the CA says ready: finalize with the request's CSR (repeatable); processing:
     poll a bounded time; valid: download the chain and record it with state valid
  4. final: valid Orders delete their Challenges; the owning CertificateRequest's
     Certificate is reconciled, which records the certificate (or the failure)

Transient CA errors are retried honouring Retry-After, then handed back as
RetryAfter so the event is redelivered; a Retry-After too long to wait out is
recorded on the Order first (backoff.py) and no CA request is made before it.
Permanent ones make the Order errored.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Mapping
from typing import Any, Final

from acme import client as acme_client

from shared.acme import orders as acme_orders
from shared.acme.errors import PermanentAcmeError, retrying
from shared.acme.renewal_info import offers_renewal_info
from shared.acmeflow import polling
from shared.acmeflow.backoff import paused_until, pausing_on_retry_after
from shared.acmeflow.names import REPLACES_ANNOTATION, challenge_name
from shared.acmeflow.solvers import CHALLENGE_KINDS, DNS01, select_solver
from shared.faults import checkpoint
from shared.issuance import requests as cr
from shared.issuance.certificates import RetryLater, reconcile_certificate
from shared.issuers.acme import (
    CLIENT_ERRORS,
    AcmeConfigError,
    AcmeSettings,
    client_for,
    settings_of,
)
from shared.issuers.base import IssuerScope
from shared.issuers.resolve import IssuerUnavailable, resolve
from shared.kube.errors import AlreadyExists, Conflict, NotFound
from shared.kube.objects import format_time, meta, owner_reference
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CERTIFICATE_REQUESTS, CHALLENGES, ORDERS
from shared.runtime import Context

FINAL_STATES: Final = frozenset({"valid", "invalid", "errored", "expired"})
# The CA's order states between creation and a final one, shown on status.state.
TRACKED_STATES: Final = frozenset({acme_orders.PENDING, acme_orders.READY, acme_orders.PROCESSING})
CONFLICT_RETRIES: Final = 5
# Keeps a presented Challenge until its response is withdrawn (no orphaned TXT record).
FINALIZER: Final = "finalizer.acme.cert-manager.io"
REPLACES_REFUSED: Final = "ReplacesRefused"
NO_SOLVER: Final = (
    "Failed to determine a valid solver configuration for the set of domains on the Order: "
    "no configured challenge solvers can be used for this challenge"
)

Obj = dict[str, Any]


def reconcile_order(ctx: Context, *, namespace: str, name: str) -> str:
    """Move an Order as far as it can go now; returns what happened, for the log."""
    with pausing_on_retry_after(ctx, ORDERS, namespace=namespace, name=name):
        for _ in range(CONFLICT_RETRIES):
            try:
                return retrying(lambda: _Run(ctx, namespace, name).run(), clock=ctx.clock.now)
            except Conflict:
                continue
    raise RetryLater(f"order {namespace}/{name} kept changing; try again")


class _Run:
    def __init__(self, ctx: Context, namespace: str, name: str) -> None:
        self.ctx = ctx
        self.namespace = namespace
        self.name = name

    def run(self) -> str:
        order = self.ctx.kube.find(ORDERS, self.namespace, self.name)
        if order is None or meta(order).get("deletionTimestamp"):
            return "order gone"
        state = str((order.get("status") or {}).get("state") or "")
        if state in FINAL_STATES:
            finish(self.ctx, order)
            return f"order {state}"
        paused = paused_until(order, now=self.ctx.clock.now())
        if paused is not None:
            return (
                f"order {state or 'new'}: the ACME server asked to wait until {format_time(paused)}"
            )
        try:
            resolved = resolve(
                self.ctx,
                namespace=self.namespace,
                ref=(order.get("spec") or {}).get("issuerRef") or {},
            )
            settings = settings_of(resolved.scope.spec)
        except IssuerUnavailable as error:
            return f"waiting for issuer: {error.message}"
        except AcmeConfigError as error:
            return self._fail(order, state="errored", reason=str(error))
        scope = resolved.scope
        try:
            client = client_for(scope, settings=settings)
        except CLIENT_ERRORS as error:
            return f"waiting for the issuer's account: {error}"
        try:
            if not (order.get("status") or {}).get("url"):
                order = self._create(order, client, settings)
            order, failure, solving = self._ensure_challenges(order, client, scope)
            if failure:
                return self._fail(order, state="errored", reason=failure)
            if solving:
                # The CA cannot be further along than our Challenges: each moves the
                # Order on when it settles, so asking the CA now would be a wasted request.
                return "order pending: waiting for challenges"
            return self._progress(order, client, settings)
        except PermanentAcmeError as error:
            return self._fail(order, state="errored", reason=str(error))

    # -- steps ---------------------------------------------------------------------------

    def _create(self, order: Obj, client: acme_client.ClientV2, settings: AcmeSettings) -> Obj:
        spec = order.get("spec") or {}
        identifiers = list(spec.get("dnsNames") or [])
        common_name = spec.get("commonName")
        if common_name and common_name not in identifiers:
            identifiers.append(common_name)
        identifiers.extend(spec.get("ipAddresses") or [])
        profile = spec.get("profile") or settings.profile
        replaces = (meta(order).get("annotations") or {}).get(REPLACES_ANNOTATION)
        created = None
        if replaces and offers_renewal_info(client):
            try:
                created = acme_orders.new_order(
                    client=client, identifiers=identifiers, profile=profile, replaces=replaces
                )
            except PermanentAcmeError as error:
                # The CA will not link this order to the old certificate (replaced
                # already, another account...): a plain order still renews it, but
                # without the CA's renewal-window exemptions, so say so.
                self.ctx.recorder.record(
                    order,
                    type=WARNING,
                    reason=REPLACES_REFUSED,
                    message=(
                        f"The ACME server refused to link the order to the certificate it "
                        f"replaces ({replaces}): {error}; ordering without it"
                    ),
                )
        if created is None:
            created = acme_orders.new_order(client=client, identifiers=identifiers, profile=profile)
        authorizations = [
            acme_orders.get_authorization(client=client, url=url) for url in created.authorizations
        ]
        status: Obj = {
            "url": created.url,
            "finalizeURL": created.finalize,
            "state": created.status,
            "authorizations": [
                {
                    "url": a.url,
                    "identifier": a.identifier,
                    "wildcard": a.wildcard,
                    "initialState": a.status,
                    "challenges": [
                        {"url": c.url, "token": c.token, "type": c.type} for c in a.challenges
                    ],
                }
                for a in authorizations
            ],
        }
        # A conflict here orphans the CA-side order (it expires unused); the re-read
        # finds the url the other invocation recorded.
        stored = self.ctx.kube.replace_status(ORDERS, {**order, "status": status})
        checkpoint("order-created")
        return stored

    def _ensure_challenges(
        self, order: Obj, client: acme_client.ClientV2, scope: IssuerScope
    ) -> tuple[Obj, str | None, bool]:
        """(order, why no solver fits, whether any Challenge is still being solved)."""
        status = order.get("status") or {}
        if status.get("state") != acme_orders.PENDING:
            return order, None, False
        solving = False
        solvers = list((scope.spec.get("acme") or {}).get("solvers") or [])
        labels = dict(meta(order).get("labels") or {})
        for authorization in status.get("authorizations") or []:
            if authorization.get("initialState") != acme_orders.PENDING:
                continue  # the CA reused a valid authorization: nothing to solve
            name = challenge_name(self.name, authorization_url=authorization["url"])
            existing = self.ctx.kube.find(CHALLENGES, self.namespace, name)
            if existing is not None:
                state = (existing.get("status") or {}).get("state")
                solving = solving or state not in FINAL_STATES
                continue
            solving = True
            offered = {c["type"]: c for c in authorization.get("challenges") or []}
            selection = select_solver(
                solvers,
                domain=authorization["identifier"],
                wildcard=bool(authorization.get("wildcard")),
                offered=offered,
                labels=labels,
            )
            if selection is None:
                return order, NO_SOLVER, False
            offer = offered[selection.challenge_type]
            token = offer["token"]
            key = (
                acme_orders.dns01_value(client=client, token=token)
                if selection.challenge_type == DNS01
                else acme_orders.key_authorization(client=client, token=token)
            )
            body = {
                "apiVersion": CHALLENGES.api_version,
                "kind": "Challenge",
                "metadata": {
                    "name": name,
                    "namespace": self.namespace,
                    "labels": labels,
                    "finalizers": [FINALIZER],
                    "ownerReferences": [
                        owner_reference({"apiVersion": ORDERS.api_version, **order})
                    ],
                },
                "spec": {
                    "url": offer["url"],
                    "authorizationURL": authorization["url"],
                    "dnsName": authorization["identifier"],
                    "wildcard": bool(authorization.get("wildcard")),
                    "type": CHALLENGE_KINDS[selection.challenge_type],
                    "token": token,
                    "key": key,
                    "solver": dict(selection.solver),
                    "issuerRef": dict((order.get("spec") or {}).get("issuerRef") or {}),
                },
            }
            with contextlib.suppress(AlreadyExists):
                self.ctx.kube.create(CHALLENGES, body)
                self.ctx.recorder.record(
                    order,
                    type=NORMAL,
                    reason="Created",
                    message=f"Created Challenge resource {name!r} for domain {authorization['identifier']!r}",
                )
        checkpoint("challenges-created")
        return order, None, solving

    def _progress(self, order: Obj, client: acme_client.ClientV2, settings: AcmeSettings) -> str:
        status = order.get("status") or {}
        url = str(status["url"])
        csr_pem = base64.b64decode((order.get("spec") or {}).get("request") or "")

        def step() -> acme_orders.OrderState:
            nonlocal order
            current = acme_orders.get_order(client=client, url=url)
            order = self._track(order, current.status)
            if current.status != acme_orders.READY:
                return current
            try:
                current = acme_orders.finalize(client=client, order_url=url, csr_pem=csr_pem)
            except PermanentAcmeError:
                # Another invocation (the other challenge of this order) finalized
                # between our read and our request: the CA refused ours, not the order.
                current = acme_orders.get_order(client=client, url=url)
                if current.status not in (acme_orders.PROCESSING, acme_orders.VALID):
                    raise
            order = self._track(order, current.status)
            return current

        current = polling.default_poller.until(
            step, lambda o: o.status not in (acme_orders.READY, acme_orders.PROCESSING)
        )
        status = order.get("status") or {}
        if current.status == acme_orders.VALID and current.certificate:
            stored = self.ctx.kube.get(ORDERS, self.namespace, self.name)
            if (stored.get("status") or {}).get("state") == "valid":
                # The other Challenge's invocation got here first and stored it.
                finish(self.ctx, stored)
                return "order valid"
            chain = acme_orders.download_certificate(
                client=client, url=current.certificate, preferred_chain=settings.preferred_chain
            )
            stored = self.ctx.kube.replace_status(
                ORDERS,
                {
                    **order,
                    "status": {
                        **status,
                        "state": "valid",
                        "certificate": base64.b64encode(chain).decode(),
                        "reason": "",
                    },
                },
            )
            checkpoint("order-valid")
            self.ctx.recorder.record(
                stored, type=NORMAL, reason="Complete", message="Order completed successfully"
            )
            finish(self.ctx, stored)
            return "order valid"
        if current.status == acme_orders.INVALID:
            return self._fail(order, state="invalid", reason=failure_reason(client, current))
        return f"order {current.status}: waiting"

    def _track(self, order: Obj, state: str) -> Obj:
        """Record the CA's state on the Order as it moves (ready, processing), as
        `kubectl get order` shows it; a write only when it changed. Final states are
        written with what comes with them (certificate, reason) by their own steps."""
        status = order.get("status") or {}
        if state not in TRACKED_STATES or status.get("state") == state:
            return order
        return self.ctx.kube.replace_status(ORDERS, {**order, "status": {**status, "state": state}})

    def _fail(self, order: Obj, *, state: str, reason: str) -> str:
        status = {
            **(order.get("status") or {}),
            "state": state,
            "reason": reason,
            "failureTime": format_time(self.ctx.clock.now()),
        }
        stored = self.ctx.kube.replace_status(ORDERS, {**order, "status": status})
        self.ctx.recorder.record(stored, type=WARNING, reason="Failed", message=reason)
        finish(self.ctx, stored)
        return f"order {state}: {reason}"


def failure_reason(client: acme_client.ClientV2, order: acme_orders.OrderState) -> str:
    """The CA's reason an order is invalid: its failed authorization's problem, else its own."""
    for url in order.authorizations:
        authorization = acme_orders.get_authorization(client=client, url=url)
        try:
            acme_orders.raise_if_invalid(authorization)
        except PermanentAcmeError as error:
            return f"authorization for {authorization.identifier} failed: {error}"
    try:
        acme_orders.raise_if_invalid(order)
    except PermanentAcmeError as error:
        return str(error)
    return "the order is invalid; the CA gave no reason"


def finish(ctx: Context, order: Mapping[str, Any]) -> None:
    """After a final state: drop a valid Order's Challenges, and let its owner record it."""
    namespace = meta(order).get("namespace") or ""
    if (order.get("status") or {}).get("state") == "valid":
        for challenge in owned_challenges(ctx, order):
            if meta(challenge).get("deletionTimestamp"):
                continue  # already going: its finalizer is being released
            with contextlib.suppress(NotFound, Conflict):
                ctx.kube.delete(
                    CHALLENGES, namespace, meta(challenge)["name"], uid=meta(challenge)["uid"]
                )
    for owner in meta(order).get("ownerReferences") or []:
        if owner.get("kind") != "CertificateRequest":
            continue
        request = ctx.kube.find(CERTIFICATE_REQUESTS, namespace, str(owner.get("name")))
        if request is None:
            continue
        certificate = cr.belongs_to(request)
        if certificate:
            reconcile_certificate(ctx, namespace=namespace, name=certificate)
        else:
            cr.sign(ctx, request)


def owned_challenges(ctx: Context, order: Mapping[str, Any]) -> list[Obj]:
    items, _ = ctx.kube.list(CHALLENGES, meta(order).get("namespace"))
    uid = meta(order).get("uid")
    return [
        c for c in items if any(o.get("uid") == uid for o in meta(c).get("ownerReferences") or [])
    ]
