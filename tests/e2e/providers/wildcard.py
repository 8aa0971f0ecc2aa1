"""The flow every provider is proven with: a wildcard + apex order from Pebble,
solved over DNS-01 through the provider, then cleaned up."""

from __future__ import annotations

from dataclasses import dataclass

from shared.acme import orders
from shared.dns01 import resolver
from shared.dns01.base import DNS01Provider, challenge_record_name
from tests.e2e.conftest import Account
from tests.e2e.flows import assert_chains_to, client_for, make_csr, poll, settled, unique_name
from tests.e2e.providers.authoritative import AuthoritativeDNS, Zone
from tests.e2e.servers import Pebble


@dataclass(frozen=True)
class Harness:
    pebble: Pebble
    account: Account
    dns: AuthoritativeDNS

    @property
    def zone(self) -> Zone:
        return self.dns.zone


@dataclass(frozen=True)
class Presented:
    fqdn: str
    zone: str
    value: str


def issue_wildcard(
    harness: Harness,
    provider: DNS01Provider,
    *,
    base: str | None = None,
) -> list[Presented]:
    """Issue *.base and base; returns what was presented, already cleaned up.

    The self-check follows CNAMEs as the CA does (acme-dns delegates that way).
    """
    pebble, account, dns = harness.pebble, harness.account, harness.dns
    base = base or unique_name()
    names = [f"*.{base}", base]
    servers = resolver.parse_nameservers([dns.address])
    client = client_for(pebble, account.key, account.uri)
    order = orders.new_order(client=client, identifiers=names)
    presented: list[Presented] = []
    challenge_urls: list[str] = []
    try:
        for url in order.authorizations:
            authorization = orders.get_authorization(client=client, url=url)
            challenge = authorization.challenge("dns-01")
            assert challenge is not None
            fqdn = challenge_record_name(authorization.identifier)
            zone = resolver.find_zone(fqdn, nameservers=servers)
            value = orders.dns01_value(client=client, token=challenge.token)
            provider.present(fqdn=fqdn, zone=zone, value=value)
            presented.append(Presented(fqdn=fqdn, zone=zone, value=value))
            challenge_urls.append(challenge.url)
        for item in presented:
            assert resolver.propagated(
                item.fqdn,
                item.value,
                nameservers=servers,
                authoritative_port=dns.port,
            ), f"{item.value} not visible at {item.fqdn}"
        for url in challenge_urls:
            orders.accept_challenge(client=client, url=url)
        ready = poll(
            lambda: orders.get_order(client=client, url=order.url), until=settled, what="authz"
        )
        assert ready.status == orders.READY, ready
        orders.finalize(client=client, order_url=order.url, csr_pem=make_csr(names))
        done = poll(
            lambda: orders.get_order(client=client, url=order.url), until=settled, what="order"
        )
        assert done.status == orders.VALID and done.certificate is not None
        chain = orders.download_certificate(client=client, url=done.certificate)
        assert_chains_to(chain, pebble.roots()[0], name=f"*.{base}")
    finally:
        for item in presented:
            provider.cleanup(fqdn=item.fqdn, zone=item.zone, value=item.value)
    return presented
