"""Which of an issuer's solvers answers an authorization: cert-manager's selection rules.

A solver qualifies when the CA offers its challenge type for the authorization and
its selector (if any) matches: every matchLabels entry on the Order's labels, and
the domain in dnsNames or under one of dnsZones when either list is given. Among
qualifying solvers the most specific wins: a dnsNames match, then the longest
matching dnsZone, then the most matchLabels; a solver without a selector is the
fallback; ties go to the first listed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

HTTP01: Final = "http-01"
DNS01: Final = "dns-01"

# The solver block key for each ACME challenge type, and cert-manager's spelling of the type.
SOLVER_KEYS: Final = {HTTP01: "http01", DNS01: "dns01"}
CHALLENGE_KINDS: Final = {HTTP01: "HTTP-01", DNS01: "DNS-01"}


@dataclass(frozen=True)
class Selection:
    index: int  # position in spec.acme.solvers
    solver: Mapping[str, Any]
    challenge_type: str  # "http-01" or "dns-01"


@dataclass(frozen=True, order=True)
class _Score:
    dns_name: int
    dns_zone: int
    labels: int


def select_solver(
    solvers: Sequence[Mapping[str, Any]],
    *,
    domain: str,
    wildcard: bool,
    offered: Collection[str],
    labels: Mapping[str, str],
) -> Selection | None:
    """The solver for `domain` (without "*."; `wildcard` says whether it was one)."""
    name = f"*.{domain}" if wildcard else domain
    best: tuple[_Score, Selection] | None = None
    fallback: Selection | None = None
    for index, solver in enumerate(solvers):
        challenge_type = _challenge_type(solver, offered)
        if challenge_type is None:
            continue
        selection = Selection(index=index, solver=solver, challenge_type=challenge_type)
        selector = solver.get("selector")
        if not isinstance(selector, Mapping):
            fallback = fallback or selection
            continue
        score = score_selector(selector, name=name, labels=labels)
        if score is None:
            continue
        if best is None or score > best[0]:
            best = (score, selection)
    if best is not None:
        return best[1]
    return fallback


def score_selector(
    selector: Mapping[str, Any], *, name: str, labels: Mapping[str, str]
) -> _Score | None:
    """How specifically `selector` matches `name` with `labels`; None if it does not."""
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return None
    dns_names = [str(n).lower() for n in selector.get("dnsNames") or []]
    dns_zones = [str(z).lower().strip(".") for z in selector.get("dnsZones") or []]
    lowered = name.lower()
    name_match = 1 if lowered in dns_names else 0
    zone_match = max(
        (len(zone.split(".")) for zone in dns_zones if _in_zone(lowered, zone)), default=0
    )
    if (dns_names or dns_zones) and not name_match and not zone_match:
        return None
    return _Score(dns_name=name_match, dns_zone=zone_match, labels=len(match_labels))


def _in_zone(name: str, zone: str) -> bool:
    bare = name.removeprefix("*.")
    return bare == zone or bare.endswith(f".{zone}")


def _challenge_type(solver: Mapping[str, Any], offered: Collection[str]) -> str | None:
    for challenge_type, key in SOLVER_KEYS.items():
        if challenge_type in offered and isinstance(solver.get(key), Mapping):
            return challenge_type
    return None
