"""Readiness verdicts that need no API: SelfSigned's reason, and which ACME account
a Ready issuer may keep using without asking the CA."""

from __future__ import annotations

from typing import Any

import pytest

from shared.issuers.acme import same_server
from shared.issuers.base import IssuerScope
from shared.issuers.selfsigned import SelfSigned


class NoKube:
    """Any API call is a failure: these verdicts must be made from the object alone."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected API call: {name}")


def scope(**fields: Any) -> IssuerScope:
    issuer = {"kind": "Issuer", "metadata": {"name": "i", "namespace": "n"}, "spec": {}}
    return IssuerScope(kube=NoKube(), issuer=issuer, secrets_namespace="n", **fields)  # type: ignore[arg-type]


def test_selfsigned_is_ready_with_cert_managers_reason() -> None:
    readiness = SelfSigned().check(scope())
    assert (readiness.ready, readiness.reason) == (True, "IsReady")


@pytest.mark.parametrize(
    ("account", "server", "same"),
    [
        (
            "https://acme-v02.api.letsencrypt.org/acme/acct/123",
            "https://acme-v02.api.letsencrypt.org/directory",
            True,
        ),
        ("https://localhost:14000/my-account/1", "https://localhost:14000/dir", True),
        (
            "https://acme-staging-v02.api.letsencrypt.org/acme/acct/1",
            "https://acme-v02.api.letsencrypt.org/directory",
            False,
        ),
        ("https://localhost:14000/my-account/1", "https://localhost:15000/dir", False),
    ],
)
def test_an_account_is_reused_only_on_the_server_it_was_registered_with(
    account: str, server: str, same: bool
) -> None:
    assert same_server(account, server) is same


def test_a_broken_issuer_found_while_signing_is_rechecked_once() -> None:
    calls: list[str] = []
    scope(recheck=lambda: calls.append("recheck")).issuer_broken()
    assert calls == ["recheck"]
    scope().issuer_broken()  # outside a resolved signing there is nothing to call
