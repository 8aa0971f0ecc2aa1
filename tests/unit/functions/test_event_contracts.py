"""Golden CloudEvents: the samples match the schemas, and the functions read them as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cloudevents.conversion import to_structured
from cloudevents.http import from_json

from events.routes import ON_CERTIFICATE_CREATED, ON_ISSUER_CHANGED
from events.sinks import InProcessSink
from shared.contracts import MalformedEvent, object_event, parse_object_event, ping_event

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLES = sorted((EVENTS / "samples").glob("*.json"))
OBJECT_SCHEMA: dict[str, Any] = json.loads(
    (EVENTS / "schemas" / "apiserversource-resource.json").read_text()
)
PING_SCHEMA: dict[str, Any] = json.loads((EVENTS / "schemas" / "pingsource.json").read_text())


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def schema_for(sample: dict[str, Any]) -> dict[str, Any]:
    return PING_SCHEMA if sample["type"] == "dev.knative.sources.ping" else OBJECT_SCHEMA


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if not p.name.startswith("invalid-")], ids=lambda p: p.stem
)
def test_golden_sample_matches_its_schema(path: Path) -> None:
    sample = load(path)
    jsonschema.validate(sample, schema_for(sample))


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if p.name.startswith("invalid-")], ids=lambda p: p.stem
)
def test_invalid_sample_is_refused_by_schema_and_parser(path: Path) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(load(path), OBJECT_SCHEMA)
    with pytest.raises(MalformedEvent):
        parse_object_event(from_json(path.read_bytes()))


def test_certificate_sample_names_the_object() -> None:
    change = parse_object_event(
        from_json((EVENTS / "samples" / "certificate-add.json").read_bytes())
    )
    assert (change.action, change.kind, change.namespace, change.name) == (
        "add",
        "Certificate",
        "production",
        "payments",
    )


def test_events_we_emit_match_the_contract() -> None:
    obj = load(EVENTS / "samples" / "certificate-update.json")["data"]
    for action in ("add", "update", "delete"):
        _, body = to_structured(object_event(action, obj, source="https://api"))
        emitted = json.loads(body)
        jsonschema.validate(emitted, OBJECT_SCHEMA)
        assert emitted["kind"] == "Certificate" and emitted["namespace"] == "production"
        assert (
            emitted["subject"]
            == "/apis/cert-manager.io/v1/namespaces/production/certificates/payments"
        )
    _, body = to_structured(ping_event(source="/ping"))
    jsonschema.validate(json.loads(body), PING_SCHEMA)


@pytest.mark.parametrize("target", [ON_CERTIFICATE_CREATED, ON_ISSUER_CHANGED])
@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if p.name.startswith("invalid-")], ids=lambda p: p.stem
)
def test_functions_answer_malformed_events_with_400_and_a_reason(target: str, path: Path) -> None:
    reply = InProcessSink(target).post(
        path.read_bytes(), {"Content-Type": "application/cloudevents+json"}
    )
    assert reply.status == 400, reply
    assert "malformed event" in reply.body or "unsupported event type" in reply.body
