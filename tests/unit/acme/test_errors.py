"""Error classification, Retry-After parsing and the retry helper (injected clock and sleep)."""

from __future__ import annotations

import datetime

import pytest
import requests
from acme import errors as acme_errors
from acme import messages

from shared.acme.client import AcmeNetwork
from shared.acme.errors import (
    HTTP_CONTEXT_ATTRIBUTE,
    HTTPContext,
    PermanentAcmeError,
    TransientAcmeError,
    parse_retry_after,
    retrying,
    translate,
    translated,
)

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[float] = []

    def clock(self) -> datetime.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += datetime.timedelta(seconds=seconds)


def _problem(code: str, *, status: int = 400, retry_after: str | None = None) -> messages.Error:
    error: messages.Error = messages.Error.from_json(
        {"type": f"urn:ietf:params:acme:error:{code}", "detail": f"{code} happened"}
    )
    setattr(error, HTTP_CONTEXT_ATTRIBUTE, HTTPContext(status=status, retry_after=retry_after))
    return error


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", datetime.timedelta(seconds=120)),
        (" 0 ", datetime.timedelta(0)),
        ("Thu, 01 Jan 2026 12:30:00 GMT", datetime.timedelta(minutes=30)),
        ("Thu, 01 Jan 2026 11:00:00 GMT", datetime.timedelta(0)),  # already past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(
    header: str | None, expected: datetime.timedelta | None
) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize("code", ["badNonce", "serverInternal", "rateLimited"])
def test_retryable_problems_are_transient(code: str) -> None:
    error = translate(_problem(code, retry_after="3"), now=NOW)
    assert isinstance(error, TransientAcmeError)
    assert error.problem_type == code
    assert error.retry_after == datetime.timedelta(seconds=3)


@pytest.mark.parametrize(
    "code",
    [
        "rejectedIdentifier",
        "unauthorized",
        "caa",
        "dns",
        "connection",
        "incorrectResponse",
        "malformed",
    ],
)
def test_refusals_are_permanent(code: str) -> None:
    error = translate(_problem(code), now=NOW)
    assert isinstance(error, PermanentAcmeError)
    assert not isinstance(error, TransientAcmeError)
    assert error.detail == f"{code} happened"


def test_any_problem_with_a_5xx_status_is_transient() -> None:
    assert isinstance(translate(_problem("malformed", status=500), now=NOW), TransientAcmeError)


def test_an_unreachable_ca_is_transient_and_untrusted_tls_is_permanent() -> None:
    assert isinstance(translate(requests.ConnectionError("refused")), TransientAcmeError)
    untrusted = translate(requests.exceptions.SSLError("certificate verify failed"))
    assert isinstance(untrusted, PermanentAcmeError)
    assert untrusted.problem_type == "tls"


def test_translated_chains_the_library_error_as_cause() -> None:
    original = _problem("caa")
    with pytest.raises(PermanentAcmeError) as raised, translated():
        raise original
    assert raised.value.__cause__ is original


def test_retrying_sleeps_what_the_server_asked_then_succeeds() -> None:
    time = FakeTime()
    outcomes: list[Exception | str] = [
        TransientAcmeError(
            problem_type="rateLimited", detail="", retry_after=datetime.timedelta(seconds=5)
        ),
        TransientAcmeError(problem_type="serverInternal", detail=""),
        "issued",
    ]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retrying(call, clock=time.clock, sleep=time.sleep) == "issued"
    assert time.slept == [5.0, 2.0]  # Retry-After, then the (doubled) default backoff


def test_retrying_backs_off_exponentially_and_gives_up_after_its_attempts() -> None:
    time = FakeTime()
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1
        raise TransientAcmeError(problem_type="badNonce", detail="")

    with pytest.raises(TransientAcmeError):
        retrying(call, clock=time.clock, sleep=time.sleep, attempts=4)
    assert calls == 4
    assert time.slept == [1.0, 2.0, 4.0]


def test_retrying_raises_at_once_when_retry_after_overruns_the_budget() -> None:
    time = FakeTime()
    hour = TransientAcmeError(
        problem_type="rateLimited", detail="", retry_after=datetime.timedelta(hours=1)
    )

    def call() -> None:
        raise hour

    with pytest.raises(TransientAcmeError) as raised:
        retrying(call, clock=time.clock, sleep=time.sleep, budget=datetime.timedelta(minutes=1))
    assert raised.value is hour
    assert time.slept == []


def test_retrying_never_retries_a_permanent_error() -> None:
    time = FakeTime()
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1
        raise PermanentAcmeError(problem_type="caa", detail="forbidden by CAA")

    with pytest.raises(PermanentAcmeError):
        retrying(call, clock=time.clock, sleep=time.sleep)
    assert calls == 1


def _response(status: int, body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


def test_a_409_keeps_the_cas_problem_document() -> None:
    body = b'{"type": "urn:ietf:params:acme:error:alreadyReplaced", "detail": "replaced"}'
    response = _response(409, body, "application/problem+json")
    with pytest.raises(acme_errors.ConflictError) as raised:  # still what the library raises
        AcmeNetwork._check_response(response)
    error = translate(raised.value, now=NOW)
    assert isinstance(error, PermanentAcmeError)
    assert (error.problem_type, error.detail, error.status) == ("alreadyReplaced", "replaced", 409)


def test_a_409_without_a_problem_document_is_still_a_client_error() -> None:
    with pytest.raises(acme_errors.ConflictError) as raised:
        AcmeNetwork._check_response(_response(409, b"", "text/plain"))
    assert isinstance(translate(raised.value, now=NOW), PermanentAcmeError)
