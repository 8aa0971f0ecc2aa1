"""A CRD schema flattened to its field paths, for comparing two CRDs field by field.

Paths use `.name` for properties, `[]` for array items and `{}` for map values, so
`spec.acme.solvers[].dns01.route53.region` and `spec.secretTemplate.labels{}` are paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# What a field's own node says about its values (its children are fields of their own).
COMPARED = (
    "type",
    "format",
    "enum",
    "required",
    "default",
    "nullable",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
)


def walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, node) for every field below node, node itself first (as "")."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}" if path else name)
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


def facts(node: dict[str, Any]) -> dict[str, Any]:
    """The compared keywords of one node; lists whose order carries no meaning sorted."""
    out = {key: node[key] for key in COMPARED if key in node}
    if "required" in out:
        out["required"] = sorted(out["required"])
    if "x-kubernetes-validations" in out:
        out["x-kubernetes-validations"] = sorted(
            (rule["rule"], rule.get("message", "")) for rule in out["x-kubernetes-validations"]
        )
    return out


def fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """path -> facts for every field of an openAPIV3Schema (the root is "")."""
    return {path: facts(node) for path, node in walk(schema)}


def named(path: str) -> bool:
    """Whether the path ends in a field name (not in an array's items or a map's values)."""
    return bool(path) and not path.endswith(("[]", "{}"))


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Named fields, and the root, that have no description for `kubectl explain`.

    The root's metadata is left out: kube-apiserver refuses a CRD whose metadata schema
    says anything beyond `type: object`, and explains ObjectMeta from its own schema.
    """
    return [
        path or "<root>"
        for path, node in walk(schema)
        if (named(path) or not path)
        and path != "metadata"
        and not str(node.get("description", "")).strip()
    ]


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, str]:
    """path -> what differs, between two openAPIV3Schemas."""
    mine, upstream = fields(ours), fields(theirs)
    out: dict[str, str] = {}
    for path in sorted(mine.keys() | upstream.keys()):
        if path not in upstream:
            out[path] = "only ours"
        elif path not in mine:
            out[path] = "missing"
        elif mine[path] != upstream[path]:
            keys = sorted(
                k
                for k in mine[path].keys() | upstream[path].keys()
                if mine[path].get(k) != upstream[path].get(k)
            )
            out[path] = "differs in " + ", ".join(keys)
    return out
