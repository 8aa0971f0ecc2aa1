"""Reading and shaping Kubernetes objects: metadata, conditions, timestamps."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace") or "")


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def ref(obj: Mapping[str, Any]) -> str:
    """`namespace/name` (or `name` when cluster-scoped), for logs and messages."""
    ns = namespace_of(obj)
    return f"{ns}/{name_of(obj)}" if ns else name_of(obj)


def owner_reference(obj: Mapping[str, Any], *, controller: bool = True) -> Obj:
    m = meta(obj)
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": m["name"],
        "uid": m["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def is_owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = meta(owner).get("uid")
    return any(o.get("uid") == uid for o in meta(obj).get("ownerReferences") or [])


# -- time -------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with seconds precision, as Kubernetes writes metav1.Time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# -- conditions -------------------------------------------------------------------


def get_condition(status: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def condition_is(status: Mapping[str, Any], kind: str, value: str = "True") -> bool:
    condition = get_condition(status, kind)
    return condition is not None and condition.get("status") == value


def set_condition(
    status: dict[str, Any],
    *,
    kind: str,
    value: str,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None = None,
) -> None:
    """Set a condition in place; lastTransitionTime moves only when the status flips."""
    conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
    previous = next((c for c in conditions if c.get("type") == kind), None)
    transition = format_time(now)
    if previous is not None and previous.get("status") == value:
        transition = previous.get("lastTransitionTime") or transition
    condition: dict[str, Any] = {
        "type": kind,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    status["conditions"] = [c for c in conditions if c.get("type") != kind] + [condition]


def remove_condition(status: dict[str, Any], kind: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


# -- secrets ----------------------------------------------------------------------


def secret_bytes(secret: Mapping[str, Any] | None, key: str) -> bytes | None:
    if not secret:
        return None
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value) if value else None


def encode_data(data: Mapping[str, bytes]) -> dict[str, str]:
    return {k: base64.b64encode(v).decode() for k, v in data.items()}
