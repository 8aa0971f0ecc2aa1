"""In-memory object store with one cluster-wide resourceVersion and a watch history.

Everything here runs on the server's single event-loop thread, so there are no
locks. Stored objects are never mutated after being stored: every write stores
a new dict, which lets reads serialise them without copying.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace, name); namespace "" when cluster-scoped


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    resource: ResourceKey
    type: str  # ADDED, MODIFIED, DELETED
    obj: Obj
    old: Obj | None  # state before the change (MODIFIED, DELETED)


class TooOld(Exception):
    """A watch asked for changes the history no longer holds (410 Gone)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Store:
    def __init__(self, *, history: int) -> None:
        self.rv = 0
        self._objects: dict[ResourceKey, dict[ObjectKey, Obj]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=max(history, 1))
        self._dropped_up_to = 0  # newest rv no longer in the history
        self._subscribers: dict[ResourceKey, set[asyncio.Queue[WatchEvent]]] = {}
        self.on_change: list[Any] = []  # callables(event) run after every write

    # -- reads -------------------------------------------------------------

    def get(self, resource: ResourceKey, namespace: str, name: str) -> Obj | None:
        bucket = self._objects.get(resource)
        return None if bucket is None else bucket.get((namespace, name))

    def items(self, resource: ResourceKey, namespace: str = "") -> list[Obj]:
        """Objects in key order (namespace, name), as etcd lists them."""
        bucket = self._objects.get(resource, {})
        keys = sorted(k for k in bucket if not namespace or k[0] == namespace)
        return [bucket[k] for k in keys]

    def all_items(self) -> Iterator[tuple[ResourceKey, Obj]]:
        for resource, bucket in list(self._objects.items()):
            for obj in list(bucket.values()):
                yield resource, obj

    def in_namespace(self, namespace: str) -> Iterator[tuple[ResourceKey, Obj]]:
        for resource, bucket in list(self._objects.items()):
            for (ns, _), obj in list(bucket.items()):
                if ns == namespace:
                    yield resource, obj

    def count(self) -> int:
        return sum(len(b) for b in self._objects.values())

    # -- writes ------------------------------------------------------------

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, resource: ResourceKey, obj: Obj) -> WatchEvent:
        """Store obj, whose metadata.resourceVersion the caller took from next_rv()."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self._objects.setdefault(resource, {})
        old = bucket.get(key)
        bucket[key] = obj
        return self._record(
            WatchEvent(
                int(meta["resourceVersion"]), resource, "MODIFIED" if old else "ADDED", obj, old
            )
        )

    def remove(self, resource: ResourceKey, obj: Obj) -> WatchEvent:
        """Remove the object; the DELETED event carries a fresh resourceVersion."""
        meta = obj["metadata"]
        old = self._objects[resource].pop((meta.get("namespace", ""), meta["name"]))
        rv = self.next_rv()
        last = {**old, "metadata": {**old["metadata"], "resourceVersion": str(rv)}}
        return self._record(WatchEvent(rv, resource, "DELETED", last, old))

    @property
    def oldest_rv(self) -> int:
        """The oldest resourceVersion a watch or a list continuation can start from."""
        return self._dropped_up_to

    def forget_history_before(self, rv: int) -> None:
        """Changes up to rv happened in an earlier run: watches from before it get 410."""
        self._dropped_up_to = max(self._dropped_up_to, rv)

    def load(self, resource: ResourceKey, obj: Obj) -> None:
        """Insert without an event (restoring persisted state)."""
        meta = obj["metadata"]
        self._objects.setdefault(resource, {})[(meta.get("namespace", ""), meta["name"])] = obj

    def _record(self, event: WatchEvent) -> WatchEvent:
        if len(self._history) == self._history.maxlen:
            self._dropped_up_to = self._history[0].rv
        self._history.append(event)
        for queue in self._subscribers.get(event.resource, ()):
            queue.put_nowait(event)
        for callback in self.on_change:
            callback(event)
        return event

    # -- watch -------------------------------------------------------------

    def subscribe(self, resource: ResourceKey) -> asyncio.Queue[WatchEvent]:
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self._subscribers.setdefault(resource, set()).add(queue)
        return queue

    def unsubscribe(self, resource: ResourceKey, queue: asyncio.Queue[WatchEvent]) -> None:
        self._subscribers.get(resource, set()).discard(queue)

    def since(self, resource: ResourceKey, rv: int) -> list[WatchEvent]:
        """Events for resource strictly after rv, or TooOld once history dropped them."""
        if rv < self._dropped_up_to:
            raise TooOld(rv, self._dropped_up_to + 1)
        if not self._history or self._history[-1].rv <= rv:
            return []
        return [e for e in self._history if e.rv > rv and e.resource == resource]
