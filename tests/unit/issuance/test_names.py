"""Request names: `<certificate>-<revision>` with cert-manager's 52-character prefix rule."""

from __future__ import annotations

import pytest

from shared.issuance.names import dns_safe_shorten, fnv32, request_name, short_name


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", 0x811C9DC5), (b"a", 0x050C5D7E), (b"foobar", 0x31F0B262)],
)
def test_fnv32_is_go_hash_fnv_new32(data: bytes, expected: int) -> None:
    assert fnv32(data) == expected


def test_a_name_of_up_to_52_characters_is_used_as_it_is() -> None:
    assert request_name("web", 1) == "web-1"
    assert request_name("n" * 52, 12) == "n" * 52 + "-12"


def test_a_longer_name_is_cut_to_52_with_a_hash_of_the_whole_name() -> None:
    name = "a-very-long-certificate-name-that-goes-on-and-on-beyond-52"
    short = short_name(name, 52)
    assert len(short) == 52
    assert short == f"{name[:43]}-{fnv32(name.encode()):08x}"
    assert request_name(name, 2) == f"{short}-2"


def test_long_names_sharing_a_prefix_get_different_requests() -> None:
    base = "x" * 60
    assert request_name(base + "-one", 1) != request_name(base + "-two", 1)


def test_the_cut_never_ends_in_a_dash_or_dot() -> None:
    name = "a" * 42 + "-.-" + "b" * 20
    prefix = short_name(name, 52).rsplit("-", 1)[0]
    assert prefix == "a" * 42


@pytest.mark.parametrize(
    ("name", "limit", "expected"),
    [("abc", 52, "abc"), ("abc-def", 4, "abc"), ("ab.-cd", 4, "ab"), ("----", 3, "")],
)
def test_dns_safe_shorten_as_cert_manager(name: str, limit: int, expected: str) -> None:
    assert dns_safe_shorten(name, limit) == expected
