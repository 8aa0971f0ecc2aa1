from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest

from shared.certificates.durations import format_duration
from shared.certificates.matching import name_violations, request_violations
from shared.certificates.spec import CertificateSpec, IssuerRef, Subject
from shared.pki.csr import build_csr
from tests.unit.pki.factory import issue, key, spec

BASE = spec(
    common_name="web.example.com",
    dns_names=("web.example.com",),
    ip_addresses=("10.0.0.1",),
    uris=("spiffe://td/web",),
    email_addresses=("ops@example.com",),
    subject=Subject(organizations=("Acme",)),
)


def _request(issued_for: CertificateSpec, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request": base64.b64encode(build_csr(spec=issued_for, key=key("ECDSA"))).decode(),
        "isCA": issued_for.is_ca,
        "usages": list(issued_for.usages),
        "duration": format_duration(issued_for.duration),
        "issuerRef": {"name": issued_for.issuer_ref.name, "kind": issued_for.issuer_ref.kind},
    }
    body.update(overrides)
    return {"spec": body}


def test_request_for_the_same_spec_has_no_violations() -> None:
    assert request_violations(_request(BASE), BASE) == []


@pytest.mark.parametrize(
    ("change", "violation"),
    [
        ({"common_name": "api.example.com"}, "spec.commonName"),
        ({"subject": Subject(organizations=("Other",))}, "spec.subject"),
        ({"dns_names": ("web.example.com", "x.example.com")}, "spec.dnsNames"),
        ({"ip_addresses": ("10.0.0.2",)}, "spec.ipAddresses"),
        ({"uris": ()}, "spec.uris"),
        ({"email_addresses": ("sec@example.com",)}, "spec.emailAddresses"),
        ({"is_ca": True}, "spec.isCA"),
        ({"usages": ("digital signature",)}, "spec.usages"),
        ({"issuer_ref": IssuerRef("other")}, "spec.issuerRef"),
    ],
)
def test_each_changed_field_is_named(change: dict[str, Any], violation: str) -> None:
    assert request_violations(_request(BASE), replace(BASE, **change)) == [violation]


def test_literal_subject_is_compared_as_a_whole() -> None:
    literal = replace(BASE, common_name="", subject=Subject(), literal_subject="CN=a,O=Acme")
    assert request_violations(_request(literal), literal) == []
    moved = replace(literal, literal_subject="CN=a,O=Other")
    assert request_violations(_request(literal), moved) == ["spec.literalSubject"]


def test_usage_synonyms_are_equal() -> None:
    issued = replace(BASE, usages=("signing", "s/mime"))
    wanted = replace(BASE, usages=("digital signature", "email protection"))
    assert request_violations(_request(issued), wanted) == []


def test_default_usages_equal_an_empty_list() -> None:
    assert request_violations(_request(BASE, usages=[]), BASE) == []


@pytest.mark.parametrize("broken", [{"spec": "nope"}, {"spec": {"request": "!!!"}}, {}])
def test_unreadable_request_yields_none(broken: dict[str, Any]) -> None:
    assert request_violations(broken, BASE) is None


def test_issued_certificate_names_match_spec() -> None:
    leaf = issue(BASE, key("ECDSA"))
    assert name_violations(leaf, BASE) == []
    assert name_violations(leaf, replace(BASE, uris=())) == ["spec.uris"]
