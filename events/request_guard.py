"""What `certainly serve` refuses before a function sees the request.

A body over the API server's own request limit is refused with 413 before it is read
(Content-Length) or as soon as the limit is passed (chunked), so a 100 MB body never
sits in memory; a request that is not one well-formed CloudEvent gets 400 with the
reason, where functions-framework would answer 500 (invalid UTF-8, JSON nested past the
recursion limit, batch mode, bad `data_base64`).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, Final

from cloudevents.exceptions import GenericException
from cloudevents.http import from_http

log = logging.getLogger(__name__)

# kube-apiserver's limit on a request body: no Kubernetes object in an event is larger.
MAX_BODY: Final = 3 * 1024 * 1024
BATCH_MODE: Final = "application/cloudevents-batch"
STRUCTURED_MODE: Final = "application/cloudevents"
# functions-framework's endpoint name for a @cloud_event function.
CLOUDEVENT_ENDPOINT: Final = "cloudevent"
_READ_CHUNK: Final = 64 * 1024
_REASON_MAX: Final = 300

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def cloudevent_problem(headers: dict[str, str], body: bytes) -> str | None:
    """Why this request is not one CloudEvent the SDK can parse (None: it is one)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").lower()
    if content_type.startswith(BATCH_MODE):
        return f"batch mode ({BATCH_MODE}+json) is not accepted: send one event per request"
    if "ce-specversion" not in lowered and not content_type.startswith(STRUCTURED_MODE):
        return (
            "not a CloudEvent: expected binary mode (ce-* headers) or structured mode "
            f"({STRUCTURED_MODE}+json)"
        )
    try:
        from_http(lowered, body)
    except (GenericException, ValueError, TypeError, RecursionError) as error:
        # ValueError covers invalid UTF-8, JSON and base64; RecursionError, JSON nested
        # deeper than the interpreter's limit. The SDK's messages may quote the body.
        return f"malformed CloudEvent: {_shorten(str(error) or type(error).__name__)}"
    return None


def looks_like_cloudevent(headers: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").lower()
    return "ce-specversion" in lowered or "ce-type" in lowered or "cloudevents" in content_type


def _shorten(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[:_REASON_MAX] + "..."


def _headers(environ: Environ) -> dict[str, str]:
    found = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        found["content-type"] = str(environ["CONTENT_TYPE"])
    return found


def read_bounded(environ: Environ, limit: int) -> bytes:
    """The request body, or Refused(413) as soon as it is known to exceed `limit`."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise Refused(400, f"invalid Content-Length {declared[:40]!r}") from None
        if length < 0:
            raise Refused(400, f"invalid Content-Length {declared[:40]!r}")
        if length > limit:
            raise Refused(413, f"request body of {length} bytes exceeds the {limit}-byte limit")
    elif not environ.get("wsgi.input_terminated"):
        return b""  # neither a length nor chunked: no body
    else:
        length = limit + 1  # chunked: read until the end, or one byte past the limit
    buffer = bytearray()
    while len(buffer) < length:
        chunk = stream.read(min(_READ_CHUNK, length - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > limit:
        raise Refused(413, f"request body exceeds the {limit}-byte limit")
    return bytes(buffer)


class RequestGuard:
    """WSGI middleware: bounded bodies for every function, well-formed CloudEvents for
    CloudEvent functions (and for CloudEvents sent to an HTTP function, e.g. a tick)."""

    def __init__(self, app: Any, *, cloudevents: bool, limit: int = MAX_BODY) -> None:
        self._app = app
        self._cloudevents = cloudevents
        self._limit = limit

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("POST", "PUT", "PATCH"):
            return self._app(environ, start_response)  # type: ignore[no-any-return]
        try:
            body = read_bounded(environ, self._limit)
            headers = _headers(environ)
            if self._cloudevents or looks_like_cloudevent(headers):
                problem = cloudevent_problem(headers, body)
                if problem is not None:
                    raise Refused(400, problem)
        except Refused as refused:
            log.warning("refused request: %d %s", refused.status, refused.reason)
            return _refuse(start_response, refused)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = False
        return self._app(environ, start_response)  # type: ignore[no-any-return]


def _refuse(start_response: StartResponse, refused: Refused) -> list[bytes]:
    body = json.dumps({"error": refused.reason}).encode()
    # werkzeug closes every connection after the answer (draining what the client still
    # sends, so it sees the 413), so an unread body never becomes the next request.
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(f"{refused.status} {HTTPStatus(refused.status).phrase}", headers)
    return [body]


def is_cloudevent_app(app: Any) -> bool:
    """Whether a functions-framework app serves a @cloud_event function."""
    view_functions = getattr(app, "view_functions", {})
    return CLOUDEVENT_ENDPOINT in view_functions
