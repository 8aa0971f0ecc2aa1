"""The dispatcher: retries 5xx with backoff, gives up on 4xx, keeps one object's events in order."""

from __future__ import annotations

import threading

from cloudevents.http import CloudEvent

from events.delivery import Dispatcher
from events.sinks import Delivery
from shared.contracts import object_event


class ScriptedSink:
    """A sink answering from a script of status codes, recording what it was given."""

    name = "scripted"

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, event: CloudEvent) -> Delivery:
        with self.lock:
            self.calls.append(str(event["name"]))
            status = self.statuses.pop(0) if self.statuses else 200
        return Delivery(status, "")


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
