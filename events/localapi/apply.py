"""Server-side apply, simplified: field ownership per apply manager in managedFields.

Maps merge field by field; lists and scalars are leaves (atomic), which is
what SSA does for lists without list-type=map/set. Ownership is tracked for
Apply operations only: an Update never takes fields away from an applier.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from events.localapi.errors import APIError, Qualified

Path = tuple[str, ...]
# Metadata the server owns or that identifies the object: never "applied" fields.
_IDENTITY_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)


def field_paths(obj: Mapping[str, Any]) -> set[Path]:
    """Leaf paths of an applied configuration (apiVersion/kind and identity excluded)."""
    paths: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                if mkey not in _IDENTITY_META:
                    paths.update(_walk(("metadata", mkey), mvalue))
            continue
        paths.update(_walk((key,), value))
    return paths


def _walk(prefix: Path, value: Any) -> Iterator[Path]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _walk((*prefix, key), item)
    else:
        yield prefix


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def from_fields_v1(tree: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, child in tree.items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        if isinstance(child, dict) and child:
            paths.update(from_fields_v1(child, path))
        else:
            paths.add(path)
    return paths


def managed_entry(
    manager: str, applied: Mapping[str, Any], api_version: str, stamp: str, subresource: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": stamp,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(field_paths(applied)),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _lookup(obj: Any, path: Path) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _delete(obj: dict[str, Any], path: Path) -> None:
    parents: list[tuple[dict[str, Any], str]] = []
    node: Any = obj
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        parents.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    # Drop maps the removal emptied, as SSA does for fields nobody owns any more.
    for parent, part in reversed(parents):
        if parent[part] == {}:
            del parent[part]
        else:
            break


def _merge(target: dict[str, Any], applied: Mapping[str, Any]) -> None:
    for key, value in applied.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def merge_apply(
    existing: Mapping[str, Any],
    applied: dict[str, Any],
    *,
    manager: str,
    force: bool,
    api_version: str,
    stamp: str,
    subresource: str,
    what: Qualified,
) -> dict[str, Any]:
    """The object after applying `applied` as `manager`; raises 409 on conflicts."""
    entries: list[dict[str, Any]] = copy.deepcopy(existing["metadata"].get("managedFields") or [])
    new_paths = field_paths(applied)
    mine_prev: set[Path] = set()
    others: list[tuple[dict[str, Any], set[Path]]] = []
    for entry in entries:
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        same = entry.get("manager") == manager and entry.get("subresource", "") == subresource
        if same and entry.get("operation") == "Apply":
            mine_prev = paths
        elif entry.get("operation") == "Apply":
            others.append((entry, paths))

    conflicts: list[tuple[str, Path]] = []
    for entry, paths in others:
        for path in sorted(paths & new_paths):
            _, current = _lookup(existing, path)
            _, wanted = _lookup(applied, path)
            if current != wanted:
                conflicts.append((str(entry.get("manager", "")), path))
    if conflicts and not force:
        raise _conflict_error(what, existing["metadata"]["name"], conflicts, api_version)

    result = copy.deepcopy(dict(existing))
    owned_by_others = set().union(*(paths for _, paths in others)) if others else set()
    taken = {path for _, path in conflicts}
    for path in mine_prev - new_paths:
        if path not in owned_by_others:
            _delete(result, path)
    _merge(
        result, {k: v for k, v in applied.items() if k not in ("apiVersion", "kind", "metadata")}
    )
    applied_meta = applied.get("metadata") or {}
    _merge(result["metadata"], {k: v for k, v in applied_meta.items() if k not in _IDENTITY_META})

    kept: list[dict[str, Any]] = []
    for entry in entries:
        same = entry.get("manager") == manager and entry.get("subresource", "") == subresource
        if same and entry.get("operation") == "Apply":
            continue
        if taken and entry.get("operation") == "Apply":
            paths = from_fields_v1(entry.get("fieldsV1") or {}) - taken
            if not paths:
                continue
            entry["fieldsV1"] = to_fields_v1(paths)
        kept.append(entry)
    kept.append(managed_entry(manager, applied, api_version, stamp, subresource))
    result["metadata"]["managedFields"] = kept
    return result


def _conflict_error(
    what: Qualified, name: str, conflicts: list[tuple[str, Path]], api_version: str
) -> APIError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{manager}" using {api_version}',
            "field": "." + ".".join(path),
        }
        for manager, path in conflicts
    ]
    plural = "conflict" if len(conflicts) == 1 else "conflicts"
    summary = "; ".join(f"{c['message']}: {c['field']}" for c in causes)
    # kube-apiserver's apply conflict names no object: its details hold only the causes.
    return APIError(
        409,
        "Conflict",
        f"Apply failed with {len(conflicts)} {plural}: {summary}",
        details={"causes": causes},
    )


def release_changed(
    entries: list[dict[str, Any]], old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """managedFields after a non-apply write: appliers lose the fields it changed or removed.

    (kube gives those fields to the writer's Update entry; Update entries are
    not tracked here, so the fields simply become unowned by the appliers.)
    """
    kept: list[dict[str, Any]] = []
    for entry in entries:
        if entry.get("operation") != "Apply":
            kept.append(entry)
            continue
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        still = {p for p in paths if _lookup(old, p) == _lookup(new, p)}
        if still == paths:
            kept.append(entry)
        elif still:
            kept.append({**entry, "fieldsV1": to_fields_v1(still)})
    return kept
