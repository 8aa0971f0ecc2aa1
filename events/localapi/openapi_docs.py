"""The OpenAPI v3 documents kubectl reads, kept to what it uses.

kubectl apply/create asks /openapi/v3 whether an endpoint takes the
`fieldValidation` query parameter (then the server validates and kubectl
skips its client-side pass, which would need protobuf /openapi/v2). Patch
operations carry no requestBody: kubectl then computes client-side apply
patches from its built-in types (strategic merge) or as JSON merge patches
(custom resources), as it does against kube-apiserver for CRs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from events.localapi.resources import Registry, ResourceType

_WRITE_PARAMS: Final = ("dryRun", "fieldManager", "fieldValidation")


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _gvk(rt: ResourceType) -> dict[str, str]:
    return {"group": rt.group, "version": rt.version, "kind": rt.kind}


def _schema_name(rt: ResourceType) -> str:
    group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{group}.{rt.version}.{rt.kind}"


def _operation(rt: ResourceType, action: str, *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{action}{rt.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rt),
        "responses": {"200": {"description": "OK"}},
    }
    if extra:
        op["parameters"] = [_query(p) for p in extra]
    return op


def _paths(rt: ResourceType) -> dict[str, Any]:
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if rt.namespaced else prefix
    scope_params = [_path_param("namespace")] if rt.namespaced else []
    collection = {
        "get": _operation(rt, "list"),
        "post": _operation(rt, "post", extra=_WRITE_PARAMS),
        "delete": _operation(rt, "deletecollection"),
        "parameters": [*scope_params, _query("pretty")],
    }
    item = {
        "get": _operation(rt, "get"),
        "put": _operation(rt, "put", extra=_WRITE_PARAMS),
        "patch": _operation(rt, "patch", extra=(*_WRITE_PARAMS, "force")),
        "delete": _operation(rt, "delete"),
        # kubectl looks for fieldValidation among the path's parameters.
        "parameters": [
            _path_param("name"),
            *scope_params,
            _query("pretty"),
            _query("fieldValidation"),
        ],
    }
    paths = {f"{scope}/{rt.plural}": collection, f"{scope}/{rt.plural}/{{name}}": item}
    if rt.status_subresource:
        paths[f"{scope}/{rt.plural}/{{name}}/status"] = {
            "get": _operation(rt, "get"),
            "put": _operation(rt, "put", extra=_WRITE_PARAMS),
            "patch": _operation(rt, "patch", extra=(*_WRITE_PARAMS, "force")),
            "parameters": [_path_param("name"), *scope_params, _query("fieldValidation")],
        }
    return paths


def _component(rt: ResourceType) -> dict[str, Any]:
    schema = dict(rt.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    schema["x-kubernetes-group-version-kind"] = [_gvk(rt)]
    return schema


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_document(registry: Registry, gv_path: str) -> dict[str, Any] | None:
    """The document for one group-version ("api/v1", "apis/cert-manager.io/v1")."""
    parts = gv_path.split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[:1] == ["apis"] and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        return None
    types = sorted(registry.in_group_version(group, version), key=lambda rt: rt.plural)
    if not types:
        return None
    paths: dict[str, Any] = {}
    for rt in types:
        paths.update(_paths(rt))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {_schema_name(rt): _component(rt) for rt in types}},
    }


def v3_index(registry: Registry) -> dict[str, Any]:
    group_versions = [
        ("", "v1"),
        *((g, v) for g, vs in registry.group_versions().items() for v in vs),
    ]
    paths: dict[str, Any] = {}
    for group, version in group_versions:
        path = _gv_path(group, version)
        doc = v3_document(registry, path)
        if doc is None:
            continue
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
