"""Render infra/ with kustomize and validate every object it produces.

Core Kubernetes kinds are checked against the Kubernetes OpenAPI schemas that
kubernetes-validate ships (strict: unknown fields fail), our custom resources
against our own CRDs with the local API's structural-schema engine, and Knative and
OpenFaaS objects against the small schemas in schemas/, written from their docs.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from events.localapi import openapi
from tests.conftest import REPO, require_binary

INFRA: Final = REPO / "infra"
# What an operator applies with `kubectl apply -k`, and the bases they are made of.
INSTALLS: Final = ("knative", "openfaas", "plain", "overlays/openfaas-operator")
BASES: Final = ("crds", "rbac", "rbac/roles", "rbac/watcher")
KUBERNETES_VERSION: Final = "1.32"
SCHEMAS: Final = Path(__file__).parent / "schemas"

Obj = dict[str, Any]


def render(directory: str) -> list[Obj]:
    """`kubectl kustomize infra/<directory>`, parsed."""
    kubectl = require_binary("kubectl")
    result = subprocess.run(
        [kubectl, "kustomize", str(INFRA / directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def key_of(obj: Mapping[str, Any]) -> str:
    return f"{obj['apiVersion']}/{obj['kind']}"


def name_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj['kind']} {namespace + '/' if namespace else ''}{meta.get('name')}"


@functools.cache
def platform_schemas() -> dict[str, tuple[Obj, Obj]]:
    """apiVersion/kind -> (schema, the document holding its $defs)."""
    table: dict[str, tuple[Obj, Obj]] = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for key, schema in document["kinds"].items():
            table[key] = (schema, document)
    return table


def platform_errors(key: str, obj: Any) -> list[str]:
    schema, document = platform_schemas()[key]
    # Resolve "#/$defs/..." against the file the schema came from.
    root = {**schema, "$defs": document.get("$defs", {})}
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(obj)
    ]


@functools.cache
def crd_schemas() -> dict[str, Obj]:
    """apiVersion/kind -> the openAPIV3Schema of each served version of our CRDs."""
    table: dict[str, Obj] = {}
    for path in sorted((INFRA / "crds").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                key = f"{spec['group']}/{version['name']}/{spec['names']['kind']}"
                table[key] = version["schema"]["openAPIV3Schema"]
    return table


def errors_of(obj: Obj) -> list[str]:
    """Why `obj` is invalid for its kind; an unknown kind is an error too."""
    key = key_of(obj)
    if key in crd_schemas():
        return [str(e) for e in openapi.validate(crd_schemas()[key], obj)]
    if key in platform_schemas():
        return platform_errors(key, obj)
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {key}"]
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        return [f"{path or '<root>'}: {error.message}"]
    return []


def containers(obj: Obj) -> Iterator[Obj]:
    """The containers of a workload (Deployment, Knative Service)."""
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    yield from spec.get("containers") or ()
