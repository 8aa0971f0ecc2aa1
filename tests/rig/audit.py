"""The real apiserver's audit log, read as the embedded API's request log is.

The rig's kube-apiserver writes one JSON audit event per request (Metadata level,
ResponseComplete stage, blocking mode: the record is on disk before the answer is sent), so
a test can count requests and writes on the real control plane with the same code it uses
on the embedded API.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from events.localapi.requestlog import WRITE_VERBS, RequestRecord


@dataclass(frozen=True)
class AuditRecord(RequestRecord):
    """A request record that also knows who made it (the authenticated user)."""

    username: str = ""
    decision: str = ""  # the authorizer's: "allow" or "forbid" ("" if it never decided)


# The control plane's own traffic (the apiserver's loopback client, the controller
# manager and its controllers' service accounts) is not what a test measures.
_CONTROL_PLANE_USERS = ("system:apiserver", "system:kube-controller-manager")
_CONTROL_PLANE_PREFIX = "system:serviceaccount:kube-system:"


_DECISION = "authorization.k8s.io/decision"


def _record(event: dict[str, object]) -> RequestRecord | None:
    if event.get("stage") != "ResponseComplete":
        return None
    user = event.get("user")
    username = user.get("username", "") if isinstance(user, dict) else ""
    # A request made as someone else (Impersonate-User) is that someone's request.
    acting = event.get("impersonatedUser")
    if isinstance(acting, dict) and acting.get("username"):
        username = acting["username"]
    if username in _CONTROL_PLANE_USERS or username.startswith(_CONTROL_PLANE_PREFIX):
        return None
    ref = event.get("objectRef")
    ref = ref if isinstance(ref, dict) else {}
    status = event.get("responseStatus")
    code = status.get("code", 0) if isinstance(status, dict) else 0
    annotations = event.get("annotations")
    decision = annotations.get(_DECISION, "") if isinstance(annotations, dict) else ""
    return AuditRecord(
        verb=str(event.get("verb", "")),
        group=str(ref.get("apiGroup", "")),
        version=str(ref.get("apiVersion", "")),
        resource=str(ref.get("resource", "")),
        subresource=str(ref.get("subresource", "")),
        namespace=str(ref.get("namespace", "")),
        # Named as the request URL names it (a create posts to the collection), as the
        # embedded API's log does; a non-resource request is named by its path.
        name=""
        if event.get("verb") == "create"
        else str(ref.get("name", "") or ("" if ref else event.get("requestURI", ""))),
        code=int(code),
        user_agent=str(event.get("userAgent", "")),
        username=str(username),
        decision=str(decision),
    )


class AuditLog:
    """Reads the audit log incrementally; `snapshot()` has every client request so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            if self.path.exists():
                with self.path.open("rb") as log:
                    log.seek(self._offset)
                    chunk = log.read()
                complete = chunk.rfind(b"\n") + 1  # a line still being written waits
                for line in chunk[:complete].splitlines():
                    record = _record(json.loads(line))
                    if record is not None:
                        self._records.append(record)
                self._offset += complete
            return list(self._records)

    def writes(self) -> list[RequestRecord]:
        return [r for r in self.snapshot() if r.verb in WRITE_VERBS and 200 <= r.code < 300]
