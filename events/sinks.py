"""Where events are delivered: a function over HTTP (binary CloudEvents), or in-process.

The in-process sink serves the real functions-framework app of a function found by
name (`module:function`), through Flask's test client: the same request/response
contract as a Knative Service or an OpenFaaS function, without a socket.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import functions_framework
import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent


@dataclass(frozen=True)
class Delivery:
    status: int
    body: str
    retry_after: float | None = None  # seconds, from the answer's Retry-After header

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.status in (0, 408, 429)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class Sink(Protocol):
    name: str

    def deliver(self, event: CloudEvent) -> Delivery: ...


class HttpSink:
    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        self.name = url
        self._url = url
        self._timeout = timeout
        self._session = requests.Session()

    def deliver(self, event: CloudEvent) -> Delivery:
        headers, body = to_binary(event)
        try:
            response = self._session.post(
                self._url, headers=headers, data=body, timeout=self._timeout
            )
        except requests.RequestException as error:
            return Delivery(0, str(error))
        return Delivery(response.status_code, response.text[:500], retry_after(response.headers))


def source_of(target: str) -> tuple[str, str]:
    """(source file, function name) of `package.module:function`, without importing it."""
    module, _, function = target.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LookupError(f"function module {module!r} not found")
    return spec.origin, function or module.rpartition(".")[2]


class InProcessSink:
    def __init__(self, target: str) -> None:
        source, function = source_of(target)
        self.name = target
        self._client = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target=function, source=source
        ).test_client()

    def deliver(self, event: CloudEvent) -> Delivery:
        headers, body = to_binary(event)
        return self.post(body, headers)

    def post(self, body: bytes, headers: dict[str, str]) -> Delivery:
        response = self._client.post("/", headers=headers, data=body)
        return Delivery(
            response.status_code,
            response.get_data(as_text=True)[:500],
            retry_after(response.headers),
        )


def report_of(delivery: Delivery) -> dict[str, object]:
    try:
        value = json.loads(delivery.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
