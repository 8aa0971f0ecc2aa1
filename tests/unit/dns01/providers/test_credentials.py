"""Secret references: each way a credential can be unusable has its own message,
naming the reference and never the value."""

from __future__ import annotations

import pytest

from shared.dns01.credentials import ScopedCredentials, ambient_allowed, read_text, secret_ref
from shared.dns01.errors import ProviderConfigError
from shared.kube.errors import Forbidden

REF = ("creds", "token")


def test_a_forbidden_read_names_the_reason() -> None:
    def forbidden(name: str, key: str) -> bytes:
        raise Forbidden(403, "Forbidden", 'secrets "creds" is forbidden')

    with pytest.raises(ProviderConfigError) as raised:
        read_text(forbidden, REF, provider="p", field="tokenRef")
    assert (
        str(raised.value) == "p.tokenRef: secret 'creds' key 'token' could not be read (Forbidden)"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"\xff\xfehunter2", "is not UTF-8 text"), (b"  \n", "is empty")],
)
def test_unreadable_values_are_described_not_echoed(raw: bytes, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message) as raised:
        read_text(lambda name, key: raw, REF, provider="p", field="tokenRef")
    assert "hunter2" not in str(raised.value)


def test_a_reference_is_absent_or_complete() -> None:
    assert secret_ref({}, "tokenRef", provider="p") is None
    assert secret_ref({"tokenRef": {"name": "n", "key": "k"}}, "tokenRef", provider="p") == (
        "n",
        "k",
    )
    with pytest.raises(ProviderConfigError, match="needs both name and key"):
        secret_ref({"tokenRef": {"key": "k"}}, "tokenRef", provider="p")


def test_ambient_identity_needs_an_explicit_grant() -> None:
    def plain(name: str, key: str) -> bytes:
        return b""

    assert not ambient_allowed(plain)
    assert not ambient_allowed(ScopedCredentials(read=plain))
    assert ambient_allowed(ScopedCredentials(read=plain, ambient=True))
