"""The DNS-01 self-check asks the recursive nameservers and then, as cert-manager does by
default, every authoritative nameserver of the zone; recursive-only asks just the former."""

from __future__ import annotations

import base64
from typing import Any

import kubernetes.client as k8s
import pytest

from shared import runtime
from shared.acmeflow import presenters
from shared.config import Config
from shared.dns01.base import challenge_record_name
from shared.dns01.rfc2136 import RFC2136Provider
from shared.kube.client import Kube
from tests.e2e.flows import unique_name
from tests.e2e.servers import ZONE, Bind9, free_port

pytestmark = pytest.mark.e2e


def _context(bind9: Bind9, *, recursive_only: bool) -> runtime.Context:
    config = Config(
        dns01_recursive_nameservers=(bind9.address,),
        dns01_recursive_nameservers_only=recursive_only,
    )
    # The self-check reads only the configuration: the API is never contacted.
    return runtime.Context.build(Kube(k8s.Configuration(host="http://127.0.0.1:9")), config=config)


@pytest.fixture
def presented(bind9: Bind9) -> dict[str, Any]:
    """A DNS-01 Challenge whose TXT record is in BIND9's zone."""
    domain, value = unique_name("selfcheck"), base64.urlsafe_b64encode(b"x" * 32).decode()
    provider = RFC2136Provider(
        nameserver=bind9.address,
        tsig_key_name=bind9.tsig_key_name,
        tsig_algorithm=bind9.tsig_algorithm,
        tsig_secret=bind9.tsig_secret,
    )
    provider.present(fqdn=challenge_record_name(domain), zone=f"{ZONE}.", value=value)
    return {"spec": {"type": "DNS-01", "dnsName": domain, "key": value, "solver": {"dns01": {}}}}


def test_by_default_the_authoritative_nameserver_must_serve_the_record(
    bind9: Bind9, presented: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _context(bind9, recursive_only=False)
    monkeypatch.setattr(presenters, "authoritative_port", bind9.port)
    assert presenters.self_check(ctx, presented) is None

    # The zone's nameserver (ns1, 127.0.0.1) not answering: the CA might not see it either.
    monkeypatch.setattr(presenters, "authoritative_port", free_port())
    problem = presenters.self_check(ctx, presented)
    assert problem is not None and "not yet propagated" in problem


def test_recursive_only_never_asks_the_authoritative_nameservers(
    bind9: Bind9, presented: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presenters, "authoritative_port", free_port())
    assert presenters.self_check(_context(bind9, recursive_only=True), presented) is None
    missing = {**presented, "spec": {**presented["spec"], "key": "not-there"}}
    assert presenters.self_check(_context(bind9, recursive_only=True), missing) is not None
