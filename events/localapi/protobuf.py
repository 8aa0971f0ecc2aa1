"""Decoding of the protobuf request bodies kubectl's typed client sends.

`kubectl create secret|configmap|namespace|serviceaccount` post
`application/vnd.kubernetes.protobuf` (client-go has no fallback to JSON), so
the kinds those generators make are decoded here into their JSON form. Only
fields a client may set are mapped; field numbers are k8s.io/api's
generated.proto.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final, Union

MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf"
MAGIC: Final = b"k8s\x00"


class ProtobufError(ValueError):
    pass


# A field is (json name, type); type is a scalar name, a nested message schema,
# ("map", value type) or ("repeated", item type).
FieldType = Union[str, "Schema", tuple[str, Any]]
Schema = Mapping[int, tuple[str, FieldType]]

OWNER_REFERENCE: Final[Schema] = {
    1: ("kind", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
OBJECT_META: Final[Schema] = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    6: ("resourceVersion", "string"),
    11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", OWNER_REFERENCE)),
    14: ("finalizers", ("repeated", "string")),
}
OBJECT_REFERENCE: Final[Schema] = {
    1: ("kind", "string"),
    2: ("namespace", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("resourceVersion", "string"),
    7: ("fieldPath", "string"),
}
_INGRESS_BACKEND: Final[Schema] = {
    4: (
        "service",
        {
            1: ("name", "string"),
            2: ("port", {1: ("name", "string"), 2: ("number", "int64")}),
        },
    ),
    3: ("resource", {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}),
}
_INGRESS_SPEC: Final[Schema] = {
    4: ("ingressClassName", "string"),
    1: ("defaultBackend", _INGRESS_BACKEND),
    2: ("tls", ("repeated", {1: ("hosts", ("repeated", "string")), 2: ("secretName", "string")})),
    3: (
        "rules",
        (
            "repeated",
            {
                1: ("host", "string"),
                # IngressRuleValue is embedded inline in JSON: its `http` sits on the rule.
                2: (
                    "",
                    {
                        1: (
                            "http",
                            {
                                1: (
                                    "paths",
                                    (
                                        "repeated",
                                        {
                                            1: ("path", "string"),
                                            3: ("pathType", "string"),
                                            2: ("backend", _INGRESS_BACKEND),
                                        },
                                    ),
                                )
                            },
                        )
                    },
                ),
            },
        ),
    ),
}
KINDS: Final[dict[str, Schema]] = {
    "Ingress": {1: ("metadata", OBJECT_META), 2: ("spec", _INGRESS_SPEC)},
    "Secret": {
        1: ("metadata", OBJECT_META),
        2: ("data", ("map", "bytes")),
        3: ("type", "string"),
        4: ("stringData", ("map", "string")),
        5: ("immutable", "bool"),
    },
    "ConfigMap": {
        1: ("metadata", OBJECT_META),
        2: ("data", ("map", "string")),
        3: ("binaryData", ("map", "bytes")),
        4: ("immutable", "bool"),
    },
    "Namespace": {
        1: ("metadata", OBJECT_META),
        2: ("spec", {1: ("finalizers", ("repeated", "string"))}),
    },
    "ServiceAccount": {
        1: ("metadata", OBJECT_META),
        2: ("secrets", ("repeated", OBJECT_REFERENCE)),
        3: ("imagePullSecrets", ("repeated", {1: ("name", "string")})),
        4: ("automountServiceAccountToken", "bool"),
    },
}
_UNKNOWN: Final[Schema] = {
    1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}),
    2: ("raw", "raw"),
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        return bytes(value).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "raw":
        return bytes(value)
    if kind == "bool":
        return bool(value)
    if kind == "int64":
        return value - (1 << 64) if value >= 1 << 63 else value
    raise ProtobufError(f"unknown scalar {kind}")


def _decode(schema: Schema, data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, _, value in _fields(data):
        if number not in schema:
            continue  # fields a client does not set (status, system metadata)
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _, v in _fields(value)}
            key = _scalar("string", entry.get(1, b""))
            obj.setdefault(name, {})[key] = _value(
                kind[1], entry.get(2, b"" if kind[1] != "bool" else 0)
            )
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            obj.setdefault(name, []).append(_value(kind[1], value))
        elif name == "":
            obj.update(_value(kind, value))
        else:
            decoded = _value(kind, value)
            # Go clients send zero strings/numbers explicitly; their JSON omits them.
            if not (kind in ("string", "int64") and not decoded):
                obj[name] = decoded
    return obj


def _value(kind: Any, value: Any) -> Any:
    if isinstance(kind, str):
        return _scalar(kind, value)
    return _decode(kind, value)


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object of one of KINDS."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf envelope")
    envelope = _decode(_UNKNOWN, body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta", {})
    kind = type_meta.get("kind", "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ProtobufError(f"protobuf bodies of kind {kind!r} are not supported; send JSON")
    obj = _decode(schema, envelope.get("raw", b""))
    return {"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind, **obj}
