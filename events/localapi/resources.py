"""The resource types the local API serves: built-in kinds and those CRDs add."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from events.localapi.conversion import event_from_core
from events.localapi.errors import Qualified

ALL_VERBS: Final = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
STATUS_VERBS: Final = ("get", "patch", "update")


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str  # string, integer, number, boolean, date
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    # Whether metadata.generation is kept: CRs and spec-carrying built-ins such as
    # Ingress; Secrets, ConfigMaps and Namespaces carry none.
    generation: bool = False
    # Built-ins accept strategic merge patches; custom resources answer 415.
    custom: bool = False
    # PUT of a missing object creates it (Lease, Event), otherwise 404.
    create_on_update: bool = False
    # DELETE answers with the object (Pods, CRs) or with a Success Status.
    return_deleted_object: bool = False
    schema: Mapping[str, Any] | None = field(default=None, compare=False)
    printer_columns: tuple[PrinterColumn, ...] = ()
    list_kind: str = ""
    # Objects kept under another resource's key (events.k8s.io Events are core Events).
    storage: tuple[str, str] | None = None

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: versions of one group/resource share their objects."""
        return self.storage or (self.group, self.plural)

    @property
    def qualified(self) -> Qualified:
        return Qualified(self.group, self.plural, self.kind)

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"


def in_version(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """obj as served at rt's version (CRD versions convert with strategy None)."""
    if obj.get("apiVersion", rt.group_version) == rt.group_version:
        return obj
    if rt.storage == ("", "events"):
        return event_from_core(obj)
    return {**obj, "apiVersion": rt.group_version}


def _core(plural: str, kind: str, **kw: Any) -> ResourceType:
    return ResourceType(
        group="", version="v1", plural=plural, singular=kind.lower(), kind=kind, **kw
    )


BUILTINS: Final[tuple[ResourceType, ...]] = (
    _core(
        "namespaces", "Namespace", namespaced=False, short_names=("ns",), status_subresource=True
    ),
    _core("secrets", "Secret", namespaced=True),
    _core("configmaps", "ConfigMap", namespaced=True, short_names=("cm",)),
    _core("events", "Event", namespaced=True, short_names=("ev",), create_on_update=True),
    _core(
        "services",
        "Service",
        namespaced=True,
        short_names=("svc",),
        categories=("all",),
        status_subresource=True,
    ),
    _core(
        "pods",
        "Pod",
        namespaced=True,
        short_names=("po",),
        categories=("all",),
        status_subresource=True,
        return_deleted_object=True,
    ),
    _core("serviceaccounts", "ServiceAccount", namespaced=True, short_names=("sa",)),
    ResourceType(
        group="networking.k8s.io",
        version="v1",
        plural="ingresses",
        singular="ingress",
        kind="Ingress",
        namespaced=True,
        short_names=("ing",),
        status_subresource=True,
        generation=True,
    ),
    ResourceType(
        group="coordination.k8s.io",
        version="v1",
        plural="leases",
        singular="lease",
        kind="Lease",
        namespaced=True,
        create_on_update=True,
    ),
    ResourceType(
        group="events.k8s.io",
        version="v1",
        plural="events",
        singular="event",
        kind="Event",
        namespaced=True,
        short_names=("ev",),
        create_on_update=True,
        storage=("", "events"),
    ),
    ResourceType(
        group="apiextensions.k8s.io",
        version="v1",
        plural="customresourcedefinitions",
        singular="customresourcedefinition",
        kind="CustomResourceDefinition",
        namespaced=False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        status_subresource=True,
        generation=True,
    ),
)

CRD_RESOURCE: Final = BUILTINS[-1]
NAMESPACES: Final = BUILTINS[0]


def from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """One ResourceType per served version of a CustomResourceDefinition."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    out: list[ResourceType] = []
    for version in spec.get("versions", []):
        if not version.get("served", True):
            continue
        columns = version.get("additionalPrinterColumns")
        printer: tuple[PrinterColumn, ...]
        if columns is None:
            printer = (
                PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp"),
            )
        else:
            printer = tuple(
                PrinterColumn(
                    name=c["name"],
                    type=c.get("type", "string"),
                    json_path=c["jsonPath"],
                    description=c.get("description", ""),
                    priority=int(c.get("priority", 0)),
                    format=c.get("format", ""),
                )
                for c in columns
            )
        out.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames", ())),
                categories=tuple(names.get("categories", ())),
                status_subresource="status" in (version.get("subresources") or {}),
                generation=True,
                custom=True,
                return_deleted_object=True,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                printer_columns=printer,
                list_kind=names.get("listKind", ""),
            )
        )
    return out


class Registry:
    """Lookup of served resource types by (group, version, plural)."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._by_crd: dict[str, list[ResourceType]] = {}
        for rt in BUILTINS:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def install_crd(self, crd: Mapping[str, Any]) -> None:
        name = crd["metadata"]["name"]
        self.remove_crd(name)
        types = from_crd(crd)
        for rt in types:
            self._types[(rt.group, rt.version, rt.plural)] = rt
        self._by_crd[name] = types

    def remove_crd(self, name: str) -> list[ResourceType]:
        types = self._by_crd.pop(name, [])
        for rt in types:
            self._types.pop((rt.group, rt.version, rt.plural), None)
        return types

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(list(self._types.values()))

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions (ordered, preferred first) for discovery; core excluded."""
        groups: dict[str, list[str]] = {}
        for rt in self._types.values():
            if rt.group:
                versions = groups.setdefault(rt.group, [])
                if rt.version not in versions:
                    versions.append(rt.version)
        for versions in groups.values():
            versions.sort(key=_version_priority)
        return groups

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self._types.values() if rt.group == group and rt.version == version]

    def kind_of(self, group: str, plural: str) -> ResourceType | None:
        """The resource type that owns a storage key."""
        for rt in self._types.values():
            if rt.group == group and rt.plural == plural and rt.storage is None:
                return rt
        return None


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if m is None:
        return (3, 0, 0)
    major = int(m.group(1))
    stage = {"alpha": 2, "beta": 1}.get(m.group(2) or "", 0)
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor)
