"""Every JSON log line written while an event is handled names its object and CloudEvent.

The fields come from the context the handling binds, not from each logger: lines from
the issuance code, the Event recorder and the HTTP client carry them too. And no line
carries the private key that was generated and stored meanwhile.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from events.routes import ON_CERTIFICATE_CREATED, ON_EXPIRY_TICK, ON_ISSUER_CHANGED
from events.sinks import InProcessSink
from shared import logs, runtime
from shared.contracts import object_event, ping_event
from shared.kube.client import Kube
from shared.kube.resources import CERTIFICATES, ISSUERS, SECRETS

pytestmark = pytest.mark.integration


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The JSON lines our handler writes, at DEBUG, for the duration of a test."""
    stream = io.StringIO()
    handler = logs.json_handler(stream)
    root = logging.getLogger()
    # The kubernetes package mutes urllib3 to WARNING; its request lines are a logger
    # we do not own, so they show that the stamping needs no cooperation from a module.
    http = logging.getLogger("urllib3")
    levels = root.level, http.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    http.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        http.setLevel(levels[1])


@pytest.fixture(autouse=True)
def installed(kube: Kube) -> Iterator[None]:
    """The functions' context on the test's client, as a deployed function builds it."""
    runtime.install(runtime.Context.build(kube))
    try:
        yield
    finally:
        runtime.install(None)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text, "nothing was logged"
    return [json.loads(line) for line in text.splitlines()]


def key_fragments(secret: dict[str, Any]) -> list[str]:
    """The private key as it could leak: base64 of the PEM, and each PEM body line."""
    encoded = secret["data"]["tls.key"]
    pem = base64.b64decode(encoded).decode()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return [encoded, *body]


def test_every_line_of_a_handled_event_names_the_object_and_event_and_holds_no_key(
    kube: Kube, namespace: str, captured: io.StringIO
) -> None:
    issuer = kube.create(
        ISSUERS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self", "namespace": namespace},
            "spec": {"selfSigned": {}},
        },
    )
    ready = InProcessSink(ON_ISSUER_CHANGED).deliver(object_event("add", issuer, source="tests"))
    assert ready.ok, ready
    cert = kube.create(
        CERTIFICATES,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "secretName": "web-tls",
                "dnsNames": ["web.example.test"],
                "issuerRef": {"name": "self"},
            },
        },
    )
    event = object_event("add", cert, source="tests")
    captured.seek(0)
    captured.truncate()  # only what handling this one event logs
    delivery = InProcessSink(ON_CERTIFICATE_CREATED).deliver(event)
    assert delivery.ok, delivery

    records = lines(captured)
    assert {(r.get("object"), r.get("event_id")) for r in records} == {
        (f"{namespace}/web", event["id"])
    }, records
    # Not only the function's own summary line: the code it called logged too.
    assert {r["logger"] for r in records} - {"on-certificate-created"}, records
    text = captured.getvalue()
    assert "PRIVATE KEY" not in text
    secret = kube.get(SECRETS, namespace, "web-tls")
    assert [f for f in key_fragments(secret) if f in text] == []


def test_every_line_of_a_tick_carries_the_tick_event_id(
    kube: Kube, namespace: str, captured: io.StringIO
) -> None:
    del kube, namespace
    event = ping_event(source="tests")
    delivery = InProcessSink(ON_EXPIRY_TICK).deliver(event)
    assert delivery.ok, delivery
    records = lines(captured)
    assert {r.get("event_id") for r in records} == {event["id"]}, records
    assert all(r.get("object") and r.get("function") == "on-expiry-tick" for r in records)


def test_nothing_is_stamped_once_the_handling_is_over(captured: io.StringIO) -> None:
    with logs.bound(obj="ns/inside", event_id="e-1", function="f"):
        logging.getLogger("shared.anything").info("inside")
        with logs.bound(obj="ns/nested"):
            logging.getLogger("shared.anything").info("nested")
    logging.getLogger("shared.anything").info("after")
    inside, nested, after = lines(captured)
    assert (inside["object"], inside["event_id"], inside["function"]) == ("ns/inside", "e-1", "f")
    assert (nested["object"], nested["event_id"]) == ("ns/nested", "e-1")
    assert "object" not in after and "event_id" not in after


def test_a_tick_stamps_what_it_logs_for_a_certificate_with_that_certificate(
    kube: Kube, namespace: str, captured: io.StringIO
) -> None:
    kube.create(
        ISSUERS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "self", "namespace": namespace},
            "spec": {"selfSigned": {}},
        },
    )
    kube.create(  # no event delivered for either: the tick finds both
        CERTIFICATES,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "swept", "namespace": namespace},
            "spec": {
                "secretName": "swept-tls",
                "dnsNames": ["swept.example.test"],
                "issuerRef": {"name": "self"},
            },
        },
    )
    event = ping_event(source="tests")
    captured.seek(0)
    captured.truncate()  # only what the tick logs
    assert InProcessSink(ON_EXPIRY_TICK).deliver(event).ok
    records = lines(captured)
    assert {r.get("event_id") for r in records} == {event["id"]}
    mine = [r for r in records if r.get("object") == f"{namespace}/swept"]
    # The HTTP client's lines while issuing it: a logger that knows nothing of objects.
    assert any("certificaterequests" in r["message"] for r in mine), records
    assert kube.get(SECRETS, namespace, "swept-tls")  # and it was issued
