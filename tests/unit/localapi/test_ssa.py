"""Server-side apply merging and field ownership."""

from __future__ import annotations

from typing import Any

import pytest

from events.localapi.apply import (
    field_paths,
    from_fields_v1,
    merge_apply,
    release_changed,
    to_fields_v1,
)
from events.localapi.errors import APIError, Qualified

WHAT = Qualified("cert-manager.io", "certificates", "Certificate")


def apply(
    existing: dict[str, Any], applied: dict[str, Any], manager: str, *, force: bool = False
) -> dict[str, Any]:
    return merge_apply(
        existing,
        applied,
        manager=manager,
        force=force,
        api_version="cert-manager.io/v1",
        stamp="2026-01-01T00:00:00Z",
        subresource="",
        what=WHAT,
    )


def test_fields_v1_round_trip() -> None:
    obj = {
        "apiVersion": "x",
        "metadata": {"name": "n", "labels": {"a": "1"}},
        "spec": {"s": 1, "l": [1]},
    }
    paths = field_paths(obj)
    assert paths == {("metadata", "labels", "a"), ("spec", "s"), ("spec", "l")}
    assert to_fields_v1(paths) == {
        "f:metadata": {"f:labels": {"f:a": {}}},
        "f:spec": {"f:l": {}, "f:s": {}},
    }
    assert from_fields_v1(to_fields_v1(paths)) == paths


def test_reapply_removes_what_the_manager_stopped_applying() -> None:
    base = {"metadata": {"name": "c"}, "spec": {"a": 1}}
    first = apply(base, {"metadata": {"name": "c"}, "spec": {"a": 1, "b": 2}}, "me")
    assert first["spec"] == {"a": 1, "b": 2}
    second = apply(first, {"metadata": {"name": "c"}, "spec": {"a": 1}}, "me")
    assert second["spec"] == {"a": 1}
    assert [e["manager"] for e in second["metadata"]["managedFields"]] == ["me"]


def test_other_managers_values_conflict_unless_forced() -> None:
    base = apply({"metadata": {"name": "c"}, "spec": {}}, {"spec": {"a": 1}}, "first")
    with pytest.raises(APIError) as conflict:
        apply(base, {"spec": {"a": 2}}, "second")
    assert conflict.value.code == 409
    assert conflict.value.message == (
        'Apply failed with 1 conflict: conflict with "first" using cert-manager.io/v1: .spec.a'
    )
    forced = apply(base, {"spec": {"a": 2}}, "second", force=True)
    assert forced["spec"]["a"] == 2
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["second"]


def test_same_value_is_shared_not_a_conflict() -> None:
    base = apply({"metadata": {"name": "c"}, "spec": {}}, {"spec": {"a": 1}}, "first")
    shared = apply(base, {"spec": {"a": 1}}, "second")
    dropped = apply(shared, {"spec": {}}, "second")
    assert dropped["spec"] == {"a": 1}  # still owned by "first"


def test_an_update_takes_changed_fields_away_from_the_applier() -> None:
    applied = apply({"metadata": {"name": "c"}, "spec": {}}, {"spec": {"a": 1, "b": 2}}, "me")
    updated = {**applied, "spec": {"a": 5, "b": 2}}
    entries = release_changed(applied["metadata"]["managedFields"], applied, updated)
    assert from_fields_v1(entries[0]["fieldsV1"]) == {("spec", "b")}
    reapplied = apply(
        {**updated, "metadata": {**updated["metadata"], "managedFields": entries}},
        {"spec": {"b": 2}},
        "me",
    )
    assert reapplied["spec"] == {"a": 5, "b": 2}  # no longer the applier's to remove
