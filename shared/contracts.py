"""The CloudEvent contracts functions accept: Knative ApiServerSource and PingSource.

ApiServerSource (Resource mode) sends `dev.knative.apiserver.resource.{add,update,delete}`
with the object as JSON data and `kind`/`name`/`namespace`/`apiversion` extensions; in
Reference mode (used for Secrets, so no private key travels in an event) it sends
`dev.knative.apiserver.ref.{add,update,delete}` with only the object's reference as data.
PingSource sends `dev.knative.sources.ping`. An event only names an object: handlers
re-read it, because the payload may be stale, duplicated or out of order, or forged: the
name and namespace must obey Kubernetes' name rules before they are used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from cloudevents.http import CloudEvent

from shared.kube.names import label_problems, subdomain_problems
from shared.kube.resources import resource_for

RESOURCE_PREFIX: Final = "dev.knative.apiserver.resource."
REF_PREFIX: Final = "dev.knative.apiserver.ref."
ADD: Final = RESOURCE_PREFIX + "add"
UPDATE: Final = RESOURCE_PREFIX + "update"
DELETE: Final = RESOURCE_PREFIX + "delete"
PING: Final = "dev.knative.sources.ping"

Action = Literal["add", "update", "delete"]
ACTIONS: Final = ("add", "update", "delete")
# A Secret's content: never sent in an event (the handlers re-read what they need).
SECRET_CONTENT: Final = ("data", "stringData")


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
    reference: bool = False  # Reference mode: the payload holds only the object's name

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def parse_object_event(event: CloudEvent) -> ObjectEvent:
    kind_of_event = str(event["type"])
    prefix = next((p for p in (RESOURCE_PREFIX, REF_PREFIX) if kind_of_event.startswith(p)), None)
    if prefix is None:
        raise MalformedEvent(
            f"unsupported event type {kind_of_event!r}: expected {ADD}|update|delete"
        )
    action = kind_of_event.removeprefix(prefix)
    if action not in ACTIONS:
        raise MalformedEvent(f"unsupported event type {kind_of_event!r}")
    data = event.data
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise MalformedEvent(f"event data is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise MalformedEvent("event data must be the Kubernetes object as a JSON object")
    if prefix == REF_PREFIX:
        # Reference mode: {"apiVersion", "kind", "name", "namespace"}, as an object's metadata.
        data = {
            "apiVersion": data.get("apiVersion"),
            "kind": data.get("kind"),
            "metadata": {"name": data.get("name"), "namespace": data.get("namespace")},
        }
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise MalformedEvent("event data has no metadata.name")
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise MalformedEvent("event data has no apiVersion/kind")
    name, namespace = metadata["name"], metadata.get("namespace") or ""
    _check_name("metadata.name", name, subdomain_problems)
    if namespace:
        _check_name("metadata.namespace", namespace, label_problems)
    return ObjectEvent(
        action=action,  # type: ignore[arg-type]  # checked above
        api_version=api_version,
        kind=kind,
        namespace=namespace,
        name=name,
        event_id=str(event["id"]),
        payload=data,
        reference=prefix == REF_PREFIX,
    )


def _check_name(field: str, value: object, problems: Callable[[str], list[str]]) -> None:
    """Refuse a name the API server would refuse: it is about to become a path segment."""
    if not isinstance(value, str):
        raise MalformedEvent(f"{field}: Invalid value: must be a string")
    found = problems(value)
    if found:
        shown = value if len(value) <= 300 else value[:300] + "..."
        raise MalformedEvent(f'{field}: Invalid value: "{shown}": {"; ".join(found)}')


def without_secret_content(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as it may travel in an event: a Secret loses `data` and `stringData`."""
    if obj.get("kind") != "Secret":
        return dict(obj)
    return {k: v for k, v in obj.items() if k not in SECRET_CONTENT}


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
    return CloudEvent(attributes, without_secret_content(obj))


def ping_event(*, source: str, data: Mapping[str, Any] | None = None) -> CloudEvent:
    attributes = {
        "type": PING,
        "source": source,
        "id": str(uuid.uuid4()),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, dict(data or {}))
