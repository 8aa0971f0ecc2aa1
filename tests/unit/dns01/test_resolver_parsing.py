"""Nameserver strings as cert-manager users write them ("HOST:PORT")."""

from __future__ import annotations

import pytest

from shared.dns01.base import challenge_record_name
from shared.dns01.resolver import challenge_record, parse_nameserver, parse_nameservers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8.8.8.8", ("8.8.8.8", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("ns1.example.com:53", ("ns1.example.com", 53)),
        ("[2001:db8::1]:5353", ("2001:db8::1", 5353)),
        ("[2001:db8::1]", ("2001:db8::1", 53)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        (" 10.0.0.1:53 ", ("10.0.0.1", 53)),
    ],
)
def test_nameservers_parse_with_port_53_by_default(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text", ["", ":53", "host:", "host:http", "host:0", "host:65536", "[::1]x53"]
)
def test_malformed_nameservers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="nameserver"):
        parse_nameserver(text)


def test_a_list_parses_in_order() -> None:
    assert parse_nameservers(["1.1.1.1", "9.9.9.9:53"]) == [("1.1.1.1", 53), ("9.9.9.9", 53)]


@pytest.mark.parametrize(
    ("domain", "record"),
    [
        ("example.com", "_acme-challenge.example.com."),
        ("*.example.com", "_acme-challenge.example.com."),
        ("example.com.", "_acme-challenge.example.com."),
    ],
)
def test_the_challenge_record_shares_one_name_for_a_wildcard_and_its_base(
    domain: str, record: str
) -> None:
    assert challenge_record_name(domain) == record


def test_an_unknown_cname_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="cnameStrategy"):
        challenge_record("example.com", cname_strategy="Chase", nameservers=[("127.0.0.1", 1)])
