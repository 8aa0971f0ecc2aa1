"""Solver selection follows cert-manager: most specific selector wins, ties to the first."""

from __future__ import annotations

from typing import Any

from shared.acmeflow.solvers import DNS01, HTTP01, select_solver

HTTP: dict[str, Any] = {"http01": {"ingress": {}}}
DNS: dict[str, Any] = {"dns01": {"rfc2136": {"nameserver": "ns:53"}}}
BOTH = (HTTP01, DNS01)


def solver(kind: dict[str, Any], **selector: Any) -> dict[str, Any]:
    return {**kind, "selector": selector} if selector else dict(kind)


def pick(solvers: list[dict[str, Any]], domain: str = "www.example.com", **kw: Any) -> int | None:
    found = select_solver(
        solvers,
        domain=domain,
        wildcard=kw.get("wildcard", False),
        offered=kw.get("offered", BOTH),
        labels=kw.get("labels", {}),
    )
    return None if found is None else found.index


def test_a_solver_without_selector_is_the_fallback() -> None:
    assert pick([solver(HTTP)]) == 0


def test_first_of_several_fallbacks_wins() -> None:
    assert pick([solver(DNS), solver(HTTP)]) == 0


def test_dns_name_match_beats_zone_match_and_fallback() -> None:
    solvers = [
        solver(HTTP),
        solver(DNS, dnsZones=["example.com"]),
        solver(HTTP, dnsNames=["www.example.com"]),
    ]
    assert pick(solvers) == 2


def test_longest_matching_zone_wins() -> None:
    solvers = [solver(DNS, dnsZones=["example.com"]), solver(HTTP, dnsZones=["www.example.com"])]
    assert pick(solvers, domain="a.www.example.com") == 1
    assert pick(solvers, domain="b.example.com") == 0


def test_a_selector_that_does_not_match_is_never_used() -> None:
    assert pick([solver(HTTP, dnsNames=["other.example.com"])]) is None
    assert pick([solver(HTTP, dnsZones=["example.org"])]) is None
    assert pick([solver(HTTP, matchLabels={"team": "a"})], labels={"team": "b"}) is None


def test_more_matching_labels_are_more_specific() -> None:
    solvers = [
        solver(DNS, matchLabels={"team": "a"}),
        solver(HTTP, matchLabels={"team": "a", "tier": "web"}),
    ]
    assert pick(solvers, labels={"team": "a", "tier": "web"}) == 1
    assert pick(solvers, labels={"team": "a"}) == 0


def test_a_matching_selector_beats_the_fallback() -> None:
    assert pick([solver(HTTP), solver(DNS, matchLabels={"team": "a"})], labels={"team": "a"}) == 1


def test_wildcards_get_dns01_because_the_ca_offers_only_that() -> None:
    solvers = [solver(HTTP), solver(DNS)]
    assert pick(solvers, domain="example.com", wildcard=True, offered=(DNS01,)) == 1


def test_wildcard_dns_names_are_matched_with_their_star() -> None:
    solvers = [solver(DNS), solver(DNS, dnsNames=["*.example.com"])]
    assert pick(solvers, domain="example.com", wildcard=True, offered=(DNS01,)) == 1
    assert pick(solvers, domain="example.com", offered=(DNS01,)) == 0


def test_no_solver_for_an_unoffered_type() -> None:
    assert pick([solver(HTTP)], offered=(DNS01,)) is None
