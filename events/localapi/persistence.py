"""The state file: every object and the resourceVersion counter, as one JSON document.

It holds Secrets, so every file here is created 0600, and a crash at any point
leaves either the old document or the new one (never a mix, never a temp file
that outlives the next start).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypedDict

FILE_MODE = 0o600


class StoredObject(TypedDict):
    group: str
    resource: str
    object: dict[str, Any]


class State(TypedDict):
    resourceVersion: int
    objects: list[StoredObject]


class StateError(Exception):
    """A state or journal file cannot be read; the message names the file and the way out."""


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def remove_stale_temp_files(path: Path) -> None:
    """Temp files of saves a kill interrupted (this name, and the older random-suffixed ones)."""
    for stale in (_tmp_path(path), *path.parent.glob(f".{path.name}.*.tmp")):
        stale.unlink(missing_ok=True)


def open_private(path: Path, flags: int) -> int:
    """Open (creating) a file only its owner may read, whatever mode it had before."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def fsync_directory(directory: Path) -> None:
    """Make a create, rename or unlink in directory survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace path with data, readable by its owner only.

    Temp file (0600), fsync, rename, fsync the directory; the temp file is
    removed on every failure path. A reader sees the old file or the new one.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def write_state(path: Path, state: State) -> int:
    """Atomically replace the state file; returns the size written."""
    data = _encode(state)
    write_private(path, data)
    return len(data)


def _encode(state: State) -> bytes:
    # One object at a time, so a background save lets the serving thread have the GIL.
    objects = b",".join(json.dumps(o, separators=(",", ":")).encode() for o in state["objects"])
    return b'{"resourceVersion":%d,"objects":[%s]}' % (state["resourceVersion"], objects)


def read_state(path: Path) -> State | None:
    """The saved state, None when there is none; StateError when the file is damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read the state file {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
        return State(resourceVersion=int(data["resourceVersion"]), objects=list(data["objects"]))
    except (ValueError, KeyError, TypeError) as exc:
        bad_json = isinstance(exc, json.JSONDecodeError | UnicodeDecodeError)
        what = f"not valid JSON ({exc})" if bad_json else "not a state file"
        raise StateError(
            f"the state file {path} is damaged: {what}; restore it from a backup, "
            "or move it away to start with an empty API"
        ) from None
