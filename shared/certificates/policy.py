"""When to (re-)issue and whether a Certificate is Ready: cert-manager's policy chains.

Each check mirrors one of cert-manager's trigger/readiness policies, in its order and
wording, as a pure function of (spec, Secret, status, now). The first check that fails
decides; a valid certificate that is not yet due produces no trigger.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography import x509

from shared.certificates.matching import name_violations, request_violations
from shared.certificates.spec import CertificateSpec
from shared.pki.csr import InvalidCSR, load_csr
from shared.pki.keys import DEFAULT_SIZES as DEFAULT_KEY_SIZES
from shared.pki.keys import (
    InvalidPrivateKey,
    PrivateKey,
    key_algorithm,
    key_size,
    load_private_key,
    public_keys_equal,
)
from shared.pki.x509 import InvalidCertificate, leaf_matches_key, load_certificate_chain

__all__ = [
    "BACKOFF_CAP",
    "BACKOFF_INITIAL",
    "Condition",
    "Trigger",
    "backoff_until",
    "format_go_time",
    "issuance_trigger",
    "ready_condition",
    "renewal_time",
]

BACKOFF_INITIAL: Final = timedelta(hours=1)
BACKOFF_CAP: Final = timedelta(hours=32)

# cert-manager's annotations on the Secret it writes.
ISSUER_NAME: Final = "cert-manager.io/issuer-name"
ISSUER_KIND: Final = "cert-manager.io/issuer-kind"
ISSUER_GROUP: Final = "cert-manager.io/issuer-group"
CERTIFICATE_NAME: Final = "cert-manager.io/certificate-name"

READY_MESSAGE: Final = "Certificate is up to date and has not expired"
_ISSUING_AS: Final = "Issuing certificate as"


@dataclass(frozen=True)
class Trigger:
    reason: str
    message: str


@dataclass(frozen=True)
class Condition:
    type: str
    status: str  # "True" | "False"
    reason: str
    message: str


def renewal_time(*, not_before: datetime, not_after: datetime, spec: CertificateSpec) -> datetime:
    """When cert-manager renews: notAfter - renewBefore, truncated to the second.

    renewBefore defaults to a third of the actual lifetime (the issuer may have shortened
    it); spec.renewBefore wins when shorter than that lifetime, else a renewBeforePercentage
    in (0, 100) of it; anything else falls back to the default.
    """
    lifetime = not_after - not_before
    renew_before: timedelta = lifetime / 3
    rb, pct = spec.renew_before, spec.renew_before_percentage
    if rb is not None and timedelta(0) < rb < lifetime:
        renew_before = rb
    elif pct is not None and 0 < pct < 100:
        renew_before = lifetime * pct / 100
    # Truncate like cert-manager: status.renewalTime has second precision, and comparing
    # against an untruncated value would re-queue just before it is due.
    return (not_after - renew_before).replace(microsecond=0)


def backoff_until(*, last_failure_time: datetime, failed_attempts: int) -> datetime:
    """No re-issuance before this: 1h after the first failure, doubling, capped at 32h."""
    doublings = min(max(failed_attempts, 1) - 1, 5)
    delay: timedelta = min(BACKOFF_INITIAL * (1 << doublings), BACKOFF_CAP)
    return last_failure_time + delay


def issuance_trigger(
    *,
    spec: CertificateSpec,
    secret: Mapping[str, Any] | None,
    status: Mapping[str, Any],
    now: datetime,
    request: Mapping[str, Any] | None = None,
) -> Trigger | None:
    """Why a (re-)issuance is needed now, or None.

    `request` is the CertificateRequest for the current revision when still available;
    it makes the spec comparison exact (usages, isCA, subject...). Without it the issued
    certificate's names are compared, as cert-manager does. A manual renewal (Issuing
    True with reason ManuallyTriggered, as cmctl sets it) is reported as such.
    """
    manual = _condition(status, "Issuing")
    if (
        manual is not None
        and manual.get("status") == "True"
        and manual.get("reason") == "ManuallyTriggered"
    ):
        return Trigger(
            "ManuallyTriggered",
            str(manual.get("message") or "Certificate re-issuance manually triggered"),
        )
    checks: list[_Check] = [*_SECRET_CHECKS, *_request_checks(request), _nearing_expiry]
    return _evaluate(checks, spec=spec, secret=secret, status=status, now=now)


def ready_condition(
    *,
    spec: CertificateSpec,
    secret: Mapping[str, Any] | None,
    status: Mapping[str, Any],
    now: datetime,
    request: Mapping[str, Any] | None = None,
) -> Condition:
    """The Ready condition cert-manager's readiness controller would set."""
    checks: list[_Check] = [*_SECRET_CHECKS, *_request_checks(request), _expired]
    failed = _evaluate(checks, spec=spec, secret=secret, status=status, now=now)
    if failed is None:
        return Condition(type="Ready", status="True", reason="Ready", message=READY_MESSAGE)
    return Condition(type="Ready", status="False", reason=failed.reason, message=failed.message)


def format_go_time(moment: datetime) -> str:
    """Go's default time format (`time.Time.String()`), which cert-manager's messages use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


# --- the policy chain --------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    """A Secret that holds a parseable, matching key pair: what the later checks compare."""

    spec: CertificateSpec
    secret: Mapping[str, Any]
    status: Mapping[str, Any]
    now: datetime
    leaf: x509.Certificate
    key: PrivateKey


_Check = Callable[[_Input], "Trigger | None"]


def _evaluate(
    checks: list[_Check],
    *,
    spec: CertificateSpec,
    secret: Mapping[str, Any] | None,
    status: Mapping[str, Any],
    now: datetime,
) -> Trigger | None:
    if secret is None:
        return Trigger("DoesNotExist", f"{_ISSUING_AS} Secret does not exist")
    data = _secret_data(secret)
    if data is None:
        return Trigger("MissingData", f"{_ISSUING_AS} Secret does not contain any data")
    if not data.get("tls.key"):
        return Trigger("MissingData", f"{_ISSUING_AS} Secret does not contain a private key")
    if not data.get("tls.crt"):
        return Trigger("MissingData", f"{_ISSUING_AS} Secret does not contain a certificate")
    pair = _key_pair(data["tls.crt"], data["tls.key"])
    if isinstance(pair, Trigger):
        return pair
    leaf, key = pair
    inputs = _Input(spec=spec, secret=secret, status=status, now=now, leaf=leaf, key=key)
    for check in checks:
        result = check(inputs)
        if result is not None:
            return result
    return None


def _key_pair(cert_pem: bytes, key_pem: bytes) -> tuple[x509.Certificate, PrivateKey] | Trigger:
    """cert-manager's SecretPublicKeysDiffer: key, then certificate, then that they match."""
    try:
        key = load_private_key(key_pem)
    except InvalidPrivateKey as error:
        return Trigger(
            "InvalidKeyPair", f"{_ISSUING_AS} Secret contains invalid private key data: {error}"
        )
    try:
        leaf = load_certificate_chain(cert_pem)[0]
    except InvalidCertificate as error:
        return Trigger(
            "InvalidCertificate", f"{_ISSUING_AS} Secret contains an invalid certificate: {error}"
        )
    if not leaf_matches_key(leaf, key):
        return Trigger(
            "InvalidKeyPair",
            f"{_ISSUING_AS} Secret contains a private key that does not match the certificate",
        )
    return leaf, key


def _key_matches_spec(inputs: _Input) -> Trigger | None:
    wanted = inputs.spec.private_key
    violations: list[str] = []
    if key_algorithm(inputs.key) != wanted.algorithm:
        violations.append("spec.privateKey.algorithm")
    elif wanted.algorithm != "Ed25519":
        size = wanted.size or DEFAULT_KEY_SIZES[wanted.algorithm]
        if key_size(inputs.key) != size:
            violations.append("spec.privateKey.size")
    if violations:
        return Trigger(
            "SecretMismatch",
            f"Existing private key is not up to date for spec: [{' '.join(violations)}]",
        )
    return None


def _issuer_annotations(inputs: _Input) -> Trigger | None:
    annotations = _annotations(inputs.secret)
    if not any(k in annotations for k in (ISSUER_NAME, ISSUER_KIND, ISSUER_GROUP)):
        return None
    name = annotations.get(ISSUER_NAME, "")
    kind = annotations.get(ISSUER_KIND, "") or "Issuer"
    group = annotations.get(ISSUER_GROUP, "") or "cert-manager.io"
    ref = inputs.spec.issuer_ref
    if (name, kind, group) != (ref.name, ref.kind, ref.group):
        return Trigger(
            "IncorrectIssuer",
            f'{_ISSUING_AS} Secret was previously issued by "{kind}.{group}/{name}"',
        )
    return None


def _certificate_name_annotation(inputs: _Input) -> Trigger | None:
    name = _annotations(inputs.secret).get(CERTIFICATE_NAME)
    if name is not None and name != inputs.spec.name:
        return Trigger(
            "IncorrectCertificate",
            f'Secret was issued for "{name}". If this message is not transient, you might '
            "have two conflicting Certificates pointing to the same secret.",
        )
    return None


# After the key pair checks, in cert-manager's order.
_SECRET_CHECKS: Final[tuple[_Check, ...]] = (
    _issuer_annotations,
    _certificate_name_annotation,
    _key_matches_spec,
)


def _request_checks(request: Mapping[str, Any] | None) -> list[_Check]:
    """The checks against the current revision's CertificateRequest, or the leaf without it."""
    if request is None:
        return [_secret_names_match_spec]
    csr = _request_csr(request)

    def key_matches_request(inputs: _Input) -> Trigger | None:
        if isinstance(csr, Trigger):
            return csr
        if not public_keys_equal(csr.public_key(), inputs.key.public_key()):
            return Trigger(
                "SecretMismatch",
                "Secret contains a private key that does not match the current CertificateRequest",
            )
        return None

    def request_matches_spec(inputs: _Input) -> Trigger | None:
        violations = request_violations(request, inputs.spec)
        if violations is None:
            # An unreadable request does not prove the certificate stale.
            return None
        if violations:
            return Trigger(
                "RequestChanged",
                "Fields on existing CertificateRequest resource not up to date: "
                f"[{' '.join(violations)}]",
            )
        return None

    return [key_matches_request, request_matches_spec]


def _request_csr(request: Mapping[str, Any]) -> x509.CertificateSigningRequest | Trigger:
    req_spec = request.get("spec")
    encoded = req_spec.get("request") if isinstance(req_spec, Mapping) else None
    try:
        return load_csr(base64.b64decode(str(encoded or ""), validate=True))
    except (InvalidCSR, binascii.Error, ValueError) as error:
        return Trigger(
            "InvalidCertificateRequest", f"Failed to decode current CertificateRequest: {error}"
        )


def _secret_names_match_spec(inputs: _Input) -> Trigger | None:
    violations = name_violations(inputs.leaf, inputs.spec)
    if violations:
        return Trigger(
            "SecretMismatch",
            "Issuing certificate as Existing issued Secret is not up to date for spec: "
            f"[{' '.join(violations)}]",
        )
    return None


def _nearing_expiry(inputs: _Input) -> Trigger | None:
    due = renewal_time(
        not_before=inputs.leaf.not_valid_before_utc,
        not_after=inputs.leaf.not_valid_after_utc,
        spec=inputs.spec,
    )
    if due > inputs.now:
        return None
    # cert-manager quotes status.renewalTime; fall back to the computed time if unset.
    scheduled = _parse_time(inputs.status.get("renewalTime")) or due
    return Trigger(
        "Renewing", f"Renewing certificate as renewal was scheduled at {format_go_time(scheduled)}"
    )


def _expired(inputs: _Input) -> Trigger | None:
    not_after = inputs.leaf.not_valid_after_utc
    if inputs.now > not_after:
        # Go's time.RFC1123 layout.
        stamp = not_after.strftime("%a, %d %b %Y %H:%M:%S UTC")
        return Trigger("Expired", f"Certificate expired on {stamp}")
    return None


# --- small readers ---------------------------------------------------------------------


def _secret_data(secret: Mapping[str, Any]) -> dict[str, bytes] | None:
    raw = secret.get("data")
    if not isinstance(raw, Mapping) or not raw:
        return None
    data: dict[str, bytes] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            continue
        try:
            data[str(key)] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            data[str(key)] = b""
    return data


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return {}
    annotations = metadata.get("annotations")
    return annotations if isinstance(annotations, Mapping) else {}


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition
    return None
