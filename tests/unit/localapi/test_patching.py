"""The three PATCH flavours: RFC 7386, RFC 6902 and Kubernetes strategic merge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from events.localapi.patching import PatchError, json_patch, merge_patch, strategic_merge_patch

# --- merge patch -----------------------------------------------------------------------


def test_merge_patch_merges_objects_and_null_deletes() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}


def test_merge_patch_replaces_lists_whole() -> None:
    assert merge_patch({"l": [1, 2, 3]}, {"l": [4]}) == {"l": [4]}


def test_merge_patch_rfc7386_examples() -> None:
    # RFC 7386 appendix A, a few of the test cases.
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"a": "foo"}, "bar") == "bar"
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch([1, 2], {"a": "b", "c": None}) == {"a": "b"}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_merge_patch_leaves_inputs_untouched() -> None:
    target = {"a": {"b": 1}}
    patch = {"a": {"c": 2}}
    merge_patch(target, patch)
    assert target == {"a": {"b": 1}}
    assert patch == {"a": {"c": 2}}


# --- json patch ------------------------------------------------------------------------


def test_json_patch_applies_operations_in_order() -> None:
    target = {"metadata": {"labels": {"a": "1"}}, "spec": {"l": [1]}}
    result = json_patch(
        target,
        [
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/a"},
            {"op": "add", "path": "/spec/l/-", "value": 2},
            {"op": "test", "path": "/spec/l/0", "value": 1},
        ],
    )
    assert result == {"metadata": {"labels": {"b": "2"}}, "spec": {"l": [1, 2]}}
    assert target == {"metadata": {"labels": {"a": "1"}}, "spec": {"l": [1]}}


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/a/b/c", "value": 1}],
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "add"}],
        [{"path": "/a"}],
        ["not an operation"],
    ],
)
def test_json_patch_failures_are_patch_errors(operations: list[Any]) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1}, operations)


def test_json_patch_must_be_a_list() -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1}, {"op": "add"})  # type: ignore[arg-type]


# --- strategic merge patch -------------------------------------------------------------

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "finalizers": ["a"], "labels": {"app": "web"}},
    "spec": {
        "replicas": 1,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "app:1",
                        "ports": [{"containerPort": 80, "name": "http"}],
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "volumeMounts": [{"name": "v", "mountPath": "/data"}],
                    },
                    {"name": "sidecar", "image": "side:1"},
                ],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "tolerations": [{"key": "a"}, {"key": "b"}],
            },
        },
    },
}


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def test_containers_merge_by_name() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    app, sidecar = containers(result)
    assert app["image"] == "app:2"
    assert app["env"] == DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]["env"]
    assert sidecar == {"name": "sidecar", "image": "side:1"}


def test_new_list_items_are_appended() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "n"}]}}}}
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert [c["name"] for c in containers(result)] == ["app", "sidecar", "new"]


def test_nested_lists_merge_by_their_own_keys() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "ports": [{"containerPort": 443, "name": "https"}],
                            "env": [{"name": "B", "value": "changed"}],
                            "volumeMounts": [{"mountPath": "/data", "readOnly": True}],
                        }
                    ]
                }
            }
        }
    }
    app = containers(strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment"))[0]
    assert [p["containerPort"] for p in app["ports"]] == [80, 443]
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "changed"}]
    assert app["volumeMounts"] == [{"name": "v", "mountPath": "/data", "readOnly": True}]


def test_lists_without_a_merge_key_are_replaced() -> None:
    patch = {"spec": {"template": {"spec": {"tolerations": [{"key": "c"}]}}}}
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert result["spec"]["template"]["spec"]["tolerations"] == [{"key": "c"}]


def test_patch_delete_directive_removes_a_list_item() -> None:
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}
    }
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert [c["name"] for c in containers(result)] == ["app"]


def test_patch_replace_directive_in_a_list_replaces_it() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "only", "image": "o"}, {"$patch": "replace"}]}
            }
        }
    }
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert containers(result) == [{"name": "only", "image": "o"}]


def test_patch_replace_directive_on_a_map_replaces_it() -> None:
    patch = {"metadata": {"labels": {"$patch": "replace", "new": "x"}}}
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert result["metadata"]["labels"] == {"new": "x"}


def test_patch_delete_directive_on_a_map_removes_it() -> None:
    patch = {"metadata": {"labels": {"$patch": "delete"}}}
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert "labels" not in result["metadata"]


def test_null_deletes_a_key() -> None:
    result = strategic_merge_patch(DEPLOYMENT, {"spec": {"replicas": None}}, kind="Deployment")
    assert "replicas" not in result["spec"]


def test_finalizers_merge_as_a_set_and_can_be_deleted_by_value() -> None:
    added = strategic_merge_patch(
        DEPLOYMENT, {"metadata": {"finalizers": ["a", "b"]}}, kind="Deployment"
    )
    assert added["metadata"]["finalizers"] == ["a", "b"]
    removed = strategic_merge_patch(
        added, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, kind="Secret"
    )
    assert removed["metadata"]["finalizers"] == ["b"]
    emptied = strategic_merge_patch(
        removed, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}, kind="Secret"
    )
    assert "finalizers" not in emptied["metadata"]


def test_set_element_order_reorders_the_merged_list() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                    "containers": [{"name": "app", "image": "app:3"}],
                }
            }
        }
    }
    result = strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")
    assert [c["name"] for c in containers(result)] == ["sidecar", "app"]
    assert "$setElementOrder/containers" not in result["spec"]["template"]["spec"]


def test_set_element_order_keeps_server_only_items_beside_their_neighbours() -> None:
    # Live order a, s1 (added by someone else), b, s2; the client reorders to b, a.
    # apimachinery's mergeSortedSlice puts s1 first: it precedes b in the live list.
    target = {"spec": {"containers": [{"name": n} for n in ("a", "s1", "b", "s2")]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
    result = strategic_merge_patch(target, patch, kind="Pod")
    assert [c["name"] for c in result["spec"]["containers"]] == ["s1", "b", "a", "s2"]

    patch = {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}]}}
    result = strategic_merge_patch(target, patch, kind="Pod")
    assert [c["name"] for c in result["spec"]["containers"]] == ["a", "s1", "b", "s2"]


def test_retain_keys_clears_fields_not_listed() -> None:
    target = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = strategic_merge_patch(target, patch, kind="Deployment")
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_owner_references_merge_by_uid() -> None:
    target = {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}}
    result = strategic_merge_patch(target, patch, kind="Secret")
    assert [o["uid"] for o in result["metadata"]["ownerReferences"]] == ["1", "2"]


def test_service_ports_merge_by_port() -> None:
    target = {"spec": {"ports": [{"port": 80, "name": "http"}]}}
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    result = strategic_merge_patch(target, patch, kind="Service")
    assert result["spec"]["ports"] == [
        {"port": 80, "name": "http", "targetPort": 8080},
        {"port": 443},
    ]


def test_ingress_lists_are_atomic() -> None:
    target = {"spec": {"rules": [{"host": "a"}], "tls": [{"hosts": ["a"], "secretName": "s"}]}}
    patch = {"spec": {"rules": [{"host": "b"}]}}
    result = strategic_merge_patch(target, patch, kind="Ingress")
    assert result["spec"]["rules"] == [{"host": "b"}]
    assert result["spec"]["tls"] == target["spec"]["tls"]


def test_pod_spec_keys_apply_at_the_pod_root() -> None:
    target = {"spec": {"containers": [{"name": "a", "image": "1"}]}}
    patch = {"spec": {"containers": [{"name": "b", "image": "2"}]}}
    result = strategic_merge_patch(target, patch, kind="Pod")
    assert [c["name"] for c in result["spec"]["containers"]] == ["a", "b"]


def test_directives_never_leak_into_new_values() -> None:
    patch = {"metadata": {"annotations": {"$patch": "merge", "a": "1"}}}
    result = strategic_merge_patch({"metadata": {}}, patch, kind="Secret")
    assert result["metadata"]["annotations"] == {"a": "1"}


def test_missing_merge_key_is_a_patch_error() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    with pytest.raises(PatchError, match="merge key"):
        strategic_merge_patch(DEPLOYMENT, patch, kind="Deployment")


def test_unknown_patch_directive_is_a_patch_error() -> None:
    with pytest.raises(PatchError, match="Unknown patch type"):
        strategic_merge_patch({}, {"metadata": {"$patch": "explode"}}, kind="Secret")


def test_strategic_merge_leaves_inputs_untouched() -> None:
    target = copy.deepcopy(DEPLOYMENT)
    patch = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}}},
    }
    frozen_patch = copy.deepcopy(patch)
    strategic_merge_patch(target, patch, kind="Deployment")
    assert target == DEPLOYMENT
    assert patch == frozen_patch
