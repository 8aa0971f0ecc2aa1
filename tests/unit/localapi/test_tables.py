"""Server-side printing: kube's HumanDuration and CRD printer-column cells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.localapi.resources import from_crd
from events.localapi.tables import human_duration, table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 15 * 60, "3h15m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (8 * 86400, "8d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


CRD: dict[str, Any] = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.ready"},
                    {"name": "Count", "type": "integer", "jsonPath": ".spec.count"},
                    {"name": "Tags", "type": "string", "jsonPath": ".spec.tags"},
                    {"name": "Since", "type": "date", "jsonPath": ".spec.since", "priority": 1},
                ],
            }
        ],
    },
}


def test_printer_columns_render_cells_as_apiextensions_does() -> None:
    (rt,) = from_crd(CRD)
    now = datetime(2026, 1, 1, 1, 0, 0, tzinfo=UTC)
    obj = {
        "metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"count": 2.0, "tags": ["a", "b"], "since": "2026-01-01T00:59:00Z"},
        "status": {"ready": True},
    }
    out = table(rt, [obj], include_object="None", now=now)
    assert [c["name"] for c in out["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Count",
        "Tags",
        "Since",
    ]
    assert out["columnDefinitions"][4]["priority"] == 1
    assert out["rows"] == [{"cells": ["w", "true", 2, '["a","b"]', "60s"]}]


def test_crd_without_columns_gets_age() -> None:
    crd: dict[str, Any] = {
        "metadata": CRD["metadata"],
        "spec": {**CRD["spec"], "versions": [{"name": "v1", "served": True}]},
    }
    (rt,) = from_crd(crd)
    now = datetime(2026, 1, 1, 0, 5, 0, tzinfo=UTC)
    obj = {"metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"}}
    out = table(rt, [obj], include_object="Metadata", now=now)
    assert out["rows"][0]["cells"] == ["w", "5m"]
    assert out["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
