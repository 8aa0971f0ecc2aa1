"""Validation kube-apiserver applies to every object: names, labels, annotations, owners.

Worded as apimachinery's validation messages, so code that would be refused
by a real cluster is refused here too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from events.localapi.errors import StatusCause
from shared.kube.metadata_rules import (
    ANNOTATIONS_LIMIT,
    label_value_problems,
    qualified_name_problems,
)
from shared.kube.names import label_problems, subdomain_problems

_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")

CONFIG_KEY_RULE: Final = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def name_errors(name: str, *, label: bool) -> list[StatusCause]:
    """metadata.name: a DNS label (Namespaces) or a DNS subdomain (everything we serve else)."""
    problems = label_problems(name) if label else subdomain_problems(name)
    return [_invalid("metadata.name", name, problem) for problem in problems]


def _invalid(field: str, value: Any, rule: str) -> StatusCause:
    return {
        "reason": "FieldValueInvalid",
        "message": f'Invalid value: "{value}": {rule}',
        "field": field,
    }


def _required(field: str) -> StatusCause:
    return {"reason": "FieldValueRequired", "message": "Required value", "field": field}


def qualified_name_errors(field: str, key: str) -> list[StatusCause]:
    """A label or annotation key: [prefix/]name."""
    return [_invalid(field, key, why) for why in qualified_name_problems(key)]


def metadata_errors(meta: Mapping[str, Any]) -> list[StatusCause]:
    found: list[StatusCause] = []
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        return [_invalid("metadata.labels", labels, "must be a map of strings")]
    for key, value in labels.items():
        found += qualified_name_errors("metadata.labels", key)
        if not isinstance(value, str):
            found.append(_invalid("metadata.labels", value, "must be a string"))
        else:
            found += [_invalid("metadata.labels", value, w) for w in label_value_problems(value)]
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        return [*found, _invalid("metadata.annotations", annotations, "must be a map of strings")]
    size = 0
    for key, value in annotations.items():
        found += qualified_name_errors("metadata.annotations", key.lower())
        size += len(key) + len(str(value))
    if size > ANNOTATIONS_LIMIT:
        found.append(
            {
                "reason": "FieldValueTooLong",
                "message": f"Too long: must have at most {ANNOTATIONS_LIMIT} bytes",
                "field": "metadata.annotations",
            }
        )
    for index, ref in enumerate(meta.get("ownerReferences") or ()):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not (isinstance(ref, dict) and ref.get(key)):
                found.append(_required(f"metadata.ownerReferences[{index}].{key}"))
    controllers = [
        r for r in meta.get("ownerReferences") or () if isinstance(r, dict) and r.get("controller")
    ]
    if len(controllers) > 1:
        found.append(
            _invalid(
                "metadata.ownerReferences",
                "",
                "Only one reference can have Controller set to true",
            )
        )
    return found


def config_key_errors(field: str, data: Mapping[str, Any]) -> list[StatusCause]:
    """Keys of Secret/ConfigMap data."""
    found: list[StatusCause] = []
    for key in data:
        if len(key) > 253 or not _CONFIG_KEY.fullmatch(key):
            found.append(_invalid(f"{field}[{key}]", key, CONFIG_KEY_RULE))
    return found


OBJECT_META_FIELDS: Final = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
_TYPE_META: Final = ("apiVersion", "kind", "metadata")
# Top-level fields of the built-in kinds we serve (k8s.io/api types).
BUILTIN_FIELDS: Final[dict[tuple[str, str], frozenset[str]]] = {
    ("", "secrets"): frozenset({*_TYPE_META, "data", "stringData", "type", "immutable"}),
    ("", "configmaps"): frozenset({*_TYPE_META, "data", "binaryData", "immutable"}),
    ("", "namespaces"): frozenset({*_TYPE_META, "spec", "status"}),
    ("", "services"): frozenset({*_TYPE_META, "spec", "status"}),
    ("", "pods"): frozenset({*_TYPE_META, "spec", "status"}),
    ("", "serviceaccounts"): frozenset(
        {*_TYPE_META, "secrets", "imagePullSecrets", "automountServiceAccountToken"}
    ),
    ("", "events"): frozenset(
        {
            *_TYPE_META,
            "involvedObject",
            "reason",
            "message",
            "source",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "eventTime",
            "series",
            "action",
            "related",
            "reportingComponent",
            "reportingInstance",
        }
    ),
    ("events.k8s.io", "events"): frozenset(
        {
            *_TYPE_META,
            "eventTime",
            "series",
            "reportingController",
            "reportingInstance",
            "action",
            "reason",
            "regarding",
            "related",
            "note",
            "type",
            "deprecatedSource",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
            "deprecatedCount",
        }
    ),
    ("networking.k8s.io", "ingresses"): frozenset({*_TYPE_META, "spec", "status"}),
    ("coordination.k8s.io", "leases"): frozenset({*_TYPE_META, "spec"}),
    ("apiextensions.k8s.io", "customresourcedefinitions"): frozenset(
        {*_TYPE_META, "spec", "status"}
    ),
}


def unknown_fields(resource: tuple[str, str], obj: Mapping[str, Any], *, custom: bool) -> list[str]:
    """Fields a typed decoder would not know: top level of built-ins, metadata of all."""
    found: list[str] = []
    known = BUILTIN_FIELDS.get(resource)
    if known is not None and not custom:
        found += [key for key in obj if key not in known]
    meta = obj.get("metadata")
    if isinstance(meta, Mapping):
        found += [f"metadata.{key}" for key in meta if key not in OBJECT_META_FIELDS]
    return found


_MICRO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
MICRO_LAYOUT: Final = "2006-01-02T15:04:05.000000Z07:00"
TIME_LAYOUT: Final = "2006-01-02T15:04:05Z07:00"
# Timestamp fields of the built-in kinds: (path, MicroTime?) -- a typed decoder parses them.
_TIME_FIELDS: Final[dict[tuple[str, str], tuple[tuple[tuple[str, ...], bool], ...]]] = {
    ("coordination.k8s.io", "leases"): (
        (("spec", "acquireTime"), True),
        (("spec", "renewTime"), True),
    ),
    ("", "events"): (
        (("firstTimestamp",), False),
        (("lastTimestamp",), False),
        (("eventTime",), True),
        (("series", "lastObservedTime"), True),
    ),
}


def time_format_errors(resource: tuple[str, str], obj: Mapping[str, Any]) -> list[str]:
    """Timestamps a Go client could not parse, worded as time.Parse fails."""
    found: list[str] = []
    for path, micro in _TIME_FIELDS.get(resource, ()):
        value: Any = obj
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            continue
        pattern, layout = (_MICRO_TIME, MICRO_LAYOUT) if micro else (_TIME, TIME_LAYOUT)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            found.append(f'parsing time "{value}" as "{layout}": cannot parse {".".join(path)}')
    return found
