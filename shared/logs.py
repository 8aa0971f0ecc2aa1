"""Structured JSON logs; every record says which object and which CloudEvent it is about."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

_FIELDS = ("object", "event_id", "function")


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


def setup(level: str | None = None) -> None:
    """Configure the root logger once (JSON to stderr); idempotent."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("CERTAINLY_LOG_LEVEL") or "INFO").upper())


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
