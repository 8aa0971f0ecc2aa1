"""The parts of Cloudflare's v4 API the provider calls: zones by name, TXT records."""

from __future__ import annotations

import itertools
from typing import Any

from tests.e2e.providers.httpfake import Reply, Request

PREFIX = "/client/v4"


class FakeCloudflare:
    def __init__(self, *, zones: dict[str, str], token: str) -> None:
        self.zones = zones  # name -> id
        self.token = token
        self.records: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def txt(self, name: str) -> set[str]:
        bare = name.rstrip(".")
        return {r["content"] for r in self.records.values() if r["name"] == bare}

    def route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 403, _fail(9109, "Invalid access token")
        parts = request.path.removeprefix(PREFIX).strip("/").split("/")
        if parts == ["zones"] and request.method == "GET":
            name = request.query.get("name")
            return 200, _ok([{"id": i, "name": n} for n, i in self.zones.items() if n == name])
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            if parts[1] not in self.zones.values():
                return 404, _fail(
                    7003,
                    "Could not route to /zones/..., perhaps your object identifier is invalid?",
                )
            return self._records(
                request, zone_id=parts[1], record_id=parts[3] if len(parts) > 3 else None
            )
        return 404, _fail(7000, "No route for that URI")

    def _records(self, request: Request, *, zone_id: str, record_id: str | None) -> Reply:
        if request.method == "GET" and record_id is None:
            found = [
                r
                for r in self.records.values()
                if r["zone_id"] == zone_id
                and r["type"] == request.query.get("type", r["type"])
                and r["name"] == request.query.get("name", r["name"])
            ]
            return 200, _ok(found)
        if request.method == "POST" and record_id is None:
            body = request.body
            duplicate = any(
                (r["zone_id"], r["type"], r["name"], r["content"])
                == (zone_id, body["type"], body["name"], body["content"])
                for r in self.records.values()
            )
            if duplicate:  # Cloudflare refuses an identical record
                return 400, _fail(81058, "An identical record already exists.")
            record = {"id": f"rec{next(self._ids)}", "zone_id": zone_id, **body}
            self.records[record["id"]] = record
            return 200, _ok(record)
        if request.method == "DELETE" and record_id is not None:
            if self.records.pop(record_id, None) is None:
                return 404, _fail(81044, "Record does not exist.")
            return 200, _ok({"id": record_id})
        return 405, _fail(10000, "Method not allowed")


def _ok(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result}


def _fail(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "result": None}
