"""Our own error classes for Kubernetes API failures, mapped from Status reasons.

Transport errors from the `kubernetes` package never leak past the adapter: every
call raises one of these, `from` the original.
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """A Kubernetes API call failed; `reason` is the Status reason (e.g. Conflict)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(ApiError):
    pass


class AlreadyExists(ApiError):
    pass


class Conflict(ApiError):
    """A resourceVersion or uid precondition failed: someone else moved first."""


class Invalid(ApiError):
    pass


class Gone(ApiError):
    """The requested resourceVersion is older than the server keeps (410)."""


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class Unavailable(ApiError):
    """The server or the network failed; the call may succeed if repeated."""


_BY_REASON: dict[str, type[ApiError]] = {
    "NotFound": NotFound,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Invalid": Invalid,
    "Gone": Gone,
    "Expired": Gone,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def from_response(status: int, body: bytes | str | None) -> ApiError:
    """Build the right ApiError from an HTTP status and a (possibly Status) body."""
    reason, message = "", ""
    try:
        payload: Any = json.loads(body or b"{}")
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("kind") == "Status":
        reason = str(payload.get("reason") or "")
        message = str(payload.get("message") or "")
    if not message:
        message = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    cls = _BY_REASON.get(reason) or _BY_STATUS.get(status)
    if cls is None:
        cls = Unavailable if status >= 500 or status == 0 else ApiError
    return cls(status, reason or cls.__name__, message[:500])
