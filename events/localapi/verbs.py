"""The write semantics of kube-apiserver's registry: create, update, patch, delete.

Objects arriving here are freshly decoded request bodies, so they may be
mutated; objects taken from the store are shared and never mutated (copy first).
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from events.localapi import apply as ssa
from events.localapi import builtins, errors, openapi, patching, validation
from events.localapi.collector import FOREGROUND, ORPHAN, Collector, DeleteOptions
from events.localapi.conversion import event_to_core
from events.localapi.errors import APIError, cause
from events.localapi.resources import (
    CRD_RESOURCE,
    NAMESPACES,
    Registry,
    ResourceType,
    in_version,
)
from events.localapi.store import Obj, Store

MERGE_PATCH: Final = "application/merge-patch+json"
JSON_PATCH: Final = "application/json-patch+json"
STRATEGIC_PATCH: Final = "application/strategic-merge-patch+json"
APPLY_PATCH: Final = "application/apply-patch+yaml"
CR_PATCH_TYPES: Final = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)


# kube-apiserver's NamespaceLifecycle admission refuses to delete these.
PROTECTED_NAMESPACES: Final = frozenset({"default", "kube-system", "kube-public"})
_NAME_SUFFIX_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"  # as apiserver's generateName
# Metadata a client cannot set or change through create/update.
_SYSTEM_META: Final = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Verbs:
    def __init__(
        self,
        *,
        store: Store,
        registry: Registry,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        schedule: Callable[[Callable[[], None]], None],
    ) -> None:
        self.store = store
        self.registry = registry
        # Per-request settings, set by the HTTP layer before each call (one loop thread).
        self.field_validation = "Warn"
        self.warnings: list[str] = []
        self.clock = clock
        # Runs garbage collection after the current request has been answered.
        self.schedule = schedule
        self.collector = Collector(self)

    # -- reads -------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.store.get(rt.key, namespace, name)
        if obj is None:
            raise errors.not_found(rt.qualified, name)
        return obj

    # -- create ------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        body: Any,
        *,
        dry_run: bool = False,
        managed_fields: list[Any] | None = None,
    ) -> Obj:
        obj = self._decode(rt, namespace, body)
        meta = obj["metadata"]
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(
                    rt.qualified,
                    "",
                    [
                        cause(
                            "FieldValueRequired",
                            "metadata.name",
                            "Required value: name or generateName is required",
                        )
                    ],
                )
            meta["name"] = self._generate_name(rt, namespace, meta["generateName"])
        name = meta["name"]
        self._validate_name(rt, name)
        if rt.namespaced:
            self._require_namespace(rt, namespace, name)
        if self.store.get(rt.key, namespace, name) is not None:
            raise errors.already_exists(rt.qualified, name)
        for key in (*_SYSTEM_META, "resourceVersion", "generation", "managedFields"):
            meta.pop(key, None)
        if managed_fields is not None:
            meta["managedFields"] = managed_fields
        if rt.status_subresource:
            obj.pop("status", None)  # set by its controller through /status, never on create
        builtins.prepare(rt, obj, None, cluster_ip=self._cluster_ip)
        self._validate_object(rt, obj)
        self._validate_schema(rt, obj)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = timestamp(self.clock())
        if rt.generation:
            meta["generation"] = 1
        if rt.key == CRD_RESOURCE.key:
            builtins.accept_crd(obj, timestamp(self.clock()))
        if dry_run:  # never stored, so kube-apiserver gives it no resourceVersion
            return obj
        meta["resourceVersion"] = str(self.store.next_rv())
        self.store.put(rt.key, obj)
        if rt.key == CRD_RESOURCE.key:
            self.registry.install_crd(obj)
        return obj

    def _generate_name(self, rt: ResourceType, namespace: str, prefix: str) -> str:
        for _ in range(8):
            suffix = "".join(secrets.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))
            name = prefix[:58] + suffix
            if self.store.get(rt.key, namespace, name) is None:
                return name
        raise errors.already_exists(rt.qualified, prefix)

    # -- update ------------------------------------------------------------

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
        managed_fields: list[Any] | None = None,
    ) -> Obj:
        obj = self._decode(rt, namespace, body)
        meta = obj["metadata"]
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        meta["name"] = name
        existing = self.store.get(rt.key, namespace, name)
        if existing is None:
            if rt.create_on_update and not subresource:
                return self.create(rt, namespace, obj, dry_run=dry_run)
            raise errors.not_found(rt.qualified, name)
        sent_rv = meta.get("resourceVersion")
        if sent_rv and sent_rv != existing["metadata"]["resourceVersion"]:
            raise errors.stale(rt.qualified, name)
        if subresource == "status":
            # The status endpoint takes nothing but status from the request.
            new = {**existing}
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            new["metadata"] = dict(existing["metadata"])
        else:
            new = obj
            if rt.status_subresource:
                if "status" in existing:
                    new["status"] = existing["status"]
                else:
                    new.pop("status", None)
            self._keep_system_meta(rt, new, existing)
            builtins.prepare(rt, new, existing, cluster_ip=self._cluster_ip)
            self._validate_object(rt, new)
        if managed_fields is not None:
            new["metadata"]["managedFields"] = managed_fields
        elif existing["metadata"].get("managedFields"):
            released = ssa.release_changed(existing["metadata"]["managedFields"], existing, new)
            if released:
                new["metadata"]["managedFields"] = released
            else:
                new["metadata"].pop("managedFields", None)
        if subresource == "status":
            self._validate_schema(rt, new, part="status")
        else:
            self._validate_schema(rt, new, part="main" if rt.status_subresource else "all")
        return self._commit_update(rt, new, existing, dry_run=dry_run)

    def _keep_system_meta(self, rt: ResourceType, new: Obj, existing: Obj) -> None:
        meta = new["metadata"]
        old_meta = existing["metadata"]
        for key in _SYSTEM_META:
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta.pop("managedFields", None)
        if "managedFields" in old_meta:
            meta["managedFields"] = old_meta["managedFields"]
        if "deletionTimestamp" in old_meta:
            added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
            if added:
                raise errors.invalid(
                    rt.qualified,
                    meta["name"],
                    [
                        cause(
                            "FieldValueForbidden",
                            "metadata.finalizers",
                            "Forbidden: no new finalizers can be added if the object is being "
                            "deleted, "
                            f"found new finalizers {_go_list(sorted(added))}",
                        )
                    ],
                )

    def _commit_update(self, rt: ResourceType, new: Obj, existing: Obj, *, dry_run: bool) -> Obj:
        meta = new["metadata"]
        old_meta = existing["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if rt.generation:
            meta["generation"] = old_meta.get("generation", 1)
            if _spec_of(new, rt) != _spec_of(existing, rt):
                meta["generation"] += 1
        if new == existing:
            return existing  # kube-apiserver skips writes that change nothing
        if dry_run:
            return new
        meta["resourceVersion"] = str(self.store.next_rv())
        self.store.put(rt.key, new)
        if rt.key == CRD_RESOURCE.key:
            self.registry.install_crd(new)
        if "deletionTimestamp" in meta and not meta.get("finalizers"):
            self.remove(rt, new)
        return new

    # -- patch -------------------------------------------------------------

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        *,
        subresource: str = "",
        field_manager: str = "",
        force: bool = False,
        dry_run: bool = False,
    ) -> Obj:
        if content_type == APPLY_PATCH:
            return self.apply(
                rt,
                namespace,
                name,
                patch,
                subresource=subresource,
                field_manager=field_manager,
                force=force,
                dry_run=dry_run,
            )
        accepted = CR_PATCH_TYPES if rt.custom else (*CR_PATCH_TYPES, STRATEGIC_PATCH)
        if content_type not in accepted:
            raise errors.unsupported_media_type(accepted)
        existing = self.get(rt, namespace, name)
        current = copy.deepcopy(in_version(rt, existing))  # patches speak the URL's version
        try:
            if content_type == MERGE_PATCH:
                if not isinstance(patch, dict):
                    raise errors.bad_request("merge patch must be a JSON object")
                patched = patching.merge_patch(current, patch)
            elif content_type == JSON_PATCH:
                if not isinstance(patch, list):
                    raise errors.bad_request("json patch must be a JSON array of operations")
                patched = patching.json_patch(current, patch)
            else:
                if not isinstance(patch, dict):
                    raise errors.bad_request("strategic merge patch must be a JSON object")
                patched = patching.strategic_merge_patch(current, patch, kind=rt.kind)
        except patching.PatchError as exc:
            raise errors.APIError(422, "Invalid", str(exc)) from exc
        if not isinstance(patched, dict):
            raise errors.bad_request("the patched object is not a JSON object")
        return self.update(rt, namespace, name, patched, subresource=subresource, dry_run=dry_run)

    def apply(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        applied: Any,
        *,
        subresource: str,
        field_manager: str,
        force: bool,
        dry_run: bool,
    ) -> Obj:
        """Server-side apply: creates, or merges the applied configuration in.

        Fields this manager applied before and no longer applies are removed;
        a field another apply manager set to a different value is a conflict
        unless forced. (Update-operation ownership is not tracked.)
        """
        if not field_manager:
            raise errors.invalid(
                errors.Qualified("meta.k8s.io", "", "PatchOptions"),
                "",
                [
                    cause(
                        "FieldValueRequired",
                        "fieldManager",
                        "Required value: is required for apply patch",
                    )
                ],
            )
        if not isinstance(applied, dict):
            raise errors.bad_request("apply patch must be an object")
        existing = self.store.get(rt.key, namespace, name)
        stamp = timestamp(self.clock())
        if existing is None:
            if subresource:
                raise errors.not_found(rt.qualified, name)
            obj = copy.deepcopy(applied)
            obj.setdefault("metadata", {})["name"] = name
            entry = ssa.managed_entry(field_manager, applied, rt.group_version, stamp, subresource)
            return self.create(rt, namespace, obj, dry_run=dry_run, managed_fields=[entry])
        merged = ssa.merge_apply(
            existing,
            applied,
            manager=field_manager,
            force=force,
            api_version=rt.group_version,
            stamp=stamp,
            subresource=subresource,
            what=rt.qualified,
        )
        return self.update(
            rt,
            namespace,
            name,
            merged,
            subresource=subresource,
            dry_run=dry_run,
            managed_fields=merged["metadata"].get("managedFields"),
        )

    # -- delete ------------------------------------------------------------

    def delete(
        self, rt: ResourceType, namespace: str, name: str, options: DeleteOptions
    ) -> tuple[Obj, bool]:
        """Returns (last state, gone): gone is False while finalizers hold the object."""
        existing = self.get(rt, namespace, name)
        meta = existing["metadata"]
        if options.uid and options.uid != meta["uid"]:
            raise errors.precondition_failed(
                rt.qualified,
                name,
                f"Precondition failed: UID in precondition: {options.uid}, "
                f"UID in object meta: {meta['uid']}",
            )
        if options.resource_version and options.resource_version != meta["resourceVersion"]:
            raise errors.precondition_failed(
                rt.qualified,
                name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{options.resource_version}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        finalizers = list(meta.get("finalizers") or ())
        if options.propagation == "Foreground" and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        elif options.propagation == "Orphan" and ORPHAN not in finalizers:
            finalizers.append(ORPHAN)
        if rt.key == NAMESPACES.key:
            if name in PROTECTED_NAMESPACES:
                raise errors.forbidden(rt.qualified, name, "this namespace may not be deleted")
            return self._delete_namespace(existing, finalizers, dry_run=options.dry_run), False
        if not finalizers:
            if options.dry_run:
                return existing, True
            return self.remove(rt, existing), True
        if "deletionTimestamp" in meta and finalizers == list(meta.get("finalizers") or ()):
            return existing, False
        new_meta = {**meta, "finalizers": finalizers}
        if "deletionTimestamp" not in meta:
            new_meta["deletionTimestamp"] = timestamp(self.clock())
            new_meta["deletionGracePeriodSeconds"] = 0
            if meta.get("generation"):
                # kube-apiserver bumps generation when it marks an object for deletion.
                new_meta["generation"] = meta["generation"] + 1
        if options.dry_run:
            return {**existing, "metadata": new_meta}, False
        new_meta["resourceVersion"] = str(self.store.next_rv())
        new = {**existing, "metadata": new_meta}
        self.store.put(rt.key, new)
        uid = meta["uid"]
        if FOREGROUND in finalizers or ORPHAN in finalizers:
            self.schedule(lambda: self.collector.collect_garbage(uid))
        return new, False

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str,
        selected: list[Obj],
        options: DeleteOptions,
    ) -> list[Obj]:
        deleted: list[Obj] = []
        for obj in selected:
            meta = obj["metadata"]
            try:
                last, _ = self.delete(rt, meta.get("namespace", namespace), meta["name"], options)
            except errors.APIError as exc:
                if exc.code != 404:
                    raise
                continue
            deleted.append(last)
        return deleted

    def remove(self, rt: ResourceType, obj: Obj) -> Obj:
        """Take the object out of the store, then let the collector settle what depended on it."""
        event = self.store.remove(rt.key, obj)
        meta = obj["metadata"]
        if rt.key == CRD_RESOURCE.key:
            for gone in self.registry.remove_crd(meta["name"]):
                for item in self.store.items(gone.key):
                    self.store.remove(gone.key, item)
        uid = meta["uid"]
        owners = [ref.get("uid", "") for ref in meta.get("ownerReferences") or ()]
        namespace = meta.get("namespace", "")
        self.schedule(lambda: self.collector.after_removal(uid, owners, namespace))
        return event.obj

    def _delete_namespace(self, ns: Obj, finalizers: list[str], *, dry_run: bool) -> Obj:
        meta = ns["metadata"]
        if "deletionTimestamp" in meta:
            return ns
        new = {
            **ns,
            "metadata": {**meta, "deletionTimestamp": timestamp(self.clock())},
            "status": {**(ns.get("status") or {}), "phase": "Terminating"},
        }
        if finalizers:
            new["metadata"]["finalizers"] = finalizers
        if dry_run:
            return new
        new["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.put(NAMESPACES.key, new)
        name = meta["name"]
        self.schedule(lambda: self.collector.finish_namespace(name))
        return new

    def _require_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self.store.get(NAMESPACES.key, "", namespace)
        if ns is None:
            raise errors.namespace_not_found(namespace)
        if "deletionTimestamp" in ns["metadata"]:
            raise errors.forbidden(
                rt.qualified,
                name,
                f"unable to create new content in namespace {namespace} "
                "because it is being terminated",
                causes=[
                    cause(
                        "NamespaceTerminating",
                        "metadata.namespace",
                        f"namespace {namespace} is being terminated",
                    )
                ],
            )

    # -- helpers -----------------------------------------------------------

    def _decode(self, rt: ResourceType, namespace: str, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        api_version = body.setdefault("apiVersion", rt.group_version)
        kind = body.setdefault("kind", rt.kind)
        # Another served version of the same group is fine: objects are stored once.
        if not isinstance(api_version, str) or api_version.rpartition("/")[0] != rt.group:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.group_version})"
            )
        if kind != rt.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        body["apiVersion"] = rt.group_version
        meta = body.get("metadata")
        if meta is None:
            meta = body["metadata"] = {}
        elif not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if rt.storage == ("", "events"):
            return event_to_core(body)
        return body

    def _validate_name(self, rt: ResourceType, name: str) -> None:
        problems = validation.name_errors(name, label=rt.key == NAMESPACES.key)
        if problems:
            raise errors.invalid(rt.qualified, name, problems)

    def _validate_schema(self, rt: ResourceType, obj: Obj, *, part: str = "all") -> None:
        """Prune, default and validate against the CRD schema, in place.

        part "status" checks only the status (the rest is the stored, valid object);
        part "main" leaves out a status copied from the store. Either way only
        request-owned dicts are mutated, never ones shared with stored objects.
        """
        if rt.schema is None:
            return
        schema: Mapping[str, Any] = rt.schema
        if part == "status":
            status_schema = (rt.schema.get("properties") or {}).get("status")
            if status_schema is None or "status" not in obj:
                return
            schema = {"type": "object", "properties": {"status": status_schema}}
            target: Obj = {"status": obj["status"]}
        else:
            # Metadata is validated by the server itself, never by the CRD schema.
            skip = ("metadata", "status") if part == "main" else ("metadata",)
            target = {k: v for k, v in obj.items() if k not in skip}
        before = copy.deepcopy(target) if self.field_validation != "Ignore" else None
        openapi.prune(schema, target)
        if before is not None:
            self._unknown_fields(rt, _pruned_paths(before, target, ""))
        openapi.apply_defaults(schema, target)
        problems = openapi.validate(schema, target)
        if problems:
            raise errors.invalid(
                rt.qualified,
                obj["metadata"].get("name", ""),
                [cause(p.reason, p.field, p.message) for p in problems],
            )
        if part == "status":
            obj["status"] = target["status"]
            return
        for key in [k for k in obj if k not in target and k not in skip]:
            del obj[key]  # pruned at the top level
        obj.update(target)

    def _validate_object(self, rt: ResourceType, obj: Obj) -> None:
        bad_times = validation.time_format_errors(rt.key, obj)
        if bad_times:
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                + "; ".join(bad_times)
            )
        unknown = validation.unknown_fields(rt.key, obj, custom=rt.custom)
        if unknown:
            self._unknown_fields(rt, unknown)
            for path in unknown:  # a typed decoder drops what it does not know
                if path.startswith("metadata."):
                    obj["metadata"].pop(path.removeprefix("metadata."), None)
                else:
                    obj.pop(path, None)
        causes = validation.metadata_errors(obj["metadata"])
        if rt.group == "" and rt.plural in ("secrets", "configmaps"):
            causes += validation.config_key_errors("data", obj.get("data") or {})
            causes += validation.config_key_errors("binaryData", obj.get("binaryData") or {})
        if causes:
            raise errors.invalid(rt.qualified, obj["metadata"]["name"], causes)

    def _cluster_ip(self) -> str:
        n = self.store.rv + 10
        return f"10.96.{(n // 250) % 250}.{n % 250 + 1}"

    def _unknown_fields(self, rt: ResourceType, paths: list[str]) -> None:
        """fieldValidation: Strict rejects unknown fields, Warn reports them in a header."""
        if not paths:
            return
        found = [f'unknown field "{p}"' for p in paths]
        if self.field_validation == "Strict":
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {', '.join(found)}"
            )
        self.warnings.extend(found)


def _go_list(items: list[str]) -> str:
    return "[" + " ".join(items) + "]"


def _spec_of(obj: Mapping[str, Any], rt: ResourceType) -> dict[str, Any]:
    """What metadata.generation tracks: all but metadata (and status, if a subresource)."""
    skip = ("metadata", "status") if rt.status_subresource else ("metadata",)
    return {k: v for k, v in obj.items() if k not in skip}


def _pruned_paths(before: Any, after: Any, path: str) -> list[str]:
    """Fields present in before but gone from after, as kube names them (spec.a[0].b)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key, value in before.items():
            child = f"{path}.{key}" if path else key
            if key not in after:
                found.append(child)
            else:
                found.extend(_pruned_paths(value, after[key], child))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in _pruned_paths(b, a, f"{path}[{i}]")
        ]
    return []


__all__ = ["APPLY_PATCH", "APIError", "DeleteOptions", "Verbs", "timestamp"]
