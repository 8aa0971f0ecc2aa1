"""Conversions between the shapes one stored object is served in."""

from __future__ import annotations

from typing import Any, Final

Obj = dict[str, Any]

# events.k8s.io/v1 Events are core/v1 Events stored once and shown in two shapes.
_EVENT_RENAMES: Final = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)


def event_from_core(obj: Obj) -> Obj:
    """A stored core/v1 Event as events.k8s.io/v1 shows it."""
    out = {k: v for k, v in obj.items() if k not in {core for core, _ in _EVENT_RENAMES}}
    for core, new in _EVENT_RENAMES:
        if core in obj:
            out[new] = obj[core]
    out["apiVersion"] = "events.k8s.io/v1"
    return out


def event_to_core(obj: Obj) -> Obj:
    """An events.k8s.io/v1 Event in its stored core/v1 shape."""
    out = {k: v for k, v in obj.items() if k not in {new for _, new in _EVENT_RENAMES}}
    for core, new in _EVENT_RENAMES:
        if new in obj:
            out[core] = obj[new]
    out["apiVersion"] = "v1"
    return out
