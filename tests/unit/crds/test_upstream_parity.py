"""Our CRDs against the ones cert-manager and trust-manager release, field by field.

The reference is read from the pinned Go modules (tests/rig/upstream.py) at test time.
Every field path on either side must carry the same type, format, enum, required list,
default and validations; names, scope, versions, short names, categories and printer
columns must match. What we change on purpose is listed below with the reason, and a
listed difference that no longer exists fails too, so the list stays true.
"""

from __future__ import annotations

from typing import Any, Final

import pytest

from tests.conftest import IN_CI
from tests.rig.upstream import CERT_MANAGER, MODULES, TRUST_MANAGER, Module, UpstreamUnavailable
from tests.rig.upstream import released_crds as fetch_released_crds
from tests.unit.crds.fields import differences, walk
from tests.unit.crds.test_crd_schemas import CRDS

SOURCE: Final[dict[str, Module]] = {
    "Certificate": CERT_MANAGER,
    "CertificateRequest": CERT_MANAGER,
    "Issuer": CERT_MANAGER,
    "ClusterIssuer": CERT_MANAGER,
    "Order": CERT_MANAGER,
    "Challenge": CERT_MANAGER,
    "Bundle": TRUST_MANAGER,
}
# (kind, version, field path) -> why ours differs. Empty: every field matches.
DELIBERATE_FIELDS: Final[dict[tuple[str, str, str], str]] = {}
# (kind, version) -> printer columns we add, and why.
EXTRA_COLUMNS: Final[dict[tuple[str, str], dict[str, str]]] = {
    ("Certificate", "v1"): {
        "Expiration": "-o wide shows status.notAfter: the expiry is what people look for",
    },
}

_cache: dict[Module, dict[str, dict[str, Any]] | str] = {}


def released(module: Module) -> dict[str, dict[str, Any]]:
    """The module's CRDs; a failure in CI, a skip (with the reason) elsewhere."""
    if module not in _cache:
        try:
            _cache[module] = fetch_released_crds(module)
        except UpstreamUnavailable as exc:
            _cache[module] = str(exc)
    found = _cache[module]
    if isinstance(found, str):
        if IN_CI:
            pytest.fail(found)
        pytest.skip(found)
    return found


def version_pairs(kind: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(version name, ours, theirs) for every version either side defines."""
    ours = {v["name"]: v for v in CRDS[kind]["spec"]["versions"]}
    theirs = {v["name"]: v for v in released(SOURCE[kind])[kind]["spec"]["versions"]}
    assert ours.keys() == theirs.keys(), kind
    return [(name, ours[name], theirs[name]) for name in sorted(ours)]


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_we_define_every_kind_the_release_installs(module: Module) -> None:
    theirs = released(module)
    assert set(theirs) == {kind for kind, source in SOURCE.items() if source == module}
    assert set(SOURCE) == set(CRDS)


@pytest.mark.parametrize("kind", sorted(SOURCE))
def test_group_names_and_scope_match_the_release(kind: str) -> None:
    ours, theirs = CRDS[kind]["spec"], released(SOURCE[kind])[kind]["spec"]
    assert CRDS[kind]["metadata"]["name"] == released(SOURCE[kind])[kind]["metadata"]["name"]
    assert ours["group"] == theirs["group"]
    assert ours["scope"] == theirs["scope"]
    # shortNames and categories included: `kubectl get iss`, `kubectl get cert-manager`.
    assert ours["names"] == theirs["names"]


@pytest.mark.parametrize("kind", sorted(SOURCE))
def test_versions_subresources_and_printer_columns_match_the_release(kind: str) -> None:
    for name, ours, theirs in version_pairs(kind):
        assert (ours["served"], ours["storage"]) == (theirs["served"], theirs["storage"])
        assert ours.get("subresources") == theirs.get("subresources")
        extra = EXTRA_COLUMNS.get((kind, name), {})
        mine = [
            (c["name"], c["jsonPath"], c["type"], c.get("priority", 0))
            for c in ours.get("additionalPrinterColumns", [])
            if c["name"] not in extra
        ]
        upstream = [
            (c["name"], c["jsonPath"], c["type"], c.get("priority", 0))
            for c in theirs.get("additionalPrinterColumns", [])
        ]
        assert mine == upstream, (kind, name)
        ours_names = {c["name"] for c in ours.get("additionalPrinterColumns", [])}
        assert set(extra) <= ours_names - {c[0] for c in upstream}, "stale EXTRA_COLUMNS"


@pytest.mark.parametrize("kind", sorted(SOURCE))
def test_every_field_matches_the_release_or_is_a_listed_deliberate_difference(kind: str) -> None:
    for name, ours, theirs in version_pairs(kind):
        found = differences(ours["schema"]["openAPIV3Schema"], theirs["schema"]["openAPIV3Schema"])
        listed = {path for (k, v, path) in DELIBERATE_FIELDS if (k, v) == (kind, name)}
        unexplained = {path: why for path, why in found.items() if path not in listed}
        assert unexplained == {}, (kind, name)
        assert listed <= found.keys(), f"stale DELIBERATE_FIELDS for {kind}/{name}"


def words(text: str) -> str:
    return " ".join(text.split()).lower()


@pytest.mark.parametrize("kind", sorted(SOURCE))
def test_our_descriptions_are_written_here_not_copied(kind: str) -> None:
    for _name, ours, theirs in version_pairs(kind):
        upstream = {
            path: words(node["description"])
            for path, node in walk(theirs["schema"]["openAPIV3Schema"])
            if node.get("description")
        }
        copied = [
            path
            for path, node in walk(ours["schema"]["openAPIV3Schema"])
            if node.get("description") and words(node["description"]) == upstream.get(path)
        ]
        assert copied == []
