"""preferredChain: pick the chain whose topmost certificate's issuer CN matches."""

from __future__ import annotations

from shared.acme.chains import select_chain, topmost_issuer_common_name
from tests.unit.acme.certs import certificate

LEAF = certificate(subject="a.example.com", issuer="Intermediate")


def _chain(*, root: str) -> bytes:
    return LEAF + certificate(subject="Intermediate", issuer=root)


DEFAULT = _chain(root="Old Root")
ALTERNATE = _chain(root="New Root")


def test_the_topmost_issuer_names_the_root() -> None:
    assert topmost_issuer_common_name(DEFAULT) == "Old Root"


def test_an_alternate_is_chosen_when_its_root_is_preferred() -> None:
    assert select_chain(DEFAULT, [ALTERNATE], preferred="New Root") == ALTERNATE


def test_the_default_wins_when_it_already_matches() -> None:
    other = _chain(root="Old Root")
    assert select_chain(DEFAULT, [other], preferred="Old Root") == DEFAULT


def test_no_match_or_no_preference_keeps_the_default() -> None:
    assert select_chain(DEFAULT, [ALTERNATE], preferred="Unknown Root") == DEFAULT
    assert select_chain(DEFAULT, [ALTERNATE], preferred=None) == DEFAULT


def test_the_leaf_issuer_does_not_count_as_the_root() -> None:
    assert select_chain(DEFAULT, [ALTERNATE], preferred="Intermediate") == DEFAULT
