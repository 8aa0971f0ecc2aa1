"""Accepting a tick: a PingSource CloudEvent, or a plain POST from a cron connector."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cloudevents.exceptions import GenericException
from cloudevents.http import from_http

from shared import logs, runtime
from shared.contracts import PING
from shared.sweep import sweep

log = logging.getLogger("on-expiry-tick")


class TickRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _is_cloudevent(headers: Mapping[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    return "ce-type" in lowered or "application/cloudevents" in lowered.get("content-type", "")


def handle_tick(*, method: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    logs.setup()
    if method != "POST":
        raise TickRejected(405, f"method {method} not allowed: POST a tick")
    event_id = "cron"
    if _is_cloudevent(headers):
        try:
            event = from_http(dict(headers), body)
        except GenericException as error:
            raise TickRejected(400, f"malformed CloudEvent: {error}") from None
        if event["type"] != PING:
            raise TickRejected(400, f"unsupported event type {event['type']!r}: expected {PING}")
        event_id = str(event["id"])
    with logs.bound(obj="*", event_id=event_id, function="on-expiry-tick"):
        report = sweep(runtime.current())
    logs.for_object("on-expiry-tick", obj="*", event_id=event_id, function="on-expiry-tick").info(
        "swept %d certificates, reconciled %d, failed %d",
        report.certificates,
        len(report.reconciled),
        len(report.failed),
    )
    return report.as_dict()
