"""Watches: resume from a resourceVersion, filters, bookmarks, timeouts and 410 Gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch

from tests.integration.localapi.conftest import Local, start_local

pytestmark = pytest.mark.integration

HISTORY = 20


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    # A short history, so 410 Gone is reachable in a few writes.
    yield from start_local(
        tmp_path_factory.mktemp("watch"), watch_history=HISTORY, bookmark_interval=0.05
    )


def configmaps(local: Local, namespace: str) -> str:
    return local.url(f"/api/v1/namespaces/{namespace}/configmaps")


def create(local: Local, namespace: str, name: str, **labels: str) -> dict[str, Any]:
    response = local.http.post(
        configmaps(local, namespace), json={"metadata": {"name": name, "labels": labels}}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def label(local: Local, namespace: str, name: str, **labels: str | None) -> dict[str, Any]:
    response = local.http.patch(
        f"{configmaps(local, namespace)}/{name}",
        data=json.dumps({"metadata": {"labels": labels}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    body: dict[str, Any] = response.json()
    return body


def read_events(
    local: Local, url: str, params: dict[str, str], count: int | None = None
) -> list[dict[str, Any]]:
    """Events of a watch, until count have arrived or the server closes the stream."""
    events: list[dict[str, Any]] = []
    with local.http.get(url, params={"watch": "1", **params}, stream=True, timeout=10) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line:
                events.append(json.loads(line))
            if count is not None and len(events) >= count:
                break
    return events


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"].get("name", "")) for e in events]


def test_watch_from_resource_version_replays_later_events_in_order(
    local: Local, namespace: str
) -> None:
    start = create(local, namespace, "a")["metadata"]["resourceVersion"]
    create(local, namespace, "b")
    label(local, namespace, "a", x="1")
    local.http.delete(f"{configmaps(local, namespace)}/b")
    events = read_events(local, configmaps(local, namespace), {"resourceVersion": start}, count=3)
    assert summary(events) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(start)


def test_watch_without_version_lists_current_state_then_changes(
    local: Local, namespace: str
) -> None:
    create(local, namespace, "first")
    api_client = local.client()
    core = k8s.CoreV1Api(api_client)
    watcher = k8s_watch.Watch()
    stream = watcher.stream(core.list_namespaced_config_map, namespace, timeout_seconds=5)
    seen = []
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 1:
            create(local, namespace, "second")
        if len(seen) == 2:
            watcher.stop()
    api_client.close()
    assert seen == [("ADDED", "first"), ("ADDED", "second")]


def test_timeout_seconds_closes_the_stream(local: Local, namespace: str) -> None:
    events = read_events(local, configmaps(local, namespace), {"timeoutSeconds": "1"})
    assert events == []


def test_initial_events_end_with_a_bookmark(local: Local, namespace: str) -> None:
    create(local, namespace, "one")
    events = read_events(
        local,
        configmaps(local, namespace),
        {
            "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true",
        },
        count=2,
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["object"]
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(
        events[0]["object"]["metadata"]["resourceVersion"]
    )


def test_single_object_watch_sees_only_that_object(local: Local, namespace: str) -> None:
    start = create(local, namespace, "mine")["metadata"]["resourceVersion"]
    create(local, namespace, "other")
    label(local, namespace, "other", x="1")
    label(local, namespace, "mine", x="1")
    create(local, namespace, "other2")
    label(local, namespace, "mine", x="2")  # the last event: anything else would come before it
    events = read_events(
        local,
        configmaps(local, namespace),
        {"resourceVersion": start, "fieldSelector": "metadata.name=mine"},
        count=2,
    )
    assert summary(events) == [("MODIFIED", "mine"), ("MODIFIED", "mine")]
    assert events[1]["object"]["metadata"]["labels"] == {"x": "2"}


def test_objects_leaving_a_label_selector_are_seen_deleted(local: Local, namespace: str) -> None:
    start = create(local, namespace, "m", app="web")["metadata"]["resourceVersion"]
    label(local, namespace, "m", app="db")
    label(local, namespace, "m", app="db", step="1")  # both outside the selector: not shown
    label(local, namespace, "m", app="web")
    events = read_events(
        local,
        configmaps(local, namespace),
        {"resourceVersion": start, "labelSelector": "app=web"},
        count=2,
    )
    assert summary(events) == [("DELETED", "m"), ("ADDED", "m")]


def test_too_old_resource_version_is_410_gone(local: Local, namespace: str) -> None:
    old = create(local, namespace, "gone")["metadata"]["resourceVersion"]
    for i in range(HISTORY + 2):
        label(local, namespace, "gone", n=str(i))
    events = read_events(local, configmaps(local, namespace), {"resourceVersion": old})
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["kind"] == "Status" and status["code"] == 410
    assert status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {old} (")


def test_watch_needs_a_token(local: Local) -> None:
    response = requests.get(local.url("/api/v1/configmaps"), params={"watch": "1"}, timeout=5)
    assert response.status_code == 401


def test_idle_watches_get_periodic_bookmarks(local: Local, namespace: str) -> None:
    start = create(local, namespace, "quiet")["metadata"]["resourceVersion"]
    events = read_events(
        local,
        configmaps(local, namespace),
        {"resourceVersion": start, "allowWatchBookmarks": "true", "timeoutSeconds": "5"},
        count=1,
    )
    assert events[0]["type"] == "BOOKMARK"
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(start)
    assert events[0]["object"]["kind"] == "ConfigMap"
