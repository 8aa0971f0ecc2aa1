"""Delivering events to sinks: worker threads, per-object ordering, retries with backoff.

Events for one object go to one worker in order; an event for an object that
already waits in the queue replaces nothing and is dropped, since every handler
re-reads the object anyway (level-triggered). A sink answering 5xx (or not at all)
is retried with exponential backoff, or after the Retry-After it names; after the
last attempt the event is dropped and the next tick's sweep picks the object up. A
Retry-After longer than `retry_after_max` is not waited for here (as Knative's
delivery `retryAfterMax`): the function has recorded the pause on the object, and
the tick resumes it.

Shutting down drops what is still queued rather than draining it: every handler is
level-triggered and the next process relists, so a backlog must not hold a Pod past
its termination grace period.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cloudevents.http import CloudEvent

from events.sinks import Delivery, Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    sink: Sink
    event: CloudEvent
    token: tuple[str, str]


@dataclass
class Stats:
    delivered: int = 0
    coalesced: int = 0
    retried: int = 0
    rejected: int = 0
    dropped: int = 0
    abandoned: int = 0  # queued or backing off when shutdown began
    deferred: int = 0  # the sink asked for a retry later than retry_after_max
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def object_key(event: CloudEvent) -> str:
    attrs = event.get_attributes()
    return f"{attrs.get('kind')}/{attrs.get('namespace')}/{attrs.get('name')}"


class Dispatcher:
    def __init__(
        self,
        *,
        workers: int = 4,
        attempts: int = 5,
        backoff: float = 0.2,
        retry_after_max: float = 30.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._closing = threading.Event()
        self._queues: list[queue.Queue[_Job | None]] = [queue.Queue() for _ in range(workers)]
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._attempts = attempts
        self._backoff = backoff
        self._retry_after_max = retry_after_max
        # Backoff waits on the closing flag so that shutdown cuts it short.
        self._sleep = sleep or self._closing.wait
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self.stats = Stats()
        self._threads = [
            threading.Thread(target=self._work, args=(q,), name=f"delivery-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, sink: Sink, event: CloudEvent, *, key: str | None = None) -> None:
        """Queue a delivery; `key` orders and coalesces (default: the object itself)."""
        key = key or object_key(event)
        token = (sink.name, key)
        with self._lock:
            if self._closing.is_set():
                self.stats.abandoned += 1
                return
            if token in self._pending:
                self.stats.coalesced += 1
                return
            self._pending.add(token)
            self._in_flight += 1
        index = zlib.crc32(key.encode()) % len(self._queues)
        self._queues[index].put(_Job(sink, event, token))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or being delivered (tests and benchmarks)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the workers once everything queued so far has been delivered."""
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def shutdown(self, *, grace: float) -> bool:
        """Drop queued events, stop retrying, and give deliveries under way `grace`
        seconds to finish. True if they all did."""
        self._closing.set()
        for inbox in self._queues:
            while True:
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    self._finished(item, abandoned=True)
            inbox.put(None)
        finished = self.wait_idle(timeout=grace)
        deadline = time.monotonic() + 1.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if not finished:
            log.warning(
                "shutdown: %d deliveries still under way after %.0fs", self._in_flight, grace
            )
        return finished

    def _work(self, inbox: queue.Queue[_Job | None]) -> None:
        while True:
            item = inbox.get()
            if item is None:
                return
            with self._lock:
                # From here on a new event for the object must queue again: the handler
                # may already have read the state that event announces.
                self._pending.discard(item.token)
            try:
                self._deliver(item.sink, item.event)
            finally:
                self._finished(item)

    def _finished(self, item: _Job, *, abandoned: bool = False) -> None:
        with self._idle:
            self._in_flight -= 1
            if abandoned:
                self._pending.discard(item.token)
                self.stats.abandoned += 1
            if not self._in_flight:
                self._idle.notify_all()

    def _deliver(self, sink: Sink, event: CloudEvent) -> Delivery:
        delivery = Delivery(0, "not attempted")
        for attempt in range(self._attempts):
            if attempt:
                self.stats.add("retried")
                self._sleep(max(self._backoff * 2 ** (attempt - 1), delivery.retry_after or 0))
            if self._closing.is_set():
                self.stats.add("abandoned")
                log.info("shutting down: left %s to the next process", object_key(event))
                return delivery
            try:
                delivery = sink.deliver(event)
            except Exception as error:  # a crashing sink must not kill the worker
                log.exception("sink %s raised", sink.name)
                delivery = Delivery(0, repr(error))
            if delivery.ok:
                self.stats.add("delivered")
                return delivery
            if not delivery.retryable:
                self.stats.add("rejected")
                log.warning(
                    "sink %s rejected %s %s: %s %s",
                    sink.name,
                    event["type"],
                    object_key(event),
                    delivery.status,
                    delivery.body,
                )
                return delivery
            if (delivery.retry_after or 0) > self._retry_after_max:
                self.stats.add("deferred")
                log.info(
                    "sink %s asked to retry %s in %.0fs: left to the tick",
                    sink.name,
                    object_key(event),
                    delivery.retry_after,
                )
                return delivery
        self.stats.add("dropped")
        log.warning(
            "dropped %s after %d attempts: %s", object_key(event), self._attempts, delivery.body
        )
        return delivery
