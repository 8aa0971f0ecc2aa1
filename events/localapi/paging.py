"""limit/continue paging with consistent pages, as etcd-backed lists have.

The first page keeps the rest of its (immutable) result as a snapshot, so the
following pages show the list as it was at the first page's resourceVersion.
A token whose snapshot is gone continues from the current state, or is 410
Expired once the watch history no longer covers its resourceVersion.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from events.localapi import errors
from events.localapi.store import Obj

EXPIRED_MESSAGE: Final = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)
Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    resource_version: int
    continue_token: str  # "" on the last page
    remaining: int


@dataclass(frozen=True)
class _Token:
    rv: int
    start: Key  # the last key already returned
    snapshot: str


def _key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def _encode(token: _Token) -> str:
    raw = {
        "v": "meta.k8s.io/v1",
        "rv": token.rv,
        "start": f"{token.start[0]}/{token.start[1]}",
        "snapshot": token.snapshot,
    }
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _decode(text: str) -> _Token:
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        namespace, _, name = str(raw["start"]).partition("/")
        return _Token(int(raw["rv"]), (namespace, name), str(raw.get("snapshot", "")))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise errors.bad_request(f"continue key is not valid: {exc}") from exc


class Pager:
    def __init__(self, *, capacity: int = 64) -> None:
        self._capacity = capacity
        self._snapshots: OrderedDict[str, list[Obj]] = OrderedDict()

    def page(
        self,
        *,
        select: Callable[[], list[Obj]],
        current_rv: int,
        oldest_rv: int,
        limit: int,
        token: str,
    ) -> Page:
        """One page of select()'s result; token is the request's continue parameter."""
        rv = current_rv
        if not token:
            items = select()
        else:
            parsed = _decode(token)
            rv = parsed.rv
            snapshot = self._snapshots.pop(parsed.snapshot, None)
            if snapshot is not None:
                items = snapshot
            elif parsed.rv < oldest_rv:
                raise errors.expired(EXPIRED_MESSAGE)
            else:
                items = [o for o in select() if _key(o) > parsed.start]
        if limit <= 0 or len(items) <= limit:
            return Page(items, rv, "", 0)
        shown, rest = items[:limit], items[limit:]
        snapshot_id = secrets.token_hex(8)
        self._snapshots[snapshot_id] = rest
        while len(self._snapshots) > self._capacity:
            self._snapshots.popitem(last=False)
        token_out = _encode(_Token(rv, _key(shown[-1]), snapshot_id))
        return Page(shown, rv, token_out, len(rest))
