"""Syncing one Bundle: build it, write it to every selected namespace, report on it.

As trust-manager: the targets are a ConfigMap and/or a Secret named after the Bundle
in each namespace its `target.namespaceSelector` selects (all when absent), labelled
`trust.cert-manager.io/bundle: <name>` and controlled by the Bundle; a target is
written only when it differs, a labelled target the Bundle no longer selects is
deleted, and the `Synced` condition is written only when it changes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.kube.errors import AlreadyExists, ApiError, Conflict, NotFound, Unavailable
from shared.kube.objects import (
    get_condition,
    meta,
    name_of,
    namespace_of,
    owner_reference,
    set_condition,
)
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import BUNDLES, CONFIGMAPS, NAMESPACES, SECRETS, Resource
from shared.runtime import Context
from shared.trust.pem import InvalidPEM, assemble
from shared.trust.sources import SourceNotFound, label_selector, read_sources

BUNDLE_LABEL: Final = "trust.cert-manager.io/bundle"
SYNCED: Final = "Synced"

Obj = dict[str, Any]


class TargetFailed(Exception):
    """The API refused a target write (an immutable ConfigMap, a denied namespace...)."""

    def __init__(self, resource: Resource, namespace: str, error: ApiError) -> None:
        super().__init__(f'Failed to sync bundle to namespace "{namespace}": {error.message}')
        self.reason = f"Sync{resource.kind}TargetFailed"


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str
    message: str

    @property
    def event_type(self) -> str:
        return NORMAL if self.status == "True" else WARNING


def sync_bundle(ctx: Context, bundle: Obj) -> str:
    """Bring a Bundle's targets and status in line with its sources; what was done."""
    bundle = {"apiVersion": BUNDLES.api_version, "kind": BUNDLES.kind, **bundle}
    if meta(bundle).get("deletionTimestamp"):
        return "bundle being deleted"
    spec = bundle.get("spec") or {}
    target = spec.get("target") or {}
    try:
        content = assemble(read_sources(ctx, list(spec.get("sources") or [])))
    except SourceNotFound as error:
        message = f"Bundle source was not found: failed to retrieve bundle from source: {error}"
        verdict = Verdict("False", "SourceNotFound", message)
        return _report(ctx, bundle, verdict)
    except InvalidPEM as error:
        verdict = Verdict("False", "SourceBuildError", f"Failed to build bundle sources: {error}")
        return _report(ctx, bundle, verdict)
    selector = label_selector(target.get("namespaceSelector"))
    namespaces, _ = ctx.kube.list(NAMESPACES, label_selector=selector)
    selected = {
        name_of(n) for n in namespaces if (n.get("status") or {}).get("phase") != "Terminating"
    }
    written: list[str] = []
    try:
        for resource, kind_target in ((CONFIGMAPS, "configMap"), (SECRETS, "secret")):
            key = (target.get(kind_target) or {}).get("key")
            wanted = selected if key else set()
            written.extend(
                _sync_targets(ctx, bundle, resource, key=key, namespaces=wanted, content=content)
            )
    except TargetFailed as error:
        # As trust-manager: the first refused target stops the sync; the tick retries it.
        failed = Verdict("False", error.reason, str(error))
        return "; ".join([*written, _report(ctx, bundle, failed)])
    message = "Successfully synced Bundle to all namespaces"
    if selector:
        message = (
            f"Successfully synced Bundle to namespaces that match this label selector: {selector}"
        )
    outcome = _report(ctx, bundle, Verdict("True", SYNCED, message))
    return "; ".join([*written, outcome])


def _sync_targets(
    ctx: Context,
    bundle: Obj,
    resource: Resource,
    *,
    key: str | None,
    namespaces: set[str],
    content: str,
) -> list[str]:
    name = name_of(bundle)
    listed, _ = ctx.kube.list(resource, label_selector=f"{BUNDLE_LABEL}={name}")
    current = {namespace_of(o): o for o in listed if name_of(o) == name}
    done: list[str] = []
    for namespace, obj in sorted(current.items()):
        if namespace in namespaces or not _controlled(obj, bundle):
            continue
        try:
            ctx.kube.delete(resource, namespace, name, uid=meta(obj).get("uid"))
        except (NotFound, Conflict):
            continue
        done.append(f"deleted {resource.kind} {namespace}/{name}")
    for namespace in sorted(namespaces):
        assert key is not None
        try:
            wrote = _write(
                ctx,
                bundle,
                resource,
                current.get(namespace),
                namespace=namespace,
                key=key,
                content=content,
            )
        except (Conflict, Unavailable):
            raise  # moved under us, or the API is away: retried, not reported
        except ApiError as error:
            raise TargetFailed(resource, namespace, error) from None
        if wrote:
            done.append(f"wrote {resource.kind} {namespace}/{name}")
    return done


def _write(
    ctx: Context,
    bundle: Obj,
    resource: Resource,
    current: Obj | None,
    *,
    namespace: str,
    key: str,
    content: str,
) -> bool:
    """Create or update one target; False when it already held the bundle."""
    value = content if resource is CONFIGMAPS else base64.b64encode(content.encode()).decode()
    for _ in range(5):
        if current is None:
            desired: Obj = {
                "apiVersion": "v1",
                "kind": resource.kind,
                "metadata": {
                    "name": name_of(bundle),
                    "namespace": namespace,
                    "labels": {BUNDLE_LABEL: name_of(bundle)},
                    "ownerReferences": [owner_reference(bundle)],
                },
                "data": {key: value},
            }
            try:
                ctx.kube.create(resource, desired)
                return True
            except AlreadyExists:  # not labelled as ours (yet): take it over
                current = ctx.kube.find(resource, namespace, name_of(bundle))
                continue
        updated = _merged(current, bundle, key=key, value=value)
        if updated == current:
            return False
        try:
            ctx.kube.replace(resource, updated)
            return True
        except Conflict:
            current = ctx.kube.find(resource, namespace, name_of(bundle))
    raise Conflict(409, "Conflict", f"{resource.kind} {namespace}/{name_of(bundle)} kept changing")


def _merged(current: Obj, bundle: Obj, *, key: str, value: str) -> Obj:
    """The target with our key, label and owner set; other keys and owners are kept."""
    metadata = dict(meta(current))
    metadata["labels"] = {**(metadata.get("labels") or {}), BUNDLE_LABEL: name_of(bundle)}
    owners = list(metadata.get("ownerReferences") or [])
    if not _controlled(current, bundle):
        owners = [o for o in owners if not o.get("controller")] + [owner_reference(bundle)]
    metadata["ownerReferences"] = owners
    return {**current, "metadata": metadata, "data": {**(current.get("data") or {}), key: value}}


def _controlled(obj: Mapping[str, Any], bundle: Obj) -> bool:
    uid = meta(bundle).get("uid")
    return any(
        o.get("uid") == uid and o.get("controller") for o in meta(obj).get("ownerReferences") or []
    )


def _report(ctx: Context, bundle: Obj, verdict: Verdict) -> str:
    """Write the Synced condition and its Event, only when the condition changes."""
    generation = meta(bundle).get("generation")
    status = dict(bundle.get("status") or {})
    previous = get_condition(status, SYNCED) or {}
    unchanged = (
        previous.get("status") == verdict.status
        and previous.get("reason") == verdict.reason
        and previous.get("message") == verdict.message
        and previous.get("observedGeneration") == generation
    )
    if unchanged:
        return f"{verdict.reason}: unchanged"
    set_condition(
        status,
        kind=SYNCED,
        value=verdict.status,
        reason=verdict.reason,
        message=verdict.message,
        now=ctx.clock.now(),
        generation=generation,
    )
    ctx.kube.replace_status(BUNDLES, {**bundle, "status": status})
    ctx.recorder.record(
        bundle, type=verdict.event_type, reason=verdict.reason, message=verdict.message
    )
    return f"{verdict.reason}: {verdict.message}"
