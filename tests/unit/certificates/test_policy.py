from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509

from shared.certificates.durations import format_duration
from shared.certificates.policy import (
    Condition,
    Trigger,
    backoff_until,
    issuance_trigger,
    ready_condition,
    renewal_time,
)
from shared.certificates.secret import secret_annotations
from shared.certificates.spec import CertificateSpec, IssuerRef, PrivateKeySpec
from shared.pki.csr import build_csr
from shared.pki.keys import PrivateKey, encode_private_key
from shared.pki.signing import encode_certificate
from tests.unit.pki.factory import NOW, issue, key, spec

HOUR = timedelta(hours=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# --- renewal maths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "overrides", "renews_after"),
    [
        (HOUR, {}, timedelta(minutes=40)),  # 2/3 through by default
        (timedelta(days=90), {}, timedelta(days=60)),
        (HOUR, {"renew_before": timedelta(minutes=10)}, timedelta(minutes=50)),
        (HOUR, {"renew_before": HOUR}, timedelta(minutes=40)),  # not shorter: default
        (HOUR, {"renew_before": 2 * HOUR}, timedelta(minutes=40)),
        (HOUR, {"renew_before_percentage": 25}, timedelta(minutes=45)),
        (timedelta(days=100), {"renew_before_percentage": 10}, timedelta(days=90)),
        (HOUR, {"renew_before_percentage": 100}, timedelta(minutes=40)),  # out of range
    ],
)
def test_renewal_time(
    lifetime: timedelta, overrides: dict[str, Any], renews_after: timedelta
) -> None:
    due = renewal_time(not_before=T0, not_after=T0 + lifetime, spec=spec(**overrides))
    assert due == T0 + renews_after


def test_renewal_time_uses_the_actual_lifetime_not_spec_duration() -> None:
    # A CA may clamp notAfter; the 2/3 rule applies to what was issued.
    due = renewal_time(not_before=T0, not_after=T0 + 3 * HOUR, spec=spec(duration=90 * 24 * HOUR))
    assert due == T0 + 2 * HOUR


def test_renewal_time_truncates_to_the_second() -> None:
    due = renewal_time(not_before=T0, not_after=T0 + timedelta(seconds=100), spec=spec())
    assert due == T0 + timedelta(seconds=66)
    assert due.microsecond == 0


@pytest.mark.parametrize(
    ("attempts", "delay_hours"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 32), (50, 32)],
)
def test_backoff_doubles_from_one_hour_and_caps_at_32(attempts: int, delay_hours: int) -> None:
    assert backoff_until(last_failure_time=T0, failed_attempts=attempts) == T0 + delay_hours * HOUR


# --- fixtures for the policy chain -----------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _secret(
    cert_spec: CertificateSpec,
    *,
    leaf_key: PrivateKey | None = None,
    leaf: x509.Certificate | None = None,
    annotations: dict[str, str] | None = None,
    data: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    k = leaf_key or key(cert_spec.private_key.algorithm, cert_spec.private_key.size)
    cert = leaf or issue(cert_spec, k)
    if data is None:
        data = {"tls.key": encode_private_key(k), "tls.crt": encode_certificate(cert)}
    meta = secret_annotations(spec=cert_spec, leaf=cert) if annotations is None else annotations
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": cert_spec.secret_name, "annotations": meta},
        "type": "kubernetes.io/tls",
        "data": {name: _b64(value) for name, value in data.items()},
    }


def _request(cert_spec: CertificateSpec, k: PrivateKey, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request": _b64(build_csr(spec=cert_spec, key=k)),
        "isCA": cert_spec.is_ca,
        "usages": list(cert_spec.usages),
        "duration": format_duration(cert_spec.duration),
        "issuerRef": {
            "name": cert_spec.issuer_ref.name,
            "kind": cert_spec.issuer_ref.kind,
            "group": cert_spec.issuer_ref.group,
        },
    }
    body.update(overrides)
    return {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest", "spec": body}


ECDSA = PrivateKeySpec(algorithm="ECDSA")
SPEC = spec(private_key=ECDSA)
SOON = NOW + timedelta(days=1)


def _trigger(
    secret: dict[str, Any] | None, cert_spec: CertificateSpec = SPEC, **kw: Any
) -> Trigger | None:
    kw.setdefault("status", {})
    kw.setdefault("now", SOON)
    return issuance_trigger(spec=cert_spec, secret=secret, **kw)


# --- issuance triggers, in cert-manager's order -----------------------------------------


def test_valid_certificate_not_yet_due_needs_nothing() -> None:
    assert _trigger(_secret(SPEC)) is None


def test_valid_certificate_with_matching_request_needs_nothing() -> None:
    request = _request(SPEC, key("ECDSA"))
    assert _trigger(_secret(SPEC), request=request) is None


def test_missing_secret() -> None:
    assert _trigger(None) == Trigger("DoesNotExist", "Issuing certificate as Secret does not exist")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Issuing certificate as Secret does not contain any data"),
        ({"tls.crt": b"x"}, "Issuing certificate as Secret does not contain a private key"),
        (
            {"tls.key": b"x", "tls.crt": b""},
            "Issuing certificate as Secret does not contain a certificate",
        ),
    ],
)
def test_missing_data(data: dict[str, bytes], message: str) -> None:
    assert _trigger(_secret(SPEC, data=data)) == Trigger("MissingData", message)


def test_undecodable_key_is_invalid_key_pair_without_key_material() -> None:
    garbage = (
        b"-----BEGIN EC PRIVATE KEY-----\nU0VDUkVUS0VZTUFURVJJQUw=\n-----END EC PRIVATE KEY-----\n"
    )
    good = _secret(SPEC)
    good["data"]["tls.key"] = _b64(garbage)
    trigger = _trigger(good)
    assert trigger is not None
    assert trigger.reason == "InvalidKeyPair"
    assert trigger.message.startswith(
        "Issuing certificate as Secret contains invalid private key data"
    )
    assert "U0VDUkVU" not in trigger.message


def test_undecodable_certificate_is_invalid_certificate() -> None:
    secret = _secret(SPEC)
    secret["data"]["tls.crt"] = _b64(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    trigger = _trigger(secret)
    assert trigger is not None
    assert trigger.reason == "InvalidCertificate"
    assert trigger.message.startswith(
        "Issuing certificate as Secret contains an invalid certificate"
    )


def test_key_not_matching_certificate_is_invalid_key_pair() -> None:
    secret = _secret(SPEC, data=None)
    secret["data"]["tls.key"] = _b64(encode_private_key(key("ECDSA", slot=9)))
    assert _trigger(secret) == Trigger(
        "InvalidKeyPair",
        "Issuing certificate as Secret contains a private key that does not match the certificate",
    )


def test_secret_from_another_issuer_is_incorrect_issuer() -> None:
    secret = _secret(SPEC)
    secret["metadata"]["annotations"]["cert-manager.io/issuer-name"] = "old-issuer"
    secret["metadata"]["annotations"]["cert-manager.io/issuer-kind"] = "ClusterIssuer"
    assert _trigger(secret) == Trigger(
        "IncorrectIssuer",
        "Issuing certificate as Secret was previously issued by "
        '"ClusterIssuer.cert-manager.io/old-issuer"',
    )


def test_issuer_annotations_absent_are_not_checked() -> None:
    assert _trigger(_secret(SPEC, annotations={})) is None


def test_empty_issuer_kind_and_group_annotations_mean_the_defaults() -> None:
    secret = _secret(SPEC)
    secret["metadata"]["annotations"]["cert-manager.io/issuer-kind"] = ""
    secret["metadata"]["annotations"]["cert-manager.io/issuer-group"] = ""
    assert _trigger(secret) is None


def test_secret_for_another_certificate_is_incorrect_certificate() -> None:
    secret = _secret(SPEC)
    secret["metadata"]["annotations"]["cert-manager.io/certificate-name"] = "other"
    trigger = _trigger(secret)
    assert trigger is not None
    assert trigger.reason == "IncorrectCertificate"
    assert trigger.message.startswith('Secret was issued for "other".')


@pytest.mark.parametrize(
    ("wanted", "violation"),
    [
        (PrivateKeySpec(algorithm="ECDSA", size=384), "spec.privateKey.size"),
        (PrivateKeySpec(algorithm="RSA"), "spec.privateKey.algorithm"),
        (PrivateKeySpec(algorithm="Ed25519"), "spec.privateKey.algorithm"),
    ],
)
def test_key_not_matching_spec_is_secret_mismatch(wanted: PrivateKeySpec, violation: str) -> None:
    secret = _secret(SPEC)
    assert _trigger(secret, replace(SPEC, private_key=wanted)) == Trigger(
        "SecretMismatch", f"Existing private key is not up to date for spec: [{violation}]"
    )


def test_rsa_key_size_defaults_to_2048_for_comparison() -> None:
    rsa_spec = spec(private_key=PrivateKeySpec(algorithm="RSA"))
    assert _trigger(_secret(rsa_spec, leaf_key=key("RSA", 2048)), rsa_spec) is None
    bigger = replace(rsa_spec, private_key=PrivateKeySpec(algorithm="RSA", size=3072))
    trigger = _trigger(_secret(rsa_spec, leaf_key=key("RSA", 2048)), bigger)
    assert trigger is not None
    assert "spec.privateKey.size" in trigger.message


@pytest.mark.parametrize(
    ("changed", "violations"),
    [
        ({"dns_names": ("web.example.com", "api.example.com")}, "[spec.dnsNames]"),
        ({"common_name": "api.example.com"}, "[spec.commonName]"),
        ({"ip_addresses": ("10.0.0.9",)}, "[spec.ipAddresses]"),
        ({"uris": ("spiffe://td/x",)}, "[spec.uris]"),
        ({"email_addresses": ("a@example.com",)}, "[spec.emailAddresses]"),
    ],
)
def test_names_changed_without_request_is_secret_mismatch(
    changed: dict[str, Any], violations: str
) -> None:
    secret = _secret(SPEC)
    assert _trigger(secret, replace(SPEC, **changed)) == Trigger(
        "SecretMismatch",
        f"Issuing certificate as Existing issued Secret is not up to date for spec: {violations}",
    )


def test_common_name_may_move_into_dns_names() -> None:
    # Some CAs promote the CN into the SANs or the reverse; that is not a change.
    issued_spec = replace(SPEC, common_name="", dns_names=("web.example.com", "www.example.com"))
    secret = _secret(issued_spec)
    wanted = replace(SPEC, common_name="web.example.com", dns_names=("www.example.com",))
    assert _trigger(secret, wanted) is None


def test_ip_addresses_compare_canonically() -> None:
    with_ip = replace(SPEC, ip_addresses=("2001:db8::1",))
    secret = _secret(with_ip)
    assert _trigger(secret, replace(SPEC, ip_addresses=("2001:0db8:0:0:0:0:0:1",))) is None


@pytest.mark.parametrize(
    ("overrides", "violation"),
    [
        ({"usages": ["digital signature", "key encipherment", "server auth"]}, "spec.usages"),
        ({"isCA": True}, "spec.isCA"),
        ({"duration": "720h"}, "spec.duration"),
        ({"issuerRef": {"name": "other"}}, "spec.issuerRef"),
    ],
)
def test_request_fields_out_of_date_is_request_changed(
    overrides: dict[str, Any], violation: str
) -> None:
    request = _request(SPEC, key("ECDSA"), **overrides)
    assert _trigger(_secret(SPEC), request=request) == Trigger(
        "RequestChanged",
        f"Fields on existing CertificateRequest resource not up to date: [{violation}]",
    )


def test_request_subject_change_is_request_changed() -> None:
    old = replace(SPEC, dns_names=("web.example.com",))
    request = _request(old, key("ECDSA"))
    trigger = _trigger(_secret(SPEC), request=request)
    assert trigger is not None
    assert trigger.reason == "RequestChanged"
    assert "spec.dnsNames" in trigger.message


def test_request_for_another_key_is_secret_mismatch() -> None:
    request = _request(SPEC, key("ECDSA", slot=4))
    assert _trigger(_secret(SPEC), request=request) == Trigger(
        "SecretMismatch",
        "Secret contains a private key that does not match the current CertificateRequest",
    )


def test_undecodable_request_is_invalid_certificate_request() -> None:
    request = _request(SPEC, key("ECDSA"), request=_b64(b"nonsense"))
    trigger = _trigger(_secret(SPEC), request=request)
    assert trigger is not None
    assert trigger.reason == "InvalidCertificateRequest"
    assert trigger.message.startswith("Failed to decode current CertificateRequest")


def test_due_for_renewal_is_renewing_and_quotes_status_renewal_time() -> None:
    short = replace(SPEC, duration=HOUR)
    secret = _secret(short)
    assert _trigger(secret, short, now=NOW + timedelta(minutes=39)) is None
    status = {"renewalTime": "2026-11-23T12:40:00Z"}
    assert _trigger(secret, short, now=NOW + timedelta(minutes=40), status=status) == Trigger(
        "Renewing",
        "Renewing certificate as renewal was scheduled at 2026-11-23 12:40:00 +0000 UTC",
    )


def test_renewing_message_falls_back_to_the_computed_time() -> None:
    short = replace(SPEC, duration=HOUR)
    trigger = _trigger(_secret(short), short, now=NOW + HOUR)
    assert trigger == Trigger(
        "Renewing",
        "Renewing certificate as renewal was scheduled at 2026-11-23 12:40:00 +0000 UTC",
    )


def test_manual_trigger_from_cmctl_is_reported() -> None:
    status = {
        "conditions": [
            {
                "type": "Issuing",
                "status": "True",
                "reason": "ManuallyTriggered",
                "message": "Certificate re-issuance manually triggered",
            }
        ]
    }
    assert _trigger(_secret(SPEC), status=status) == Trigger(
        "ManuallyTriggered", "Certificate re-issuance manually triggered"
    )


def test_earlier_failures_win_over_later_ones() -> None:
    # Both the issuer and the names changed: cert-manager reports the issuer first.
    secret = _secret(SPEC)
    moved = replace(SPEC, issuer_ref=IssuerRef("new"), dns_names=("x.example.com",))
    trigger = _trigger(secret, moved)
    assert trigger is not None
    assert trigger.reason == "IncorrectIssuer"


# --- readiness -------------------------------------------------------------------------


def _ready(
    secret: dict[str, Any] | None, cert_spec: CertificateSpec = SPEC, **kw: Any
) -> Condition:
    kw.setdefault("status", {})
    kw.setdefault("now", SOON)
    return ready_condition(spec=cert_spec, secret=secret, **kw)


def test_ready_when_up_to_date() -> None:
    assert _ready(_secret(SPEC)) == Condition(
        "Ready", "True", "Ready", "Certificate is up to date and has not expired"
    )


def test_still_ready_while_renewal_is_due() -> None:
    short = replace(SPEC, duration=HOUR)
    assert _ready(_secret(short), short, now=NOW + timedelta(minutes=50)).status == "True"


def test_not_ready_once_expired() -> None:
    short = replace(SPEC, duration=HOUR)
    condition = _ready(_secret(short), short, now=NOW + HOUR + timedelta(seconds=1))
    assert condition == Condition(
        "Ready", "False", "Expired", "Certificate expired on Mon, 23 Nov 2026 13:00:00 UTC"
    )


@pytest.mark.parametrize(
    ("secret_fn", "reason"),
    [
        (lambda: None, "DoesNotExist"),
        (lambda: _secret(SPEC, data={}), "MissingData"),
        (
            lambda: {
                **_secret(SPEC),
                "metadata": {"annotations": {"cert-manager.io/issuer-name": "x"}},
            },
            "IncorrectIssuer",
        ),
    ],
)
def test_not_ready_reasons_follow_the_policy_chain(secret_fn: Any, reason: str) -> None:
    condition = _ready(secret_fn())
    assert (condition.status, condition.reason) == ("False", reason)


def test_an_expired_certificate_is_reissued_as_renewing() -> None:
    # cert-manager's trigger chain has no Expired step: an expired certificate is long due.
    short = replace(SPEC, duration=HOUR)
    trigger = _trigger(_secret(short), short, now=NOW + 2 * HOUR)
    assert trigger is not None
    assert trigger.reason == "Renewing"
