"""What kubectl learns from our CRDs through discovery and OpenAPI: short names,
categories, and the descriptions `kubectl explain` prints."""

from __future__ import annotations

import pytest
import yaml

from tests.integration.localapi.conftest import Kubectl
from tests.integration.localapi.test_kubectl import kubectl, ns  # noqa: F401  (fixtures)
from tests.unit.crds.test_crd_schemas import CRDS

pytestmark = pytest.mark.integration


def test_api_resources_lists_every_short_name_and_category(kubectl: Kubectl) -> None:  # noqa: F811
    out = kubectl.run("api-resources", "-o", "wide").stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    for crd in CRDS.values():
        names = crd["spec"]["names"]
        row = rows[names["plural"]]
        for short in names.get("shortNames", []):
            assert short in row.split()[1].split(","), (short, row)
        for category in names.get("categories", []):
            assert category in row, (category, row)


@pytest.mark.parametrize(
    ("short", "kind", "namespaced"),
    [("iss", "Issuer", True), ("ciss", "ClusterIssuer", False), ("cert", "Certificate", True)],
)
def test_get_by_short_name_finds_the_object(
    kubectl: Kubectl,  # noqa: F811
    ns: str,  # noqa: F811
    short: str,
    kind: str,
    namespaced: bool,
) -> None:
    name = f"short-{ns}"
    spec = {"secretName": "s", "issuerRef": {"name": "x"}} if kind == "Certificate" else {}
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": kind,
        "metadata": {"name": name, **({"namespace": ns} if namespaced else {})},
        "spec": spec or {"selfSigned": {}},
    }
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(obj))
    try:
        where = ["-n", ns] if namespaced else []
        assert kubectl.run("get", short, *where, "-o", "name").stdout.split() == [
            f"{kind.lower()}.cert-manager.io/{name}"
        ]
    finally:
        kubectl.run("delete", "-f", "-", "--wait=false", stdin=yaml.safe_dump(obj), check=False)


def test_get_by_category_lists_every_cert_manager_kind(kubectl: Kubectl, ns: str) -> None:  # noqa: F811
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "in-category", "namespace": ns},
        "spec": {"selfSigned": {}},
    }
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(issuer))
    names = kubectl.run("get", "cert-manager", "-n", ns, "-o", "name").stdout.split()
    assert "issuer.cert-manager.io/in-category" in names


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("certificate.spec.privateKey", ["algorithm", "encoding", "rotationPolicy", "size"]),
        ("issuer.spec.vault.auth.aws", ["iamRoleArn", "role", "vaultHeaderValue"]),
        ("clusterissuer.spec.acme.solvers.dns01.azureDNS", ["zoneType"]),
        ("order.spec", ["replaces"]),
        ("bundle.spec.target.configMap", ["metadata"]),
    ],
)
def test_explain_prints_our_description_for_each_field(
    kubectl: Kubectl,  # noqa: F811
    field: str,
    expected: list[str],
) -> None:
    out = kubectl.run("explain", field).stdout
    assert "<no description>" not in out
    for name in expected:
        assert f"  {name}\t" in out, (name, out)
