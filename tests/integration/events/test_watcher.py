"""The watcher: existing objects at start, resume from the last version, relist on 410 Gone."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from cloudevents.http import CloudEvent

from events.localapi.server import LocalAPI
from events.watcher import Watcher
from shared.kube.client import Kube
from shared.kube.resources import CONFIGMAPS
from tests.helpers import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def small_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAPI, Kube]]:
    api = LocalAPI(watch_history=5)
    api.start()
    kubeconfig = tmp_path_factory.mktemp("watch") / "kubeconfig"
    api.write_kubeconfig(kubeconfig)
    kube = Kube.from_kubeconfig(kubeconfig)
    try:
        yield api, kube
    finally:
        kube.close()
        api.stop()


def configmap(kube: Kube, name: str) -> None:
    kube.create(
        CONFIGMAPS,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"a": "1"},
        },
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, event: CloudEvent) -> None:
        with self.lock:
            self.events.append((str(event["type"]).rsplit(".", 1)[1], str(event["name"])))

    def names(self, action: str) -> list[str]:
        with self.lock:
            return [n for a, n in self.events if a == action]


def test_existing_objects_arrive_as_add_then_changes_in_order(
    small_api: tuple[LocalAPI, Kube],
) -> None:
    _, kube = small_api
    configmap(kube, "before")
    seen, stop = Recorder(), threading.Event()
    watcher = Watcher(
        kube, watched=((CONFIGMAPS, None),), emit=seen, source="t", stop=stop, watch_timeout=5
    )
    watcher.start()
    try:
        eventually(lambda: "before" in seen.names("add"), what="add for an existing object")
        configmap(kube, "after")
        kube.patch(CONFIGMAPS, "default", "after", {"data": {"a": "2"}})
        kube.delete(CONFIGMAPS, "default", "after")
        eventually(lambda: "after" in seen.names("delete"), what="delete")
        after = [a for a, n in seen.events if n == "after"]
        assert after == ["add", "update", "delete"]
    finally:
        stop.set()


def test_relists_after_410_gone_and_misses_nothing(small_api: tuple[LocalAPI, Kube]) -> None:
    _, kube = small_api
    seen, stop = Recorder(), threading.Event()
    watcher = Watcher(
        kube, watched=((CONFIGMAPS, None),), emit=seen, source="t", stop=stop, watch_timeout=1
    )
    # Make the watcher's version too old: list now, then churn past the 5-event history.
    _, version = kube.list(CONFIGMAPS)
    names = [f"churn-{uuid.uuid4().hex[:6]}" for _ in range(12)]
    for name in names:
        configmap(kube, name)
    from shared.kube.errors import Gone

    with pytest.raises(Gone):
        list(kube.watch(CONFIGMAPS, resource_version=version, timeout_seconds=1))
    watcher.start()  # it lists first; then a watch from its version; expiry is handled by relisting
    try:
        eventually(lambda: set(names) <= set(seen.names("add")), what="every object despite 410")
    finally:
        stop.set()
