"""The sync tool takes structure from upstream and every description from us."""

from __future__ import annotations

from typing import Any

from tests.unit.crds.sync_from_upstream import merged


def crd(kind: str, schema: dict[str, Any], columns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.io", "annotations": {"generator": "x"}},
        "spec": {
            "group": "example.io",
            "names": {"kind": kind, "plural": "things"},
            "versions": [
                {
                    "name": "v1",
                    "schema": {"openAPIV3Schema": schema},
                    "additionalPrinterColumns": columns,
                }
            ],
        },
    }


def test_new_upstream_fields_come_without_upstream_text_and_are_reported() -> None:
    theirs = crd(
        "Thing",
        {
            "description": "Upstream words.",
            "type": "object",
            "properties": {
                "metadata": {"type": "object"},
                "spec": {
                    "description": "Upstream spec.",
                    "type": "object",
                    "properties": {
                        "old": {"description": "Upstream old.", "type": "string"},
                        "new": {"description": "Upstream new.", "type": "string", "enum": ["A"]},
                    },
                },
            },
        },
        [{"name": "Age", "description": "Upstream age.", "jsonPath": ".x", "type": "date"}],
    )
    ours = crd(
        "Thing",
        {
            "description": "Our thing.",
            "type": "object",
            "properties": {
                "spec": {
                    "description": "Our spec.",
                    "type": "object",
                    "properties": {"old": {"description": "Our old.", "type": "integer"}},
                }
            },
        },
        [{"name": "Age", "description": "Our age.", "jsonPath": ".x", "type": "date"}],
    )
    result, missing = merged(ours, theirs)
    version = result["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert result["metadata"] == {"name": "things.example.io"}
    assert version["schema"]["openAPIV3Schema"]["description"] == "Our thing."
    assert spec["description"] == "Our spec."
    assert spec["properties"]["old"] == {"description": "Our old.", "type": "string"}
    assert spec["properties"]["new"] == {"type": "string", "enum": ["A"]}
    assert missing == ["Thing/v1: spec.new"]
    assert version["additionalPrinterColumns"][0]["description"] == "Our age."
