"""The store's indexes answer as a full pass over the store would, and GC uses them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from events.localapi.collector import DeleteOptions
from events.localapi.resources import NAMESPACES, Registry, ResourceType
from events.localapi.store import Obj, ResourceKey, Store
from events.localapi.verbs import Verbs


class Cluster:
    """Verbs over a fresh store; background work runs when settle() is called, in order."""

    def __init__(self) -> None:
        self.store = Store(history=1000)
        self.registry = Registry()
        self.pending: list[Callable[[], None]] = []
        self.verbs = Verbs(
            store=self.store,
            registry=self.registry,
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
            schedule=self.pending.append,
        )
        for name in ("a", "b"):
            self.verbs.create(NAMESPACES, "", {"metadata": {"name": name}})

    def rt(self, plural: str) -> ResourceType:
        found = self.registry.get("", "v1", plural)
        assert found is not None
        return found

    def settle(self) -> None:
        while self.pending:
            self.pending.pop(0)()

    def create(self, plural: str, namespace: str, name: str, **meta: Any) -> Obj:
        return self.verbs.create(
            self.rt(plural), namespace, {"metadata": {"name": name, **meta}, "data": {}}
        )

    def exists(self, plural: str, namespace: str, name: str) -> bool:
        return self.store.get(self.rt(plural).key, namespace, name) is not None


def owner_ref(owner: Obj, *, block: bool = False) -> dict[str, Any]:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def assert_indexes_agree_with_a_full_scan(store: Store) -> None:
    everything = list(store.all_items())
    for resource, obj in everything:
        found = store.by_uid(obj["metadata"]["uid"])
        assert found is not None and found[1] is obj and found[0] == resource
    owners = {
        ref["uid"] for _, obj in everything for ref in obj["metadata"].get("ownerReferences") or ()
    }
    for uid in owners | {"no-such-uid"}:
        expected = sorted(
            (id(obj))
            for _, obj in everything
            if any(r["uid"] == uid for r in obj["metadata"].get("ownerReferences") or ())
        )
        assert sorted(id(obj) for _, obj in store.dependents(uid)) == expected
    resources: set[ResourceKey] = {resource for resource, _ in everything}
    for resource in resources:
        of_resource = [obj for r, obj in everything if r == resource]

        def key(obj: Obj) -> tuple[str, str]:
            return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

        assert store.items(resource) == sorted(of_resource, key=key)
        for namespace in ("a", "b", "c"):
            in_ns = [o for o in of_resource if key(o)[0] == namespace]
            assert store.items(resource, namespace) == sorted(in_ns, key=key)
            for label in (("tier", "web"), ("tier", "db"), ("app", "x")):
                carrying = [
                    o
                    for o in in_ns
                    if (o["metadata"].get("labels") or {}).get(label[0]) == label[1]
                ]
                assert store.items(resource, namespace, label=label) == sorted(carrying, key=key)
    for namespace in ("a", "b"):
        listed = sorted(id(o) for _, o in store.in_namespace(namespace))
        assert listed == sorted(
            id(o) for _, o in everything if o["metadata"].get("namespace") == namespace
        )


def test_indexes_follow_creates_updates_and_deletes() -> None:
    cluster = Cluster()
    rng = random.Random(14)
    owners = [cluster.create("configmaps", "a", f"owner-{i}") for i in range(3)]
    names: list[tuple[str, str]] = []
    for step in range(300):
        action = rng.choice(("create", "update", "delete"))
        if action == "create" or not names:
            namespace = rng.choice(("a", "b"))
            name = f"s-{step}"
            refs = [owner_ref(o) for o in rng.sample(owners, rng.randint(0, 2))]
            labels = {"tier": rng.choice(("web", "db"))} if rng.random() < 0.7 else {}
            cluster.create("secrets", namespace, name, labels=labels, ownerReferences=refs)
            names.append((namespace, name))
        elif action == "update":
            namespace, name = rng.choice(names)
            current = cluster.store.get(cluster.rt("secrets").key, namespace, name)
            assert current is not None
            meta = dict(current["metadata"])
            meta["labels"] = {"tier": rng.choice(("web", "db")), "app": "x"}
            meta["ownerReferences"] = [owner_ref(o) for o in rng.sample(owners, rng.randint(0, 3))]
            cluster.verbs.update(
                cluster.rt("secrets"), namespace, name, {**current, "metadata": meta}
            )
        else:
            namespace, name = names.pop(rng.randrange(len(names)))
            cluster.verbs.delete(cluster.rt("secrets"), namespace, name, DeleteOptions())
        assert_indexes_agree_with_a_full_scan(cluster.store)
    cluster.settle()
    assert_indexes_agree_with_a_full_scan(cluster.store)


def test_a_removed_object_is_no_longer_found_by_its_uid() -> None:
    cluster = Cluster()
    secret = cluster.create("secrets", "a", "s")
    cluster.verbs.delete(cluster.rt("secrets"), "a", "s", DeleteOptions())
    assert cluster.store.by_uid(secret["metadata"]["uid"]) is None
    recreated = cluster.create("secrets", "a", "s")
    found = cluster.store.by_uid(recreated["metadata"]["uid"])
    assert found is not None and found[1] == recreated


def test_background_deletion_removes_every_dependent_and_spares_the_rest() -> None:
    cluster = Cluster()
    owner = cluster.create("configmaps", "a", "owner")
    other = cluster.create("configmaps", "a", "other")
    for i in range(5):
        cluster.create("secrets", "a", f"dep-{i}", ownerReferences=[owner_ref(owner)])
    cluster.create("secrets", "a", "unrelated", ownerReferences=[owner_ref(other)])
    cluster.create("secrets", "a", "shared", ownerReferences=[owner_ref(owner), owner_ref(other)])
    cluster.verbs.delete(cluster.rt("configmaps"), "a", "owner", DeleteOptions("Background"))
    cluster.settle()
    assert not any(cluster.exists("secrets", "a", f"dep-{i}") for i in range(5))
    assert cluster.exists("secrets", "a", "unrelated")
    shared = cluster.store.get(cluster.rt("secrets").key, "a", "shared")
    assert shared is not None
    assert [r["uid"] for r in shared["metadata"]["ownerReferences"]] == [other["metadata"]["uid"]]
    assert_indexes_agree_with_a_full_scan(cluster.store)


def test_foreground_deletion_holds_the_owner_until_its_dependents_are_gone() -> None:
    cluster = Cluster()
    owner = cluster.create("configmaps", "a", "owner")
    cluster.create("secrets", "a", "dep", ownerReferences=[owner_ref(owner, block=True)])
    cluster.create(
        "secrets", "a", "held", finalizers=["example.com/hold"], ownerReferences=[owner_ref(owner)]
    )
    cluster.verbs.delete(cluster.rt("configmaps"), "a", "owner", DeleteOptions("Foreground"))
    cluster.settle()
    assert not cluster.exists("secrets", "a", "dep")
    held = cluster.store.get(cluster.rt("secrets").key, "a", "held")
    assert held is not None and "deletionTimestamp" in held["metadata"]
    still = cluster.store.get(cluster.rt("configmaps").key, "a", "owner")
    assert still is not None and still["metadata"]["finalizers"] == ["foregroundDeletion"]
    cluster.verbs.update(
        cluster.rt("secrets"),
        "a",
        "held",
        {**held, "metadata": {**held["metadata"], "finalizers": []}},
    )
    cluster.settle()
    assert not cluster.exists("secrets", "a", "held")
    assert not cluster.exists("configmaps", "a", "owner")
    assert_indexes_agree_with_a_full_scan(cluster.store)


def test_orphan_deletion_keeps_dependents_without_the_reference() -> None:
    cluster = Cluster()
    owner = cluster.create("configmaps", "a", "owner")
    cluster.create("secrets", "a", "dep", ownerReferences=[owner_ref(owner)])
    cluster.verbs.delete(cluster.rt("configmaps"), "a", "owner", DeleteOptions("Orphan"))
    cluster.settle()
    assert not cluster.exists("configmaps", "a", "owner")
    dep = cluster.store.get(cluster.rt("secrets").key, "a", "dep")
    assert dep is not None and "ownerReferences" not in dep["metadata"]
    assert cluster.store.dependents(owner["metadata"]["uid"]) == []


@pytest.mark.parametrize("dependents", [10, 1000])
def test_collecting_an_owner_visits_only_its_dependents(dependents: int) -> None:
    """The GC asks the store for an owner's dependents, never for every object."""
    cluster = Cluster()
    owner = cluster.create("configmaps", "a", "owner")
    for i in range(dependents):
        cluster.create("secrets", "b", f"bystander-{i}")
    cluster.create("secrets", "a", "dep", ownerReferences=[owner_ref(owner)])
    scans = 0
    real = cluster.store.all_items

    def counted() -> Any:
        nonlocal scans
        scans += 1
        return real()

    cluster.store.all_items = counted  # type: ignore[method-assign]
    cluster.verbs.delete(cluster.rt("configmaps"), "a", "owner", DeleteOptions())
    cluster.settle()
    assert not cluster.exists("secrets", "a", "dep")
    assert scans == 0


def test_stored_objects_share_their_keys_and_short_strings() -> None:
    """Bodies decode into fresh strings; the store keeps one copy of each short one."""
    cluster = Cluster()
    secrets = cluster.rt("secrets")
    body = '{"metadata": {"name": "%s", "labels": {"tier": "web-frontend"}}, "data": {}}'
    for name in ("one", "two"):
        decoded = json.loads(body % name)
        cluster.verbs.create(secrets, "a", decoded)
    one, two = (cluster.store.get(secrets.key, "a", n) for n in ("one", "two"))
    assert one is not None and two is not None
    key_one = next(k for k in one["metadata"] if k == "labels")
    key_two = next(k for k in two["metadata"] if k == "labels")
    assert key_one is key_two
    assert one["metadata"]["labels"]["tier"] is two["metadata"]["labels"]["tier"]
    assert one["metadata"]["labels"] == {"tier": "web-frontend"}
