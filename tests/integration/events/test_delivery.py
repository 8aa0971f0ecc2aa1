"""The dispatcher: retries 5xx with backoff, gives up on 4xx, keeps one object's events in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cloudevents.http import CloudEvent

from events.delivery import Dispatcher
from events.sinks import Delivery, retry_after
from shared.contracts import object_event


class ScriptedSink:
    """A sink answering from a script of status codes, recording what it was given."""

    name = "scripted"

    def __init__(self, statuses: list[int], *, retry_after: float | None = None) -> None:
        self.statuses = statuses
        self.retry_after = retry_after
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, event: CloudEvent) -> Delivery:
        with self.lock:
            self.calls.append(str(event["name"]))
            status = self.statuses.pop(0) if self.statuses else 200
        return Delivery(status, "", self.retry_after if status >= 400 else None)


def event(name: str) -> CloudEvent:
    return object_event(
        "update",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns"}},
        source="t",
    )


def test_5xx_is_retried_with_doubling_backoff_until_ok() -> None:
    sleeps: list[float] = []
    dispatcher = Dispatcher(workers=1, attempts=5, backoff=0.1, sleep=sleeps.append)
    sink = ScriptedSink([503, 500, 200])
    dispatcher.submit(sink, event("a"))
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    assert sink.calls == ["a", "a", "a"]
    assert sleeps == [0.1, 0.2]
    assert (dispatcher.stats.delivered, dispatcher.stats.retried) == (1, 2)


def test_4xx_is_not_retried_and_exhausted_retries_are_dropped() -> None:
    dispatcher = Dispatcher(workers=1, attempts=3, backoff=0, sleep=lambda _: None)
    rejected, failing = ScriptedSink([400]), ScriptedSink([500, 500, 500])
    dispatcher.submit(rejected, event("bad"))
    dispatcher.submit(failing, event("down"))
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    assert rejected.calls == ["bad"] and failing.calls == ["down"] * 3
    assert (dispatcher.stats.rejected, dispatcher.stats.dropped) == (1, 1)


def test_events_for_a_queued_object_coalesce() -> None:
    gate = threading.Event()

    class SlowSink(ScriptedSink):
        def deliver(self, event: CloudEvent) -> Delivery:
            gate.wait(5)
            return super().deliver(event)

    dispatcher = Dispatcher(workers=1)
    sink = SlowSink([])
    dispatcher.submit(sink, event("first"))  # taken by the worker, blocked on the gate
    for _ in range(5):
        dispatcher.submit(sink, event("same"))  # four of these coalesce while one waits
    gate.set()
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    assert sink.calls.count("same") == 1
    assert dispatcher.stats.coalesced == 4


def test_shutdown_finishes_the_delivery_under_way_and_drops_the_backlog() -> None:
    started, release = threading.Event(), threading.Event()

    class BlockingSink(ScriptedSink):
        def deliver(self, event: CloudEvent) -> Delivery:
            started.set()
            release.wait(5)
            return super().deliver(event)

    dispatcher = Dispatcher(workers=1)
    sink = BlockingSink([])
    dispatcher.submit(sink, event("under-way"))
    assert started.wait(5)
    for name in ("queued-1", "queued-2", "queued-3"):
        dispatcher.submit(sink, event(name))
    threading.Timer(0.2, release.set).start()
    assert dispatcher.shutdown(grace=10)
    assert sink.calls == ["under-way"]
    assert dispatcher.stats.abandoned == 3
    dispatcher.submit(sink, event("late"))  # after shutdown: refused, not queued
    assert dispatcher.stats.abandoned == 4 and sink.calls == ["under-way"]


def test_shutdown_cuts_a_retry_backoff_short() -> None:
    failing = ScriptedSink([503] * 10)
    dispatcher = Dispatcher(workers=1, attempts=10, backoff=3600)  # real, interruptible waits
    dispatcher.submit(failing, event("down"))
    poll_until(lambda: dispatcher.stats.retried == 1)
    assert dispatcher.shutdown(grace=10)  # would be an hour of backoff otherwise
    assert failing.calls == ["down"]
    assert (dispatcher.stats.abandoned, dispatcher.stats.dropped) == (1, 0)


def test_shutdown_reports_a_delivery_that_outlives_the_grace() -> None:
    started, release = threading.Event(), threading.Event()

    class StuckSink(ScriptedSink):
        def deliver(self, event: CloudEvent) -> Delivery:
            started.set()
            release.wait(10)
            return super().deliver(event)

    dispatcher = Dispatcher(workers=1)
    dispatcher.submit(StuckSink([]), event("stuck"))
    assert started.wait(5)
    assert dispatcher.shutdown(grace=0.1) is False
    release.set()


def poll_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "condition not met within 10s"
        time.sleep(0.01)


def test_a_retry_after_the_sink_names_is_waited_for_instead_of_the_backoff() -> None:
    sleeps: list[float] = []
    dispatcher = Dispatcher(workers=1, backoff=0.1, sleep=sleeps.append)
    sink = ScriptedSink([503, 503, 200], retry_after=2)
    dispatcher.submit(sink, event("a"))
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    assert sleeps == [2, 2] and sink.calls == ["a"] * 3


def test_a_retry_after_past_the_maximum_is_left_to_the_tick() -> None:
    sleeps: list[float] = []
    dispatcher = Dispatcher(workers=1, retry_after_max=30, sleep=sleeps.append)
    sink = ScriptedSink([429], retry_after=3600)
    dispatcher.submit(sink, event("limited"))
    assert dispatcher.wait_idle(timeout=10)
    dispatcher.close()
    assert sink.calls == ["limited"] and sleeps == []
    assert (dispatcher.stats.deferred, dispatcher.stats.dropped) == (1, 0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_reads_delta_seconds_and_http_dates(header: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": header} if header else {}) == seconds


def test_retry_after_as_a_future_http_date() -> None:
    moment = datetime.now(UTC) + timedelta(minutes=10)
    waited = retry_after({"Retry-After": format_datetime(moment, usegmt=True)})
    assert waited is not None and 590 <= waited <= 600
