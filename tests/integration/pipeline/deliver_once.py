"""Deliver one event to on-certificate-created in a fresh process (crash-injection tests).

    python -m tests.integration.pipeline.deliver_once KUBECONFIG NAMESPACE NAME [NOW]

With CERTAINLY_CRASH_AT set, the process dies at that step, as a killed Pod would.
NOW (ISO 8601) runs it on the test's injected clock rather than the wall clock.
"""

from __future__ import annotations

import sys
from datetime import datetime

from events.routes import ON_CERTIFICATE_CREATED
from events.sinks import InProcessSink
from shared import runtime
from shared.clock import FakeClock
from shared.contracts import object_event
from shared.kube.client import Kube
from shared.kube.resources import CERTIFICATES


def main(kubeconfig: str, namespace: str, name: str, now: str | None = None) -> int:
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="certainly/crash-test")
    if now is None:
        runtime.install(runtime.Context.build(kube))
    else:
        clock = FakeClock(datetime.fromisoformat(now))
        runtime.install(runtime.Context.build(kube, clock=clock))
    cert = kube.get(CERTIFICATES, namespace, name)
    delivery = InProcessSink(ON_CERTIFICATE_CREATED).deliver(
        object_event("add", cert, source="crash")
    )
    return 0 if delivery.ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
