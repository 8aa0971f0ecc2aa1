"""Bundles against the cluster: source objects in the trust namespace, labelled namespaces."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from events.routes import ON_BUNDLE_CHANGED, ON_EXPIRY_TICK
from events.sinks import Delivery, InProcessSink
from shared import runtime
from shared.clock import FakeClock
from shared.contracts import Action, object_event, ping_event
from shared.kube.client import Kube, Obj
from shared.kube.errors import NotFound
from shared.kube.resources import BUNDLES, CONFIGMAPS, EVENTS, NAMESPACES, SECRETS, Resource
from tests.conftest import Cluster

TRUST_NAMESPACE = "cert-manager"


@dataclass
class Trust:
    """A test's Bundle world: unique names, cleaned up after, every object tracked."""

    kube: Kube
    cluster: Cluster
    label: str  # namespaces labelled `<label>=yes` are this test's selected ones
    name: str = field(default_factory=lambda: f"b-{uuid.uuid4().hex[:8]}")
    created: list[tuple[Resource, str | None, str]] = field(default_factory=list)

    def namespace(self, *, selected: bool) -> str:
        name = f"tr-{uuid.uuid4().hex[:8]}"
        labels = {self.label: "yes" if selected else "no"}
        self.kube.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
        )
        self.created.append((NAMESPACES, None, name))
        return name

    def config_map(
        self, name: str, data: dict[str, str], *, labels: dict[str, str] | None = None
    ) -> None:
        self._source(CONFIGMAPS, name, {"data": data}, labels=labels or {})

    def secret(self, name: str, data: dict[str, str]) -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self._source(SECRETS, name, {"type": "Opaque", "data": encoded}, labels={})

    def _source(self, resource: Resource, name: str, body: Obj, *, labels: dict[str, str]) -> None:
        obj = {
            "apiVersion": "v1",
            "kind": resource.kind,
            "metadata": {"name": name, "namespace": TRUST_NAMESPACE, "labels": labels},
            **body,
        }
        current = self.kube.find(resource, TRUST_NAMESPACE, name)
        if current is None:
            self.kube.create(resource, obj)
            self.created.append((resource, TRUST_NAMESPACE, name))
        else:
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            self.kube.replace(resource, obj)

    def bundle(self, sources: list[Obj], **target: Any) -> Obj:
        target.setdefault("namespaceSelector", {"matchLabels": {self.label: "yes"}})
        bundle = self.kube.create(
            BUNDLES,
            {
                "apiVersion": BUNDLES.api_version,
                "kind": "Bundle",
                "metadata": {"name": self.name},
                "spec": {"sources": sources, "target": target},
            },
        )
        self.created.append((BUNDLES, None, self.name))
        return bundle

    def deliver(self, action: Action = "update") -> Delivery:
        obj = self.kube.get(BUNDLES, None, self.name)
        obj.setdefault("apiVersion", BUNDLES.api_version)
        obj.setdefault("kind", "Bundle")
        return InProcessSink(ON_BUNDLE_CHANGED).deliver(object_event(action, obj, source="t"))

    def tick(self) -> Delivery:
        return InProcessSink(ON_EXPIRY_TICK).deliver(ping_event(source="tests"))

    def get(self) -> Obj:
        return self.kube.get(BUNDLES, None, self.name)

    def synced(self) -> dict[str, Any]:
        conditions = (self.get().get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "Synced"), {})

    def target(self, resource: Resource, namespace: str) -> Obj | None:
        return self.kube.find(resource, namespace, self.name)

    def events(self) -> list[tuple[str, str, str]]:
        items, _ = self.kube.list(EVENTS, field_selector=f"involvedObject.name={self.name}")
        return [(e["type"], e["reason"], e["message"]) for e in items]

    def cleanup(self) -> None:
        for resource, namespace, name in reversed(self.created):
            with contextlib.suppress(NotFound):
                self.kube.delete(resource, namespace, name)


@pytest.fixture
def trust(cluster: Cluster) -> Iterator[Trust]:
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    runtime.install(runtime.Context.build(kube, clock=clock))
    world = Trust(kube=kube, cluster=cluster, label=f"trust-test-{uuid.uuid4().hex[:6]}")
    try:
        yield world
    finally:
        runtime.install(None)
        world.cleanup()
        kube.close()
