"""Renewal on an injected clock, failure backoff, and the old Secret surviving failures."""

from __future__ import annotations

from datetime import timedelta

from shared.issuance.certificates import ISSUED_MESSAGE
from shared.kube.resources import CERTIFICATES, ISSUERS, SECRETS
from tests.integration.pipeline.conftest import Env, condition, ready


def test_one_hour_certificate_renews_at_forty_minutes_not_before(env: Env) -> None:
    env.ca_issuer()
    env.issue("short", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    cert = env.get(CERTIFICATES, "short")
    assert cert["status"]["renewalTime"].endswith("Z")
    env.clock.advance(timedelta(minutes=39, seconds=59))
    assert env.tick().ok
    assert env.get(CERTIFICATES, "short")["status"]["revision"] == 1
    env.clock.advance(timedelta(seconds=1))
    assert env.tick().ok
    renewed = env.get(CERTIFICATES, "short")
    assert renewed["status"]["revision"] == 2 and ready(renewed)
    told = [(e["reason"], e["message"]) for e in env.events("short")]
    assert told.count(("Issuing", ISSUED_MESSAGE)) == 2


def test_renew_before_sets_renewal_time(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue(
        "svc", issuerRef={"name": "ca", "kind": "Issuer"}, duration="2160h", renewBefore="360h"
    )
    status = cert["status"]
    from shared.kube.objects import parse_time

    not_after, renewal = parse_time(status["notAfter"]), parse_time(status["renewalTime"])
    assert not_after is not None and renewal is not None
    assert not_after - renewal == timedelta(hours=360)


def fail_renewal(env: Env, name: str, revision: int) -> None:
    """The renewal's request is made, then an approver denies it before it is signed."""
    env.deliver_crashing(name, step="request-created")
    env.deny(f"{name}-{revision}", reason="Refused", message="not now")
    assert env.deliver(CERTIFICATES, name).ok


def test_failed_renewal_keeps_the_old_secret_and_backs_off(env: Env) -> None:
    env.ca_issuer()
    env.issue("fragile", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    old = env.get(SECRETS, "fragile-tls")
    env.clock.advance(timedelta(minutes=41))  # renewal due at 40m
    fail_renewal(env, "fragile", 2)
    cert = env.get(CERTIFICATES, "fragile")
    issuing = condition(cert, "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "Refused")
    assert cert["status"]["failedIssuanceAttempts"] == 1
    first_failure = cert["status"]["lastFailureTime"]
    assert ready(cert)  # the old certificate is still valid
    assert env.get(SECRETS, "fragile-tls")["data"] == old["data"]
    assert "Refused" in [e["reason"] for e in env.events("fragile")]
    # within the 1h backoff nothing is attempted again
    writes = env.writes()
    env.clock.advance(timedelta(minutes=10))
    assert env.tick().ok
    assert env.deliver(CERTIFICATES, "fragile").ok
    assert env.get(CERTIFICATES, "fragile")["status"]["failedIssuanceAttempts"] == 1
    assert env.writes() == writes
    # after it, a fresh request is made; denied again, the backoff doubles
    env.clock.advance(timedelta(minutes=50, seconds=1))
    fail_renewal(env, "fragile", 2)
    cert = env.get(CERTIFICATES, "fragile")
    assert cert["status"]["failedIssuanceAttempts"] == 2
    assert cert["status"]["lastFailureTime"] > first_failure
    assert env.get(SECRETS, "fragile-tls")["data"] == old["data"]
    writes = env.writes()
    env.clock.advance(timedelta(hours=1, minutes=59))  # backoff is 2h now
    assert env.deliver(CERTIFICATES, "fragile").ok
    assert env.get(CERTIFICATES, "fragile")["status"]["failedIssuanceAttempts"] == 2
    assert env.get(CERTIFICATES, "fragile")["status"]["revision"] == 1


def test_expired_certificate_is_not_ready_expired(env: Env) -> None:
    env.ca_issuer()
    env.issue("old", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    env.kube.delete(ISSUERS, env.namespace, "ca")  # so renewal cannot succeed
    env.clock.advance(timedelta(hours=2))
    assert env.tick().ok
    assert env.deliver(CERTIFICATES, "old").ok
    cert = env.get(CERTIFICATES, "old")
    ready_ = condition(cert, "Ready")
    assert (ready_["status"], ready_["reason"]) == ("False", "Expired")
    # the renewal waits for its issuer: that is on Issuing and in an Event
    assert condition(cert, "Issuing")["status"] == "True"
    assert "IssuerNotFound" in [e["reason"] for e in env.events("old")]


def test_failed_first_issuance_is_not_ready_because_the_secret_does_not_exist(env: Env) -> None:
    env.ca_issuer()
    env.certificate("first", issuerRef={"name": "ca", "kind": "Issuer"})
    env.deliver_crashing("first", step="request-created")
    env.deny("first-1", reason="Refused", message="not today")
    assert env.deliver(CERTIFICATES, "first").ok
    cert = env.get(CERTIFICATES, "first")
    issuing, ready_ = condition(cert, "Issuing"), condition(cert, "Ready")
    assert (issuing["status"], issuing["reason"]) == ("False", "Refused")
    assert issuing["message"] == (
        "The certificate request has failed to complete and will be retried: not today"
    )
    assert (ready_["status"], ready_["reason"]) == ("False", "DoesNotExist")
    assert ready_["message"] == "Issuing certificate as Secret does not exist"
    # a later delivery inside the backoff keeps both, and writes nothing
    writes = env.writes()
    env.clock.advance(timedelta(minutes=30))
    assert env.deliver(CERTIFICATES, "first").ok
    assert env.writes() == writes
    assert condition(env.get(CERTIFICATES, "first"), "Ready")["reason"] == "DoesNotExist"


def test_certificate_expiring_during_the_backoff_becomes_not_ready_expired(env: Env) -> None:
    env.ca_issuer()
    cert = env.issue("lapse", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    not_after = cert["status"]["notAfter"]
    env.renew("lapse")  # as `cmctl renew`: no clock needed; an approver denies its request
    env.deliver_crashing("lapse", step="request-created")
    env.deny("lapse-2", reason="Refused", message="not today")
    env.clock.advance(timedelta(minutes=41))
    assert env.deliver(CERTIFICATES, "lapse").ok  # fails: backoff until 1h41m
    cert = env.get(CERTIFICATES, "lapse")
    ready_ = condition(cert, "Ready")
    assert (ready_["status"], ready_["reason"]) == ("True", "Ready")
    assert condition(cert, "Issuing")["reason"] == "Refused"
    # notAfter passes while the backoff runs: Ready follows the Secret, no new attempt
    env.clock.advance(timedelta(minutes=20))
    assert env.tick().ok  # the sweep, not only an event, brings Ready up to date
    cert = env.get(CERTIFICATES, "lapse")
    ready_ = condition(cert, "Ready")
    assert (ready_["status"], ready_["reason"]) == ("False", "Expired"), ready_
    assert ready_["message"].startswith("Certificate expired on ")
    assert cert["status"]["notAfter"] == not_after
    assert cert["status"]["failedIssuanceAttempts"] == 1
    assert condition(cert, "Issuing")["reason"] == "Refused"
    assert cert["status"]["revision"] == 1
