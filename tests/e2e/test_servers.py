"""The harness itself: the real servers answer as the other e2e tests assume."""

from __future__ import annotations

import dns.message
import dns.query
import dns.rdatatype
import pytest
import requests

from tests.e2e.servers import LOOPBACK, Bind9, Pebble

pytestmark = pytest.mark.e2e


def test_bind9_resolves_every_name_in_the_zone_to_loopback(bind9: Bind9) -> None:
    query = dns.message.make_query(f"anything.{bind9.zone}.", dns.rdatatype.A)
    response = dns.query.udp(query, LOOPBACK, port=bind9.port, timeout=2)
    addresses = {rdata.to_text() for rrset in response.answer for rdata in rrset}
    assert addresses == {LOOPBACK}


def test_pebble_serves_its_directory_over_tls_trusted_by_the_bundle(pebble: Pebble) -> None:
    directory = requests.get(pebble.directory_url, verify=str(pebble.ca_bundle_path), timeout=5)
    assert {"newAccount", "newNonce", "newOrder"} <= directory.json().keys()


def test_pebble_exposes_a_primary_and_an_alternate_root(pebble: Pebble) -> None:
    roots = pebble.roots()
    assert len(roots) == 2
    assert all(pem.startswith(b"-----BEGIN CERTIFICATE-----") for pem in roots)
