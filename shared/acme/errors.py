"""Our ACME error hierarchy, mapped from RFC 8555 problem documents and transport failures.

Callers decide with one `isinstance`: a `TransientAcmeError` is worth retrying
(after `retry_after` when the server said so); a `PermanentAcmeError` needs a
person or a new order. The `acme` library's exceptions never leave this package
except as the `__cause__` of ours.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, TypeVar

import requests
from acme import errors as acme_errors
from acme import messages

PROBLEM_PREFIX: Final = "urn:ietf:params:acme:error:"

# Problem types worth retrying unchanged; everything else the server said is final
# for this request (RFC 8555 section 6.7).
TRANSIENT_PROBLEMS: Final = frozenset({"badNonce", "serverInternal", "rateLimited"})

DEFAULT_BACKOFF: Final = datetime.timedelta(seconds=1)
MAX_BACKOFF: Final = datetime.timedelta(seconds=30)

T = TypeVar("T")


class AcmeError(Exception):
    """A failed ACME exchange: the problem type (short form, e.g. "rateLimited") and detail."""

    def __init__(self, *, problem_type: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{problem_type}: {detail}" if detail else problem_type)
        self.problem_type = problem_type
        self.detail = detail
        self.status = status


class TransientAcmeError(AcmeError):
    """Retry later: badNonce, serverInternal, 5xx, rateLimited, or the CA was unreachable."""

    def __init__(
        self,
        *,
        problem_type: str,
        detail: str,
        status: int | None = None,
        retry_after: datetime.timedelta | None = None,
    ) -> None:
        super().__init__(problem_type=problem_type, detail=detail, status=status)
        self.retry_after = retry_after


class PermanentAcmeError(AcmeError):
    """The CA refused (rejectedIdentifier, unauthorized, caa, dns, incorrectResponse, ...)."""


@dataclass(frozen=True)
class HTTPContext:
    """What the HTTP response said beyond the problem document."""

    status: int
    retry_after: str | None


# The `acme` library raises a bare `messages.Error`; our ClientNetwork stamps the
# response's status and Retry-After on it under this attribute (see client.py).
HTTP_CONTEXT_ATTRIBUTE: Final = "_certainly_http"
# The library's ConflictError (409) drops the problem document; client.py keeps it here.
CONFLICT_PROBLEM_ATTRIBUTE: Final = "_certainly_problem"


def short_problem_type(problem_type: str) -> str:
    return problem_type.removeprefix(PROBLEM_PREFIX)


def parse_retry_after(value: str | None, *, now: datetime.datetime) -> datetime.timedelta | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3), else None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return datetime.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC per RFC 5322
        when = when.replace(tzinfo=datetime.UTC)
    return max(when - now, datetime.timedelta(0))


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def translate(error: BaseException, *, now: datetime.datetime | None = None) -> AcmeError:
    """Our error for whatever the `acme` library or `requests` raised."""
    now = now or _utcnow()
    if isinstance(error, AcmeError):
        return error
    if isinstance(error, messages.Error):
        context = getattr(error, HTTP_CONTEXT_ATTRIBUTE, None)
        status = context.status if isinstance(context, HTTPContext) else None
        retry_after = context.retry_after if isinstance(context, HTTPContext) else None
        problem_type = short_problem_type(str(error.typ))
        detail = error.detail or error.title or ""
        if problem_type in TRANSIENT_PROBLEMS or (status is not None and status >= 500):
            return TransientAcmeError(
                problem_type=problem_type,
                detail=detail,
                status=status,
                retry_after=parse_retry_after(retry_after, now=now),
            )
        return PermanentAcmeError(problem_type=problem_type, detail=detail, status=status)
    conflict_problem = getattr(error, CONFLICT_PROBLEM_ATTRIBUTE, None)
    if isinstance(error, acme_errors.ConflictError) and isinstance(
        conflict_problem, messages.Error
    ):
        return translate(conflict_problem, now=now)
    if isinstance(error, acme_errors.ClientError) and error.args:
        response = error.args[0]
        if isinstance(response, tuple) and response:
            response = response[0]
        if isinstance(response, requests.Response):
            return _from_response(response, now=now)
    if isinstance(error, requests.exceptions.SSLError):
        # Retrying cannot help: the issuer's caBundle / skipTLSVerify must change.
        return PermanentAcmeError(
            problem_type="tls", detail="the ACME server's TLS certificate is not trusted"
        )
    if isinstance(error, requests.RequestException | acme_errors.NonceError):
        # The request may not have reached the CA: nothing to blame the client for.
        return TransientAcmeError(problem_type="connection", detail=type(error).__name__)
    return PermanentAcmeError(problem_type="client", detail=str(error) or type(error).__name__)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Re-raise the `acme` library's and `requests`' errors as ours, chained `from` them."""
    try:
        yield
    except AcmeError:
        raise
    except (acme_errors.Error, requests.RequestException) as error:
        raise translate(error) from error


def _from_response(response: requests.Response, *, now: datetime.datetime) -> AcmeError:
    detail = f"HTTP {response.status_code} {response.reason or ''}".strip()
    if response.status_code >= 500 or response.status_code == 429:
        return TransientAcmeError(
            problem_type="serverInternal" if response.status_code >= 500 else "rateLimited",
            detail=detail,
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), now=now),
        )
    return PermanentAcmeError(problem_type="http", detail=detail, status=response.status_code)


def retrying(
    call: Callable[[], T],
    *,
    clock: Callable[[], datetime.datetime],
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 4,
    budget: datetime.timedelta = datetime.timedelta(seconds=60),
) -> T:
    """`call()`, retried on TransientAcmeError, honouring Retry-After.

    Without Retry-After the delay doubles from DEFAULT_BACKOFF up to MAX_BACKOFF.
    When the next wait would overrun `budget` the error is raised at once, so a
    stateless caller can requeue for `retry_after` instead of sleeping through it.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    deadline = clock() + budget
    backoff = DEFAULT_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except TransientAcmeError as error:
            delay = error.retry_after if error.retry_after is not None else backoff
            if attempt == attempts or clock() + delay > deadline:
                raise
            sleep(delay.total_seconds())
            backoff = min(backoff * 2, MAX_BACKOFF)
    raise AssertionError("unreachable")  # pragma: no cover
