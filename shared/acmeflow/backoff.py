"""A CA's Retry-After honoured across invocations: the time is recorded on the object.

Within one invocation `shared.acme.errors.retrying` waits out a short Retry-After.
A longer one would otherwise be forgotten when the invocation ends, and every
redelivery and tick would ask the CA again. So the "not before" time goes on the
Order (or Challenge) as an annotation before the error is handed back, and every
reconciler and the sweep check it first: until then they skip the object with no
CA request and no write.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Mapping
from typing import Any, Final

from shared.acme.errors import TransientAcmeError
from shared.acmeflow.names import NOT_BEFORE_ANNOTATION
from shared.issuance.certificates import RetryLater
from shared.kube.errors import Conflict, NotFound
from shared.kube.objects import format_time, meta, parse_time
from shared.kube.resources import Resource
from shared.runtime import Context

CONFLICT_RETRIES: Final = 3


class RetryAfter(RetryLater):
    """Redeliver, but not before `retry_after` (the 503 carries it as Retry-After)."""

    def __init__(self, message: str, *, retry_after: datetime.timedelta | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def paused_until(obj: Mapping[str, Any], *, now: datetime.datetime) -> datetime.datetime | None:
    """The recorded "not before" time while it is still ahead of `now`, else None."""
    annotations = meta(obj).get("annotations") or {}
    try:
        until = parse_time(annotations.get(NOT_BEFORE_ANNOTATION))
    except ValueError:  # edited by hand into nonsense: no pause
        return None
    return until if until is not None and until > now else None


@contextlib.contextmanager
def pausing_on_retry_after(
    ctx: Context, resource: Resource, *, namespace: str, name: str
) -> Iterator[None]:
    """TransientAcmeError -> RetryAfter; with a Retry-After, first record it on the object."""
    try:
        yield
    except TransientAcmeError as error:
        delay = error.retry_after
        after = ""
        if delay is not None and delay > datetime.timedelta(0):
            until = _whole_seconds_up(ctx.clock.now() + delay)
            after = f" (retry after {format_time(until)})"
            _record(ctx, resource, namespace=namespace, name=name, until=until)
        raise RetryAfter(f"ACME server: {error}{after}", retry_after=delay) from error


def _record(
    ctx: Context, resource: Resource, *, namespace: str, name: str, until: datetime.datetime
) -> None:
    """Annotate the object (an update: the reconcilers' roles already write these kinds)."""
    for _ in range(CONFLICT_RETRIES):
        obj = ctx.kube.find(resource, namespace, name)
        if obj is None:
            return
        annotations = {**(meta(obj).get("annotations") or {})}
        annotations[NOT_BEFORE_ANNOTATION] = format_time(until)
        try:
            ctx.kube.replace(
                resource, {**obj, "metadata": {**meta(obj), "annotations": annotations}}
            )
        except NotFound:
            return
        except Conflict:
            continue
        return


def _whole_seconds_up(moment: datetime.datetime) -> datetime.datetime:
    """Annotations hold whole seconds: round up, never record a time before the CA's."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + datetime.timedelta(seconds=1)
    return moment
