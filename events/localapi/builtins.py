"""What kube-apiserver's per-kind strategies do for the built-in kinds we serve.

Secrets fold stringData and check their type's keys, Namespaces get their
finalizer and phase, Services a cluster IP, CRDs their accepted names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Final

from events.localapi import errors
from events.localapi.errors import cause
from events.localapi.resources import CRD_RESOURCE, NAMESPACES, ResourceType
from events.localapi.store import Obj

NAMESPACE_FINALIZER: Final = "kubernetes"


def prepare(
    rt: ResourceType, obj: Obj, existing: Obj | None, *, cluster_ip: Callable[[], str]
) -> None:
    """What kube-apiserver's strategy for a built-in kind sets or checks on create/update."""
    if rt.group == "" and rt.plural == "secrets":
        check_base64(obj, "data", rt.kind)
        fold_string_data(obj)
        obj.setdefault("type", "Opaque")
        if existing is not None and obj["type"] != existing.get("type", "Opaque"):
            raise errors.invalid(
                rt.qualified,
                obj["metadata"]["name"],
                [
                    cause(
                        "FieldValueInvalid",
                        "type",
                        f'Invalid value: "{obj["type"]}": field is immutable',
                    )
                ],
            )
        check_immutable(rt, obj, existing, ("data", "type"))
        check_secret_type(rt, obj)
    elif rt.group == "networking.k8s.io" and rt.plural == "ingresses":
        spec = obj.get("spec") or {}
        if not spec.get("defaultBackend") and not spec.get("rules"):
            raise errors.invalid(
                rt.qualified,
                obj["metadata"]["name"],
                [
                    cause(
                        "FieldValueInvalid",
                        "spec",
                        "Invalid value: null: either `defaultBackend` or `rules` must be specified",
                    )
                ],
            )
        if existing is None:
            obj["status"] = {"loadBalancer": {}}  # as kube-apiserver's Ingress strategy
    elif rt.group == "" and rt.plural == "configmaps":
        check_base64(obj, "binaryData", rt.kind)
        check_immutable(rt, obj, existing, ("data", "binaryData"))
    elif rt.key == NAMESPACES.key:
        name = obj["metadata"]["name"]
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = name
        if existing is None:
            obj["spec"] = {"finalizers": [NAMESPACE_FINALIZER]}
            obj["status"] = {"phase": "Active"}
        else:
            obj["spec"] = existing.get("spec", {})
    elif rt.group == "" and rt.plural == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if existing is not None:
            old_spec = existing.get("spec", {})
            for key in ("clusterIP", "clusterIPs"):
                if key in old_spec:
                    spec.setdefault(key, old_spec[key])
        elif spec["type"] != "ExternalName" and "clusterIP" not in spec:
            spec["clusterIP"] = cluster_ip()
            spec["clusterIPs"] = [spec["clusterIP"]]
        if existing is None:
            obj["status"] = {"loadBalancer": {}}
    elif rt.key == ("", "events"):
        check_event_namespace(rt, obj)
    elif rt.group == "" and rt.plural == "pods" and existing is None:
        obj["status"] = {"phase": "Pending"}
    elif rt.key == CRD_RESOURCE.key and existing is not None:
        obj["status"] = existing.get("status", {})


def accept_crd(crd: Obj, stamp: str) -> None:
    """Check a CRD's names and set the status kube-apiserver gives an established one."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    if not spec.get("group") or not names.get("plural") or not names.get("kind"):
        raise errors.invalid(
            CRD_RESOURCE.qualified,
            crd["metadata"]["name"],
            [cause("FieldValueRequired", "spec.names.plural", "Required value")],
        )
    expected = f"{names['plural']}.{spec['group']}"
    if crd["metadata"]["name"] != expected:
        raise errors.invalid(
            CRD_RESOURCE.qualified,
            crd["metadata"]["name"],
            [
                cause(
                    "FieldValueInvalid",
                    "metadata.name",
                    f'Invalid value: "{crd["metadata"]["name"]}": '
                    'must be spec.names.plural+"."+spec.group',
                )
            ],
        )
    accepted = {k: v for k, v in names.items()}
    accepted.setdefault("singular", names["kind"].lower())
    accepted.setdefault("listKind", names["kind"] + "List")
    crd["status"] = {
        "acceptedNames": accepted,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": stamp,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": stamp,
            },
        ],
        "storedVersions": [v["name"] for v in spec.get("versions", []) if v.get("storage")],
    }


def check_base64(obj: Obj, field: str, kind: str) -> None:
    """Bytes fields hold standard padded base64; kube fails to decode anything else (400)."""
    for value in (obj.get(field) or {}).values():
        try:
            base64.b64decode(str(value), validate=True)
        except binascii.Error as exc:
            raise errors.bad_request(
                f'{kind} in version "v1" cannot be handled as a {kind}: illegal base64 data'
            ) from exc


def fold_string_data(secret: Obj) -> None:
    string_data = secret.pop("stringData", None)
    if not string_data:
        return
    data = dict(secret.get("data") or {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    secret["data"] = data


# Keys each well-known Secret type requires (core/v1 validation).
_SECRET_KEYS: Final = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/basic-auth": (),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
}


def check_secret_type(rt: ResourceType, secret: Obj) -> None:
    data = secret.get("data") or {}
    missing = [k for k in _SECRET_KEYS.get(secret["type"], ()) if k not in data]
    if missing:
        raise errors.invalid(
            rt.qualified,
            secret["metadata"]["name"],
            [cause("FieldValueRequired", f"data[{k}]", "Required value") for k in missing],
        )


def check_immutable(
    rt: ResourceType, obj: Obj, existing: Obj | None, fields: tuple[str, ...]
) -> None:
    if existing is None or not existing.get("immutable"):
        return
    if any(obj.get(f) != existing.get(f) for f in fields) or not obj.get("immutable"):
        raise errors.invalid(
            rt.qualified,
            obj["metadata"]["name"],
            [
                cause(
                    "FieldValueForbidden",
                    "data",
                    "Forbidden: field is immutable when `immutable` is set",
                )
            ],
        )


def check_event_namespace(rt: ResourceType, event: Obj) -> None:
    """An Event without eventTime lives in its object's namespace (default when cluster-scoped)."""
    if event.get("eventTime"):
        return
    namespace = event["metadata"].get("namespace", "")
    involved = (event.get("involvedObject") or {}).get("namespace") or ""
    if (involved and involved != namespace) or (not involved and namespace not in ("", "default")):
        raise errors.invalid(
            rt.qualified,
            event["metadata"]["name"],
            [
                cause(
                    "FieldValueInvalid",
                    "involvedObject.namespace",
                    f'Invalid value: "{involved}": does not match event.namespace',
                )
            ],
        )
