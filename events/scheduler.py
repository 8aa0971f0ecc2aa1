"""The scheduler: PingSource-shaped ticks at an interval, for installs without Knative."""

from __future__ import annotations

import threading
from collections.abc import Callable

from cloudevents.http import CloudEvent

from shared.contracts import ping_event


class Scheduler:
    def __init__(
        self,
        *,
        interval: float,
        emit: Callable[[CloudEvent], None],
        source: str,
        stop: threading.Event,
    ) -> None:
        self._interval = interval
        self._emit = emit
        self._source = source
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        # The first tick comes after one interval: the watcher's initial list already
        # covers everything that exists at start.
        while not self._stop.wait(self._interval):
            self._emit(ping_event(source=self._source, data={"interval": self._interval}))
