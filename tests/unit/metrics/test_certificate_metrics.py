"""cert-manager's Certificate metrics: exact names, labels and values from status alone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from shared.clock import FakeClock
from shared.metrics import (
    CLOCK,
    EXPIRATION,
    READY,
    RENEWAL,
    CertificateCollector,
    certificate_metrics,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOT_AFTER = "2026-05-30T12:00:00Z"
RENEWAL_TIME = "2026-04-30T12:00:00Z"
ISSUER = {"issuer_name": "ca", "issuer_kind": "ClusterIssuer", "issuer_group": "cert-manager.io"}


def certificate(
    name: str, status: Mapping[str, Any] | None = None, /, **ref: str
) -> dict[str, Any]:
    issuer_ref = ref or {"name": "ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    cert: dict[str, Any] = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {"secretName": f"{name}-tls", "issuerRef": issuer_ref},
    }
    if status is not None:
        cert["status"] = dict(status)
    return cert


def ready(value: str) -> dict[str, Any]:
    return {"conditions": [{"type": "Ready", "status": value, "reason": "Test"}]}


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a text exposition, keyed by (name, labels)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in found, f"duplicate series {key}"
            found[key] = sample.value
    return found


def series(metric: str, /, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return metric, frozenset(labels.items())


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_an_issued_ready_certificate_exports_its_expiry_renewal_and_ready_true() -> None:
    status = {"notAfter": NOT_AFTER, "renewalTime": RENEWAL_TIME, **ready("True")}
    found = samples(certificate_metrics([certificate("web", status)], now=NOW))
    who = {"name": "web", "namespace": "apps", **ISSUER}
    assert found == {
        series(CLOCK): NOW.timestamp(),
        series(EXPIRATION, **who): epoch(NOT_AFTER),
        series(RENEWAL, **who): epoch(RENEWAL_TIME),
        series(READY, condition="True", **who): 1.0,
        series(READY, condition="False", **who): 0.0,
        series(READY, condition="Unknown", **who): 0.0,
    }


def test_a_certificate_without_status_exports_zero_times_and_ready_unknown() -> None:
    found = samples(certificate_metrics([certificate("new")], now=NOW))
    who = {"name": "new", "namespace": "apps", **ISSUER}
    assert found[series(EXPIRATION, **who)] == 0.0
    assert found[series(RENEWAL, **who)] == 0.0
    assert [found[series(READY, condition=c, **who)] for c in ("True", "False", "Unknown")] == [
        0.0,
        0.0,
        1.0,
    ]


@pytest.mark.parametrize("value", ["True", "False", "Unknown"])
def test_exactly_one_ready_series_is_one_and_it_names_the_current_status(value: str) -> None:
    found = samples(certificate_metrics([certificate("c", ready(value))], now=NOW))
    ones = [dict(labels)["condition"] for (name, labels), v in found.items() if name == READY and v]
    assert ones == [value]


def test_issuer_labels_carry_the_issuer_ref_as_written() -> None:
    # cert-manager labels with spec.issuerRef verbatim: an omitted kind/group is "".
    found = samples(certificate_metrics([certificate("plain", name="local")], now=NOW))
    labels = {"name": "plain", "namespace": "apps", "issuer_name": "local"}
    assert found[series(EXPIRATION, issuer_kind="", issuer_group="", **labels)] == 0.0


def test_an_unreadable_status_time_exports_zero_rather_than_failing_the_scrape() -> None:
    found = samples(certificate_metrics([certificate("odd", {"notAfter": "soon"})], now=NOW))
    assert found[series(EXPIRATION, name="odd", namespace="apps", **ISSUER)] == 0.0


def test_no_certificates_still_exports_the_clock_and_every_family_header() -> None:
    text = certificate_metrics([], now=NOW)
    assert samples(text) == {series(CLOCK): NOW.timestamp()}
    for name in (EXPIRATION, RENEWAL, READY):
        assert f"# TYPE {name} gauge" in text


def test_the_collector_lists_afresh_on_every_scrape() -> None:
    listed: list[list[dict[str, Any]]] = [[certificate("one")], []]
    clock = FakeClock(NOW)
    encode, _ = choose_encoder("")
    collector = CertificateCollector(lambda: listed.pop(0), clock=clock)
    assert series(READY, name="one", namespace="apps", condition="Unknown", **ISSUER) in samples(
        encode(collector).decode()
    )
    assert samples(encode(collector).decode()) == {series(CLOCK): NOW.timestamp()}
    assert listed == []


def test_a_collector_without_a_lister_exports_only_the_clock() -> None:
    encode, _ = choose_encoder("")
    assert samples(encode(CertificateCollector(None, clock=FakeClock(NOW))).decode()) == {
        series(CLOCK): NOW.timestamp()
    }


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it() -> None:
    encode, content_type = choose_encoder("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    collector = CertificateCollector(
        lambda: [certificate("om", ready("True"))], clock=FakeClock(NOW)
    )
    text = encode(collector).decode()
    assert text.endswith("# EOF\n")
    names = {family.name for family in openmetrics_families(text)}  # type: ignore[no-untyped-call]
    assert names == {CLOCK, EXPIRATION, RENEWAL, READY}
