"""The Certificate workflow, as one readable state machine.

Every invocation reads current state, decides, acts and persists, with
resourceVersion preconditions; a 409 re-reads and re-decides. Progress lives on the
API objects only, in an order that lets any later invocation finish the job:

  1. the next private key is stored in a Secret named after the Certificate
     (concurrent invocations converge on it; nothing depends on a key not yet stored)
  2. the CertificateRequest `<certificate>-<revision>` is created with the CSR
  3. our issuers approve and sign it: the signed chain is recorded on its status
  4. the target Secret is written from what the request recorded (never from memory)
  5. the temporary key Secret is deleted
  6. the Certificate status moves to the new revision
  7. requests beyond revisionHistoryLimit are deleted (again on every later sync)

A crash between any two steps leaves state from which the next invocation resumes
at the step it stopped at: one key, one request, one certificate per revision.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509

from shared.certificates.matching import request_violations
from shared.certificates.policy import (
    Condition,
    Trigger,
    backoff_until,
    issuance_trigger,
    ready_condition,
    renewal_time,
)
from shared.certificates.spec import CertificateSpec, InvalidSpec, parse_certificate
from shared.failures import (
    INTERNAL_ERROR,
    Retryable,
    describe,
    internal_error_since,
    unexpected,
)
from shared.faults import checkpoint
from shared.issuance import requests as cr
from shared.issuance import secrets
from shared.issuance.names import next_key_secret_name, request_name
from shared.issuers.resolve import IssuerUnavailable, resolve
from shared.kube.errors import AlreadyExists, Conflict, Invalid, NotFound
from shared.kube.objects import (
    annotations_of,
    encode_data,
    format_time,
    get_condition,
    labels_of,
    meta,
    name_of,
    owner_reference,
    parse_time,
    remove_condition,
    secret_bytes,
    set_condition,
)
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CERTIFICATE_REQUESTS, CERTIFICATES, SECRETS
from shared.pki.csr import build_csr
from shared.pki.keys import (
    InvalidPrivateKey,
    PrivateKey,
    encode_private_key,
    generate_private_key,
    key_algorithm,
    key_matches_spec,
    load_private_key,
    public_keys_equal,
)
from shared.pki.x509 import InvalidCertificate, load_certificate_chain, readable_leaf
from shared.runtime import Context

log = logging.getLogger(__name__)

NEXT_KEY_LABEL: Final = "cert-manager.io/next-private-key"
ISSUED_MESSAGE: Final = "The certificate has been successfully issued"
MANUALLY_TRIGGERED: Final = "ManuallyTriggered"  # the Issuing reason `cmctl renew` sets
CONFLICT_RETRIES: Final = 8
# Condition reason and Event when the API server refuses the Secret we write.
REJECTED_REASON: Final = "SecretRejected"
# ... and when a keystore the spec asks for has no password to be made with.
NO_KEYSTORE_REASON: Final = "KeystorePasswordMissing"

Obj = dict[str, Any]


class RetryLater(Retryable):
    """The object kept moving under us; the event should be delivered again."""


def reconcile_certificate(
    ctx: Context, *, namespace: str, name: str, tidy: bool = False
) -> Obj | None:
    """Bring one Certificate to where its spec says; returns it as last read (None: gone).

    `tidy` also removes a temporary key Secret that no issuance uses: one is left only
    when a run raced another, so runs that lost a race, and the sweep, look for it.
    """
    for _ in range(CONFLICT_RETRIES):
        run = _Run(ctx, namespace, name, tidy=tidy)
        try:
            run.run()
        except (Conflict, AlreadyExists):
            tidy = True
            continue  # someone else moved first: re-read and re-decide
        except BaseException as error:  # a library's panic too; `unexpected` re-raises the rest
            if run.cert is None or not unexpected(error):
                raise
            log.exception("reconciling certificate %s/%s failed", namespace, name)
            record_internal_error(ctx, namespace=namespace, name=name, error=error)
        return run.cert
    raise RetryLater(f"certificate {namespace}/{name} kept changing; try again")


def record_internal_error(ctx: Context, *, namespace: str, name: str, error: BaseException) -> None:
    """Ready=False/InternalError at the current generation, a failed attempt counted (so
    the failure backoff applies) and a Warning Event. The Secret is left as it is."""
    message = describe(error, doing="reconciling the Certificate")
    for _ in range(CONFLICT_RETRIES):
        cert = ctx.kube.find(CERTIFICATES, namespace, name)
        if cert is None:
            return
        now = ctx.clock.now()
        status: Obj = dict(cert.get("status") or {})
        status["lastFailureTime"] = format_time(now)
        status["failedIssuanceAttempts"] = int(status.get("failedIssuanceAttempts") or 0) + 1
        until = backoff_until(
            last_failure_time=now, failed_attempts=status["failedIssuanceAttempts"]
        )
        text = f"{message}; will try again after {format_time(until)} or when the spec changes"
        set_condition(
            status,
            kind="Ready",
            value="False",
            reason=INTERNAL_ERROR,
            message=text,
            now=now,
            generation=meta(cert).get("generation"),
        )
        try:
            ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        except Conflict:
            continue
        ctx.recorder.record(cert, type=WARNING, reason=INTERNAL_ERROR, message=text)
        return
    raise RetryLater(f"certificate {namespace}/{name} kept changing; try again")


@dataclass
class _Run:
    ctx: Context
    namespace: str
    name: str
    tidy: bool = False
    cert: Obj | None = None
    key: PrivateKey | None = None

    # -- decide ----------------------------------------------------------------------

    def run(self) -> None:
        kube = self.ctx.kube
        cert = self.cert = kube.find(CERTIFICATES, self.namespace, self.name)
        if cert is None or meta(cert).get("deletionTimestamp"):
            return
        status: Obj = dict(cert.get("status") or {})
        if self._broke_recently(cert, status):
            return  # the last attempt at this generation broke: nothing until the backoff ends
        try:
            spec = parse_certificate(cert)
        except InvalidSpec as error:
            self._not_ready(cert, reason=error.reason, message=error.message, event=True)
            return
        secret = kube.find(SECRETS, self.namespace, spec.secret_name)
        other = self._secret_claimed_by_other(secret, spec)
        if other:
            self._not_ready(
                cert,
                reason="DuplicateSecretName",
                message=f"Secret {spec.secret_name!r} is already used by Certificate {other!r}; "
                "give each Certificate its own spec.secretName",
                event=True,
            )
            return

        revision = int(status.get("revision") or 0) + 1
        request = kube.find(CERTIFICATE_REQUESTS, self.namespace, request_name(self.name, revision))
        if request is not None and not self._request_usable(cert, spec, request):
            kube.delete(
                CERTIFICATE_REQUESTS,
                self.namespace,
                meta(request)["name"],
                uid=meta(request)["uid"],
            )
            request = None
        if request is not None and cr.state_of(request) == "issued":
            self._complete(cert, spec, secret, request, revision)
            return

        now = self.ctx.clock.now()
        current = None  # the request the stored certificate came from: spec-change checks
        if revision > 1:
            current = kube.find(
                CERTIFICATE_REQUESTS, self.namespace, request_name(self.name, revision - 1)
            )
        trigger = issuance_trigger(
            spec=spec, secret=secret, status=status, now=now, request=current
        )
        issuing = get_condition(status, "Issuing")
        if trigger is None and issuing is not None and issuing.get("status") == "True":
            trigger = Trigger(str(issuing.get("reason")), str(issuing.get("message") or ""))
        if trigger is None:
            self._sync(cert, spec, secret)
            return
        if self._backing_off(cert, status):
            # No new attempt yet, but Ready still follows the stored certificate, which
            # may expire while the backoff runs. The next key waits for the retry.
            self._sync(cert, spec, secret, tidy=False)
            return
        try:
            self._issue(
                cert, spec=spec, secret=secret, trigger=trigger, revision=revision, request=request
            )
        except SecretConflict as error:
            self._not_ready(cert, reason="SecretConflict", message=str(error), event=True)

    def _secret_claimed_by_other(
        self, secret: Mapping[str, Any] | None, spec: CertificateSpec
    ) -> str | None:
        owner = annotations_of(secret or {}).get(cr.CERTIFICATE_NAME)
        if not owner or owner == self.name:
            return None
        other = self.ctx.kube.find(CERTIFICATES, self.namespace, owner)
        if other is not None and (other.get("spec") or {}).get("secretName") == spec.secret_name:
            return owner
        return None

    def _request_usable(self, cert: Obj, spec: CertificateSpec, request: Obj) -> bool:
        """A leftover request is reused only if it still asks for what the spec says."""
        if cr.belongs_to(request) != self.name or not any(
            o.get("uid") == meta(cert).get("uid")
            for o in meta(request).get("ownerReferences") or []
        ):
            return False
        if request_violations(request, spec) != []:  # None: unreadable, also unusable
            return False
        if cr.state_of(request) in ("failed", "denied"):
            # A failed attempt is retried with a fresh request once the backoff is over.
            status = cert.get("status") or {}
            last = parse_time(status.get("lastFailureTime"))
            attempts = int(status.get("failedIssuanceAttempts") or 0)
            failed_at = parse_time((request.get("status") or {}).get("failureTime"))
            if last is None or attempts == 0 or failed_at is None or last < failed_at:
                # Failed elsewhere (an ACME Order finished in another invocation, an
                # approver denied it) and not recorded here yet: keep it, so this run
                # records the failure and backs off.
                return True
            return self.ctx.clock.now() < backoff_until(
                last_failure_time=last, failed_attempts=attempts
            )
        return True

    def _broke_recently(self, cert: Obj, status: Mapping[str, Any]) -> bool:
        last = parse_time(status.get("lastFailureTime"))
        attempts = int(status.get("failedIssuanceAttempts") or 0)
        if internal_error_since(cert) is None or last is None or attempts == 0:
            return False
        return self.ctx.clock.now() < backoff_until(
            last_failure_time=last, failed_attempts=attempts
        )

    def _backing_off(self, cert: Obj, status: Mapping[str, Any]) -> bool:
        last = parse_time(status.get("lastFailureTime"))
        attempts = int(status.get("failedIssuanceAttempts") or 0)
        if last is None or attempts == 0:
            return False
        generation = meta(cert).get("generation")
        issuing = get_condition(status, "Issuing") or {}
        if issuing.get("observedGeneration") not in (None, generation):
            return False  # the spec changed since the failure: try the new spec at once
        ready = get_condition(status, "Ready") or {}
        if ready.get("reason") == INTERNAL_ERROR and ready.get("observedGeneration") != generation:
            return False  # likewise after a failure that was no failed request
        return self.ctx.clock.now() < backoff_until(
            last_failure_time=last, failed_attempts=attempts
        )

    # -- act ---------------------------------------------------------------------------

    def _issue(
        self,
        cert: Obj,
        *,
        spec: CertificateSpec,
        secret: Obj | None,
        trigger: Trigger,
        revision: int,
        request: Obj | None,
    ) -> None:
        try:
            resolved = resolve(self.ctx, namespace=self.namespace, ref=_ref(spec))
        except IssuerUnavailable as error:
            self._mark_issuing(cert, spec, trigger, waiting=error)
            return
        if request is None:
            try:
                key, key_secret = self._next_private_key(cert, spec, secret)
            except KeyRotationRefused as refused:
                # As cert-manager's key manager: the user must step in; no request is made.
                # Its trigger has already told why issuance began, as _create_request would.
                once = f"{meta(cert).get('generation')}"
                self._record_issuing(cert, trigger, once=f"Issuing/{once}")
                self.ctx.recorder.record(
                    cert,
                    type=WARNING,
                    reason="CannotRegenerateKey",
                    message=str(refused),
                    once=f"CannotRegenerateKey/{once}",
                )
                self._mark_issuing(cert, spec, trigger)
                return
            self.key = key  # the key Secret need not be read back to store the certificate
            checkpoint("key-persisted")
            request = self._create_request(
                cert, spec=spec, key=key, key_secret=key_secret, revision=revision, trigger=trigger
            )
            checkpoint("request-created")
        request = cr.sign(self.ctx, request, resolved=resolved)
        checkpoint("request-signed")
        state = cr.state_of(request)
        if state == "issued":
            self._complete(cert, spec, secret, request, revision)
        elif state == "pending":
            pending_key = annotations_of(request).get(cr.PRIVATE_KEY_SECRET_NAME)
            self._mark_issuing(cert, spec, trigger, key_secret=pending_key)
        else:
            self._fail(cert, spec, secret, request)

    def _next_private_key(
        self, cert: Obj, spec: CertificateSpec, secret: Obj | None
    ) -> tuple[PrivateKey, str]:
        """The key the next certificate is for, stored before anything depends on it."""
        want = spec.private_key
        if want.rotation_policy == "Never" and secret is not None:
            try:
                current = load_private_key(secret_bytes(secret, "tls.key") or b"")
            except InvalidPrivateKey:
                current = None
            if current and key_matches_spec(current, algorithm=want.algorithm, size=want.size):
                return current, spec.secret_name
            if current:
                raise KeyRotationRefused(spec.secret_name, current, want.algorithm)
        kube, name = self.ctx.kube, next_key_secret_name(self.name)
        stored = kube.find(SECRETS, self.namespace, name)
        if stored is not None:
            if labels_of(stored).get(NEXT_KEY_LABEL) != "true":
                raise SecretConflict(
                    f"Secret {name!r} exists and is not a private key Secret of this Certificate"
                )
            try:
                key = load_private_key(secret_bytes(stored, "tls.key") or b"")
                if key_matches_spec(key, algorithm=want.algorithm, size=want.size):
                    return key, name
            except InvalidPrivateKey:
                pass
            kube.delete(SECRETS, self.namespace, name, uid=meta(stored)["uid"])
        key = generate_private_key(algorithm=want.algorithm, size=want.size)
        pem = encode_private_key(key, encoding=want.encoding)
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {NEXT_KEY_LABEL: "true", "controller.cert-manager.io/fao": "true"},
                "ownerReferences": [owner_reference(cert)],
            },
            "data": encode_data({"tls.key": pem}),
        }
        kube.create(SECRETS, body)  # AlreadyExists: a concurrent run won; re-decide with its key
        return key, name

    def _create_request(
        self,
        cert: Obj,
        *,
        spec: CertificateSpec,
        key: PrivateKey,
        key_secret: str,
        revision: int,
        trigger: Trigger,
    ) -> Obj:
        name = request_name(self.name, revision)
        body = cr.build_request(
            cert,
            spec,
            name=name,
            revision=revision,
            csr_pem=build_csr(spec=spec, key=key),
            key_secret_name=key_secret,
        )
        created = self.ctx.kube.create(CERTIFICATE_REQUESTS, body)
        # Creating the request is the one step exactly one run succeeds at, so the story
        # of this issuance is told here, once, even if another run stored the key.
        self._record_issuing(cert, trigger)
        if key_secret != spec.secret_name:
            self.ctx.recorder.record(
                cert,
                type=NORMAL,
                reason="Generated",
                message=f'Stored new private key in temporary Secret resource "{key_secret}"',
            )
        self.ctx.recorder.record(
            cert,
            type=NORMAL,
            reason="Requested",
            message=f'Created new CertificateRequest resource "{name}"',
        )
        return created

    def _record_issuing(self, cert: Obj, trigger: Trigger, *, once: str | None = None) -> None:
        # cert-manager's trigger controller says why when it sets Issuing=True; a renewal
        # asked for by hand (the user set the condition) gets no Event from it.
        if trigger.reason != MANUALLY_TRIGGERED:
            self.ctx.recorder.record(
                cert, type=NORMAL, reason="Issuing", message=trigger.message, once=once
            )

    def _complete(
        self,
        cert: Obj,
        spec: CertificateSpec,
        secret: Obj | None,
        request: Obj,
        revision: int,
    ) -> None:
        chain_pem = cr.decoded(request, "certificate") or b""
        ca_pem = cr.decoded(request, "ca")
        key_pem = self._issued_key(spec, secret, request, chain_pem)
        if key_pem is None:
            # The key this request was made for is gone and no Secret holds it: the
            # certificate is useless. Drop the request; the next run issues afresh.
            self.ctx.kube.delete(
                CERTIFICATE_REQUESTS,
                self.namespace,
                meta(request)["name"],
                uid=meta(request)["uid"],
            )
            raise Conflict(409, "Conflict", "issued request lost its private key; re-deciding")
        try:
            desired = secrets.desired_secret(
                self.ctx, spec, existing=secret, key_pem=key_pem, chain_pem=chain_pem, ca_pem=ca_pem
            )
        except secrets.KeystorePasswordMissing as error:
            self._not_ready(cert, reason=NO_KEYSTORE_REASON, message=str(error), event=True)
            return
        try:
            stored = secrets.store(self.ctx, secret, desired)
        except Invalid as error:
            # The API refuses the Secret (e.g. its annotations grew too large with ones
            # another actor set). Retrying cannot help until someone changes something:
            # say so, keep the old Secret, and keep the signed request and its key so
            # the next run completes without signing again.
            self._not_ready(
                cert, reason=REJECTED_REASON, message=_rejected(spec, error), event=True
            )
            return
        checkpoint("secret-written")
        key_secret = annotations_of(request).get(cr.PRIVATE_KEY_SECRET_NAME)
        if key_secret and key_secret != spec.secret_name:
            with contextlib.suppress(NotFound):
                self.ctx.kube.delete(SECRETS, self.namespace, key_secret)
        checkpoint("key-cleaned")
        status: Obj = dict(cert.get("status") or {})
        status["revision"] = revision
        for stale in ("lastFailureTime", "failedIssuanceAttempts", "nextPrivateKeySecretName"):
            status.pop(stale, None)
        remove_condition(status, "Issuing")
        self._observe(cert, spec, stored, status)
        # Before the status write, named for the revision: a re-run after a crash on
        # either side of the write finds it recorded rather than losing or repeating it.
        self.ctx.recorder.record(
            cert,
            type=NORMAL,
            reason="Issuing",  # cert-manager's reason for success too, not "Issued"
            message=ISSUED_MESSAGE,
            once=f"Issued/{revision}",
        )
        self.ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        checkpoint("status-written")
        self._prune_requests(cert, spec, revision=revision)

    def _prune_requests(self, cert: Obj, spec: CertificateSpec, *, revision: int) -> None:
        """Keep the newest revisionHistoryLimit requests up to `revision`, as cert-manager.

        Runs after every completed issuance and on every sync, so a crash before it, or a
        lowered limit, ends the same way. A request newer than `revision` is an issuance
        in flight and is left alone.

        Our requests are named for their revision and each is pruned as it falls out of
        the history, so the requests to drop are found by name, walking down from the
        newest one past the limit to the first one already gone: a GET or two, where a
        LIST of the namespace's requests (each with its CSR and chain) grows with the
        cluster. A tidying run (the sweep, a run after a race) still LISTs, and so also
        finds requests named otherwise.
        """
        limit = spec.revision_history_limit
        if revision <= limit:
            return  # no more than `limit` revisions exist yet: nothing to list
        uid = meta(cert).get("uid")
        if not self.tidy:
            for older in range(revision - limit, 0, -1):
                name = request_name(self.name, older)
                found = self.ctx.kube.find(CERTIFICATE_REQUESTS, self.namespace, name)
                if found is None or not _owned_by(found, uid):
                    return
                self._delete_request(found)
            return
        items, _ = self.ctx.kube.list(CERTIFICATE_REQUESTS, self.namespace)
        kept: list[tuple[int, Obj]] = []
        for request in items:
            if not _owned_by(request, uid):
                continue
            number = _revision_of(request)
            if number is not None and number <= revision:
                kept.append((number, request))
        kept.sort(key=lambda pair: pair[0])
        for _, stale in kept[: max(len(kept) - limit, 0)]:
            self._delete_request(stale)

    def _delete_request(self, request: Obj) -> None:
        with contextlib.suppress(NotFound):
            self.ctx.kube.delete(
                CERTIFICATE_REQUESTS, self.namespace, name_of(request), uid=meta(request)["uid"]
            )

    def _issued_key(
        self, spec: CertificateSpec, secret: Obj | None, request: Obj, chain_pem: bytes
    ) -> bytes | None:
        """The PEM key that belongs to the issued chain: from the key Secret, else the target."""
        try:
            public = load_certificate_chain(chain_pem)[0].public_key()
        except InvalidCertificate:
            return None

        if self.key is not None and public_keys_equal(self.key.public_key(), public):
            return encode_private_key(self.key, encoding=spec.private_key.encoding)

        def candidates() -> Iterator[bytes | None]:
            key_secret = annotations_of(request).get(cr.PRIVATE_KEY_SECRET_NAME)
            if key_secret and key_secret != spec.secret_name:
                yield secret_bytes(
                    self.ctx.kube.find(SECRETS, self.namespace, key_secret), "tls.key"
                )
            yield secret_bytes(secret, "tls.key")
            # What we read at the start may be stale: a concurrent run may have stored the
            # key in the target Secret and removed the temporary one since.
            yield secret_bytes(
                self.ctx.kube.find(SECRETS, self.namespace, spec.secret_name), "tls.key"
            )

        for pem in candidates():
            if not pem:
                continue
            try:
                key = load_private_key(pem)
            except InvalidPrivateKey:
                continue
            if public_keys_equal(key.public_key(), public):
                return encode_private_key(key, encoding=spec.private_key.encoding)
        return None

    def _fail(self, cert: Obj, spec: CertificateSpec, secret: Obj | None, request: Obj) -> None:
        """Issuing=False with the request's reason, as cert-manager's issuing controller.

        Ready is not the request's business: it still says what the Secret holds
        (DoesNotExist on a first issuance, Ready or Expired on a failed renewal).
        """
        reason, message = cr.failure_of(request)
        status: Obj = dict(cert.get("status") or {})
        failed_at = (request.get("status") or {}).get("failureTime") or format_time(
            self.ctx.clock.now()
        )
        issuing = get_condition(status, "Issuing") or {}
        if issuing.get("status") == "False" and status.get("lastFailureTime") == failed_at:
            self._sync(cert, spec, secret, tidy=False)  # this failure is already recorded
            return
        now = self.ctx.clock.now()
        status["lastFailureTime"] = failed_at
        status["failedIssuanceAttempts"] = int(status.get("failedIssuanceAttempts") or 0) + 1
        text = f"The certificate request has failed to complete and will be retried: {message}"
        set_condition(
            status,
            kind="Issuing",
            value="False",
            reason=reason,
            message=text,
            now=now,
            generation=meta(cert).get("generation"),
        )
        self._observe(cert, spec, secret, status)
        self.ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        self.ctx.recorder.record(cert, type=WARNING, reason=reason, message=text)

    # -- status only -------------------------------------------------------------------

    def _mark_issuing(
        self,
        cert: Obj,
        spec: CertificateSpec,
        trigger: Trigger,
        *,
        waiting: IssuerUnavailable | None = None,
        key_secret: str | None = None,
    ) -> None:
        status: Obj = dict(cert.get("status") or {})
        now = self.ctx.clock.now()
        generation = meta(cert).get("generation")
        set_condition(
            status,
            kind="Issuing",
            value="True",
            reason=trigger.reason,
            message=trigger.message,
            now=now,
            generation=generation,
        )
        secret = self.ctx.kube.find(SECRETS, self.namespace, spec.secret_name)
        ready = ready_condition(spec=spec, secret=secret, status=status, now=now)
        reason, message = ready.reason, ready.message
        if waiting is not None and ready.reason == "DoesNotExist":
            # Nothing issued yet: the issuer is what the user has to fix, and no request
            # exists to carry its message. A stored certificate's own state (Ready,
            # Expired, ...) still wins, as in cert-manager's readiness controller.
            reason, message = waiting.reason, waiting.message
        set_condition(
            status,
            kind="Ready",
            value=ready.status,
            reason=reason,
            message=message,
            now=now,
            generation=generation,
        )
        if key_secret and key_secret != spec.secret_name:
            status["nextPrivateKeySecretName"] = key_secret
        if _same_status(status, cert.get("status") or {}):
            return
        self.ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        if waiting is not None:
            self.ctx.recorder.record(
                cert, type=WARNING, reason=waiting.reason, message=waiting.message
            )

    def _sync(
        self, cert: Obj, spec: CertificateSpec, secret: Obj | None, *, tidy: bool | None = None
    ) -> None:
        """Nothing to issue: make status (and the Secret's metadata) match what is stored."""
        status: Obj = dict(cert.get("status") or {})
        problem = None
        if secret is not None and _leaf(secret) is not None:
            problem = self._refresh_secret(spec, secret)
        self._observe(cert, spec, secret, status, problem=problem)
        if self.tidy if tidy is None else tidy:
            self._drop_unused_next_key()
        if not _same_status(status, cert.get("status") or {}):
            self.ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
            before = get_condition(cert.get("status") or {}, "Ready") or {}
            after = get_condition(status, "Ready") or {}
            newly = after.get("reason") != before.get("reason")
            if problem is not None and after.get("reason") == problem.reason and newly:
                self.ctx.recorder.record(
                    cert, type=WARNING, reason=problem.reason, message=problem.message
                )
        self._prune_requests(cert, spec, revision=int(status.get("revision") or 0))

    def _observe(
        self,
        cert: Obj,
        spec: CertificateSpec,
        secret: Obj | None,
        status: Obj,
        *,
        problem: Trigger | None = None,
    ) -> x509.Certificate | None:
        """Status fields that follow from the stored certificate: times and Ready.

        `problem` is why the Secret cannot be made what the spec asks (a keystore without
        its password, metadata the API refuses): not Ready, unless the stored certificate
        itself already says why not.
        """
        now = self.ctx.clock.now()
        leaf = _leaf(secret)
        if leaf is not None:
            not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
            status["notBefore"] = format_time(not_before)
            status["notAfter"] = format_time(not_after)
            status["renewalTime"] = format_time(
                renewal_time(not_before=not_before, not_after=not_after, spec=spec)
            )
        ready = ready_condition(spec=spec, secret=secret, status=status, now=now)
        if problem is not None and ready.status == "True":
            ready = Condition("Ready", "False", problem.reason, problem.message)
        set_condition(
            status,
            kind="Ready",
            value=ready.status,
            reason=ready.reason,
            message=ready.message,
            now=now,
            generation=meta(cert).get("generation"),
        )
        return leaf

    def _drop_unused_next_key(self) -> None:
        """A next-key Secret left by a run that lost a race is not kept once nothing issues."""
        name = next_key_secret_name(self.name)
        stored = self.ctx.kube.find(SECRETS, self.namespace, name)
        if stored is not None and labels_of(stored).get(NEXT_KEY_LABEL) == "true":
            with contextlib.suppress(NotFound):
                self.ctx.kube.delete(SECRETS, self.namespace, name, uid=meta(stored)["uid"])

    def _refresh_secret(self, spec: CertificateSpec, secret: Obj) -> Trigger | None:
        """secretTemplate and output formats apply without re-issuing, as in cert-manager.

        Returns why the Secret cannot be brought up to date, if it cannot.
        """
        key_pem = secret_bytes(secret, "tls.key")
        chain_pem = secret_bytes(secret, "tls.crt")
        if not key_pem or not chain_pem:
            return None
        try:
            desired = secrets.desired_secret(
                self.ctx,
                spec,
                existing=secret,
                key_pem=key_pem,
                chain_pem=chain_pem,
                ca_pem=secret_bytes(secret, "ca.crt"),
            )
        except secrets.KeystorePasswordMissing as error:
            return Trigger(NO_KEYSTORE_REASON, str(error))
        except (InvalidCertificate, InvalidPrivateKey):
            return None  # Ready already says what is wrong with the stored pair
        try:
            secrets.store(self.ctx, secret, desired)
        except Invalid as error:
            return Trigger(REJECTED_REASON, _rejected(spec, error))
        return None

    def _not_ready(self, cert: Obj, *, reason: str, message: str, event: bool) -> None:
        status: Obj = dict(cert.get("status") or {})
        previous = get_condition(status, "Ready") or {}
        generation = meta(cert).get("generation")
        if (
            previous.get("status"),
            previous.get("reason"),
            previous.get("message"),
            previous.get("observedGeneration"),
        ) == ("False", reason, message, generation):
            return
        set_condition(
            status,
            kind="Ready",
            value="False",
            reason=reason,
            message=message,
            now=self.ctx.clock.now(),
            generation=generation,
        )
        self.ctx.kube.replace_status(CERTIFICATES, {**cert, "status": status})
        if event:
            self.ctx.recorder.record(cert, type=WARNING, reason=reason, message=message)


class SecretConflict(Exception):
    """A Secret we need to write holds something that is not ours."""


class KeyRotationRefused(Exception):
    """rotationPolicy Never, and the stored private key no longer fits spec.privateKey."""

    def __init__(self, secret_name: str, key: PrivateKey, algorithm: str) -> None:
        field = "algorithm" if key_algorithm(key) != algorithm else "size"
        super().__init__(
            # cert-manager's wording, so alerts written for it still match.
            f'User intervention required: existing private key in Secret "{secret_name}" '
            "does not match requirements on Certificate resource, mismatching fields: "
            f"[spec.privateKey.{field}], but cert-manager cannot create new private key as "
            "the Certificate's .spec.privateKey.rotationPolicy is unset or set to Never. "
            "To allow cert-manager to create a new private key you can set "
            ".spec.privateKey.rotationPolicy to 'Always' (this will result in the private "
            "key being regenerated every time a cert is renewed) "
        )


def _ref(spec: CertificateSpec) -> dict[str, str]:
    ref = spec.issuer_ref
    return {"name": ref.name, "kind": ref.kind, "group": ref.group}


def _same_status(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal up to condition order: set_condition moves the one it sets to the end."""

    def normal(status: Mapping[str, Any]) -> dict[str, Any]:
        conditions = sorted(status.get("conditions") or [], key=lambda c: str(c.get("type")))
        return {**status, "conditions": conditions}

    return normal(a) == normal(b)


def _rejected(spec: CertificateSpec, error: Invalid) -> str:
    return (
        f'The API server refused to store Secret "{spec.secret_name}": {error.message}; '
        "the existing Secret is unchanged"
    )


def _owned_by(obj: Obj, uid: object) -> bool:
    return any(o.get("uid") == uid for o in meta(obj).get("ownerReferences") or [])


def _revision_of(request: Mapping[str, Any]) -> int | None:
    try:
        return int(annotations_of(request).get(cr.CERTIFICATE_REVISION) or "")
    except ValueError:
        return None


def _leaf(secret: Mapping[str, Any] | None) -> x509.Certificate | None:
    return readable_leaf(secret_bytes(secret, "tls.crt"))
