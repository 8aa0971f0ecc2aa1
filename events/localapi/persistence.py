"""The state file: every object and the resourceVersion counter, as one JSON document."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypedDict


class StoredObject(TypedDict):
    group: str
    resource: str
    object: dict[str, Any]


class State(TypedDict):
    resourceVersion: int
    objects: list[StoredObject]


def write_state(path: Path, state: State) -> None:
    """Atomically replace path (temp file in the same directory, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # it holds Secrets
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_state(path: Path) -> State | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return State(resourceVersion=int(data["resourceVersion"]), objects=list(data["objects"]))
