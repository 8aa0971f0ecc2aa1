"""Rewrite infra/crds from the pinned releases' schemas, keeping our own descriptions.

For a new cert-manager or trust-manager pin (tests/rig/upstream.py): run
`python -m tests.unit.crds.sync_from_upstream`, then write a description for each path
it prints, in infra/crds, in certainly's terms. Structure (types, enums, defaults,
validations, names, columns) comes from upstream; every description, the header comments
and the columns listed in test_upstream_parity.EXTRA_COLUMNS come from our files.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.rig.upstream import MODULES, released_crds
from tests.unit.crds.fields import named, walk
from tests.unit.crds.test_upstream_parity import EXTRA_COLUMNS

CRD_DIR = Path(__file__).resolve().parents[3] / "infra" / "crds"
WIDTH = 92


def _described(node: dict[str, Any], text: str | None) -> None:
    """Drop upstream's description and put ours (if any) first, for readable YAML."""
    rest = [(k, v) for k, v in node.items() if k != "description"]
    node.clear()
    if text:
        node["description"] = text
    node.update(rest)


def merged(ours: dict[str, Any] | None, theirs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Upstream's CRD with our descriptions and extra columns; the paths still undescribed."""
    crd = copy.deepcopy(theirs)
    crd["metadata"] = {"name": theirs["metadata"]["name"]}
    kind = crd["spec"]["names"]["kind"]
    mine = {v["name"]: v for v in (ours or {}).get("spec", {}).get("versions", [])}
    missing: list[str] = []
    for version in crd["spec"]["versions"]:
        old = mine.get(version["name"], {})
        texts = {
            path: node.get("description")
            for path, node in walk(old.get("schema", {}).get("openAPIV3Schema", {}))
        }
        for path, node in walk(version["schema"]["openAPIV3Schema"]):
            keep = (named(path) or not path) and path != "metadata"
            _described(node, texts.get(path) if keep else None)
            if keep and not node.get("description"):
                missing.append(f"{kind}/{version['name']}: {path or '<root>'}")
        old_columns = {c["name"]: c for c in old.get("additionalPrinterColumns", [])}
        columns = version.get("additionalPrinterColumns", [])
        for extra in EXTRA_COLUMNS.get((kind, version["name"]), {}):
            at = next((i for i, c in enumerate(columns) if c["name"] == "Age"), len(columns))
            columns.insert(at, {k: v for k, v in old_columns[extra].items() if k != "description"})
        for i, column in enumerate(columns):
            text = old_columns.get(column["name"], {}).get("description")
            rest = {k: v for k, v in column.items() if k not in ("name", "description")}
            columns[i] = {"name": column["name"], **({"description": text} if text else {}), **rest}
    return crd, missing


def main() -> None:
    missing: list[str] = []
    for module in MODULES:
        for theirs in released_crds(module).values():
            spec = theirs["spec"]
            path = CRD_DIR / f"{spec['group']}_{spec['names']['plural']}.yaml"
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            lines = text.splitlines()
            header = lines[: next((i for i, x in enumerate(lines) if not x.startswith("#")), 0)]
            crd, undescribed = merged(yaml.safe_load(text) if text else None, theirs)
            missing += undescribed
            body = yaml.safe_dump(crd, sort_keys=False, width=WIDTH, default_flow_style=False)
            path.write_text("".join(f"{line}\n" for line in header) + body, encoding="utf-8")
    for line in missing:
        print(f"needs a description: {line}")  # noqa: T201  (a developer's tool)


if __name__ == "__main__":
    main()
