"""A CA's Retry-After outlives the invocation: read back from the object, and sent on the 503."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import kubernetes.client as k8s
import pytest
from werkzeug.exceptions import ServiceUnavailable

from shared import runtime
from shared.acmeflow.backoff import RetryAfter, paused_until
from shared.acmeflow.names import NOT_BEFORE_ANNOTATION
from shared.contracts import object_event
from shared.handling import handle_object_event
from shared.issuance.certificates import RetryLater
from shared.kube.client import Kube

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ORDER = {
    "apiVersion": "acme.cert-manager.io/v1",
    "kind": "Order",
    "metadata": {"name": "o", "namespace": "ns"},
}


def _annotated(value: str) -> dict[str, object]:
    return {"metadata": {"annotations": {NOT_BEFORE_ANNOTATION: value}}}


def test_a_future_not_before_pauses_and_a_past_or_garbled_one_does_not() -> None:
    assert paused_until(_annotated("2026-01-01T13:00:00Z"), now=NOW) == NOW + timedelta(hours=1)
    assert paused_until(_annotated("2026-01-01T12:00:00Z"), now=NOW) is None
    assert paused_until(_annotated("soon"), now=NOW) is None
    assert paused_until({"metadata": {}}, now=NOW) is None


@pytest.fixture
def context() -> Iterator[None]:
    # Never contacted: the handlers below raise before touching the API.
    runtime.install(runtime.Context.build(Kube(k8s.Configuration(host="http://127.0.0.1:9"))))
    try:
        yield
    finally:
        runtime.install(None)


def test_the_503_carries_the_ca_retry_after(context: None) -> None:
    def rate_limited(*_: object) -> str:
        raise RetryAfter("ACME server: rateLimited", retry_after=timedelta(seconds=3599.2))

    with pytest.raises(ServiceUnavailable) as raised:
        handle_object_event("f", object_event("update", ORDER, source="t"), rate_limited)
    assert ("Retry-After", "3600") in raised.value.get_headers()


def test_a_503_without_a_known_delay_has_no_retry_after(context: None) -> None:
    def conflicted(*_: object) -> str:
        raise RetryLater("kept changing")

    with pytest.raises(ServiceUnavailable) as raised:
        handle_object_event("f", object_event("update", ORDER, source="t"), conflicted)
    assert all(name != "Retry-After" for name, _ in raised.value.get_headers())
