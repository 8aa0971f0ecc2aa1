"""Order and Challenge names are deterministic, bounded, and differ when their input does."""

from __future__ import annotations

from shared.acmeflow.names import challenge_name, fnv32a, order_name


def request(name: str, csr: str = "Q1NS") -> dict[str, object]:
    return {
        "metadata": {"name": name},
        "spec": {"request": csr, "issuerRef": {"name": "le", "kind": "ClusterIssuer"}},
    }


def test_fnv32a_matches_the_reference_vectors() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_order_name_is_the_request_name_and_a_stable_hash() -> None:
    first = order_name(request("echo-tls-1"))
    assert first == order_name(request("echo-tls-1"))
    assert first.startswith("echo-tls-1-")
    assert order_name(request("echo-tls-1", csr="b3RoZXI=")) != first


def test_long_names_stay_valid_object_names() -> None:
    name = order_name(request("x" * 300))
    assert len(name) <= 63
    assert len(challenge_name(name, authorization_url="https://ca/authz/1")) <= 253


def test_challenge_name_depends_on_the_authorization() -> None:
    a = challenge_name("o", authorization_url="https://ca/authz/1")
    assert a == challenge_name("o", authorization_url="https://ca/authz/1")
    assert a != challenge_name("o", authorization_url="https://ca/authz/2")
