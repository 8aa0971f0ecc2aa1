"""Decoding kubectl's protobuf request bodies."""

from __future__ import annotations

import pytest

from events.localapi.protobuf import MAGIC, ProtobufError, decode


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    raw = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def envelope(kind: str, raw: bytes, api_version: str = "v1") -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return MAGIC + field(1, type_meta) + field(2, raw)


def test_secret_decodes_to_its_json_form() -> None:
    meta = field(1, "creds") + field(3, "") + field(11, field(1, "app") + field(2, "web"))
    raw = (
        field(1, meta)
        + field(2, field(1, "user") + field(2, b"admin"))
        + field(3, "Opaque")
        + field(4, field(1, "plain") + field(2, "text"))
        + field(5, 1)
    )
    assert decode(envelope("Secret", raw)) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "labels": {"app": "web"}},
        "data": {"user": "YWRtaW4="},
        "type": "Opaque",
        "stringData": {"plain": "text"},
        "immutable": True,
    }


def test_unsupported_kind_and_garbage_are_errors() -> None:
    with pytest.raises(ProtobufError, match="Deployment"):
        decode(envelope("Deployment", b"", "apps/v1"))
    with pytest.raises(ProtobufError):
        decode(b"{}")
    with pytest.raises(ProtobufError):
        decode(MAGIC + b"\x0a\xff")
