"""Renewal on an injected clock, failure backoff, and the old Secret surviving failures."""

from __future__ import annotations

from datetime import timedelta

from shared.kube.resources import CERTIFICATES, SECRETS
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
    reasons = [e["reason"] for e in env.events("short")]
    assert reasons.count("Issued") == 2


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


def test_failed_renewal_keeps_the_old_secret_and_backs_off(env: Env) -> None:
    env.ca_issuer()
    env.issue("fragile", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    old = env.get(SECRETS, "fragile-tls")
    # the CA loses its key pair: the issuer still says Ready, signing fails
    env.kube.delete(SECRETS, env.namespace, "ca-root-ca")
    env.clock.advance(timedelta(minutes=41))
    assert env.tick().ok
    cert = env.get(CERTIFICATES, "fragile")
    issuing = condition(cert, "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "Failed")
    assert cert["status"]["failedIssuanceAttempts"] == 1
    assert cert["status"]["lastFailureTime"]
    assert ready(cert)  # the old certificate is still valid
    assert env.get(SECRETS, "fragile-tls")["data"] == old["data"]
    assert "Failed" in [e["reason"] for e in env.events("fragile")]
    # within the 1h backoff nothing is attempted again
    writes = env.writes()
    env.clock.advance(timedelta(minutes=59))
    assert env.tick().ok
    assert env.get(CERTIFICATES, "fragile")["status"]["failedIssuanceAttempts"] == 1
    assert env.writes() == writes
    # after it, the next attempt fails again and the backoff doubles
    env.clock.advance(timedelta(minutes=1, seconds=1))
    assert env.tick().ok
    assert env.get(CERTIFICATES, "fragile")["status"]["failedIssuanceAttempts"] == 2
    assert env.get(SECRETS, "fragile-tls")["data"] == old["data"]


def test_expired_certificate_is_not_ready(env: Env) -> None:
    env.ca_issuer()
    env.issue("old", issuerRef={"name": "ca", "kind": "Issuer"}, duration="1h")
    env.kube.delete(SECRETS, env.namespace, "ca-root-ca")  # so renewal cannot succeed
    env.clock.advance(timedelta(hours=2))
    assert env.tick().ok
    ready_condition = condition(env.get(CERTIFICATES, "old"), "Ready")
    assert ready_condition["status"] == "False"
