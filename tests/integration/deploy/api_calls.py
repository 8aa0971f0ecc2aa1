"""A pytest plugin that records which API calls each function makes, for the RBAC test.

Loaded with `-p tests.integration.deploy.api_calls` into a run of the integration
suite. Deliveries there are synchronous, so the local API's request log between the
start and the end of a delivery to a function is that function's calls. At the end of
the session the calls are written as JSON to the file named by CERTAINLY_API_CALLS_OUT.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TypedDict

import pytest
from cloudevents.http import CloudEvent

from events.sinks import Delivery, InProcessSink
from tests.conftest import Cluster

OUT_ENV: Final = "CERTAINLY_API_CALLS_OUT"


class ApiCall(TypedDict):
    verb: str
    group: str
    resource: str  # plural, with "/subresource" when there is one


class Recording(TypedDict):
    deliveries: dict[str, int]  # target -> deliveries that called the API
    calls: dict[str, list[ApiCall]]  # target -> distinct calls, sorted


def _call_key(call: ApiCall) -> tuple[str, str, str]:
    return (call["group"], call["resource"], call["verb"])


@pytest.fixture(scope="session", autouse=True)
def _record_function_calls(cluster: Cluster) -> Iterator[None]:
    out = os.environ.get(OUT_ENV)
    api = cluster.api
    if not out or api is None:
        yield
        return
    # Each delivery: (target, first log index, last log index); the log only grows.
    spans: list[tuple[str, int, int]] = []
    lock = threading.Lock()
    original = InProcessSink.deliver

    def deliver(self: InProcessSink, event: CloudEvent) -> Delivery:
        start = len(api.requests.snapshot())
        try:
            return original(self, event)
        finally:
            with lock:
                spans.append((self.name, start, len(api.requests.snapshot())))

    InProcessSink.deliver = deliver  # type: ignore[method-assign]
    try:
        yield
    finally:
        InProcessSink.deliver = original  # type: ignore[method-assign]
        records = api.requests.snapshot()
        calls: dict[str, dict[tuple[str, str, str], ApiCall]] = {}
        deliveries: dict[str, int] = {}
        for target, start, end in spans:
            if start == end:
                continue  # e.g. a Runner on another API, whose log this is not
            deliveries[target] = deliveries.get(target, 0) + 1
            seen = calls.setdefault(target, {})
            for record in records[start:end]:
                resource = record.resource + (
                    f"/{record.subresource}" if record.subresource else ""
                )
                call = ApiCall(verb=record.verb, group=record.group, resource=resource)
                seen[_call_key(call)] = call
        recording = Recording(
            deliveries=deliveries,
            calls={t: [c[k] for k in sorted(c)] for t, c in sorted(calls.items())},
        )
        Path(out).write_text(json.dumps(recording, indent=1))
