"""The journal's files: what start-up replays, what it drops, what it refuses."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from events.localapi.journal import RV_GAP_AFTER_CRASH, Journal, encode, replay
from events.localapi.persistence import State, StateError, StoredObject, write_state
from events.localapi.store import Store, WatchEvent

RESOURCE = ("", "configmaps")


def configmap(name: str, rv: int, **data: str) -> dict[str, Any]:
    meta = {"name": name, "namespace": "default", "resourceVersion": str(rv)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def put(name: str, rv: int, **data: str) -> bytes:
    return encode(WatchEvent(rv, RESOURCE, "ADDED", configmap(name, rv, **data), None))


def delete(name: str, rv: int) -> bytes:
    return encode(WatchEvent(rv, RESOURCE, "DELETED", configmap(name, rv), None))


def names(state: State | None) -> dict[str, dict[str, str]]:
    assert state is not None
    return {o["object"]["metadata"]["name"]: o["object"]["data"] for o in state["objects"]}


def test_replay_applies_journalled_changes_newer_than_the_snapshot_in_order(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    write_state(
        state,
        State(
            resourceVersion=3,
            objects=[
                StoredObject(group="", resource="configmaps", object=configmap("a", 3, v="1"))
            ],
        ),
    )
    (tmp_path / "state.json.journal.1").write_bytes(put("a", 2, v="old") + put("b", 4))
    (tmp_path / "state.json.journal.2").write_bytes(put("a", 5, v="2") + delete("b", 6))
    replayed = replay(state)
    assert names(replayed) == {"a": {"v": "2"}}
    assert replayed is not None and replayed["resourceVersion"] == 6


def test_a_record_torn_by_a_kill_is_dropped(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    whole, torn = put("a", 1), put("b", 2)
    (tmp_path / "state.json.journal.1").write_bytes(whole + torn[: len(torn) // 2])
    assert names(replay(state)) == {"a": {}}


def test_a_damaged_record_before_the_end_is_refused_naming_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "state.json.journal.1"
    damaged = bytearray(put("b", 2))
    damaged[20] ^= 0x01  # a flipped bit: the checksum no longer matches
    journal.write_bytes(put("a", 1) + bytes(damaged) + put("c", 3))
    with pytest.raises(StateError, match=str(journal)):
        replay(tmp_path / "state.json")


def test_a_truncated_state_file_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    write_state(state, State(resourceVersion=1, objects=[]))
    state.write_bytes(state.read_bytes()[:10])
    with pytest.raises(StateError) as caught:
        replay(state)
    message = str(caught.value)
    assert str(state) in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_recovery_removes_temp_files_a_killed_save_left(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    for stale in (".state.json.tmp", ".state.json.abc123.tmp"):
        (tmp_path / stale).write_text('{"secret": "data"}')
    assert Journal(state).recover() is None
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_no_temp_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    unserialisable = configmap("a", 1)
    unserialisable["data"] = {"k": object()}
    with pytest.raises(TypeError):
        write_state(
            state,
            State(
                resourceVersion=1,
                objects=[StoredObject(group="", resource="configmaps", object=unserialisable)],
            ),
        )
    assert list(tmp_path.iterdir()) == []


def test_writes_are_durable_once_awaited_and_closing_folds_them_into_the_snapshot(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    store = Store(history=10)

    def capture() -> State:
        objects = [StoredObject(group=g, resource=r, object=o) for (g, r), o in store.all_items()]
        return State(resourceVersion=store.rv, objects=objects)

    async def scenario() -> None:
        journal = Journal(state)
        journal.recover()
        journal.open(capture)
        store.on_change.append(journal.append)

        async def writer(i: int) -> None:
            rv = store.next_rv()
            store.put(RESOURCE, configmap(f"c{i}", rv))
            await journal.durable()
            assert f"c{i}" in names(replay(state))  # on disk before the "answer"

        await asyncio.gather(*(writer(i) for i in range(50)))
        segment = tmp_path / "state.json.journal.1"
        assert stat.S_IMODE(segment.stat().st_mode) == 0o600
        await journal.close()

    asyncio.run(scenario())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert len(json.loads(state.read_text())["objects"]) == 50


def test_after_a_crash_resource_versions_continue_past_any_a_watcher_may_have_seen(
    tmp_path: Path,
) -> None:
    (tmp_path / "state.json.journal.1").write_bytes(put("a", 7))
    recovered = Journal(tmp_path / "state.json").recover()
    assert recovered is not None
    assert recovered["resourceVersion"] == 7 + RV_GAP_AFTER_CRASH


def holds_name(name: str, saved: dict[str, dict[str, str]]) -> bool:
    return name in saved


def test_compactions_under_concurrent_writes_keep_every_awaited_write(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    store = Store(history=10)
    compactions = 0

    def capture() -> State:
        nonlocal compactions
        compactions += 1
        objects = [StoredObject(group=g, resource=r, object=o) for (g, r), o in store.all_items()]
        return State(resourceVersion=store.rv, objects=objects)

    async def scenario() -> None:
        journal = Journal(state, compact_bytes=4096)  # a compaction every few writes
        journal.recover()
        journal.open(capture)
        store.on_change.append(journal.append)

        async def writer(w: int) -> None:
            for i in range(40):
                name = f"w{w}-{i}"
                store.put(RESOURCE, configmap(name, store.next_rv(), v=name * 10))
                if i % 4 == 3:
                    store.remove(RESOURCE, store.get(RESOURCE, "default", f"w{w}-{i - 1}") or {})
                await journal.durable()
                await on_disk(functools.partial(holds_name, name))

        await asyncio.gather(*(writer(w) for w in range(8)))
        kept = {o["metadata"]["name"]: o["data"] for _, o in store.all_items()}
        await on_disk(lambda saved: saved == kept)
        await journal.close()

    async def on_disk(holds: Callable[[dict[str, dict[str, str]]], bool]) -> None:
        # A compaction's thread may replace the snapshot and drop segments while this
        # reads them one by one (a start-up replay has the files to itself), so a read
        # can miss or fail once; what is durable shows up on the next read.
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            with contextlib.suppress(StateError):
                if holds(names(replay(state))):
                    return
            assert asyncio.get_running_loop().time() < deadline, "a durable write is lost"
            await asyncio.sleep(0.001)

    asyncio.run(scenario())
    assert compactions > 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
