"""`certainly serve` refuses bad input with a 4xx and a reason, never a 500.

Each request here made functions-framework answer 500 (or read a 100 MB body whole)
before the request guard in events/serving.py: a real `certainly serve` process is
the referee, with the embedded API (or the cluster under test) behind it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Final

import pytest
import requests

from events.routes import ON_CERTIFICATE_CREATED
from tests.integration.events.serve import Serve, Served

pytestmark = pytest.mark.integration

ON_EXPIRY_TICK: Final = "functions.on_expiry_tick:on_expiry_tick"
STRUCTURED: Final = "application/cloudevents+json"
ATTRIBUTES: Final = {
    "specversion": "1.0",
    "type": "dev.knative.apiserver.resource.add",
    "source": "https://10.96.0.1:443",
    "id": "forged-1",
}
BINARY: Final = {
    "ce-specversion": "1.0",
    "ce-type": "dev.knative.apiserver.resource.add",
    "ce-source": "https://10.96.0.1:443",
    "ce-id": "forged-1",
    "Content-Type": "application/json",
}
DEEP: Final = b"[" * 10_000 + b"]" * 10_000
MIB: Final = 1024 * 1024


def _structured(**fields: object) -> bytes:
    return json.dumps({**ATTRIBUTES, **fields}).encode()


# (body, headers, what the reason must say)
MALFORMED: Final = {
    "invalid UTF-8": (
        _structured(data={})[:-1] + b', "subject": "\xff\xfe"}',
        {"Content-Type": STRUCTURED},
        "malformed CloudEvent",
    ),
    "JSON nested 10,000 deep (structured)": (
        _structured()[:-1] + b', "data": ' + DEEP + b"}",
        {"Content-Type": STRUCTURED},
        "malformed CloudEvent",
    ),
    "JSON nested 10,000 deep (binary)": (DEEP, BINARY, "malformed CloudEvent"),
    "batch content type": (
        json.dumps([{**ATTRIBUTES, "data": {}}]).encode(),
        {"Content-Type": "application/cloudevents-batch+json"},
        "batch mode",
    ),
    "invalid data_base64": (
        _structured(data_base64="!!! not base64 !!!"),
        {"Content-Type": STRUCTURED},
        "malformed CloudEvent",
    ),
    "missing required attributes": (
        json.dumps({"specversion": "1.0", "id": "forged-1", "data": {}}).encode(),
        {"Content-Type": STRUCTURED},
        "malformed CloudEvent",
    ),
    "non-object data": (
        _structured(data=["not", "an", "object"]),
        {"Content-Type": STRUCTURED},
        "must be the Kubernetes object as a JSON object",
    ),
    "not a CloudEvent at all": (
        b"hello",
        {"Content-Type": "text/plain"},
        "not a CloudEvent",
    ),
}


@pytest.fixture
def function(serve: Serve) -> Served:
    return serve(ON_CERTIFICATE_CREATED)


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_cloudevents_get_400_with_a_reason_never_500(function: Served, case: str) -> None:
    body, headers, reason = MALFORMED[case]
    answer = requests.post(function.url, data=body, headers=headers, timeout=30)
    assert answer.status_code == 400, (answer.status_code, answer.text[:300])
    assert reason in answer.text, answer.text[:300]
    assert len(answer.content) < 4096  # the reason, not the request echoed back


def test_a_malformed_cloudevent_sent_to_the_tick_function_gets_400_too(serve: Serve) -> None:
    tick = serve(ON_EXPIRY_TICK)
    headers = {**BINARY, "ce-type": "dev.knative.sources.ping"}
    answer = requests.post(tick.url, data=DEEP, headers=headers, timeout=30)
    assert answer.status_code == 400, answer.text[:300]
    assert "malformed CloudEvent" in answer.text


def _answer_to_headers_only(url: str, declared: int) -> bytes:
    """POST that announces `declared` bytes but sends none: the answer, or b"" on timeout."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {STRUCTURED}\r\n"
            f"Content-Length: {declared}\r\n\r\n".encode()
        )
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except TimeoutError:
            pass
        return answer


def test_a_body_over_3_mib_is_refused_413_from_its_content_length_alone(
    function: Served,
) -> None:
    answer = _answer_to_headers_only(function.url, 100 * MIB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"exceeds the 3145728-byte limit" in answer


def _chunks(total: int, size: int = MIB) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


def _post_100_mb(url: str, *, chunked: bool) -> int:
    body = _chunks(100 * MIB)
    headers = {"Content-Type": STRUCTURED}
    if not chunked:
        headers["Content-Length"] = str(100 * MIB)
    try:
        return requests.post(url, data=body, headers=headers, timeout=120).status_code
    except requests.ConnectionError:
        return 0  # the server hung up on the rest of the body: refused, too


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_refused_without_the_process_growing(
    function: Served, chunked: bool, record_property: Callable[[str, object], None]
) -> None:
    before = function.rss_kib()
    status = _post_100_mb(function.url, chunked=chunked)
    after = function.rss_kib()
    # The figures, for the report: `pytest --junitxml` keeps them.
    record_property("serve_rss_kib_before_after", f"{before} {after}")
    assert status in (413, 0)
    # Read whole, the body would add 100 MB (it added 530 MB before the guard); at most the
    # 3 MiB limit and werkzeug's 10 MB drain buffer may be touched.
    assert after - before < 24 * 1024, (before, after)
    # And the process still serves.
    assert requests.get(f"{function.url}/readyz", timeout=5).status_code == 200


def test_a_body_under_the_limit_still_reaches_the_function(function: Served) -> None:
    padding = "x" * (2 * MIB)
    event = _structured(data={"not": "a kubernetes object", "padding": padding})
    answer = requests.post(
        function.url, data=event, headers={"Content-Type": STRUCTURED}, timeout=30
    )
    assert answer.status_code == 400  # the function's own verdict, so the body got there
    assert "event data has no metadata.name" in answer.text


def test_openfaas_ce_health_probe_answers_200(function: Served) -> None:
    answer = requests.get(f"{function.url}/_/health", timeout=5)
    assert answer.status_code == 200, answer.text
