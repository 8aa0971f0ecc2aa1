"""Events expire a while after their last write, as with kube-apiserver's `--event-ttl`.

kube-apiserver stores each Event under an etcd lease of `--event-ttl` (1h by default),
renewed by every write; when the lease runs out etcd drops the Event and watchers see
it DELETED. Here a heap of (expiry, resourceVersion) stands in for the leases: an
entry whose Event was written again since is stale and skipped.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from events.localapi.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from events.localapi.verbs import Verbs

EVENTS: Final = ("", "events")  # the storage key of core and events.k8s.io Events
DEFAULT_EVENT_TTL: Final = timedelta(hours=1)


class EventExpiry:
    def __init__(self, verbs: Verbs, *, ttl: timedelta) -> None:
        self.ttl = ttl
        self._verbs = verbs
        self._store = verbs.store
        self._due: list[tuple[datetime, int, ObjectKey]] = []

    def written(self, event: WatchEvent) -> None:
        """Store.on_change hook: an Event written now lives until now + ttl."""
        if event.resource == EVENTS and event.type != "DELETED":
            self._track(event.obj["metadata"], event.rv)

    def track_existing(self) -> None:
        """Events restored from a state file get a full ttl from now."""
        for obj in self._store.items(EVENTS):
            self._track(obj["metadata"], int(obj["metadata"]["resourceVersion"]))

    def _track(self, meta: dict[str, object], rv: int) -> None:
        key = (str(meta.get("namespace") or ""), str(meta["name"]))
        heapq.heappush(self._due, (self._verbs.clock() + self.ttl, rv, key))

    def expire(self) -> int:
        """Remove every Event whose ttl has run out since its last write; how many."""
        now = self._verbs.clock()
        rt = self._verbs.registry.kind_of(*EVENTS)
        removed = 0
        while self._due and self._due[0][0] <= now:
            _, rv, key = heapq.heappop(self._due)
            obj = self._store.get(EVENTS, *key)
            if rt is None or obj is None or obj["metadata"]["resourceVersion"] != str(rv):
                continue  # deleted, or written again: a later entry covers it
            self._verbs.remove(rt, obj)
            removed += 1
        return removed
