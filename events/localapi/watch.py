"""Watch streams: newline-delimited JSON events over a chunked response.

A watch subscribes to the store and takes its backlog (current objects, or
history after a resourceVersion) with no await in between, so no change
falls between the two. Objects leaving a filtered watch's selection are shown
as DELETED and those entering it as ADDED, as kube-apiserver does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from events.localapi import errors, tables
from events.localapi.filters import Filter
from events.localapi.resources import ResourceType, in_version
from events.localapi.store import Store, TooOld, WatchEvent

Event = dict[str, Any]  # {"type": ..., "object": ...}
DEFAULT_TIMEOUT: Final = 1800.0
# Put in a watch's queue when the server shuts down.
CLOSE: Final = WatchEvent(0, ("", ""), "CLOSE", {}, None)


@dataclass(frozen=True)
class WatchRequest:
    rt: ResourceType
    matches: Filter
    resource_version: str  # "" or "0": current state first, as ADDED
    timeout: float
    bookmarks: bool
    initial_events: bool  # sendInitialEvents: ADDED, then a bookmark ending them
    as_table: bool
    include_object: str


def translate(event: WatchEvent, matches: Filter) -> Event | None:
    """The event a filtered watch shows for a change, if any."""
    new_ok = matches(event.obj)
    if event.type == "ADDED":
        return {"type": "ADDED", "object": event.obj} if new_ok else None
    old_ok = event.old is not None and matches(event.old)
    if event.type == "DELETED":
        return {"type": "DELETED", "object": event.obj} if (old_ok or new_ok) else None
    if new_ok and old_ok:
        return {"type": "MODIFIED", "object": event.obj}
    if new_ok:
        return {"type": "ADDED", "object": event.obj}
    if old_ok:
        return {"type": "DELETED", "object": event.obj}
    return None


def bookmark(rt: ResourceType, rv: int, *, initial_end: bool = False) -> Event:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": rt.kind, "apiVersion": rt.group_version, "metadata": meta},
    }


class Watches:
    def __init__(
        self,
        *,
        store: Store,
        clock: Callable[[], datetime],
        encode: Callable[[Any], bytes],
        bookmark_interval: float,
    ) -> None:
        self.store = store
        self.clock = clock
        self.encode = encode
        self.bookmark_interval = bookmark_interval
        self._queues: set[asyncio.Queue[WatchEvent]] = set()

    def close_all(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(CLOSE)

    def _backlog(self, spec: WatchRequest) -> tuple[list[Event], int]:
        """Events owed before live ones, and the resourceVersion they bring the watch to."""
        rt, key = spec.rt, spec.rt.key
        now = self.store.rv
        if spec.resource_version in ("", "0") or spec.initial_events:
            items = self.store.items(key, spec.matches.namespace, label=spec.matches.label)
            backlog = [{"type": "ADDED", "object": o} for o in items if spec.matches(o)]
            if spec.initial_events and spec.bookmarks:
                backlog.append(bookmark(rt, now, initial_end=True))
            return backlog, now
        try:
            since = int(spec.resource_version)
        except ValueError as exc:
            raise errors.bad_request(
                f"invalid resource version: {spec.resource_version!r}"
            ) from exc
        try:
            history = self.store.since(key, since)
        except TooOld as exc:
            return [{"type": "ERROR", "object": errors.expired(str(exc)).status()}], now
        shown = [translate(event, spec.matches) for event in history]
        return [e for e in shown if e is not None], max(now, since)

    def _frame(self, spec: WatchRequest, event: Event, *, first: bool) -> bytes:
        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            event = {"type": event["type"], "object": in_version(spec.rt, event["object"])}
        if spec.as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            obj = event["object"]
            event = {
                "type": event["type"],
                "object": tables.table(
                    spec.rt,
                    [obj],
                    include_object=spec.include_object,
                    now=self.clock(),
                    list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                    headers=first,  # column definitions once, as kube-apiserver sends them
                ),
            }
        return self.encode(event) + b"\n"

    async def serve(self, request: web.Request, spec: WatchRequest) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Cache-Control": "no-cache"}
        )
        queue = self.store.subscribe(spec.rt.key)
        self._queues.add(queue)
        try:
            backlog, last_rv = self._backlog(spec)
            response.enable_chunked_encoding()
            await response.prepare(request)
            first = True
            for event in backlog:
                await response.write(self._frame(spec, event, first=first))
                first = False
                if event["type"] == "ERROR":
                    await response.write_eof()
                    return response
            await self._follow(response, spec, queue, last_rv, first=first)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client went away: the watch is over
        finally:
            self.store.unsubscribe(spec.rt.key, queue)
            self._queues.discard(queue)
        return response

    async def _follow(
        self,
        response: web.StreamResponse,
        spec: WatchRequest,
        queue: asyncio.Queue[WatchEvent],
        last_rv: int,
        *,
        first: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + spec.timeout
        while (remaining := deadline - loop.time()) > 0:
            wait = min(remaining, self.bookmark_interval) if spec.bookmarks else remaining
            try:
                change = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                if spec.bookmarks and loop.time() < deadline:
                    mark = bookmark(spec.rt, self.store.rv)
                    await response.write(self._frame(spec, mark, first=False))
                continue
            if change is CLOSE:
                return
            if change.rv <= last_rv:
                continue
            event = translate(change, spec.matches)
            if event is not None:
                await response.write(self._frame(spec, event, first=first))
                first = False
