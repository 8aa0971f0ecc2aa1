"""The thin watcher: Kubernetes watches in, ApiServerSource-shaped CloudEvents out.

It lists first (so objects that exist at start get an `add` event, which Knative's
ApiServerSource does not send), then watches from the list's resourceVersion,
resumes from the last version it saw, and relists when the server answers 410 Gone.
Secrets go out without `data` and `stringData` (shared/contracts.object_event): the
functions read back what they need, and no private key travels in an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from cloudevents.http import CloudEvent

from shared.contracts import Action, object_event
from shared.kube.client import Kube
from shared.kube.errors import ApiError, Gone
from shared.kube.resources import Resource

log = logging.getLogger(__name__)

MAX_RETRY_DELAY: Final = 30.0  # seconds between tries while the API refuses us
ACTIONS: Final[dict[str, Action]] = {"ADDED": "add", "MODIFIED": "update", "DELETED": "delete"}


class Watcher:
    def __init__(
        self,
        kube: Kube,
        *,
        watched: tuple[tuple[Resource, str | None], ...],
        emit: Callable[[CloudEvent], None],
        source: str,
        stop: threading.Event,
        watch_timeout: int = 60,
        retry_delay: float = 1.0,
    ) -> None:
        self._kube = kube
        self._watched = watched
        self._emit = emit
        self._source = source
        self._stop = stop
        self._watch_timeout = watch_timeout
        self._retry_delay = retry_delay
        self.synced = threading.Event()
        self._initial: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for resource, selector in self._watched:
            thread = threading.Thread(
                target=self._run,
                args=(resource, selector),
                name=f"watch-{resource.plural}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for every watch thread, `timeout` in total (not per thread)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _synced_one(self, resource: Resource) -> None:
        with self._lock:
            self._initial.add(resource.plural)
            if len(self._initial) == len(self._watched):
                self.synced.set()

    def _run(self, resource: Resource, selector: str | None) -> None:
        version: str | None = None
        delay = self._retry_delay
        while not self._stop.is_set():
            try:
                if version is None:
                    items, version = self._kube.list(resource, label_selector=selector)
                    for item in items:
                        self._emit(object_event("add", item, source=self._source))
                    self._synced_one(resource)
                version = self._watch(resource, selector, version)
                delay = self._retry_delay
            except Gone:
                log.info("watch of %s expired (410 Gone): relisting", resource.plural)
                version = None
            except ApiError as error:
                if self._stop.is_set():
                    return  # the runner closed our connections to stop us
                # One warning per back-off; the client reloads its kubeconfig meanwhile.
                log.warning(
                    "watch of %s failed: %s; retrying in %.0fs", resource.plural, error, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)

    def _watch(self, resource: Resource, selector: str | None, version: str) -> str:
        for kind, obj in self._kube.watch(
            resource,
            resource_version=version,
            label_selector=selector,
            timeout_seconds=self._watch_timeout,
        ):
            if self._stop.is_set():
                break
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            action = ACTIONS.get(kind)
            if action is None:  # BOOKMARK: only the version moves
                continue
            obj.setdefault("apiVersion", resource.api_version)
            obj.setdefault("kind", resource.kind)
            self._emit(object_event(action, obj, source=self._source))
        return version
