"""Events expire event_ttl after their last write, as with kube-apiserver's --event-ttl."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from events.cli import build_parser
from events.localapi.eventttl import DEFAULT_EVENT_TTL, EVENTS, EventExpiry
from events.localapi.resources import NAMESPACES, Registry, ResourceType
from events.localapi.store import Store
from events.localapi.verbs import Verbs


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def cluster(ttl: timedelta) -> tuple[Verbs, EventExpiry, Clock, ResourceType]:
    clock = Clock()
    store = Store(history=1000)
    pending: list[Callable[[], None]] = []
    verbs = Verbs(store=store, registry=Registry(), clock=clock, schedule=pending.append)
    expiry = EventExpiry(verbs, ttl=ttl)
    store.on_change.append(expiry.written)
    verbs.create(NAMESPACES, "", {"metadata": {"name": "default"}})
    rt = verbs.registry.get("", "v1", "events")
    assert rt is not None
    return verbs, expiry, clock, rt


def event(name: str, message: str = "Issued") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "Certificate", "namespace": "default", "name": "web"},
        "reason": "Issued",
        "message": message,
        "type": "Normal",
    }


def test_an_event_is_kept_until_its_ttl_runs_out_then_deleted_with_a_watch_event() -> None:
    verbs, expiry, clock, rt = cluster(timedelta(minutes=5))
    verbs.create(rt, "default", event("web.1"))
    clock.now += timedelta(minutes=5) - timedelta(seconds=1)
    assert expiry.expire() == 0
    assert verbs.store.get(EVENTS, "default", "web.1") is not None
    clock.now += timedelta(seconds=1)
    assert expiry.expire() == 1
    assert verbs.store.get(EVENTS, "default", "web.1") is None
    assert [e.type for e in verbs.store.since(EVENTS, 0)] == ["ADDED", "DELETED"]


def test_writing_an_event_again_restarts_its_ttl() -> None:
    verbs, expiry, clock, rt = cluster(timedelta(minutes=5))
    created = verbs.create(rt, "default", event("web.1"))
    clock.now += timedelta(minutes=4)
    verbs.update(rt, "default", "web.1", {**created, "count": 2})
    clock.now += timedelta(minutes=2)
    assert expiry.expire() == 0  # six minutes after the create, two after the update
    assert verbs.store.get(EVENTS, "default", "web.1") is not None
    clock.now += timedelta(minutes=3)
    assert expiry.expire() == 1
    assert verbs.store.get(EVENTS, "default", "web.1") is None


def test_other_objects_never_expire() -> None:
    verbs, expiry, clock, rt = cluster(timedelta(seconds=1))
    secrets = verbs.registry.get("", "v1", "secrets")
    assert secrets is not None
    verbs.create(secrets, "default", {"metadata": {"name": "s"}})
    verbs.create(rt, "default", event("web.1"))
    clock.now += timedelta(hours=2)
    assert expiry.expire() == 1
    assert verbs.store.get(secrets.key, "default", "s") is not None


def test_an_event_deleted_by_a_client_is_not_expired_twice() -> None:
    verbs, expiry, clock, rt = cluster(timedelta(minutes=1))
    verbs.create(rt, "default", event("web.1"))
    verbs.store.remove(EVENTS, verbs.get(rt, "default", "web.1"))
    verbs.create(rt, "default", event("web.1", "again"))
    clock.now += timedelta(seconds=61)
    assert expiry.expire() == 1  # the second one; the first entry is stale


def test_restored_events_get_a_full_ttl_from_the_start() -> None:
    verbs, expiry, clock, _ = cluster(timedelta(minutes=1))
    verbs.store.load(
        EVENTS,
        {
            **event("old.1"),
            "metadata": {
                "name": "old.1",
                "namespace": "default",
                "uid": "u",
                "resourceVersion": "7",
            },
        },
    )
    expiry.track_existing()
    clock.now += timedelta(seconds=59)
    assert expiry.expire() == 0
    clock.now += timedelta(seconds=1)
    assert expiry.expire() == 1


def test_local_up_takes_the_event_ttl_as_a_go_duration_defaulting_to_an_hour() -> None:
    parser = build_parser()
    assert parser.parse_args(["local", "up"]).event_ttl == DEFAULT_EVENT_TTL.total_seconds() == 3600
    assert parser.parse_args(["local", "up", "--event-ttl", "10m"]).event_ttl == 600


def test_events_are_kept_encoded_and_read_back_equal() -> None:
    verbs, _, _, rt = cluster(DEFAULT_EVENT_TTL)
    created = verbs.create(rt, "default", event("web.1"))
    read = verbs.store.get(EVENTS, "default", "web.1")
    assert read == created
    assert read is not None
    read["message"] = "changed by a reader"
    assert verbs.store.get(EVENTS, "default", "web.1") == created
    assert verbs.store.items(EVENTS, "default") == [created]
