"""Durable writes: an append-only journal next to the state file, group-committed.

Every change the store makes is appended here, and the server answers a write
only once the journal is fsynced past it. Changes that arrive while an fsync is
under way share the next one (group commit), so concurrent writers do not queue
behind one fsync each. When the journal outgrows the snapshot it is compacted
in the background: a new segment takes further records, the objects as of that
moment replace the state file (atomically), then the older segments go.

Files next to the state file F, all 0600 (they hold Secrets):

  F              the snapshot (persistence.State)
  F.journal.N    segments, N increasing; one record a line: `crc32 json`

Start-up reads the snapshot, then each segment's records newer than it. A
record a kill tore (its write never returned, so it was never answered) ends
its segment and is dropped; damage anywhere else is a StateError.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from events.localapi.persistence import (
    State,
    StateError,
    StoredObject,
    fsync_directory,
    open_private,
    read_state,
    remove_stale_temp_files,
    write_state,
)
from events.localapi.store import WatchEvent

log = logging.getLogger(__name__)

# Compact once the journal is larger than this and larger than the snapshot,
# so rewriting the snapshot costs O(1) per journalled byte.
COMPACT_MIN_BYTES: Final = 8 * 1024 * 1024
# After a crash, resourceVersions handed out past the last durable change may have
# reached watchers (changes are visible before their fsync returns). Counting on
# from well past them makes such a watcher's resume a 410 Gone, so it relists,
# instead of skipping new changes that reuse its numbers.
RV_GAP_AFTER_CRASH: Final = 1_000_000

Record = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name


class JournalError(Exception):
    """The journal could not be written: a change is not durable and must not be answered."""


def encode(event: WatchEvent) -> bytes:
    group, plural = event.resource
    record: Record = {"rv": event.rv, "g": group, "r": plural}
    if event.type == "DELETED":
        meta = event.obj["metadata"]
        record["ns"] = meta.get("namespace", "")
        record["n"] = meta["name"]
    else:
        record["o"] = event.obj
    body = json.dumps(record, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode(line: bytes) -> Record | None:
    """The record on a whole line, None when it is torn or damaged."""
    if not line.endswith(b"\n") or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("rv"), int):
        return None
    return record


def segments(state_file: Path) -> list[tuple[int, Path]]:
    prefix = f"{state_file.name}.journal."
    found = [
        (int(path.name[len(prefix) :]), path)
        for path in state_file.parent.glob(glob.escape(prefix) + "*")
        if path.name[len(prefix) :].isdigit()
    ]
    return sorted(found)


def read_segment(path: Path) -> Iterator[Record]:
    """A segment's records; a torn last one is dropped, any other damage is a StateError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read the journal {path}: {exc.strerror}") from None
    lines = data.splitlines(keepends=True)
    offset = 0
    for index, line in enumerate(lines):
        record = decode(line)
        if record is None:
            if index == len(lines) - 1:
                return  # torn by a kill mid-write: never answered
            raise StateError(
                f"the journal {path} is damaged at byte {offset}; restore the state file and "
                "its journal from a backup, or move them away to start with an empty API"
            )
        offset += len(line)
        yield record


def _key(group: str, plural: str, obj: Record) -> Key:
    meta = obj["metadata"]
    return group, plural, meta.get("namespace", ""), meta["name"]


def replay(state_file: Path) -> State | None:
    """The snapshot with every journalled change newer than it applied, in order."""
    snapshot = read_state(state_file)
    found = segments(state_file)
    if snapshot is None and not found:
        return None
    base = snapshot["resourceVersion"] if snapshot is not None else 0
    rv = base
    objects: dict[Key, StoredObject] = {}
    try:
        for item in snapshot["objects"] if snapshot is not None else ():
            objects[_key(item["group"], item["resource"], item["object"])] = item
    except (KeyError, TypeError):
        raise StateError(
            f"the state file {state_file} is damaged: an object without group, resource or "
            "name; restore it from a backup, or move it away to start with an empty API"
        ) from None
    for _, path in found:
        for record in read_segment(path):
            if record["rv"] <= base:
                continue  # the snapshot has it already
            try:
                group, plural = record["g"], record["r"]
                if "o" in record:
                    key = _key(group, plural, record["o"])
                    objects[key] = StoredObject(group=group, resource=plural, object=record["o"])
                else:
                    objects.pop((group, plural, record["ns"], record["n"]), None)
            except (KeyError, TypeError):
                raise StateError(
                    f"the journal {path} holds a record that is not a change "
                    f"(resourceVersion {record['rv']}); restore it from a backup, "
                    "or move it away"
                ) from None
            rv = max(rv, record["rv"])
    return State(resourceVersion=rv, objects=list(objects.values()))


class Journal:
    """Runs on the server's loop: append() from store callbacks, await durable() per write."""

    def __init__(self, state_file: Path, *, compact_bytes: int = COMPACT_MIN_BYTES) -> None:
        self.path = state_file
        self._compact_bytes = compact_bytes
        self._capture: Callable[[], State] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._io = asyncio.Lock()  # one writer of the current segment at a time
        self._fd = -1
        self._segment = Path()
        self._fresh = False  # the segment's directory entry is not yet fsynced
        self._size = 0
        self._next = 1
        self._old: list[Path] = []  # segments the snapshot does not cover yet
        self._snapshot_size = 0
        self._pending: list[bytes] = []
        self._appended = 0  # records appended, and of those fsynced
        self._synced = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._failed: JournalError | None = None
        self._fsyncs = 0  # how well group commit works: changes per fsync
        self._flusher: asyncio.Task[None] | None = None
        self._compactor: asyncio.Task[None] | None = None

    # -- start-up ------------------------------------------------------------

    def recover(self) -> State | None:
        """What the last run made durable; removes the temp files a kill left."""
        remove_stale_temp_files(self.path)
        state = replay(self.path)
        found = segments(self.path)
        self._old = [path for _, path in found]
        self._next = found[-1][0] + 1 if found else 1
        with contextlib.suppress(OSError):
            self._snapshot_size = self.path.stat().st_size
        if state is not None and found:  # a clean stop leaves no journal behind
            state["resourceVersion"] += RV_GAP_AFTER_CRASH
        return state

    def open(self, capture: Callable[[], State]) -> None:
        """Start a new segment (on the serving loop); capture() is the store as a State."""
        self._capture = capture
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._start_segment()
        if self._old:  # fold what the last run journalled into the snapshot
            self._compactor = self._loop.create_task(self._compact())

    def _start_segment(self) -> None:
        path = self.path.with_name(f"{self.path.name}.journal.{self._next}")
        self._next += 1
        self._fd = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_EXCL)
        self._segment, self._size, self._fresh = path, 0, True

    # -- writes --------------------------------------------------------------

    def append(self, event: WatchEvent) -> None:
        """Journal a store change (a store on_change callback)."""
        if self._failed is not None:
            return  # nothing more is written; durable() refuses every write
        self._pending.append(encode(event))
        self._appended += 1
        if self._flusher is None and self._loop is not None:
            self._flusher = self._loop.create_task(self._flush())

    async def durable(self) -> None:
        """Return once every change appended so far is on disk; JournalError if it cannot be."""
        if self._failed is not None:
            raise self._failed
        target = self._appended
        if self._synced >= target:
            return
        assert self._loop is not None
        future = self._loop.create_future()
        self._waiters.append((target, future))
        await future

    async def _flush(self) -> None:
        try:
            while self._pending and self._failed is None:
                batch, self._pending = b"".join(self._pending), []
                upto = self._appended
                async with self._io:
                    fresh, self._fresh = self._fresh, False
                    try:
                        await asyncio.to_thread(
                            _write, self._fd, batch, self._size, self.path.parent if fresh else None
                        )
                    except OSError as exc:
                        self._fail(exc)
                        return
                    self._size += len(batch)
                    self._fsyncs += 1
                self._synced = upto
                self._wake()
                if self._compactor is None and self._size > max(
                    self._compact_bytes, self._snapshot_size
                ):
                    self._compactor = asyncio.get_running_loop().create_task(self._compact())
        finally:
            self._flusher = None

    def _wake(self) -> None:
        waiting = []
        for target, future in self._waiters:
            if target > self._synced:
                waiting.append((target, future))
            elif not future.done():
                future.set_result(None)
        self._waiters = waiting

    def _fail(self, exc: OSError) -> None:
        # Like etcd on a failed fsync: stop accepting writes rather than answer unsafely.
        self._failed = JournalError(f"cannot write the journal {self._segment}: {exc}")
        log.error("%s; every further write is refused until restart", self._failed)
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(self._failed)
        self._waiters = []

    # -- compaction ----------------------------------------------------------

    async def _compact(self) -> None:
        assert self._capture is not None
        try:
            async with self._io:  # no write under way: the segment is complete
                state = self._capture()
                covered = [*self._old, self._segment]
                os.close(self._fd)
                try:
                    self._start_segment()
                except OSError as exc:
                    self._fail(exc)
                    return
                self._old = covered
            self._snapshot_size = await asyncio.to_thread(self._write_snapshot, state, covered)
            self._old = []
        except Exception:  # the journal still holds everything: try again later
            log.exception(
                "compacting the journal into %s failed; it will be tried again", self.path
            )
        finally:
            self._compactor = None

    def _write_snapshot(self, state: State, covered: list[Path]) -> int:
        size = write_state(self.path, state)
        for path in covered:
            path.unlink(missing_ok=True)
        fsync_directory(self.path.parent)
        return size

    async def close(self) -> None:
        """Finish pending writes, then fold everything into the snapshot and drop the journal."""
        while self._flusher is not None or self._compactor is not None:
            for task in (self._flusher, self._compactor):
                if task is not None:
                    await task
        if self._pending and self._failed is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
            await self._flusher
        log.info("journal: %d changes in %d fsyncs", self._synced, self._fsyncs)
        if self._failed is not None or self._capture is None:
            return  # keep the journal as it is: the next start replays it
        async with self._io:
            state = self._capture()
            os.close(self._fd)
            self._fd = -1
            await asyncio.to_thread(self._write_snapshot, state, [*self._old, self._segment])
            self._old = []


def _write(fd: int, data: bytes, size: int, new_in: Path | None) -> None:
    """Append data and fdatasync (on a thread); on failure cut the segment back to size."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fdatasync(fd)
        if new_in is not None:
            fsync_directory(new_in)  # the segment's own name must survive too
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)  # no half record before the next one
        raise
