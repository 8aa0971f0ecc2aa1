"""Drive the functions synchronously: deliver every object's event until a condition holds.

    python -m tests.e2e.acme_pipeline.pump KUBECONFIG NAMESPACE RESOURCE_NAMESPACE SOLVER CERT [NS,..]

Run as a process with CERTAINLY_CRASH_AT set, it dies at that step, as a killed Pod
would; the test then pumps in its own process and checks the job is finished once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from events.routes import ROUTES
from events.sinks import InProcessSink
from shared import runtime
from shared.config import Config
from shared.contracts import object_event
from shared.kube.client import Kube
from shared.kube.resources import (
    CERTIFICATE_REQUESTS,
    CERTIFICATES,
    CHALLENGES,
    CLUSTER_ISSUERS,
    ORDERS,
    Resource,
)

ORDER: tuple[Resource, ...] = (CERTIFICATES, CERTIFICATE_REQUESTS, ORDERS, CHALLENGES)
_SINKS: dict[str, InProcessSink] = {}


def deliver_all(kube: Kube, resource: Resource, namespace: str | None) -> None:
    items, _ = kube.list(resource, namespace)
    target = ROUTES[resource.kind]
    sink = _SINKS.setdefault(target, InProcessSink(target))
    for item in items:
        delivery = sink.deliver(object_event("update", item, source="pump"))
        assert delivery.status < 500 or delivery.retryable, delivery


def pump(kube: Kube, namespace: str, *, until: Callable[[], bool], rounds: int = 20) -> bool:
    for _ in range(rounds):
        for resource in ORDER:
            deliver_all(kube, resource, namespace)
        if until():
            return True
    return False


def install(
    kube: Kube, *, resource_namespace: str, solver_address: str, nameservers: str = ""
) -> None:
    config = Config(
        cluster_resource_namespace=resource_namespace,
        http01_solver_address=solver_address,
        dns01_recursive_nameservers=tuple(n for n in nameservers.split(",") if n),
    )
    runtime.install(runtime.Context.build(kube, config=config))


def certificate_ready(kube: Kube, namespace: str, name: str) -> bool:
    cert = kube.find(CERTIFICATES, namespace, name) or {}
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (cert.get("status") or {}).get("conditions") or []
    )


def main(argv: list[str]) -> int:
    kubeconfig, namespace, resource_namespace, solver, cert = argv[:5]
    nameservers = argv[5] if len(argv) > 5 else ""
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="certainly/pump")
    install(
        kube, resource_namespace=resource_namespace, solver_address=solver, nameservers=nameservers
    )
    deliver_all(kube, CLUSTER_ISSUERS, None)
    done = pump(kube, namespace, until=lambda: certificate_ready(kube, namespace, cert))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
