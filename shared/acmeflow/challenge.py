"""The Challenge reconciler: present, self-check, accept, wait for the CA, clean up.

1. not presented: put the response in place, then record `presented: true`
   (presenting again after a crash is harmless: providers are idempotent)
2. self-check until the CA would see the response (bounded; else wait for the
   next event or tick, with the reason on status)
3. accept (repeatable) and poll the authorization a bounded time
4. valid or invalid: withdraw the response, record the final state with the
   CA's reason in one write, and move the Order on
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from shared.acme import orders as acme_orders
from shared.acme.errors import PermanentAcmeError
from shared.acmeflow import polling, presenters
from shared.acmeflow.backoff import paused_until, pausing_on_retry_after
from shared.acmeflow.order import FINALIZER, reconcile_order
from shared.faults import checkpoint
from shared.issuance.certificates import RetryLater
from shared.issuers.acme import CLIENT_ERRORS, AcmeConfigError, client_for
from shared.issuers.base import IssuerScope
from shared.issuers.resolve import IssuerUnavailable, resolve
from shared.kube.errors import Conflict, NotFound
from shared.kube.objects import format_time, meta
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CHALLENGES
from shared.runtime import Context

FINAL_STATES: Final = frozenset({"valid", "invalid", "errored", "expired"})
CONFLICT_RETRIES: Final = 5

Obj = dict[str, Any]


def reconcile_challenge(ctx: Context, *, namespace: str, name: str) -> str:
    with pausing_on_retry_after(ctx, CHALLENGES, namespace=namespace, name=name):
        for _ in range(CONFLICT_RETRIES):
            try:
                return _Run(ctx, namespace, name).run()
            except Conflict:
                continue
    raise RetryLater(f"challenge {namespace}/{name} kept changing; try again")


class _Run:
    def __init__(self, ctx: Context, namespace: str, name: str) -> None:
        self.ctx = ctx
        self.namespace = namespace
        self.name = name

    def run(self) -> str:
        challenge = self.ctx.kube.find(CHALLENGES, self.namespace, self.name)
        if challenge is None:
            return "challenge gone"
        spec = challenge.get("spec") or {}
        status: Obj = dict(challenge.get("status") or {})
        try:
            scope = resolve(
                self.ctx, namespace=self.namespace, ref=spec.get("issuerRef") or {}
            ).scope
        except IssuerUnavailable as error:
            if meta(challenge).get("deletionTimestamp"):
                return self._release(challenge, scope=None)
            return f"waiting for issuer: {error.message}"
        if meta(challenge).get("deletionTimestamp"):
            return self._release(challenge, scope=scope)
        state = str(status.get("state") or "")
        if state in FINAL_STATES:
            if status.get("presented"):
                self._finish_cleanup(challenge, scope)
            return f"challenge {state}"
        paused = paused_until(challenge, now=self.ctx.clock.now())
        if paused is not None:
            return f"challenge: the ACME server asked to wait until {format_time(paused)}"
        try:
            client = client_for(scope)
        except AcmeConfigError as error:
            return self._final(challenge, scope, state="errored", reason=str(error))
        except CLIENT_ERRORS as error:
            return f"waiting for the issuer's account: {error}"
        if not status.get("presented"):
            try:
                presenters.present(self.ctx, scope, challenge)
            except presenters.PresentError as error:
                return self._waiting(
                    challenge, f"Error presenting challenge: {error}", event="PresentError"
                )
            status.update(presented=True, processing=True, state="pending", reason="")
            challenge = self.ctx.kube.replace_status(CHALLENGES, {**challenge, "status": status})
            checkpoint("challenge-presented")
            self.ctx.recorder.record(
                challenge,
                type=NORMAL,
                reason="Presented",
                message=f"Presented challenge using {spec.get('type')} challenge mechanism",
            )
        presented = challenge
        problem = polling.default_poller.until(
            lambda: presenters.self_check(self.ctx, presented), lambda p: p is None
        )
        if problem is not None:
            return self._waiting(
                challenge, f"Waiting for {spec.get('type')} challenge propagation: {problem}"
            )
        try:
            accepted = acme_orders.accept_challenge(client=client, url=str(spec["url"]))
            checkpoint("challenge-accepted")
            challenge = self._track(challenge, accepted.status)
            authorization = polling.default_poller.until(
                lambda: acme_orders.get_authorization(
                    client=client, url=str(spec["authorizationURL"])
                ),
                lambda a: a.status != acme_orders.PENDING,
            )
        except PermanentAcmeError as error:
            return self._final(challenge, scope, state="errored", reason=str(error))
        if authorization.status == acme_orders.VALID:
            return self._final(
                challenge, scope, state="valid", reason="Successfully authorized domain"
            )
        if authorization.status == acme_orders.PENDING:
            return self._waiting(challenge, "Waiting for authorization from the ACME server")
        try:
            acme_orders.raise_if_invalid(authorization)
            reason = f"authorization is {authorization.status}"
        except PermanentAcmeError as error:
            reason = f"Error accepting authorization: acme: authorization error for {spec.get('dnsName')}: {error}"
        return self._final(challenge, scope, state="invalid", reason=reason)

    def _track(self, challenge: Obj, state: str) -> Obj:
        """The CA's challenge state once accepted (processing: being validated), while
        presented; a write only when it changed. Final states are written by _final."""
        status = dict(challenge.get("status") or {})
        if state in FINAL_STATES or status.get("state") == state:
            return challenge
        status.update(state=state, processing=True)
        return self.ctx.kube.replace_status(CHALLENGES, {**challenge, "status": status})

    def _waiting(self, challenge: Obj, reason: str, *, event: str | None = None) -> str:
        """Record why the Challenge waits; a Warning `event` only when the reason changes,
        so a retry loop on the same failure writes and records nothing more."""
        status = dict(challenge.get("status") or {})
        if status.get("reason") != reason:
            status.update(reason=reason, processing=True, state=status.get("state") or "pending")
            stored = self.ctx.kube.replace_status(CHALLENGES, {**challenge, "status": status})
            if event is not None:
                self.ctx.recorder.record(stored, type=WARNING, reason=event, message=reason)
        return reason

    def _final(self, challenge: Obj, scope: IssuerScope, *, state: str, reason: str) -> str:
        """Withdraw the response, then record the final state (one write) and move the Order."""
        presented = self._cleanup(challenge, scope)
        status = dict(challenge.get("status") or {})
        status.update(state=state, reason=reason, processing=False, presented=presented)
        stored = self.ctx.kube.replace_status(CHALLENGES, {**challenge, "status": status})
        checkpoint("challenge-final")
        if state == "valid":
            self.ctx.recorder.record(stored, type=NORMAL, reason="DomainVerified", message=reason)
        else:
            self.ctx.recorder.record(stored, type=WARNING, reason="Failed", message=reason)
        self._move_order(stored)
        return f"challenge {state}"

    def _finish_cleanup(self, challenge: Obj, scope: IssuerScope) -> None:
        """A final Challenge still presented (a crash came between): withdraw it now."""
        presented = self._cleanup(challenge, scope)
        if not presented:
            status = {**challenge["status"], "presented": False}
            self.ctx.kube.replace_status(CHALLENGES, {**challenge, "status": status})
        self._move_order(challenge)

    def _release(self, challenge: Obj, *, scope: IssuerScope | None) -> str:
        """Being deleted: withdraw what is presented, then let the deletion finish."""
        if scope is not None and self._cleanup(challenge, scope):
            return "challenge deleted: cleanup failed, will retry"
        if scope is None and (challenge.get("status") or {}).get("presented"):
            self.ctx.recorder.record(
                challenge,
                type=WARNING,
                reason="CleanUpError",
                message="Issuer is gone: the presented response cannot be withdrawn",
            )
        finalizers = meta(challenge).get("finalizers") or []
        if FINALIZER in finalizers:
            remaining = [f for f in finalizers if f != FINALIZER]
            body = {**challenge, "metadata": {**meta(challenge), "finalizers": remaining}}
            with contextlib.suppress(NotFound):
                self.ctx.kube.replace(CHALLENGES, body)
        return "challenge deleted"

    def _cleanup(self, challenge: Obj, scope: IssuerScope) -> bool:
        """Whether the response is still presented afterwards (cleanup failed)."""
        if not (challenge.get("status") or {}).get("presented"):
            return False
        try:
            presenters.cleanup(self.ctx, scope, challenge)
        except presenters.PresentError as error:
            self.ctx.recorder.record(
                challenge,
                type=WARNING,
                reason="CleanUpError",
                message=f"Error cleaning up challenge: {error}",
            )
            return True
        return False

    def _move_order(self, challenge: Obj) -> None:
        for owner in meta(challenge).get("ownerReferences") or []:
            if owner.get("kind") == "Order":
                reconcile_order(self.ctx, namespace=self.namespace, name=str(owner["name"]))
