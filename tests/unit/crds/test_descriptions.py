"""Every field of our CRDs is described, so `kubectl explain` helps.

The descriptions are written here: what the field does in certainly, and, where
certainly does not act on a field (Venafi, Vault, some DNS providers), that it does not.
"""

from __future__ import annotations

import pytest

from tests.unit.crds.fields import named, undescribed, walk
from tests.unit.crds.test_crd_schemas import CRDS

NOT_IMPLEMENTED = ("not implemented in certainly", "not used by certainly", "not written by")


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_field_has_a_description(kind: str) -> None:
    for version in CRDS[kind]["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert sum(1 for path, _ in walk(schema) if named(path)) > 20
        assert undescribed(schema) == [], (kind, version["name"])


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_printer_column_has_a_description(kind: str) -> None:
    for version in CRDS[kind]["spec"]["versions"]:
        for column in version.get("additionalPrinterColumns", []):
            assert column.get("description", "").strip(), (kind, column["name"])


def description(kind: str, path: str) -> str:
    node = CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in path.split("."):
        node = node["items"] if part == "[]" else node["properties"][part]
    text: str = node["description"]
    return text.lower()


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("Issuer", "spec.venafi"),
        ("ClusterIssuer", "spec.vault"),
        ("Issuer", "spec.vault.auth.aws"),
        ("Issuer", "spec.acme.solvers.[].dns01.azureDNS"),
        ("Issuer", "spec.acme.solvers.[].dns01.azureDNS.zoneType"),
        ("Issuer", "spec.acme.solvers.[].dns01.akamai"),
        ("Issuer", "spec.acme.solvers.[].dns01.digitalocean"),
        ("Issuer", "spec.acme.solvers.[].waitInsteadOfSelfCheck"),
        ("Challenge", "spec.solver.http01.gatewayHTTPRoute"),
        ("Certificate", "spec.renewal"),
        ("Certificate", "spec.signatureAlgorithm"),
        ("Bundle", "spec.target.additionalFormats"),
    ],
)
def test_fields_certainly_does_not_act_on_say_so(kind: str, path: str) -> None:
    assert any(phrase in description(kind, path) for phrase in NOT_IMPLEMENTED)
