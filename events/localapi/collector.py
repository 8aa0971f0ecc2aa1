"""The garbage collector and namespace controller, run on the loop after writes.

Deleting an owner settles its dependents by propagation policy (Background:
delete them; Foreground: delete them, then the owner; Orphan: drop the
references); a terminating namespace is emptied, then removed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from events.localapi import errors
from events.localapi.builtins import NAMESPACE_FINALIZER
from events.localapi.resources import NAMESPACES, ResourceType
from events.localapi.store import Obj

if TYPE_CHECKING:
    from events.localapi.verbs import Verbs

FOREGROUND: Final = "foregroundDeletion"
ORPHAN: Final = "orphan"


@dataclass(frozen=True)
class DeleteOptions:
    propagation: str = ""  # "", Background, Foreground, Orphan
    uid: str = ""  # preconditions
    resource_version: str = ""
    dry_run: bool = False


class Collector:
    def __init__(self, verbs: Verbs) -> None:
        self.verbs = verbs

    def after_removal(self, uid: str, owners: list[str], namespace: str) -> None:
        self.collect_garbage(uid)
        for owner_uid in owners:
            self.collect_garbage(owner_uid)
        if namespace:
            self.finish_namespace(namespace)

    def _find_uid(self, uid: str) -> tuple[ResourceType, Obj] | None:
        found = self.verbs.store.by_uid(uid)
        if found is None:
            return None
        rt = self.verbs.registry.kind_of(*found[0])
        return None if rt is None else (rt, found[1])

    def _dependents(self, uid: str) -> list[tuple[ResourceType, Obj]]:
        found: list[tuple[ResourceType, Obj]] = []
        for key, obj in self.verbs.store.dependents(uid):
            rt = self.verbs.registry.kind_of(*key)
            if rt is not None:
                found.append((rt, obj))
        return found

    def _live(self, uid: object) -> bool:
        return isinstance(uid, str) and self.verbs.store.by_uid(uid) is not None

    def collect_garbage(self, uid: str) -> None:
        """Settle the dependents of uid according to its state (gone, foreground, orphan).

        Costs the number of uid's dependents: owners and dependents come from the
        store's indexes, not from a pass over every object.
        """
        if not uid:
            return
        owner = self._find_uid(uid)
        dependents = self._dependents(uid)
        if owner is None:
            for rt, dep in dependents:
                refs = dep["metadata"].get("ownerReferences") or ()
                solid = [r for r in refs if self._live(r.get("uid"))]
                if solid:
                    self._set_owner_refs(rt, dep, solid)
                elif "deletionTimestamp" not in dep["metadata"]:
                    self._delete_quietly(rt, dep, DeleteOptions(propagation="Background"))
            return
        rt, obj = owner
        meta = obj["metadata"]
        if "deletionTimestamp" not in meta:
            return
        finalizers = list(meta.get("finalizers") or ())
        if ORPHAN in finalizers:
            for dep_rt, dep in dependents:
                refs = dep["metadata"].get("ownerReferences") or ()
                self._set_owner_refs(dep_rt, dep, [r for r in refs if r.get("uid") != uid])
            self._drop_finalizer(rt, obj, ORPHAN)
        elif FOREGROUND in finalizers:
            for dep_rt, dep in dependents:
                if "deletionTimestamp" not in dep["metadata"]:
                    self._delete_quietly(dep_rt, dep, DeleteOptions(propagation="Foreground"))
            if not self._dependents(uid):
                self._drop_finalizer(rt, obj, FOREGROUND)

    def resync(self) -> None:
        """Finish deletions a previous run left pending, as the GC's initial resync does."""
        owners: set[str] = set()
        for key, obj in self.verbs.store.all_items():
            meta = obj["metadata"]
            owners.update(
                ref.get("uid", "")
                for ref in meta.get("ownerReferences") or ()
                if not self._live(ref.get("uid"))
            )
            if "deletionTimestamp" not in meta:
                continue
            if key == NAMESPACES.key:
                self.finish_namespace(meta["name"])
            elif {FOREGROUND, ORPHAN} & set(meta.get("finalizers") or ()):
                owners.add(meta["uid"])
        for uid in sorted(owners):
            self.collect_garbage(uid)

    def _delete_quietly(self, rt: ResourceType, obj: Obj, options: DeleteOptions) -> None:
        meta = obj["metadata"]
        # Already gone or changed: the next event settles it.
        with contextlib.suppress(errors.APIError):
            self.verbs.delete(rt, meta.get("namespace", ""), meta["name"], options)

    def _set_owner_refs(self, rt: ResourceType, obj: Obj, refs: list[Any]) -> None:
        meta = {**obj["metadata"], "ownerReferences": refs}
        if not refs:
            del meta["ownerReferences"]
        meta["resourceVersion"] = str(self.verbs.store.next_rv())
        self.verbs.store.put(rt.key, {**obj, "metadata": meta})

    def _drop_finalizer(self, rt: ResourceType, obj: Obj, finalizer: str) -> None:
        remaining = [f for f in obj["metadata"].get("finalizers") or () if f != finalizer]
        meta = {**obj["metadata"], "finalizers": remaining}
        if not remaining:
            del meta["finalizers"]
        meta["resourceVersion"] = str(self.verbs.store.next_rv())
        new = {**obj, "metadata": meta}
        self.verbs.store.put(rt.key, new)
        if not remaining:
            self.verbs.remove(rt, new)

    def finish_namespace(self, name: str) -> None:
        """Empty a terminating namespace, then let it go, as the namespace controller does."""
        ns = self.verbs.store.get(NAMESPACES.key, "", name)
        if ns is None or "deletionTimestamp" not in ns["metadata"]:
            return
        remaining = False
        for key, obj in self.verbs.store.in_namespace(name):
            rt = self.verbs.registry.kind_of(*key)
            if rt is None:
                continue
            remaining = True
            if "deletionTimestamp" not in obj["metadata"]:
                self._delete_quietly(rt, obj, DeleteOptions(propagation="Background"))
        if remaining and any(True for _ in self.verbs.store.in_namespace(name)):
            return
        spec_finalizers = [
            f for f in (ns.get("spec") or {}).get("finalizers") or () if f != NAMESPACE_FINALIZER
        ]
        new = {**ns, "spec": {**(ns.get("spec") or {}), "finalizers": spec_finalizers}}
        if not spec_finalizers:
            del new["spec"]["finalizers"]
        new["metadata"] = {**ns["metadata"], "resourceVersion": str(self.verbs.store.next_rv())}
        self.verbs.store.put(NAMESPACES.key, new)
        if not new["metadata"].get("finalizers") and not spec_finalizers:
            self.verbs.remove(NAMESPACES, new)
