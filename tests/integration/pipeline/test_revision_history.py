"""revisionHistoryLimit: exactly the newest N CertificateRequests are kept, however we got here."""

from __future__ import annotations

from shared.kube.resources import CERTIFICATES
from tests.integration.pipeline.conftest import Env, ready


def renew(env: Env, name: str) -> None:
    env.renew(name)
    assert env.deliver(CERTIFICATES, name).ok
    assert ready(env.get(CERTIFICATES, name))


def test_renewals_keep_the_newest_requests_up_to_the_limit(env: Env) -> None:
    env.ca_issuer()
    env.issue("kept", issuerRef={"name": "ca", "kind": "Issuer"}, revisionHistoryLimit=2)
    for _ in range(3):
        renew(env, "kept")
    assert env.get(CERTIFICATES, "kept")["status"]["revision"] == 4
    assert env.request_names("kept") == ["kept-3", "kept-4"]


def test_lowering_the_limit_prunes_down_to_it_without_reissuing(env: Env) -> None:
    env.ca_issuer()
    env.issue("lower", issuerRef={"name": "ca", "kind": "Issuer"}, revisionHistoryLimit=3)
    for _ in range(3):
        renew(env, "lower")
    assert env.request_names("lower") == ["lower-2", "lower-3", "lower-4"]
    cert = env.get(CERTIFICATES, "lower")
    cert["spec"]["revisionHistoryLimit"] = 1
    env.kube.replace(CERTIFICATES, cert)
    assert env.deliver(CERTIFICATES, "lower").ok
    assert env.request_names("lower") == ["lower-4"]
    assert env.get(CERTIFICATES, "lower")["status"]["revision"] == 4


def test_a_request_in_flight_is_not_counted_against_the_limit(env: Env) -> None:
    env.ca_issuer()
    env.issue("flight", issuerRef={"name": "ca", "kind": "Issuer"})
    env.renew("flight")
    env.deliver_crashing("flight", step="request-created")  # revision 2 requested, unsigned
    env.deny("flight-2", reason="Refused", message="not now")
    assert env.deliver(CERTIFICATES, "flight").ok  # fails; backing off
    assert env.deliver(CERTIFICATES, "flight").ok  # a sync during the backoff
    assert env.request_names("flight") == ["flight-1", "flight-2"]
