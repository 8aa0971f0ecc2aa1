"""A wildcard order solved over DNS-01: rfc2136 to BIND9, self-checked, cleaned up."""

from __future__ import annotations

import pytest

from shared.acme import orders
from shared.dns01 import resolver
from shared.dns01.base import DNS01Provider
from tests.e2e.conftest import Account
from tests.e2e.flows import assert_chains_to, client_for, make_csr, poll, settled, unique_name
from tests.e2e.servers import Bind9, Pebble

pytestmark = pytest.mark.e2e


def test_wildcard_and_apex_issue_over_dns01_and_leave_no_txt_behind(
    pebble: Pebble, bind9: Bind9, account: Account, rfc2136: DNS01Provider
) -> None:
    base = unique_name()
    names = [f"*.{base}", base]
    servers = resolver.parse_nameservers(bind9.nameservers)
    client = client_for(pebble, account.key, account.uri)

    order = orders.new_order(client=client, identifiers=names)
    authorizations = [orders.get_authorization(client=client, url=u) for u in order.authorizations]
    assert sorted(a.wildcard for a in authorizations) == [False, True]
    presented: list[tuple[str, str, str]] = []
    challenges = []
    for authorization in authorizations:
        challenge = authorization.challenge("dns-01")
        assert challenge is not None
        record = resolver.challenge_record(authorization.identifier, nameservers=servers)
        fqdn, zone = record.fqdn, record.zone
        value = orders.dns01_value(client=client, token=challenge.token)
        rfc2136.present(fqdn=fqdn, zone=zone, value=value)
        presented.append((fqdn, zone, value))
        challenges.append(challenge)
    # Both authorizations share one TXT name, each with its own value.
    assert len({fqdn for fqdn, _, _ in presented}) == 1
    for fqdn, _, value in presented:
        assert resolver.propagated(
            fqdn, value, nameservers=servers, authoritative=True, authoritative_port=bind9.port
        )

    for challenge in challenges:
        orders.accept_challenge(client=client, url=challenge.url)
    ready = poll(
        lambda: orders.get_order(client=client, url=order.url), until=settled, what="authz"
    )
    assert ready.status == orders.READY
    orders.finalize(client=client, order_url=order.url, csr_pem=make_csr(names))
    done = poll(lambda: orders.get_order(client=client, url=order.url), until=settled, what="order")
    assert done.status == orders.VALID
    assert done.certificate is not None
    chain = orders.download_certificate(client=client, url=done.certificate)
    assert_chains_to(chain, pebble.roots()[0], name=f"*.{base}")
    assert_chains_to(chain, pebble.roots()[0], name=base)

    for fqdn, zone, value in presented:
        rfc2136.cleanup(fqdn=fqdn, zone=zone, value=value)
    assert resolver.txt_values(presented[0][0], nameservers=servers) == set()
