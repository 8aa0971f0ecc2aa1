"""meta.k8s.io/v1 Table responses, the server-side printing `kubectl get` asks for."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from events.localapi.jsonpath import JSONPathError, evaluate
from events.localapi.resources import PrinterColumn, ResourceType

Obj = Mapping[str, Any]
NAME_DESCRIPTION: Final = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESCRIPTION: Final = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: ~2-3 significant figures."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(text: Any, now: datetime) -> str:
    moment = _parse_time(text)
    if moment is None:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    cell: Callable[[Obj, datetime], Any]
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


NAME: Final = Column(
    "Name",
    "string",
    lambda o, _: o["metadata"]["name"],
    format="name",
    description=NAME_DESCRIPTION,
)
AGE: Final = Column(
    "Age",
    "string",
    lambda o, now: age(o["metadata"].get("creationTimestamp"), now),
    description=AGE_DESCRIPTION,
)


def _service_ports(o: Obj, _: datetime) -> str:
    ports = _get(o, "spec", "ports") or []
    text = ",".join(
        f"{p.get('port')}{':' + str(p.get('nodePort')) if p.get('nodePort') else ''}"
        f"/{p.get('protocol', 'TCP')}"
        for p in ports
    )
    return text or "<none>"


def _selector(o: Obj, _: datetime) -> str:
    selector = _get(o, "spec", "selector") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


def _ingress_hosts(o: Obj, _: datetime) -> str:
    hosts = [r.get("host") for r in _get(o, "spec", "rules") or [] if r.get("host")]
    return ",".join(hosts) if hosts else "*"


def _ingress_ports(o: Obj, _: datetime) -> str:
    return "80, 443" if _get(o, "spec", "tls") else "80"


def _ingress_address(o: Obj, _: datetime) -> str:
    entries = _get(o, "status", "loadBalancer", "ingress") or []
    return ",".join(e.get("ip") or e.get("hostname") or "" for e in entries)


def _pod_ready(o: Obj, _: datetime) -> str:
    containers = _get(o, "spec", "containers") or []
    statuses = _get(o, "status", "containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _event_object(o: Obj, _: datetime) -> str:
    involved = o.get("involvedObject") or o.get("regarding") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_last_seen(o: Obj, now: datetime) -> str:
    for key in ("lastTimestamp", "eventTime", "deprecatedLastTimestamp"):
        if o.get(key):
            return age(o[key], now)
    series = o.get("series") or {}
    if series.get("lastObservedTime"):
        return age(series["lastObservedTime"], now)
    return age(o["metadata"].get("creationTimestamp"), now)


def _event_message(o: Obj, _: datetime) -> Any:
    return o.get("message") or o.get("note") or ""


_EVENT_COLUMNS: Final = (
    Column("Last Seen", "string", _event_last_seen),
    Column("Type", "string", lambda o, _: o.get("type", "")),
    Column("Reason", "string", lambda o, _: o.get("reason", "")),
    Column("Object", "string", _event_object),
    Column("Message", "string", _event_message),
)

BUILTIN_COLUMNS: Final[dict[tuple[str, str], tuple[Column, ...]]] = {
    ("", "secrets"): (
        NAME,
        Column("Type", "string", lambda o, _: o.get("type", "")),
        Column("Data", "string", lambda o, _: len(o.get("data") or {})),
        AGE,
    ),
    ("", "configmaps"): (
        NAME,
        Column(
            "Data", "string", lambda o, _: len(o.get("data") or {}) + len(o.get("binaryData") or {})
        ),
        AGE,
    ),
    ("", "namespaces"): (
        NAME,
        Column("Status", "string", lambda o, _: _get(o, "status", "phase") or ""),
        AGE,
    ),
    ("", "services"): (
        NAME,
        Column("Type", "string", lambda o, _: _get(o, "spec", "type") or ""),
        Column("Cluster-IP", "string", lambda o, _: _get(o, "spec", "clusterIP") or "<none>"),
        Column("External-IP", "string", lambda o, _: "<none>"),
        Column("Port(s)", "string", _service_ports),
        AGE,
        Column("Selector", "string", _selector, priority=1),
    ),
    ("", "pods"): (
        NAME,
        Column("Ready", "string", _pod_ready),
        Column("Status", "string", lambda o, _: _get(o, "status", "phase") or ""),
        Column(
            "Restarts",
            "string",
            lambda o, _: sum(
                int(s.get("restartCount", 0)) for s in _get(o, "status", "containerStatuses") or []
            ),
        ),
        AGE,
    ),
    ("", "serviceaccounts"): (
        NAME,
        Column("Secrets", "string", lambda o, _: len(o.get("secrets") or [])),
        AGE,
    ),
    ("networking.k8s.io", "ingresses"): (
        NAME,
        Column("Class", "string", lambda o, _: _get(o, "spec", "ingressClassName") or "<none>"),
        Column("Hosts", "string", _ingress_hosts),
        Column("Address", "string", _ingress_address),
        Column("Ports", "string", _ingress_ports),
        AGE,
    ),
    ("coordination.k8s.io", "leases"): (
        NAME,
        Column("Holder", "string", lambda o, _: _get(o, "spec", "holderIdentity") or ""),
        AGE,
    ),
    ("", "events"): _EVENT_COLUMNS,
    ("events.k8s.io", "events"): _EVENT_COLUMNS,
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        NAME,
        Column("Created At", "date", lambda o, _: o["metadata"].get("creationTimestamp")),
    ),
}


def _json_cell(column: PrinterColumn, value: Any, now: datetime) -> Any:
    """apiextensions-apiserver's cellForJSONValue."""
    if value is None:
        return None
    kind = column.type
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return json.dumps(value, separators=(",", ":"))
    if kind == "integer":
        return (
            int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        )
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        if not isinstance(value, str):
            return None
        moment = _parse_time(value)
        return "<invalid>" if moment is None else human_duration((now - moment).total_seconds())
    return None


def _custom_cell(column: PrinterColumn) -> Callable[[Obj, datetime], Any]:
    def cell(obj: Obj, now: datetime) -> Any:
        try:
            found = evaluate(column.json_path, obj)
        except JSONPathError:
            return None
        return _json_cell(column, found[0], now) if found else None

    return cell


def columns_for(rt: ResourceType) -> tuple[Column, ...]:
    if rt.custom:
        return (
            NAME,
            *(
                Column(
                    c.name,
                    c.type,
                    _custom_cell(c),
                    priority=c.priority,
                    format=c.format,
                    description=c.description,
                )
                for c in rt.printer_columns
            ),
        )
    return BUILTIN_COLUMNS.get(rt.key, (NAME, AGE))


def _row_object(obj: Obj, include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def table(
    rt: ResourceType,
    objects: Sequence[Obj],
    *,
    include_object: str,
    now: datetime | None = None,
    list_meta: Mapping[str, Any] | None = None,
    headers: bool = True,
) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    columns = columns_for(rt)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [c.cell(obj, moment) for c in columns]}
        embedded = _row_object(obj, include_object)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
        "columnDefinitions": [c.definition() for c in columns] if headers else [],
        "rows": rows,
    }
