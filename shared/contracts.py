"""The CloudEvent contracts functions accept: Knative ApiServerSource and PingSource.

ApiServerSource (Resource mode) sends `dev.knative.apiserver.resource.{add,update,delete}`
with the object as JSON data and `kind`/`name`/`namespace`/`apiversion` extensions;
PingSource sends `dev.knative.sources.ping`. An event only names an object: handlers
re-read it, because the payload may be stale, duplicated or out of order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from cloudevents.http import CloudEvent

from shared.kube.resources import resource_for

RESOURCE_PREFIX: Final = "dev.knative.apiserver.resource."
ADD: Final = RESOURCE_PREFIX + "add"
UPDATE: Final = RESOURCE_PREFIX + "update"
DELETE: Final = RESOURCE_PREFIX + "delete"
PING: Final = "dev.knative.sources.ping"

Action = Literal["add", "update", "delete"]


class MalformedEvent(ValueError):
    """The request is not an event this function accepts; the message says why (-> 4xx)."""


@dataclass(frozen=True)
class ObjectEvent:
    action: Action
    api_version: str
    kind: str
    namespace: str
    name: str
    event_id: str
    payload: Mapping[str, Any]  # the object as the source saw it; possibly stale

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def parse_object_event(event: CloudEvent) -> ObjectEvent:
    kind_of_event = str(event["type"])
    if not kind_of_event.startswith(RESOURCE_PREFIX):
        raise MalformedEvent(
            f"unsupported event type {kind_of_event!r}: expected {ADD}|update|delete"
        )
    action = kind_of_event.removeprefix(RESOURCE_PREFIX)
    if action not in ("add", "update", "delete"):
        raise MalformedEvent(f"unsupported event type {kind_of_event!r}")
    data = event.data
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise MalformedEvent(f"event data is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedEvent("event data must be the Kubernetes object as a JSON object")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise MalformedEvent("event data has no metadata.name")
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise MalformedEvent("event data has no apiVersion/kind")
    return ObjectEvent(
        action=action,  # type: ignore[arg-type]  # checked above
        api_version=api_version,
        kind=kind,
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata["name"]),
        event_id=str(event["id"]),
        payload=data,
    )


def object_event(action: Action, obj: Mapping[str, Any], *, source: str) -> CloudEvent:
    """The CloudEvent Knative's ApiServerSource would send for this object change."""
    metadata = obj.get("metadata") or {}
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    resource = resource_for(api_version, kind)
    namespace, name = metadata.get("namespace") or "", metadata.get("name") or ""
    if resource is not None:
        subject = resource.path(namespace or None, name)
    else:
        subject = f"/apis/{api_version}/namespaces/{namespace}/{kind.lower()}s/{name}"
    attributes = {
        "type": RESOURCE_PREFIX + action,
        "source": source,
        "subject": subject,
        "id": str(uuid.uuid4()),
        "datacontenttype": "application/json",
        "kind": kind,
        "name": name,
        "namespace": namespace,
        "apiversion": api_version,
    }
    return CloudEvent(attributes, dict(obj))


def ping_event(*, source: str, data: Mapping[str, Any] | None = None) -> CloudEvent:
    attributes = {
        "type": PING,
        "source": source,
        "id": str(uuid.uuid4()),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, dict(data or {}))
