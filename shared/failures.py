"""Failures split in two, in one place: worth retrying soon, or a condition on the object.

A reconciler raises `Retryable` (or an API or CA error that may pass) when redelivering
the event can help. Anything else that escapes it is a bug or an input nobody foresaw: it
must not become a 500 that the event source redelivers, and a tick repeats, forever. It
becomes Ready=False with reason `InternalError` on the object it was about, a Warning
Event saying what broke, and a pause before the next attempt (a Certificate's failure
backoff, 1h doubling to 32h; an hour for an issuer).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from shared.acme.errors import TransientAcmeError
from shared.kube.errors import ApiError, Invalid
from shared.kube.objects import get_condition, meta, parse_time

__all__ = [
    "INTERNAL_ERROR",
    "ISSUER_RETRY",
    "Retryable",
    "describe",
    "internal_error_since",
    "is_panic",
    "unexpected",
]

log = logging.getLogger(__name__)

INTERNAL_ERROR: Final = "InternalError"
# A condition message is for a person: the exception's first lines say enough.
MESSAGE_LIMIT: Final = 512
# Issuers keep no failure count on their status: a failed check is retried hourly.
ISSUER_RETRY: Final = timedelta(hours=1)


class Retryable(Exception):
    """Redelivering the event may help (a race, a pause the CA asked for): not a condition."""


def unexpected(error: BaseException) -> bool:
    """Whether `error` is a bug or unforeseen input rather than something that may pass.

    The API refusing what we wrote (422 Invalid) is ours to report: the same write would
    be refused again. Other API errors (unreachable, throttled, a race) and a CA's
    transient problems are retried by redelivery, as before.
    """
    if isinstance(error, Retryable | TransientAcmeError):
        return False
    if isinstance(error, ApiError):
        return isinstance(error, Invalid)
    return isinstance(error, Exception) or is_panic(error)


def is_panic(error: BaseException) -> bool:
    """A Rust library's panic (cryptography's, through pyo3): a BaseException, yet as
    much a bug for this input as any ValueError. Other BaseExceptions (cancellation,
    interrupts, exits, a test's timeout) must pass through untouched."""
    kind = type(error)
    return kind.__module__ == "pyo3_runtime" and kind.__name__ == "PanicException"


def describe(error: BaseException, *, doing: str) -> str:
    """The condition and Event message: what was being done and what went wrong.

    Only the exception's type and text, never its arguments' reprs or a traceback (the
    log has that), and cut short: a message must not carry a Secret's data along.
    """
    text = str(error).strip() or "no detail"
    if "PRIVATE KEY" in text:
        text = "(detail withheld: it quoted key material)"
    first = " ".join(text.split())
    if len(first) > MESSAGE_LIMIT:
        first = first[: MESSAGE_LIMIT - 3] + "..."
    return f"Internal error while {doing}: {type(error).__name__}: {first}"


def internal_error_since(obj: Mapping[str, Any]) -> datetime | None:
    """When the current generation last failed unexpectedly (None: it has not).

    A spec change (a new generation) is tried at once, as after any failure.
    """
    ready = get_condition(obj.get("status") or {}, "Ready") or {}
    if ready.get("reason") != INTERNAL_ERROR or ready.get("status") != "False":
        return None
    if ready.get("observedGeneration") not in (None, meta(obj).get("generation")):
        return None
    return parse_time(ready.get("lastTransitionTime"))
