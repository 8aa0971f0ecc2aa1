"""The rfc2136 provider and the resolver checks against a real BIND9."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from shared.dns01 import resolver
from shared.dns01.base import DNS01Provider, challenge_record_name
from shared.dns01.errors import DNSUpdateError
from shared.dns01.rfc2136 import RFC2136Provider
from tests.e2e.flows import unique_name
from tests.e2e.servers import Bind9

pytestmark = pytest.mark.e2e


def _servers(bind9: Bind9) -> list[resolver.Nameserver]:
    return resolver.parse_nameservers(bind9.nameservers)


def test_find_zone_walks_up_to_the_soa(bind9: Bind9) -> None:
    fqdn = challenge_record_name(unique_name())
    assert resolver.find_zone(fqdn, nameservers=_servers(bind9)) == "example.test."


def test_present_is_idempotent_and_cleanup_removes_only_our_value(
    bind9: Bind9, rfc2136: DNS01Provider
) -> None:
    fqdn = challenge_record_name(unique_name())
    servers = _servers(bind9)
    rfc2136.present(fqdn=fqdn, zone="example.test.", value="ours")
    rfc2136.present(fqdn=fqdn, zone="example.test.", value="ours")
    rfc2136.present(fqdn=fqdn, zone="example.test.", value="theirs")
    assert resolver.txt_values(fqdn, nameservers=servers) == {"ours", "theirs"}

    rfc2136.cleanup(fqdn=fqdn, zone="example.test.", value="ours")
    rfc2136.cleanup(fqdn=fqdn, zone="example.test.", value="ours")
    assert resolver.txt_values(fqdn, nameservers=servers) == {"theirs"}
    rfc2136.cleanup(fqdn=fqdn, zone="example.test.", value="theirs")
    assert resolver.txt_values(fqdn, nameservers=servers) == set()


def test_propagated_checks_recursive_and_authoritative_servers(
    bind9: Bind9, rfc2136: DNS01Provider
) -> None:
    fqdn = challenge_record_name(unique_name())
    servers = _servers(bind9)
    check = functools.partial(
        resolver.propagated, nameservers=servers, authoritative=True, authoritative_port=bind9.port
    )
    assert not check(fqdn, "v1")
    rfc2136.present(fqdn=fqdn, zone="example.test.", value="v1")
    assert check(fqdn, "v1")
    assert not check(fqdn, "v2")
    assert resolver.authoritative_nameservers(fqdn, nameservers=servers, port=bind9.port) == [
        ("127.0.0.1", bind9.port)
    ]
    rfc2136.cleanup(fqdn=fqdn, zone="example.test.", value="v1")


def test_a_delegated_challenge_name_is_followed_to_its_cname_target(
    bind9: Bind9, rfc2136: DNS01Provider
) -> None:
    servers = _servers(bind9)
    alias = challenge_record_name("alias.example.test")
    target = resolver.follow_cname(alias, nameservers=servers)
    assert target == "_acme-challenge.target.example.test."
    zone = resolver.find_zone(target, nameservers=servers)
    rfc2136.present(fqdn=target, zone=zone, value="delegated")
    try:
        assert resolver.propagated(
            alias, "delegated", nameservers=servers, authoritative_port=bind9.port
        )
    finally:
        rfc2136.cleanup(fqdn=target, zone=zone, value="delegated")


def test_cname_strategy_decides_where_the_record_is_written(bind9: Bind9) -> None:
    servers = _servers(bind9)
    followed = resolver.challenge_record(
        "alias.example.test", cname_strategy="Follow", nameservers=servers
    )
    assert followed == resolver.ChallengeRecord(
        fqdn="_acme-challenge.target.example.test.", zone="example.test."
    )
    # Without Follow the zone walk skips the CNAME'd name (no zone apex is a CNAME).
    direct = resolver.challenge_record("*.alias.example.test", nameservers=servers)
    assert direct == resolver.ChallengeRecord(
        fqdn="_acme-challenge.alias.example.test.", zone="example.test."
    )


def test_a_wrong_tsig_secret_is_refused(bind9: Bind9, rfc2136: DNS01Provider) -> None:
    assert isinstance(rfc2136, RFC2136Provider)
    forged = dataclasses.replace(rfc2136, tsig_secret="bm90IHRoZSBrZXk=")
    with pytest.raises(DNSUpdateError, match="rejected the TSIG signature") as raised:
        forged.present(fqdn=challenge_record_name(unique_name()), zone="example.test.", value="x")
    assert "bm90IHRoZSBrZXk" not in str(raised.value)
    assert "bm90IHRoZSBrZXk" not in repr(forged)
