"""A test environment that drives the real functions synchronously, event by event."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from events.routes import ON_CERTIFICATE_CREATED, ON_EXPIRY_TICK, ON_ISSUER_CHANGED
from events.sinks import Delivery, InProcessSink
from shared import runtime
from shared.clock import FakeClock
from shared.contracts import Action, object_event, ping_event
from shared.faults import CRASH_ENV, CRASH_EXIT_CODE
from shared.kube.client import Kube, Obj
from shared.kube.resources import (
    CERTIFICATE_REQUESTS,
    CERTIFICATES,
    CLUSTER_ISSUERS,
    EVENTS,
    ISSUERS,
    NAMESPACES,
    SECRETS,
    Resource,
    resource_for,
)
from tests.conftest import REPO, Cluster

pytestmark = pytest.mark.integration

_SINKS: dict[str, InProcessSink] = {}


def sink(target: str) -> InProcessSink:
    if target not in _SINKS:
        _SINKS[target] = InProcessSink(target)
    return _SINKS[target]


@dataclass
class Env:
    cluster: Cluster
    kube: Kube
    clock: FakeClock
    namespace: str
    ca_namespace: str = "cert-manager"

    def create(self, obj: Obj) -> Obj:
        resource = resource_for(obj["apiVersion"], obj["kind"])
        assert resource is not None, obj["kind"]
        if resource.namespaced:
            obj["metadata"].setdefault("namespace", self.namespace)
        return self.kube.create(resource, obj)

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj:
        return self.kube.get(resource, namespace or self.namespace, name)

    def find(self, resource: Resource, name: str, namespace: str | None = None) -> Obj | None:
        return self.kube.find(resource, namespace or self.namespace, name)

    def deliver(
        self,
        resource: Resource,
        name: str,
        *,
        namespace: str | None = None,
        action: Action = "update",
    ) -> Delivery:
        ns = None if not resource.namespaced else (namespace or self.namespace)
        obj = self.kube.get(resource, ns, name)
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        return self.deliver_object(obj, action=action)

    def deliver_object(self, obj: Obj, *, action: Action = "update") -> Delivery:
        target = (
            ON_ISSUER_CHANGED
            if obj["kind"] in ("Issuer", "ClusterIssuer")
            else ON_CERTIFICATE_CREATED
        )
        return sink(target).deliver(object_event(action, obj, source="tests"))

    def deliver_crashing(self, name: str, *, step: str) -> None:
        """Deliver a Certificate's event in a fresh process (on this clock) that dies at `step`."""
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.integration.pipeline.deliver_once",
                str(self.cluster.kubeconfig),
                self.namespace,
                name,
                self.clock.now().isoformat(),
            ],
            env={**os.environ, CRASH_ENV: step},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert process.returncode == CRASH_EXIT_CODE, process.stderr[-2000:]

    def renew(self, name: str) -> None:
        """Ask for a re-issuance as `cmctl renew` does: no clock, no spec change."""
        cert = self.get(CERTIFICATES, name)
        cert["status"]["conditions"].append(
            {
                "type": "Issuing",
                "status": "True",
                "reason": "ManuallyTriggered",
                "message": "Certificate re-issuance manually triggered",
                "lastTransitionTime": cert["status"]["notBefore"],
            }
        )
        self.kube.replace_status(CERTIFICATES, cert)

    def request_names(self, certificate: str) -> list[str]:
        """The CertificateRequests made for a Certificate, oldest revision first."""
        items, _ = self.kube.list(CERTIFICATE_REQUESTS, self.namespace)
        mine = [
            r
            for r in items
            if r["metadata"].get("annotations", {}).get("cert-manager.io/certificate-name")
            == certificate
        ]
        mine.sort(
            key=lambda r: int(r["metadata"]["annotations"]["cert-manager.io/certificate-revision"])
        )
        return [r["metadata"]["name"] for r in mine]

    def deny(self, request: str, *, reason: str, message: str) -> None:
        """What an approval controller (approver-policy, `cmctl deny`) does to a request."""
        obj = self.get(CERTIFICATE_REQUESTS, request)
        conditions = [
            c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] != "Approved"
        ]
        conditions.append(
            {
                "type": "Denied",
                "status": "True",
                "reason": reason,
                "message": message,
                "lastTransitionTime": obj["metadata"]["creationTimestamp"],
            }
        )
        self.kube.replace_status(
            CERTIFICATE_REQUESTS, {**obj, "status": {"conditions": conditions}}
        )

    def tick(self) -> Delivery:
        return sink(ON_EXPIRY_TICK).deliver(ping_event(source="tests"))

    def certificate(self, name: str, **spec: Any) -> Obj:
        body = {"secretName": f"{name}-tls", "dnsNames": [f"{name}.example.test"], **spec}
        return self.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": name},
                "spec": body,
            }
        )

    def issue(self, name: str, **spec: Any) -> Obj:
        """Create a Certificate, deliver its event, and return it once Ready."""
        self.certificate(name, **spec)
        delivery = self.deliver(CERTIFICATES, name)
        assert delivery.ok, delivery
        cert = self.get(CERTIFICATES, name)
        assert ready(cert), cert.get("status")
        return cert

    def ca_issuer(self, name: str = "ca") -> Obj:
        """A namespaced SelfSigned issuer, a root CA from it, and a Ready CA Issuer."""
        self.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Issuer",
                "metadata": {"name": f"{name}-root"},
                "spec": {"selfSigned": {}},
            }
        )
        assert self.deliver(ISSUERS, f"{name}-root").ok
        self.issue(
            f"{name}-root-ca",
            isCA=True,
            commonName=f"{name} root",
            dnsNames=[],
            secretName=f"{name}-root-ca",
            privateKey={"algorithm": "ECDSA", "size": 256},
            issuerRef={"name": f"{name}-root", "kind": "Issuer"},
        )
        issuer = self.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Issuer",
                "metadata": {"name": name},
                "spec": {"ca": {"secretName": f"{name}-root-ca"}},
            }
        )
        assert self.deliver(ISSUERS, name).ok
        return issuer

    def writes(self) -> int:
        """API writes so far in this test's namespaces and to cluster-scoped objects.

        From the embedded API's request log or the rig's audit log; other namespaces are
        left out, since on the real control plane earlier tests' namespaces are still
        being emptied (and swept) while this test runs.
        """
        if self.cluster.requests is None:
            pytest.skip("counting API writes needs the embedded API or the rig")
        mine = {self.namespace, self.ca_namespace, ""}
        return sum(1 for w in self.cluster.requests.writes() if w.namespace in mine)

    def events(self, name: str) -> list[Obj]:
        items, _ = self.kube.list(
            EVENTS, self.namespace, field_selector=f"involvedObject.name={name}"
        )
        return sorted(
            items, key=lambda e: str(e.get("metadata", {}).get("resourceVersion", "0")).zfill(20)
        )


def ready(obj: Obj) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def condition(obj: Obj, kind: str) -> dict[str, Any]:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


@pytest.fixture
def env(cluster: Cluster) -> Iterator[Env]:
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    runtime.install(runtime.Context.build(kube, clock=clock))
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    kube.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    try:
        yield Env(cluster=cluster, kube=kube, clock=clock, namespace=namespace)
    finally:
        runtime.install(None)
        kube.delete(NAMESPACES, None, namespace)
        kube.close()


__all__ = ["CERTIFICATES", "CLUSTER_ISSUERS", "ISSUERS", "SECRETS", "Env", "condition", "ready"]
