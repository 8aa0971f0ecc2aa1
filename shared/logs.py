"""Structured JSON logs; every record says which object and which CloudEvent it is about.

While an event is handled, `bound(obj=..., event_id=..., function=...)` puts those
fields in a context variable; the filter on our JSON handler stamps them on every
record that passes, whichever logger emitted it (the ACME flow, the Event recorder,
the Kubernetes client), so no module needs a logger adapter to be traceable. The
context is per thread (each worker handles one event at a time) and is restored when
the handling ends.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import IO, Any, Final

LOG_LEVEL_ENV: Final = "CERTAINLY_LOG_LEVEL"

_FIELDS: Final = ("object", "event_id", "function")

_bound: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "certainly_log_fields", default=MappingProxyType({})
)


@contextmanager
def bound(*, obj: str = "", event_id: str = "", function: str = "") -> Iterator[None]:
    """Stamp every record logged inside the block (on this thread) with these fields.

    Empty values keep what an enclosing block bound, so a sweep can bind each object
    it visits under the tick's event id.
    """
    given = {"object": obj, "event_id": event_id, "function": function}
    fields = {**_bound.get(), **{k: v for k, v in given.items() if v}}
    token = _bound.set(fields)
    try:
        yield
    finally:
        _bound.reset(token)


def current_fields() -> Mapping[str, str]:
    return _bound.get()


class ContextFilter(logging.Filter):
    """Adds the bound fields to a record that does not carry them already."""

    def filter(self, record: logging.LogRecord) -> bool:
        for field, value in _bound.get().items():
            if not getattr(record, field, None):
                setattr(record, field, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in _FIELDS:
            value = getattr(record, field, None)
            if value:
                entry[field] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing JSON lines, stamped with the bound object and event id."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    return handler


def level_from(text: str | None) -> int:
    """A level name (DEBUG, INFO, WARNING, ERROR), case-insensitive; default INFO."""
    source = "--log-level" if text else LOG_LEVEL_ENV
    name = (text or os.environ.get(LOG_LEVEL_ENV) or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        raise ValueError(f"{source}: unknown log level {name!r}; use DEBUG, INFO, WARNING or ERROR")
    return level


def setup(level: str | None = None) -> None:
    """Configure the root logger once (JSON to stderr); idempotent."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    root.addHandler(json_handler())
    root.setLevel(level_from(level))


class ObjectLogger(logging.LoggerAdapter[logging.Logger]):
    """Stamps every record with the object (`namespace/name`) and the CloudEvent id."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra: Mapping[str, Any] = self.extra or {}
        kwargs["extra"] = {**extra, **(kwargs.get("extra") or {})}
        return msg, kwargs


def for_object(name: str, *, obj: str, event_id: str = "", function: str = "") -> ObjectLogger:
    return ObjectLogger(
        logging.getLogger(name), {"object": obj, "event_id": event_id, "function": function}
    )
