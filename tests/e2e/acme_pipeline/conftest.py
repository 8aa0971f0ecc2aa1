"""The whole pipeline against real Pebble and BIND9: `certainly run` (watcher, scheduler,
functions in-process, the local HTTP-01 responder) on the local Kubernetes API.

This tier has its own Pebble: its HTTP-01 port is served by our responder, which the
e2e tier's session responder must not hold.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from events.runner import Runner, RunOptions
from shared import runtime
from shared.acme.client import forget_directories
from shared.acmeflow import presenters
from shared.clock import FakeClock
from shared.config import Config
from shared.issuance.certificates import reconcile_certificate
from shared.issuers.resolve import reconcile_issuer
from shared.kube.client import Kube, Obj
from shared.kube.resources import (
    CERTIFICATES,
    CLUSTER_ISSUERS,
    EVENTS,
    NAMESPACES,
    ORDERS,
    SECRETS,
    Resource,
    resource_for,
)
from tests.conftest import Cluster, require_binary
from tests.e2e.flows import unique_name
from tests.e2e.servers import Bind9, Pebble, start_pebble
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def pipeline_pebble(tmp_path_factory: pytest.TempPathFactory, bind9: Bind9) -> Iterator[Pebble]:
    binary = require_binary("pebble")
    server = start_pebble(
        pebble=binary,
        directory=tmp_path_factory.mktemp("pipeline-pebble"),
        dns_server=bind9.address,
    )
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Pipeline:
    cluster: Cluster
    kube: Kube
    pebble: Pebble
    bind9: Bind9
    clock: FakeClock
    namespace: str
    resource_namespace: str  # where ClusterIssuers keep their Secrets
    runner: Runner | None = None
    cluster_issuers: list[str] = field(default_factory=list)

    def create(self, obj: Obj) -> Obj:
        resource = resource_for(obj["apiVersion"], obj["kind"])
        assert resource is not None, obj["kind"]
        if resource.namespaced:
            obj["metadata"].setdefault("namespace", self.namespace)
        return self.kube.create(resource, obj)

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj:
        ns = (namespace or self.namespace) if resource.namespaced else None
        return self.kube.get(resource, ns, name)

    def find(self, resource: Resource, name: str, namespace: str | None = None) -> Obj | None:
        ns = (namespace or self.namespace) if resource.namespaced else None
        return self.kube.find(resource, ns, name)

    def items(self, resource: Resource) -> list[Obj]:
        items, _ = self.kube.list(resource, self.namespace)
        return items

    def cluster_issuer(self, name: str, *, solvers: list[dict[str, Any]], **acme: Any) -> Obj:
        """A ClusterIssuer for this test's Pebble (its own account key Secret)."""
        name = f"{name}-{self.namespace}"
        body = {
            "server": self.pebble.directory_url,
            "email": "pipeline@example.test",
            "privateKeySecretRef": {"name": f"{name}-account"},
            "caBundle": base64.b64encode(self.pebble.ca_bundle_pem).decode(),
            "solvers": solvers,
            **acme,
        }
        self.cluster_issuers.append(name)
        return self.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": {"name": name},
                "spec": {"acme": body},
            }
        )

    def order_in_process(self, name: str, *, solvers: list[dict[str, Any]], **acme: Any) -> Obj:
        """A ClusterIssuer and a Certificate `name` for it, each reconciled once in this
        process (no runner): the Order the Certificate's request made."""
        ctx = runtime.current()
        issuer = self.cluster_issuer(name, solvers=solvers, **acme)["metadata"]["name"]
        reconcile_issuer(ctx, kind="ClusterIssuer", namespace="", name=issuer)
        self.create(
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": name},
                "spec": {
                    "secretName": f"{name}-tls",
                    "dnsNames": [unique_name(name)],
                    "issuerRef": {"name": issuer, "kind": "ClusterIssuer"},
                },
            }
        )
        reconcile_certificate(ctx, namespace=self.namespace, name=name)
        (order,) = self.items(ORDERS)
        return order

    def start(self, *, local_http01: bool = True) -> Runner:
        """`certainly run`; without `local_http01`, HTTP-01 goes through solver Pods."""
        runner = Runner(
            RunOptions(
                kubeconfig=self.cluster.kubeconfig,
                tick_interval=1.0,
                cluster_resource_namespace=self.resource_namespace,
                http01_solver_address=(
                    f"127.0.0.1:{self.pebble.http_port}" if local_http01 else None
                ),
                dns01_recursive_nameservers=(self.bind9.address,),
            ),
            clock=self.clock,
        )
        runner.start()
        self.runner = runner
        return runner

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    def wait_for(
        self,
        resource: Resource,
        name: str,
        *,
        until: Any,
        what: str = "",
        timeout: float = READY_TIMEOUT,
    ) -> Obj:
        def probe() -> Obj | None:
            obj = self.find(resource, name)
            return obj if obj is not None and until(obj) else None

        return eventually(probe, timeout=timeout, what=what or f"{resource.kind} {name}")

    def wait_ready(self, resource: Resource, name: str, timeout: float = READY_TIMEOUT) -> Obj:
        return self.wait_for(
            resource, name, until=ready, what=f"{resource.kind} {name} Ready", timeout=timeout
        )

    def wait_none(self, resource: Resource, timeout: float = READY_TIMEOUT) -> None:
        """Until no object of `resource` is left in the namespace (finalizers included)."""
        eventually(
            lambda: not self.items(resource), timeout=timeout, what=f"no {resource.plural} left"
        )

    def events(self, name: str) -> list[Obj]:
        items, _ = self.kube.list(
            EVENTS, self.namespace, field_selector=f"involvedObject.name={name}"
        )
        return items


def ready(obj: Obj) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def condition(obj: Obj, kind: str) -> dict[str, Any]:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


def http01_solvers() -> list[dict[str, Any]]:
    return [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]


def rfc2136_solver(pipeline: Pipeline) -> dict[str, Any]:
    """An rfc2136 solver for the test BIND9, its TSIG secret stored for the ClusterIssuer."""
    bind9 = pipeline.bind9
    if pipeline.find(SECRETS, "tsig", pipeline.resource_namespace) is None:
        pipeline.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "tsig", "namespace": pipeline.resource_namespace},
                "data": {"secret": base64.b64encode(bind9.tsig_secret.encode()).decode()},
            }
        )
    return {
        "dns01": {
            "rfc2136": {
                "nameserver": bind9.address,
                "tsigKeyName": bind9.tsig_key_name,
                "tsigAlgorithm": bind9.tsig_algorithm,
                "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
            }
        }
    }


@pytest.fixture
def pipeline(
    cluster: Cluster, pipeline_pebble: Pebble, bind9: Bind9, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    # The DNS-01 self-check asks the zone's authoritative nameserver too, as in production:
    # here that is BIND9, which is not on port 53.
    monkeypatch.setattr(presenters, "authoritative_port", bind9.port)
    kube = Kube.from_kubeconfig(cluster.kubeconfig, user_agent="certainly/tests")
    suffix = uuid.uuid4().hex[:8]
    namespace, resource_namespace = f"acme-{suffix}", f"acme-cr-{suffix}"
    for ns in (namespace, resource_namespace):
        kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    forget_directories()
    env = Pipeline(
        cluster=cluster,
        kube=kube,
        pebble=pipeline_pebble,
        bind9=bind9,
        clock=FakeClock(datetime.now(UTC).replace(microsecond=0)),
        namespace=namespace,
        resource_namespace=resource_namespace,
    )
    try:
        yield env
    finally:
        env.stop()
        for name in env.cluster_issuers:
            kube.delete(CLUSTER_ISSUERS, None, name)
        for ns in (namespace, resource_namespace):
            kube.delete(NAMESPACES, None, ns)
        kube.close()


@pytest.fixture
def ctx(pipeline: Pipeline) -> Iterator[runtime.Context]:
    """The functions' context, configured as the pipeline's runner, installed for tests
    that call reconcilers directly instead of delivering events."""
    context = runtime.Context.build(
        pipeline.kube,
        clock=pipeline.clock,
        config=Config(
            cluster_resource_namespace=pipeline.resource_namespace,
            dns01_recursive_nameservers=(pipeline.bind9.address,),
        ),
    )
    runtime.install(context)
    try:
        yield context
    finally:
        runtime.install(None)


__all__ = ["CERTIFICATES", "SECRETS", "Pipeline", "condition", "http01_solvers", "ready"]
