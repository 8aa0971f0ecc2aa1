"""Where our CRDs live and how they are read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml


def default_crd_dir() -> Path:
    """<repo>/infra/crds in a checkout; sys.prefix/share/certainly/crds from an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "infra" / "crds"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "certainly" / "crds"


def load_crds(directory: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition document in directory's *.yaml/*.yml/*.json files."""
    found: list[dict[str, Any]] = []
    if not directory.is_dir():
        return found
    for path in sorted(
        [*directory.glob("*.yaml"), *directory.glob("*.yml"), *directory.glob("*.json")]
    ):
        with path.open(encoding="utf-8") as handle:
            for doc in yaml.safe_load_all(handle):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    found.append(doc)
    return found
