"""The watcher: existing objects at start, resume from the last version, relist on 410 Gone."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from events.localapi.server import LocalAPI
from events.watcher import Watcher
from shared.kube.client import Kube
from shared.kube.objects import Obj
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


class GatedKube(Kube):
    """The real client, but its second and later watches wait at a gate.

    The test then changes the cluster while the watcher holds an old version, so
    the server itself decides between resuming and 410 Gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lists = self.watches = 0
        self.waiting, self.gate = threading.Event(), threading.Event()

    def list(self, *args: Any, **kwargs: Any) -> tuple[list[Obj], str]:
        self.lists += 1
        return super().list(*args, **kwargs)

    def watch(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Obj]]:
        self.watches += 1
        if self.watches > 1:
            self.waiting.set()
            self.gate.wait(10)
        return super().watch(*args, **kwargs)


@pytest.fixture
def gated(small_api: tuple[LocalAPI, Kube], tmp_path: Path) -> Iterator[GatedKube]:
    api, _ = small_api
    api.write_kubeconfig(tmp_path / "kubeconfig")
    kube = GatedKube.from_kubeconfig(tmp_path / "kubeconfig")
    assert isinstance(kube, GatedKube)
    try:
        yield kube
    finally:
        kube.gate.set()
        kube.close()


def watch_configmaps(kube: Kube, seen: Recorder, stop: threading.Event) -> Watcher:
    watcher = Watcher(
        kube, watched=((CONFIGMAPS, None),), emit=seen, source="t", stop=stop, watch_timeout=1
    )
    watcher.start()
    return watcher


def test_resumes_from_its_last_version_after_a_watch_times_out(
    small_api: tuple[LocalAPI, Kube], gated: GatedKube
) -> None:
    _, kube = small_api
    seen, stop = Recorder(), threading.Event()
    watch_configmaps(gated, seen, stop)
    try:
        assert gated.waiting.wait(10), "the first watch never timed out"
        names = [f"gap-{uuid.uuid4().hex[:6]}" for _ in range(3)]  # fits the 5-event history
        for name in names:
            configmap(kube, name)
        gated.gate.set()
        eventually(lambda: set(names) <= set(seen.names("add")), what="changes made in the gap")
        assert gated.lists == 1  # resumed, not relisted
    finally:
        stop.set()


def test_relists_after_410_gone_and_misses_nothing(
    small_api: tuple[LocalAPI, Kube], gated: GatedKube
) -> None:
    _, kube = small_api
    seen, stop = Recorder(), threading.Event()
    watch_configmaps(gated, seen, stop)
    try:
        assert gated.waiting.wait(10), "the first watch never timed out"
        names = [f"churn-{uuid.uuid4().hex[:6]}" for _ in range(12)]  # past the history
        for name in names:
            configmap(kube, name)
        gated.gate.set()
        eventually(lambda: set(names) <= set(seen.names("add")), what="every object despite 410")
        assert gated.lists == 2  # the server said 410 Gone and the watcher relisted
    finally:
        stop.set()
