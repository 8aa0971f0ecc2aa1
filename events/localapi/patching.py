"""The three PATCH content types kube-apiserver accepts.

- `application/merge-patch+json`: RFC 7386 (`merge_patch`).
- `application/json-patch+json`: RFC 6902 (`json_patch`, via the `jsonpatch` library).
- `application/strategic-merge-patch+json`: what `kubectl apply` / `kubectl patch` send
  for built-in kinds (`strategic_merge_patch`). Lists are merged by the patchMergeKey
  Kubernetes declares for the field, or replaced when the field has none.

No function modifies its inputs: the server keeps the stored object for the
resourceVersion precondition and for the watch event's "before" state.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

import jsonpatch
import jsonpointer


class PatchError(ValueError):
    """A patch that cannot be applied: the server answers 422 (or 400 when malformed)."""


# --- RFC 7386 -------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, the rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 -------------------------------------------------------------------------


def json_patch(target: Any, operations: list[Any]) -> Any:
    """RFC 6902 JSON patch; any failing operation fails the whole patch."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    try:
        patch = jsonpatch.JsonPatch(operations)
        return patch.apply(target, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(f"the json patch could not be applied: {exc}") from exc
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
        # The library lets malformed operations ({"op": "add"} without a path...) escape
        # as plain Python errors; they are the client's fault, never a 500.
        raise PatchError(f"invalid json patch operation: {exc!s}") from exc


# --- strategic merge patch ------------------------------------------------------------

_DIRECTIVE: Final = "$patch"
_RETAIN_KEYS: Final = "$retainKeys"
_DELETE_PRIMITIVE: Final = "$deleteFromPrimitiveList/"
_SET_ORDER: Final = "$setElementOrder/"

# How a list field merges. A merge key names the field that identifies an item of a
# list of objects; `_SET` marks a primitive list merged as a set (patchStrategy=merge
# without a key); lists not listed here are atomic and replaced whole.
_SET: Final = ""

_OBJECT_META: Final[Mapping[str, str]] = {"finalizers": _SET, "ownerReferences": "uid"}

_CONTAINER: Final[Mapping[str, str]] = {
    "ports": "containerPort",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "resizePolicy": "resourceName",
}

_POD_SPEC: Final[Mapping[str, str]] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
}

_POD_STATUS: Final[Mapping[str, str]] = {"conditions": "type", "podIPs": "ip"}


def _pod_spec_keys(prefix: str) -> dict[str, str]:
    keys = {f"{prefix}.{field}": key for field, key in _POD_SPEC.items()}
    for containers in ("containers", "initContainers", "ephemeralContainers"):
        for field, key in _CONTAINER.items():
            keys[f"{prefix}.{containers}.{field}"] = key
    return keys


def _template_keys(prefix: str) -> dict[str, str]:
    keys = _pod_spec_keys(f"{prefix}.spec")
    keys.update({f"{prefix}.metadata.{field}": key for field, key in _OBJECT_META.items()})
    return keys


_WORKLOAD_STATUS: Final[Mapping[str, str]] = {"status.conditions": "type"}

# Dotted paths from the object root (list items add no segment) -> merge key, per kind.
_MERGE_KEYS: Final[Mapping[str, Mapping[str, str]]] = {
    "Pod": {
        **_pod_spec_keys("spec"),
        **{f"status.{field}": key for field, key in _POD_STATUS.items()},
    },
    "Deployment": {**_template_keys("spec.template"), **_WORKLOAD_STATUS},
    "ReplicaSet": {**_template_keys("spec.template"), **_WORKLOAD_STATUS},
    "StatefulSet": {**_template_keys("spec.template"), **_WORKLOAD_STATUS},
    "DaemonSet": {**_template_keys("spec.template"), **_WORKLOAD_STATUS},
    "Job": {**_template_keys("spec.template"), **_WORKLOAD_STATUS},
    "CronJob": _template_keys("spec.jobTemplate.spec.template"),
    "Service": {"spec.ports": "port"},
    "Node": {"status.conditions": "type", "status.addresses": "type"},
    "Namespace": {"spec.finalizers": _SET, "status.conditions": "type"},
    # Ingress, Secret, ConfigMap, Event...: every list is atomic.
}


def strategic_merge_patch(
    target: dict[str, Any], patch: dict[str, Any], *, kind: str
) -> dict[str, Any]:
    """Apply a strategic merge patch to a built-in object of `kind` (inputs untouched)."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    keys: dict[str, str] = {f"metadata.{f}": k for f, k in _OBJECT_META.items()}
    keys.update(_MERGE_KEYS.get(kind, {}))
    merged = _merge_map(copy.deepcopy(target), copy.deepcopy(patch), path="", keys=keys)
    if merged is None:
        raise PatchError("strategic merge patch cannot delete the whole object")
    return merged


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], *, path: str, keys: Mapping[str, str]
) -> dict[str, Any] | None:
    """Merge `patch` into `original` (both owned by us); None means "delete this map"."""
    directive = patch.pop(_DIRECTIVE, None)
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: _strip_directives(v) for k, v in patch.items() if not k.startswith("$")}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}")

    retain = patch.pop(_RETAIN_KEYS, None)
    if retain is not None:
        if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
            raise PatchError("$retainKeys must be a list of field names")
        for key in list(original):
            if key not in retain:
                del original[key]

    deletions: dict[str, list[Any]] = {}
    orders: dict[str, list[Any]] = {}
    for key in list(patch):
        if key.startswith(_DELETE_PRIMITIVE):
            deletions[key[len(_DELETE_PRIMITIVE) :]] = _as_list(patch.pop(key), key)
        elif key.startswith(_SET_ORDER):
            orders[key[len(_SET_ORDER) :]] = _as_list(patch.pop(key), key)

    # $setElementOrder interleaves by the live object's order, so keep it before merging.
    live_order = {key: list(original[key]) for key in orders if isinstance(original.get(key), list)}
    for key, value in patch.items():
        child = _child(path, key)
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict):
            base = current if isinstance(current, dict) else {}
            merged = _merge_map(base, value, path=child, keys=keys)
            if merged is None:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            base_list = current if isinstance(current, list) else []
            original[key] = _merge_list(base_list, value, path=child, keys=keys)
        else:
            original[key] = value

    for key, removed in deletions.items():
        current = original.get(key)
        if isinstance(current, list):
            kept = [item for item in current if item not in removed]
            if kept:
                original[key] = kept
            else:
                # Typed objects omit empty lists: the last finalizer leaves no `finalizers: []`.
                del original[key]
    for key, order in orders.items():
        current = original.get(key)
        if isinstance(current, list):
            original[key] = _apply_order(
                current,
                order,
                live=live_order.get(key, []),
                merge_key=keys.get(_child(path, key)),
            )
    return original


def _as_list(value: Any, directive: str) -> list[Any]:
    if not isinstance(value, list):
        raise PatchError(f"{directive} must be a list")
    return value


def _merge_list(
    original: list[Any], patch: list[Any], *, path: str, keys: Mapping[str, str]
) -> list[Any]:
    merge_key = keys.get(path)
    if merge_key is None:
        return [_strip_directives(item) for item in patch]  # atomic list
    if merge_key == _SET:
        merged = list(original)
        merged.extend(item for item in patch if item not in merged)
        return merged

    # A `{"$patch": "replace"}` item replaces the whole list with the other items.
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [
            _strip_directives(item)
            for item in patch
            if not (isinstance(item, dict) and item.get(_DIRECTIVE) == "replace")
        ]
    merged = list(original)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"{path}: list items must be objects with {merge_key!r}")
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        index = next(
            (
                i
                for i, existing in enumerate(merged)
                if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if index is not None:
                del merged[index]
            continue
        if index is None:
            result = _merge_map({}, item, path=path, keys=keys)
            if result is not None:
                merged.append(result)
        else:
            result = _merge_map(merged[index], item, path=path, keys=keys)
            if result is None:
                del merged[index]
            else:
                merged[index] = result
    return merged


def _apply_order(
    items: list[Any], order: list[Any], *, live: list[Any], merge_key: str | None
) -> list[Any]:
    """Order a merged list as apimachinery does for `$setElementOrder`.

    Items the directive names follow its order; the others (known only to the server)
    keep their live order; the two runs are then interleaved by live position, so a
    server-only item stays next to the neighbours it had.
    """

    def identity(item: Any) -> Any:
        if merge_key and isinstance(item, dict):
            return item.get(merge_key)
        return item

    wanted = [identity(entry) for entry in order]
    live_ids = [identity(item) for item in live]

    def live_index(item: Any) -> int:
        key = identity(item)
        return live_ids.index(key) if key in live_ids else -1

    named = sorted(
        (item for item in items if identity(item) in wanted),
        key=lambda item: wanted.index(identity(item)),
    )
    server_only = sorted((item for item in items if identity(item) not in wanted), key=live_index)
    merged: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(named):
        if j >= len(named):
            merged.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            merged.append(named[j])
            j += 1
        else:
            left, right = live_index(server_only[i]), live_index(named[j])
            if left >= 0 and right >= 0 and left < right:
                merged.append(server_only[i])
                i += 1
            else:
                merged.append(named[j])
                j += 1
    return merged


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip_directives(item) for key, item in value.items() if not key.startswith("$")
        }
    if isinstance(value, list):
        return [_strip_directives(item) for item in value]
    return value
