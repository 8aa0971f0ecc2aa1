"""Kubernetes Events about our objects, as `kubectl describe` shows them.

An Event is a courtesy to the user, never a step of the workflow: a failure to
record one is logged and swallowed. An Event recorded `once` is named after its
object's uid and that key, so a re-run after a crash, or a second invocation racing
the first, finds it (409) instead of recording it twice.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from shared.clock import Clock
from shared.kube.client import Kube
from shared.kube.errors import AlreadyExists, ApiError
from shared.kube.objects import format_time, meta
from shared.kube.resources import EVENTS

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"


class EventRecorder:
    def __init__(self, kube: Kube, clock: Clock, *, component: str = "certainly") -> None:
        self._kube = kube
        self._clock = clock
        self._component = component

    def record(
        self,
        obj: Mapping[str, Any],
        *,
        type: str,
        reason: str,
        message: str,
        once: str | None = None,
    ) -> None:
        m = meta(obj)
        namespace = m.get("namespace") or "default"
        now = format_time(self._clock.now())
        suffix = secrets.token_hex(8)
        if once is not None:
            suffix = hashlib.sha256(f"{m.get('uid')}/{once}".encode()).hexdigest()[:16]
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{m.get('name')}.{suffix}",
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": m.get("name"),
                "namespace": m.get("namespace"),
                "uid": m.get("uid"),
                "resourceVersion": m.get("resourceVersion"),
            },
            "type": type,
            "reason": reason,
            "message": message,
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._kube.create(EVENTS, event)
        except AlreadyExists:
            log.debug("event %s on %s was already recorded", reason, m.get("name"))
        except ApiError as error:
            log.warning("could not record event %s on %s: %s", reason, m.get("name"), error)
