"""A third-party DNS webhook as cert-manager's contract defines it, reached as if
through the API server's aggregation layer: POST /apis/<group>/v1alpha1/<solver>."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.e2e.providers.httpfake import Reply, Request

GROUP = "acme.example.test"
SOLVER = "fake-dns"


class FakeWebhook:
    def __init__(self) -> None:
        self.records: defaultdict[str, set[str]] = defaultdict(set)
        self.received: list[dict[str, Any]] = []

    def txt(self, name: str) -> set[str]:
        return set(self.records.get(name, set()))

    def route(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != f"/apis/{GROUP}/v1alpha1/{SOLVER}":
            return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
        challenge = request.body["request"]
        self.received.append(challenge)
        response: dict[str, Any] = {"uid": challenge["uid"], "success": True}
        if (challenge.get("config") or {}).get("refuse"):
            response = {
                "uid": challenge["uid"],
                "success": False,
                "status": {"message": "zone is locked by the registrar"},
            }
        elif challenge["action"] == "Present":
            self.records[challenge["resolvedFQDN"]].add(challenge["key"])
        elif challenge["action"] == "CleanUp":
            self.records[challenge["resolvedFQDN"]].discard(challenge["key"])
        return 200, {**request.body, "response": response}
