"""What every function entry point does around its work: parse, log, map errors to HTTP.

Functions stay thin: they name a handler and this module turns its failures into the
status codes a CloudEvent sender understands (4xx: do not retry; 5xx: retry).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace

from cloudevents.http import CloudEvent
from werkzeug.exceptions import BadRequest, ServiceUnavailable

from shared import logs, runtime
from shared.acmeflow.backoff import RetryAfter
from shared.contracts import (
    MalformedEvent,
    ObjectEvent,
    parse_object_event,
    without_secret_content,
)
from shared.issuance.certificates import RetryLater
from shared.kube.errors import ApiError, Invalid, Unavailable
from shared.kube.resources import resource_for
from shared.routing import UnsupportedKind
from shared.runtime import Context

Handler = Callable[[Context, ObjectEvent], str]


def handle_object_event(function: str, event: CloudEvent, handler: Handler) -> None:
    logs.setup()
    try:
        change = parse_object_event(event)
    except MalformedEvent as error:
        logging.getLogger(function).warning("rejected event: %s", error)
        raise BadRequest(f"malformed event: {error}") from None
    log = logs.for_object(function, obj=change.ref, event_id=change.event_id, function=function)
    started = time.perf_counter()
    try:
        with logs.bound(obj=change.ref, event_id=change.event_id, function=function):
            ctx = runtime.current()
            outcome = handler(ctx, _resolved(ctx, change))
    except UnsupportedKind as error:
        log.warning("rejected event: %s", error)
        raise BadRequest(str(error)) from None
    except (RetryLater, Unavailable) as error:
        log.warning("will retry: %s", error)
        raise ServiceUnavailable(str(error), retry_after=_retry_after(error)) from None
    except Invalid as error:
        # The API rejected what we wrote: a bug or an incompatible CRD, not worth retrying.
        log.error("API rejected a write: %s", error)
        raise
    except ApiError as error:
        log.warning("API error, will retry: %s", error)
        raise ServiceUnavailable(f"Kubernetes API error: {error.reason}") from None
    elapsed = (time.perf_counter() - started) * 1000
    log.info("%s %s/%s: %s (%.1f ms)", change.action, change.kind, change.name, outcome, elapsed)


def _resolved(ctx: Context, change: ObjectEvent) -> ObjectEvent:
    """A Reference-mode event with the object's metadata read back (its content stays out).

    The handlers read labels and annotations from the payload (which Certificate owns a
    Secret); a reference carries only the name, so the object is read here. A deleted
    object stays a bare reference.
    """
    resource = resource_for(change.api_version, change.kind)
    if not change.reference or resource is None:
        return change
    current = ctx.kube.find(resource, change.namespace or None, change.name)
    if current is None:
        return change
    current.setdefault("apiVersion", change.api_version)
    current.setdefault("kind", change.kind)
    return replace(change, payload=without_secret_content(current))


def _retry_after(error: Exception) -> int | None:
    """Whole seconds for the 503's Retry-After header, when the cause said how long."""
    if isinstance(error, RetryAfter) and error.retry_after is not None:
        return max(math.ceil(error.retry_after.total_seconds()), 0)
    return None
