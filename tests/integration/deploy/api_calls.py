"""A pytest plugin that records which API calls each function makes, for the RBAC test.

Loaded with `-p tests.integration.deploy.api_calls` into a run of the integration (and
ACME pipeline) tests. A delivery to a function runs its handler on the delivering
thread, so every Kubernetes call made on that thread while the delivery is in flight
is that function's, even when a Runner delivers to several functions at once. Each
call is classified as the API server's authorizer sees it (verb, API group, resource
and subresource), and cross-checked against the local API's request log: a call the
server did not see would mean the classification is wrong. At the end of the session
the calls go as JSON to the file named by CERTAINLY_API_CALLS_OUT.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, TypedDict

import pytest
from cloudevents.http import CloudEvent

from events.sinks import Delivery, InProcessSink
from shared.kube.client import Kube
from tests.conftest import Cluster

OUT_ENV: Final = "CERTAINLY_API_CALLS_OUT"

Call = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


class ApiCall(TypedDict):
    verb: str
    group: str
    resource: str  # plural, with "/subresource" when there is one


class Recording(TypedDict):
    deliveries: dict[str, int]  # target -> deliveries that called the API
    calls: dict[str, list[ApiCall]]  # target -> distinct calls, sorted
    unserved: list[ApiCall]  # recorded calls the local API never served (must be none)


def classify(method: str, path: str, query: Mapping[str, str] | None = None) -> Call:
    """(group, resource[/sub], verb) of a REST call, as RBAC names it."""
    parts = path.split("?", maxsplit=1)[0].strip("/").split("/")
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]  # a namespaced resource, not the Namespace itself
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    named = len(rest) > 1
    watching = str((query or {}).get("watch", "")).lower() in ("true", "1")
    verb = {
        "GET": "get" if named else ("watch" if watching else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }[method.upper()]
    return (group, resource, verb)


@pytest.fixture(scope="session", autouse=True)
def _record_function_calls(cluster: Cluster) -> Iterator[None]:
    out = os.environ.get(OUT_ENV)
    if not out:
        yield
        return
    current = threading.local()
    lock = threading.Lock()
    calls: dict[str, set[Call]] = {}
    deliveries: dict[str, int] = {}
    original_deliver = InProcessSink.deliver
    original_call = Kube._call

    def deliver(self: InProcessSink, event: CloudEvent) -> Delivery:
        outer = getattr(current, "target", None)
        current.target, current.called = self.name, False
        try:
            return original_deliver(self, event)
        finally:
            if current.called:
                with lock:
                    deliveries[self.name] = deliveries.get(self.name, 0) + 1
            current.target = outer

    def call(self: Kube, method: str, path: str, **kwargs: Any) -> Any:
        target = getattr(current, "target", None)
        if target is not None:
            current.called = True
            with lock:
                calls.setdefault(target, set()).add(classify(method, path, kwargs.get("query")))
        return original_call(self, method, path, **kwargs)

    InProcessSink.deliver = deliver  # type: ignore[method-assign]
    Kube._call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessSink.deliver = original_deliver  # type: ignore[method-assign]
        Kube._call = original_call  # type: ignore[method-assign]
        served: set[Call] | None = None
        if cluster.api is not None:
            served = {
                (r.group, r.resource + (f"/{r.subresource}" if r.subresource else ""), r.verb)
                for r in cluster.api.requests.snapshot()
            }
        unserved = set().union(*calls.values()) - served if served is not None else set()

        def typed(items: set[Call]) -> list[ApiCall]:
            return [ApiCall(group=g, resource=r, verb=v) for g, r, v in sorted(items)]

        recording = Recording(
            deliveries=dict(sorted(deliveries.items())),
            calls={target: typed(found) for target, found in sorted(calls.items())},
            unserved=typed(unserved),
        )
        Path(out).write_text(json.dumps(recording, indent=1))
