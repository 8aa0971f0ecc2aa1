"""In-memory object store with one cluster-wide resourceVersion and a watch history.

Everything here runs on the server's single event-loop thread, so there are no
locks. Stored objects are never mutated after being stored: every write stores
a new dict, which lets reads serialise them without copying.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, cast

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
    """Objects by resource and key, with the indexes the server looks things up by.

    Every lookup the server makes per request or per deletion (an object by uid, the
    dependents of an owner uid, a namespace's objects, objects carrying a label)
    goes through an index kept up to date on each write, so its cost is the size of
    the answer, not of the store.
    """

    def __init__(self, *, history: int) -> None:
        self.rv = 0
        self._objects: dict[ResourceKey, dict[ObjectKey, Obj | bytes]] = {}
        self._by_uid: dict[str, tuple[ResourceKey, ObjectKey]] = {}
        self._by_owner: dict[str, set[tuple[ResourceKey, ObjectKey]]] = {}
        self._by_namespace: dict[ResourceKey, dict[str, set[str]]] = {}
        self._by_label: dict[ResourceKey, dict[tuple[str, str], set[ObjectKey]]] = {}
        # Keys in list order per (resource, namespace); dropped when keys come or go.
        self._sorted: dict[tuple[ResourceKey, str], list[ObjectKey]] = {}
        self._history: deque[WatchEvent] = deque(maxlen=max(history, 1))
        self._dropped_up_to = 0  # newest rv no longer in the history
        self._subscribers: dict[ResourceKey, set[asyncio.Queue[WatchEvent]]] = {}
        self.on_change: list[Any] = []  # callables(event) run after every write

    # -- reads -------------------------------------------------------------

    def get(self, resource: ResourceKey, namespace: str, name: str) -> Obj | None:
        bucket = self._objects.get(resource)
        stored = None if bucket is None else bucket.get((namespace, name))
        return None if stored is None else _opened(stored)

    def items(
        self, resource: ResourceKey, namespace: str = "", *, label: tuple[str, str] | None = None
    ) -> list[Obj]:
        """Objects in key order (namespace, name), as etcd lists them.

        label (key, value) narrows to objects carrying it: a hint from the selector's
        equality requirement; the caller still applies its whole selector.
        """
        bucket = self._objects.get(resource, {})
        if label is not None:
            found = self._by_label.get(resource, {}).get(label, set())
            keys = sorted(k for k in found if not namespace or k[0] == namespace)
            return [_opened(bucket[k]) for k in keys]
        return [_opened(bucket[k]) for k in self._keys(resource, namespace)]

    def _keys(self, resource: ResourceKey, namespace: str) -> list[ObjectKey]:
        cached = self._sorted.get((resource, namespace))
        if cached is None:
            if namespace:
                names = self._by_namespace.get(resource, {}).get(namespace, ())
                cached = [(namespace, name) for name in sorted(names)]
            else:
                cached = sorted(self._objects.get(resource, {}))
            self._sorted[(resource, namespace)] = cached
        return cached

    def all_items(self) -> Iterator[tuple[ResourceKey, Obj]]:
        for resource, bucket in list(self._objects.items()):
            for stored in list(bucket.values()):
                yield resource, _opened(stored)

    def in_namespace(self, namespace: str) -> Iterator[tuple[ResourceKey, Obj]]:
        for resource, namespaces in list(self._by_namespace.items()):
            bucket = self._objects.get(resource, {})
            for name in list(namespaces.get(namespace, ())):
                stored = bucket.get((namespace, name))
                if stored is not None:
                    yield resource, _opened(stored)

    def by_uid(self, uid: str) -> tuple[ResourceKey, Obj] | None:
        where = self._by_uid.get(uid)
        if where is None:
            return None
        return where[0], _opened(self._objects[where[0]][where[1]])

    def dependents(self, owner_uid: str) -> list[tuple[ResourceKey, Obj]]:
        """Objects with an ownerReference to owner_uid, in a stable order."""
        found = sorted(self._by_owner.get(owner_uid, ()))
        return [(resource, _opened(self._objects[resource][key])) for resource, key in found]

    def count(self) -> int:
        return sum(len(b) for b in self._objects.values())

    # -- writes ------------------------------------------------------------

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, resource: ResourceKey, obj: Obj) -> WatchEvent:
        """Store obj, whose metadata.resourceVersion the caller took from next_rv().

        What is stored is a compact copy (see `compact`): equal to obj, not obj itself.
        """
        obj = compact(obj)
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self._objects.setdefault(resource, {})
        kept = bucket.get(key)
        old = None if kept is None else _opened(kept)
        bucket[key] = _kept(resource, obj)
        self._reindex(resource, key, old, obj)
        return self._record(
            WatchEvent(
                int(meta["resourceVersion"]), resource, "MODIFIED" if old else "ADDED", obj, old
            )
        )

    def remove(self, resource: ResourceKey, obj: Obj) -> WatchEvent:
        """Remove the object; the DELETED event carries a fresh resourceVersion."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old = _opened(self._objects[resource].pop(key))
        self._reindex(resource, key, old, None)
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
        obj = compact(obj)
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self._objects.setdefault(resource, {})
        kept = bucket.get(key)
        bucket[key] = _kept(resource, obj)
        self._reindex(resource, key, None if kept is None else _opened(kept), obj)

    # -- indexes -----------------------------------------------------------

    def _reindex(
        self, resource: ResourceKey, key: ObjectKey, old: Obj | None, new: Obj | None
    ) -> None:
        old_meta = old["metadata"] if old is not None else {}
        new_meta = new["metadata"] if new is not None else {}
        where = (resource, key)
        if (old is None) != (new is None):  # the key came or went
            names = self._by_namespace.setdefault(resource, {}).setdefault(key[0], set())
            if new is None:
                names.discard(key[1])
            else:
                names.add(key[1])
            self._sorted.pop((resource, key[0]), None)
            self._sorted.pop((resource, ""), None)
        old_uid, new_uid = old_meta.get("uid"), new_meta.get("uid")
        if old_uid != new_uid:
            if old_uid and self._by_uid.get(old_uid) == where:
                del self._by_uid[old_uid]
            if new_uid:
                self._by_uid[new_uid] = where
        old_owners = _owner_uids(old_meta)
        new_owners = _owner_uids(new_meta)
        if old_owners != new_owners:
            for uid in old_owners - new_owners:
                dependents = self._by_owner.get(uid)
                if dependents is not None:
                    dependents.discard(where)
                    if not dependents:
                        del self._by_owner[uid]
            for uid in new_owners - old_owners:
                self._by_owner.setdefault(uid, set()).add(where)
        old_labels = old_meta.get("labels") or {}
        new_labels = new_meta.get("labels") or {}
        if old_labels != new_labels:
            index = self._by_label.setdefault(resource, {})
            for pair in old_labels.items() - new_labels.items():
                holders = index.get(pair)
                if holders is not None:
                    holders.discard(key)
                    if not holders:
                        del index[pair]
            for pair in new_labels.items() - old_labels.items():
                index.setdefault(pair, set()).add(key)

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


# Strings up to this long are shared between stored objects: keys, kinds, names,
# reasons, timestamps; not keys, certificates or other long values.
SHARED_STRING_MAX: Final = 64


def compact(value: Any) -> Any:
    """A copy of a decoded JSON value whose dict keys and short strings are shared.

    Every request body decodes into fresh strings, so 10,000 stored objects would hold
    10,000 copies of "metadata", "resourceVersion", their kind, namespace and reason:
    most of an Event's memory. Interned, each is held once.
    """
    if isinstance(value, dict):
        return {sys.intern(k): compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, str) and len(value) <= SHARED_STRING_MAX:
        return sys.intern(value)
    return value


# Events are most of the store (five or more per issuance) and are written once and
# seldom read: they are kept as their JSON, a third of the memory of the decoded dicts,
# and decoded when read.
ENCODED: Final = frozenset({("", "events")})


def _kept(resource: ResourceKey, obj: Obj) -> Obj | bytes:
    if resource in ENCODED:
        return json.dumps(obj, separators=(",", ":")).encode()
    return obj


def _opened(stored: Obj | bytes) -> Obj:
    if isinstance(stored, bytes):
        return cast(Obj, json.loads(stored))
    return stored


def _owner_uids(meta: Obj) -> frozenset[str]:
    return frozenset(str(ref["uid"]) for ref in meta.get("ownerReferences") or () if ref.get("uid"))
