"""Solver fields cert-manager v1.21 added: a solver that sets them is still chosen, and a
provider certainly lacks is named in the error, whatever new options it carries."""

from __future__ import annotations

from typing import Any

import pytest

from shared.acmeflow.solvers import DNS01, HTTP01, select_solver
from shared.dns01.errors import ProviderConfigError
from shared.dns01.registry import provider_for


def no_secrets(name: str, key: str) -> bytes:
    raise AssertionError(f"no Secret should be read: {name}/{key}")


def test_a_solver_with_wait_instead_of_self_check_is_still_chosen() -> None:
    # The docs example; certainly runs its self-check regardless.
    solver: dict[str, Any] = {
        "http01": {"ingress": {"ingressClassName": "nginx-public"}},
        "waitInsteadOfSelfCheck": "30s",
    }
    chosen = select_solver(
        [solver], domain="example.com", wildcard=False, offered=[HTTP01, DNS01], labels={}
    )
    assert chosen is not None
    assert (chosen.index, chosen.challenge_type) == (0, HTTP01)


def test_azure_dns_with_a_zone_type_is_refused_as_unsupported() -> None:
    dns01 = {
        "azureDNS": {
            "subscriptionID": "s",
            "resourceGroupName": "r",
            "hostedZoneName": "example.com",
            "zoneType": "AzurePrivateZone",
        }
    }
    with pytest.raises(ProviderConfigError, match="'azureDNS' is not supported"):
        provider_for(dns01, read_secret=no_secrets)
