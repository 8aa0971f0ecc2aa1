"""The scheduler: PingSource-shaped ticks, one per interval, none before the first."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import jsonschema
from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent

from events.scheduler import Scheduler

PING_SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[3] / "events" / "schemas" / "pingsource.json").read_text()
)


class Ticks:
    def __init__(self, *, stop_after: int, stop: threading.Event) -> None:
        self.events: list[CloudEvent] = []
        self.stop_after, self.stop = stop_after, stop

    def __call__(self, event: CloudEvent) -> None:
        self.events.append(event)
        if len(self.events) == self.stop_after:
            self.stop.set()


def test_ticks_are_pingsource_events_one_per_interval_until_stopped() -> None:
    stop = threading.Event()
    ticks = Ticks(stop_after=3, stop=stop)
    scheduler = Scheduler(interval=0.01, emit=ticks, source="test#scheduler", stop=stop)
    scheduler.start()
    scheduler.join(timeout=10)
    assert len(ticks.events) == 3  # stopping ends the loop: no tick after the third
    for event in ticks.events:
        _, body = to_structured(event)
        jsonschema.validate(json.loads(body), PING_SCHEMA)
        assert event["source"] == "test#scheduler"
    assert len({e["id"] for e in ticks.events}) == 3  # each tick is its own event


def test_no_tick_before_the_first_interval_has_passed() -> None:
    stop = threading.Event()
    ticks = Ticks(stop_after=1, stop=threading.Event())
    scheduler = Scheduler(interval=3600, emit=ticks, source="s", stop=stop)
    scheduler.start()
    stop.set()
    scheduler.join(timeout=10)
    assert ticks.events == []  # the watcher's initial list covers what exists at start
