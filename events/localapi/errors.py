"""Kubernetes `Status` errors, worded as kube-apiserver words them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict


class StatusCause(TypedDict):
    reason: str
    message: str
    field: str


def cause(reason: str, field: str, message: str) -> StatusCause:
    return {"reason": reason, "message": message, "field": field}


@dataclass(frozen=True)
class Qualified:
    """What an error is about: a resource (plural) and kind within a group."""

    group: str
    resource: str  # plural
    kind: str

    @property
    def resource_name(self) -> str:
        """`secrets` or `certificates.cert-manager.io`, as in NotFound messages."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def kind_name(self) -> str:
        """`Secret` or `Certificate.cert-manager.io`, as in Invalid messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


class APIError(Exception):
    """An error answered with a `kind: Status` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(what: Qualified, name: str, *, kind: str | None = None) -> dict[str, Any]:
    # kube puts the plural resource in details.kind for NotFound/AlreadyExists/Conflict.
    details: dict[str, Any] = {"name": name} if name else {}
    details["kind"] = kind or what.resource
    if what.group:
        details["group"] = what.group
    return details


def not_found(what: Qualified, name: str) -> APIError:
    return APIError(
        404, "NotFound", f'{what.resource_name} "{name}" not found', details=_details(what, name)
    )


def namespace_not_found(namespace: str) -> APIError:
    return not_found(Qualified("", "namespaces", "Namespace"), namespace)


def already_exists(what: Qualified, name: str) -> APIError:
    return APIError(
        409,
        "AlreadyExists",
        f'{what.resource_name} "{name}" already exists',
        details=_details(what, name),
    )


def conflict(what: Qualified, name: str, reason: str) -> APIError:
    return APIError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {what.resource_name} "{name}": {reason}',
        details=_details(what, name),
    )


def precondition_failed(what: Qualified, name: str, reason: str) -> APIError:
    """A delete precondition (uid, resourceVersion) that does not hold: kube names the Kind."""
    return APIError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {what.resource_name} "{name}": {reason}',
        details=_details(what, name, kind=what.kind),
    )


MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def stale(what: Qualified, name: str) -> APIError:
    return conflict(what, name, MODIFIED)


def invalid(what: Qualified, name: str, causes: Sequence[StatusCause]) -> APIError:
    parts = [f"{c['field']}: {c['message']}" if c["field"] else c["message"] for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = _details(what, name, kind=what.kind)
    details["causes"] = list(causes)
    return APIError(
        422, "Invalid", f'{what.kind_name} "{name}" is invalid: {summary}', details=details
    )


def bad_request(message: str) -> APIError:
    return APIError(400, "BadRequest", message)


def forbidden(
    what: Qualified, name: str, message: str, *, causes: Sequence[StatusCause] = ()
) -> APIError:
    details = _details(what, name)
    if causes:
        details["causes"] = list(causes)
    return APIError(
        403, "Forbidden", f'{what.resource_name} "{name}" is forbidden: {message}', details=details
    )


def method_not_allowed() -> APIError:
    return APIError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )


def unsupported_media_type(accepted: Sequence[str]) -> APIError:
    return APIError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def expired(message: str) -> APIError:
    return APIError(410, "Expired", message)


def unauthorized() -> APIError:
    return APIError(401, "Unauthorized", "Unauthorized")


def page_not_found() -> APIError:
    return APIError(404, "NotFound", "the server could not find the requested resource")
